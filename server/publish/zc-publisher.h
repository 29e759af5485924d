/* zerocast server: every --publish target, fed from the one encode.
 *
 * zc_publisher_push() matches ZcPipelineAuFunc: the pipeline calls it for
 * each access unit, in the encoder's streaming thread. Keyframe requests
 * from the targets (RTCP PLI/FIR, or a target resuming) reach @keyframe
 * in the main context of the thread that made the publisher.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

#include "zc-publish-url.h"

G_BEGIN_DECLS

typedef struct _ZcPublisher ZcPublisher;

typedef void (*ZcPublisherKeyframeFunc) (gpointer user_data);

/* @urls: ZcPublishUrl*, copied. Every target starts connecting at once. */
ZcPublisher *zc_publisher_new (
    GPtrArray *urls, ZcPublisherKeyframeFunc keyframe, gpointer user_data);

void zc_publisher_push (GstBuffer *au, gboolean keyframe, gpointer publisher);

/* Appends the zerocast_publish_* metrics (Prometheus text, one series per
 * target, labelled with its URL). */
void zc_publisher_append_metrics (GString *out, gpointer publisher);

/* Stops every target; NULL is ok. The pipeline must not push any more. */
void zc_publisher_free (ZcPublisher *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPublisher, zc_publisher_free)

G_END_DECLS
