/* zerocast server: one encode fanned out to many viewers.
 *
 * Each viewer has a small queue of its own in front of its socket. A frame
 * is one shared GBytes, so N viewers cost N references, not N copies. A
 * joining viewer first gets the frames since the last keyframe (marked as
 * replayed), so its first frame is a keyframe and it shows a picture at once.
 * A viewer whose queue overflows drops everything queued and waits for the
 * next keyframe; a viewer that overflows again and again is closed with a
 * reason. Everything here runs in the main context.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ZcFanout ZcFanout;
typedef struct _ZcViewer ZcViewer;

typedef struct
{
  /* Offers @message to the viewer's transport. Returns FALSE, keeping no
   * reference, when the transport cannot take more now; the transport then
   * calls zc_fanout_viewer_writable() once it can. */
  gboolean (*try_send) (gpointer sink, GBytes *message);
  /* The fan-out gave up on this viewer: send @reason and close. The viewer
   * stays registered (and is sent nothing) until zc_fanout_remove_viewer(). */
  void (*close) (gpointer sink, const gchar *reason);
} ZcViewerSinkFuncs;

typedef struct
{
  gsize max_queue_bytes; /* per viewer, replay included */
  guint max_queue_frames;
  gsize max_gop_bytes;         /* the replay cache of the last GOP */
  gsize max_total_queue_bytes; /* all viewers' queues together */
  guint max_overflows;         /* overflows within overflow_window_us ... */
  gint64 overflow_window_us;   /* ... that close the viewer */
} ZcFanoutLimits;

typedef struct
{
  guint viewers;
  guint64 frames_in;
  guint64 frames_sent;
  guint64 frames_dropped;
  guint64 bytes_out;
  guint64 viewers_closed_slow;
  gsize queued_bytes; /* all viewers' queues */
  gsize gop_bytes;
} ZcFanoutStats;

/* Asks the encoder for a keyframe (rate limiting is the caller's). */
typedef void (*ZcKeyframeFunc) (gpointer user_data);

void zc_fanout_limits_init_default (ZcFanoutLimits *limits);

ZcFanout *zc_fanout_new (const ZcFanoutLimits *limits,
    ZcKeyframeFunc request_keyframe, gpointer user_data);
void zc_fanout_free (ZcFanout *self);

/* The StreamInit message every viewer gets first, and again when it
 * changes (a new size). */
void zc_fanout_set_stream_init (ZcFanout *self, GBytes *stream_init);

/* A VideoFrame message (zc-wire.h) from the encoder. */
void zc_fanout_push_frame (ZcFanout *self, GBytes *frame, gboolean keyframe);

/* The pointer (--cursor metadata), as Helix's cursor messages: @shape
 * (CursorImage with pixels, or CursorName) and @position (CursorImage
 * without pixels); NULL leaves that one as it is. Each goes to every
 * viewer when it changed, and both to every viewer that joins or that
 * restarts after an overflow. A position not yet taken by a viewer's
 * transport is replaced by a newer one, so a moving pointer costs one
 * queued message per viewer at most. */
void zc_fanout_set_cursor (ZcFanout *self, GBytes *shape, GBytes *position);
/* Forgets the pointer (the stream restarts without it). */
void zc_fanout_clear_cursor (ZcFanout *self);
/* Whether a cursor shape is known (and so went to a joining viewer). */
gboolean zc_fanout_has_cursor (ZcFanout *self);

/* Forgets the replay cache (the stream restarts, e.g. after a fallback). */
void zc_fanout_reset (ZcFanout *self);

ZcViewer *zc_fanout_add_viewer (
    ZcFanout *self, const ZcViewerSinkFuncs *funcs, gpointer sink);
void zc_fanout_remove_viewer (ZcFanout *self, ZcViewer *viewer);
void zc_fanout_viewer_writable (ZcFanout *self, ZcViewer *viewer);
/* The viewer's decoder failed: send it nothing until the next keyframe. */
void zc_fanout_viewer_request_keyframe (ZcFanout *self, ZcViewer *viewer);

/* Pauses (no frames at all, the queue dropped) or resumes a viewer's
 * video; it resumes at a keyframe (the cached GOP, as when joining, or the
 * next one, asked for). StreamInit updates still reach a paused viewer. */
void zc_fanout_viewer_set_paused (
    ZcFanout *self, ZcViewer *viewer, gboolean paused);

/* The size in the current StreamInit; FALSE (and 0x0) before the first. */
gboolean zc_fanout_get_stream_size (
    ZcFanout *self, guint *width, guint *height);

void zc_fanout_get_stats (ZcFanout *self, ZcFanoutStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcFanout, zc_fanout_free)

G_END_DECLS
