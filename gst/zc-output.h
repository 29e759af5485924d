/* zerocast: the element's output mode. Which memory frames go downstream
 * in (CUDA, DMA-BUF, system), decided from the output-mode property, what
 * downstream takes and what works on this host; what to offer PipeWire for
 * it; and the caps of each negotiated format in it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <spa/param/video/raw.h>

#include "zc-cuda-output.h"
#include "zc-modifiers.h"

G_BEGIN_DECLS

typedef enum
{
  ZC_OUTPUT_MODE_AUTO,
  ZC_OUTPUT_MODE_CUDA,
  ZC_OUTPUT_MODE_DMABUF,
  ZC_OUTPUT_MODE_SYSTEM,
} ZcOutputMode;

typedef struct
{
  ZcOutputMode mode;      /* never AUTO once chosen */
  GstCaps *peer_caps;     /* what downstream said it takes; owned */
  gpointer egl;           /* ZcEgl, for DMA-BUF modifiers and imports */
  ZcModifiers *modifiers; /* the DMA-BUF offers */
  ZcCudaOutput *cuda;     /* cuda mode */
  /* dmabuf mode chosen by auto for a downstream that takes system memory
   * too: shared memory is offered after DMA-BUF, and a producer that has
   * no DMA-BUF streams in system memory. */
  gboolean shm_fallback;
} ZcOutput;

const gchar *zc_output_mode_name (ZcOutputMode mode);

/* Sets out->mode from @requested and out->peer_caps (set by the caller).
 * For CUDA, *@cuda_ctx (a GstCudaContext, under @element's object lock) is
 * used or filled through the context query, so downstream shares it. Fails
 * when a mode asked for explicitly cannot work; auto falls back and logs
 * why at INFO. */
gboolean zc_output_choose (ZcOutput *out, GstElement *element,
    ZcOutputMode requested, const gchar *render_node, gint device_id,
    gpointer *cuda_ctx, GError **error);

/* Which of our formats to offer PipeWire in the chosen mode. */
guint zc_output_formats (
    ZcOutput *out, enum spa_video_format *formats, guint max_formats);

/* The SPA data types to accept in the chosen mode; collects the DMA-BUF
 * modifiers to offer for @formats into out->modifiers. */
guint32 zc_output_data_types (
    ZcOutput *out, const enum spa_video_format *formats, guint n_formats);

/* Caps for frames of a newly negotiated format, in the chosen memory. */
GstCaps *zc_output_caps (
    ZcOutput *out, const GstVideoInfo *info, guint64 modifier, GError **error);

/* TRUE if frames of a format negotiated with @modifier (ZC_DRM_FORMAT_MOD_
 * INVALID: none, shared memory) go downstream in system memory although
 * the mode is dmabuf (out->shm_fallback). */
gboolean zc_output_frames_in_system (const ZcOutput *out, guint64 modifier);

/* The memory frames of a format negotiated with @modifier go downstream
 * in: "cuda", "dmabuf" or "system". */
const gchar *zc_output_memory_name (const ZcOutput *out, guint64 modifier);

/* Frees what the mode set up; the ZcOutput can be chosen again. */
void zc_output_clear (ZcOutput *out);

G_END_DECLS
