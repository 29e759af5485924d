/* zerocast server: the capture -> encode pipeline, with fallback.
 *
 * It tries the video modes (zerocopy, native, shm) and the encoders in
 * order until one combination delivers a first frame, and does the same
 * when a running pipeline fails: a source error rules out the mode, an
 * encoder error rules out the encoder, and every step is logged with its
 * reason. Encoded access units go to a ZcFanout in the main context.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

#include "zc-encoder.h"
#include "zc-fanout.h"

G_BEGIN_DECLS

typedef enum
{
  ZC_VIDEO_MODE_AUTO,
  ZC_VIDEO_MODE_ZEROCOPY, /* pipewirezerocopysrc */
  ZC_VIDEO_MODE_NATIVE,   /* pipewiresrc, DMA-BUF */
  ZC_VIDEO_MODE_SHM,      /* pipewiresrc, system memory */
} ZcVideoMode;

gboolean zc_video_mode_from_string (
    const gchar *str, ZcVideoMode *mode, GError **error);
const gchar *zc_video_mode_to_string (ZcVideoMode mode);

typedef struct
{
  /* The source: a PipeWire node (with the portal's remote fd, or -1), or
   * a videotestsrc pattern when test_pattern is set. */
  guint32 node_id;
  gint pipewire_fd;
  gboolean test_pattern;
  gint test_pattern_frames; /* > 0: the pattern ends (EOS) after these */
  guint width, height;      /* required size, 0 = what the source offers */
  ZcVideoMode mode;
  const gchar *encoder; /* "auto" or one of zc_encoder_names() */
  ZcEncoderSettings encoder_settings;
  guint keepalive_ms; /* resend the last frame of a still screen */
  gint64 first_frame_timeout_us;
} ZcPipelineConfig;

typedef struct
{
  guint64 frames_encoded;
  guint restarts;
  gint64 encode_latency_us; /* of the newest frame: capture to appsink */
  gint64 encode_latency_sum_us;
  const gchar *mode; /* current mode and encoder, or NULL */
  const gchar *encoder;
} ZcPipelineStats;

typedef struct _ZcPipeline ZcPipeline;

/* Called once, in the main context, when no combination is left. */
typedef void (*ZcPipelineFailedFunc) (
    ZcPipeline *pipeline, const GError *error, gpointer user_data);

/* @config is copied. Nothing starts before zc_pipeline_start(). */
ZcPipeline *zc_pipeline_new (const ZcPipelineConfig *config, ZcFanout *fanout,
    ZcPipelineFailedFunc failed, gpointer user_data);

/* Builds the first combination that constructs and sets it playing; the
 * first frame and later failures are handled in the main context. Fails
 * at once when no combination can even be built. */
gboolean zc_pipeline_start (ZcPipeline *self, GError **error);

/* Called, in the main context, when the source reports that its PipeWire
 * node or daemon went away at run time. That is no fault of the video
 * mode, so nothing is ruled out: the pipeline has stopped and waits for
 * zc_pipeline_restart() with the new desktop's node. Without this
 * function such an error rules out the mode like any other. */
typedef void (*ZcPipelineSourceLostFunc) (
    ZcPipeline *pipeline, const GError *error, gpointer user_data);

void zc_pipeline_set_source_lost_func (
    ZcPipeline *self, ZcPipelineSourceLostFunc func, gpointer user_data);

/* Stops the current attempt and any pending fallback; nothing runs (and
 * no callback comes) until zc_pipeline_restart(). */
void zc_pipeline_stop (ZcPipeline *self);

/* Starts again on a new source node (and remote fd, or -1; the caller
 * keeps it), for a re-created desktop: every video mode is tried again,
 * encoders that failed stay ruled out (unless all did). Viewers get a new
 * StreamInit and start at the new stream's first keyframe. FALSE when no
 * combination can even be built. */
gboolean zc_pipeline_restart (
    ZcPipeline *self, guint32 node_id, gint pipewire_fd, GError **error);

/* Rate-limited GstForceKeyUnit upstream to the encoder. */
void zc_pipeline_request_keyframe (ZcPipeline *self);

void zc_pipeline_get_stats (ZcPipeline *self, ZcPipelineStats *stats);

/* Stops the pipeline; NULL is ok. */
void zc_pipeline_free (ZcPipeline *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPipeline, zc_pipeline_free)

G_END_DECLS
