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
  /* With the portal: a new remote fd for each source built (the pipeline
   * closes it when that source goes), since two PipeWire clients cannot
   * share a connection. Returns -1 with @error set on failure, or -1
   * without an error for "the default daemon". Overrides pipewire_fd. */
  gint (*open_pipewire_fd) (gpointer data, GError **error);
  gpointer open_pipewire_fd_data;
  gboolean test_pattern;
  gint test_pattern_frames; /* > 0: the pattern ends (EOS) after these */
  guint width, height;      /* required size, 0 = what the source offers */
  /* The source takes the size it is asked for (a virtual monitor follows
   * the size negotiated on its stream, a test pattern is made at it):
   * zc_pipeline_set_size() may change width and height. */
  gboolean resizable;
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
  guint bitrate_kbps; /* what the encoder is set to now */
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

/* How many keepalive copies the capture made (each means the desktop was
 * still for a keepalive period): FALSE where the capture does not count
 * them (pipewiresrc's modes, keepalive off, no pipeline). Main thread. */
gboolean zc_pipeline_get_frames_resent (ZcPipeline *self, guint64 *resent);

/* While @starting, a first frame that does not come is no fault of the
 * video mode or encoder (the desktop is still starting: a GNOME Shell
 * that hangs before its first frame must not walk the fallbacks): the
 * first-frame timeout waits. Clearing it starts that timeout afresh. */
void zc_pipeline_set_source_starting (ZcPipeline *self, gboolean starting);

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

/* Called for every access unit as it leaves the encoder (after the
 * low-delay SPS rewrite), in the encoder's streaming thread, with a
 * buffer the callee may ref but not change: the --publish targets take
 * the same encode as the viewers. Set it before zc_pipeline_start(). */
typedef void (*ZcPipelineAuFunc) (
    GstBuffer *au, gboolean keyframe, gpointer user_data);

void zc_pipeline_set_au_func (
    ZcPipeline *self, ZcPipelineAuFunc func, gpointer user_data);

/* Rate-limited GstForceKeyUnit upstream to the encoder. */
void zc_pipeline_request_keyframe (ZcPipeline *self);

/* The encoder's bitrate from now on (also for encoders built later, after
 * a fallback); 0 goes back to the configured one. */
void zc_pipeline_set_bitrate (ZcPipeline *self, guint kbps);

/* At most @fps frames a second go to the encoder from now on (also for
 * encoders built later); 0 lifts the cap. The capture stays
 * damage-driven: frames closer together than 1/@fps are dropped before
 * the encoder, not delayed. StreamInit carries the cap. */
void zc_pipeline_set_max_fps (ZcPipeline *self, guint fps);

/* Asks a resizable source (config.resizable) for @width x @height: the
 * capture restarts on the same node with that size required, viewers get
 * the new StreamInit and start again at its first keyframe. FALSE (and
 * nothing changes) when the source is not resizable. */
gboolean zc_pipeline_set_size (ZcPipeline *self, guint width, guint height);

/* The size asked of the source (0 x 0: whatever it sends). */
void zc_pipeline_get_size (ZcPipeline *self, guint *width, guint *height);

void zc_pipeline_get_stats (ZcPipeline *self, ZcPipelineStats *stats);

/* Stops the pipeline; NULL is ok. */
void zc_pipeline_free (ZcPipeline *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPipeline, zc_pipeline_free)

G_END_DECLS
