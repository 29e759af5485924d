/* zerocast server: one --publish target, a GStreamer pipeline of its own.
 *
 * The access units of the one encode are handed in from the encoder's
 * streaming thread (zc_publish_target_push never blocks); the target's
 * pipeline runs apart from the capture/encode pipeline and is managed by a
 * thread of its own, so a target that is slow, down or hangs in a state
 * change never stalls capture or the WebSocket viewers. A target that
 * falls behind skips to the next keyframe; one that fails or stops taking
 * data is torn down and retried with backoff, each step printed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

#include "zc-publish-url.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean up;               /* connected and taking data */
  guint64 frames_in;         /* offered by the encoder */
  guint64 frames_sent;       /* left for the target's sink */
  guint64 frames_dropped;    /* behind, down, or waiting for a keyframe */
  guint64 bytes_sent;        /* H.264 bytes, before packetisation */
  guint64 failures;          /* attempts that failed or ended */
  guint64 keyframe_requests; /* PLI / FIR from the target (RTCP) */
  guint64 keyframe_requests_honoured; /* passed on, after rate limiting */
} ZcPublishStats;

typedef struct _ZcPublishTarget ZcPublishTarget;

/* Asks the encoder for a keyframe; called from any thread. */
typedef void (*ZcPublishKeyframeFunc) (gpointer user_data);

/* Starts connecting at once (in the target's thread). */
ZcPublishTarget *zc_publish_target_new (const ZcPublishUrl *url,
    ZcPublishKeyframeFunc keyframe, gpointer user_data);

/* Any thread; @au is borrowed (a shallow copy is queued). */
void zc_publish_target_push (
    ZcPublishTarget *self, GstBuffer *au, gboolean keyframe);

const gchar *zc_publish_target_get_uri (ZcPublishTarget *self);

void zc_publish_target_get_stats (ZcPublishTarget *self, ZcPublishStats *stats);

/* Stops the thread and the pipeline; NULL is ok. */
void zc_publish_target_free (ZcPublishTarget *self);

G_END_DECLS
