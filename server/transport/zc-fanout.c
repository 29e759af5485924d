/* zerocast server: one encode fanned out to many viewers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-fanout.h"

#include "zc-wire.h"

struct _ZcViewer
{
  const ZcViewerSinkFuncs *funcs;
  gpointer sink;
  GQueue queue; /* GBytes not yet taken by the transport */
  gsize queued_bytes;
  gboolean waiting_keyframe;
  gboolean paused; /* the viewer asked for no video (set_video_enabled) */
  gboolean closed;
  guint overflows;
  gint64 first_overflow_us;
  gint64 last_taken_us; /* when the transport last took a message */
};

struct _ZcFanout
{
  ZcFanoutLimits limits;
  ZcKeyframeFunc request_keyframe;
  gpointer user_data;
  GBytes *stream_init;
  GBytes *cursor_shape, *cursor_position; /* replayed to joiners */
  GPtrArray *viewers;
  GQueue gop; /* frames since the last keyframe */
  gsize gop_bytes;
  gboolean gop_valid; /* starts at a keyframe and fits the limit */
  gsize total_queued; /* all viewers' queued_bytes */
  ZcFanoutStats stats;
};

void
zc_fanout_limits_init_default (ZcFanoutLimits *limits)
{
  /* 8 MiB is about 2 s of a busy 1080p stream at 30 Mbit/s: a viewer on a
   * slow link catches up, a stalled one is cut off long before it matters
   * to the host's memory. */
  limits->max_queue_bytes = 8 * 1024 * 1024;
  limits->max_queue_frames = 120;
  limits->max_gop_bytes = 16 * 1024 * 1024;
  limits->max_total_queue_bytes = 64 * 1024 * 1024;
  limits->max_overflows = 3;
  limits->overflow_window_us = 10 * G_USEC_PER_SEC;
}

ZcFanout *
zc_fanout_new (const ZcFanoutLimits *limits, ZcKeyframeFunc request_keyframe,
    gpointer user_data)
{
  ZcFanout *self = g_new0 (ZcFanout, 1);

  self->limits = *limits;
  self->request_keyframe = request_keyframe;
  self->user_data = user_data;
  self->viewers = g_ptr_array_new ();
  g_queue_init (&self->gop);
  return self;
}

static void
clear_queue (GQueue *queue)
{
  GBytes *b;

  while ((b = g_queue_pop_head (queue)))
    g_bytes_unref (b);
}

static void
viewer_free (ZcViewer *viewer)
{
  clear_queue (&viewer->queue);
  g_free (viewer);
}

void
zc_fanout_free (ZcFanout *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->viewers->len; i++)
    viewer_free (self->viewers->pdata[i]);
  g_ptr_array_unref (self->viewers);
  clear_queue (&self->gop);
  g_clear_pointer (&self->stream_init, g_bytes_unref);
  zc_fanout_clear_cursor (self);
  g_free (self);
}

/* Hands queued messages to the transport until it pushes back. */
static void
flush (ZcFanout *self, ZcViewer *viewer)
{
  GBytes *b;

  while (!viewer->closed && (b = g_queue_peek_head (&viewer->queue))) {
    gsize size = g_bytes_get_size (b);

    if (!viewer->funcs->try_send (viewer->sink, b))
      return;
    g_queue_pop_head (&viewer->queue);
    viewer->last_taken_us = g_get_monotonic_time ();
    viewer->queued_bytes -= size;
    self->total_queued -= size;
    self->stats.bytes_out += size;
    if (size > 0
        && *(const guint8 *) g_bytes_get_data (b, NULL) == ZC_WIRE_VIDEO_FRAME)
      self->stats.frames_sent++;
    g_bytes_unref (b);
  }
}

static void
drop_queue (ZcFanout *self, ZcViewer *viewer)
{
  clear_queue (&viewer->queue);
  self->total_queued -= viewer->queued_bytes;
  viewer->queued_bytes = 0;
}

static void
push (ZcFanout *self, ZcViewer *viewer, GBytes *message)
{
  gsize size = g_bytes_get_size (message);

  g_queue_push_tail (&viewer->queue, g_bytes_ref (message));
  viewer->queued_bytes += size;
  self->total_queued += size;
}

static void
close_viewer (ZcFanout *self, ZcViewer *viewer, const gchar *reason)
{
  viewer->closed = TRUE;
  drop_queue (self, viewer);
  viewer->funcs->close (viewer->sink, reason);
}

static gboolean
is_cursor_position (GBytes *b)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (b, &size);

  return size == ZC_WIRE_CURSOR_IMAGE_HEADER && data[0] == ZC_WIRE_CURSOR_IMAGE;
}

static void
push_cursor (ZcFanout *self, ZcViewer *viewer)
{
  if (self->cursor_shape)
    push (self, viewer, self->cursor_shape);
  if (self->cursor_position)
    push (self, viewer, self->cursor_position);
}

static guint
count_frames (GQueue *queue)
{
  guint n = 0;

  for (GList *l = queue->head; l; l = l->next)
    if (*(const guint8 *) g_bytes_get_data (l->data, NULL)
        == ZC_WIRE_VIDEO_FRAME)
      n++;
  return n;
}

/* The viewer is too far behind: drop what it has not taken and restart it
 * at the next keyframe, or give up on it if this keeps happening. */
static void
overflow (ZcFanout *self, ZcViewer *viewer)
{
  gint64 now = g_get_monotonic_time ();

  /* How often a queue overflows depends on the encoder's frame rate (a
   * slow software encode under load fills max_queue_frames only every
   * few seconds), so a viewer that takes nothing at all could stay below
   * max_overflows per window for ever. One that has overflowed before and
   * taken nothing for a whole window is stalled, not slow: it goes now. */
  gboolean stalled = viewer->first_overflow_us != 0
      && now - viewer->last_taken_us > self->limits.overflow_window_us;

  self->stats.frames_dropped += count_frames (&viewer->queue);
  drop_queue (self, viewer);

  if (viewer->overflows == 0
      || now - viewer->first_overflow_us > self->limits.overflow_window_us) {
    viewer->overflows = 0;
    viewer->first_overflow_us = now;
  }
  if (++viewer->overflows >= self->limits.max_overflows || stalled) {
    g_autofree gchar *reason = stalled
        ? g_strdup_printf ("viewer too slow: fell behind %u times, taking "
                           "nothing for %u s; closing (check the viewer)",
            viewer->overflows,
            (guint) ((now - viewer->last_taken_us) / G_USEC_PER_SEC))
        : g_strdup_printf ("viewer too slow: fell "
                           "behind %u times in %u s; closing (check the "
                           "viewer's bandwidth)",
            viewer->overflows,
            (guint) (self->limits.overflow_window_us / G_USEC_PER_SEC));
    self->stats.viewers_closed_slow++;
    close_viewer (self, viewer, reason);
    return;
  }
  viewer->waiting_keyframe = TRUE;
  /* A re-sent StreamInit keeps the viewer's idea of the stream right after
   * it skips frames. */
  if (self->stream_init)
    push (self, viewer, self->stream_init);
  /* The pointer too: the dropped queue may have held its shape. */
  push_cursor (self, viewer);
  self->request_keyframe (self->user_data);
}

static void
enqueue (ZcFanout *self, ZcViewer *viewer, GBytes *message)
{
  if (viewer->closed)
    return;
  push (self, viewer, message);
  flush (self, viewer);
  /* The global budget bounds the server whatever the number of viewers:
   * past it, whoever is adding to a queue is the one that is behind. */
  if (viewer->queued_bytes > self->limits.max_queue_bytes
      || g_queue_get_length (&viewer->queue) > self->limits.max_queue_frames
      || self->total_queued > self->limits.max_total_queue_bytes)
    overflow (self, viewer);
}

/* A newer position replaces one the transport has not taken yet. */
static void
enqueue_position (ZcFanout *self, ZcViewer *viewer, GBytes *position)
{
  GBytes *tail = g_queue_peek_tail (&viewer->queue);

  if (viewer->closed)
    return;
  if (tail && is_cursor_position (tail)) {
    g_queue_pop_tail (&viewer->queue);
    g_queue_push_tail (&viewer->queue, g_bytes_ref (position));
    g_bytes_unref (tail); /* the same size: the byte counts hold */
    flush (self, viewer);
    return;
  }
  enqueue (self, viewer, position);
}

void
zc_fanout_set_cursor (ZcFanout *self, GBytes *shape, GBytes *position)
{
  if (shape
      && !(self->cursor_shape && g_bytes_equal (self->cursor_shape, shape))) {
    g_clear_pointer (&self->cursor_shape, g_bytes_unref);
    self->cursor_shape = g_bytes_ref (shape);
    for (guint i = 0; i < self->viewers->len; i++)
      enqueue (self, self->viewers->pdata[i], shape);
  }
  if (position
      && !(self->cursor_position
          && g_bytes_equal (self->cursor_position, position))) {
    g_clear_pointer (&self->cursor_position, g_bytes_unref);
    self->cursor_position = g_bytes_ref (position);
    for (guint i = 0; i < self->viewers->len; i++)
      enqueue_position (self, self->viewers->pdata[i], position);
  }
}

gboolean
zc_fanout_has_cursor (ZcFanout *self)
{
  return self->cursor_shape != NULL;
}

void
zc_fanout_clear_cursor (ZcFanout *self)
{
  g_clear_pointer (&self->cursor_shape, g_bytes_unref);
  g_clear_pointer (&self->cursor_position, g_bytes_unref);
}

void
zc_fanout_set_stream_init (ZcFanout *self, GBytes *stream_init)
{
  if (self->stream_init && g_bytes_equal (self->stream_init, stream_init))
    return;
  g_clear_pointer (&self->stream_init, g_bytes_unref);
  self->stream_init = g_bytes_ref (stream_init);
  /* A new StreamInit starts a new stream (a new size, or the first after a
   * restart): frames of the old one must not be replayed or followed by
   * P-frames of the new one, so everybody waits for its first keyframe. */
  clear_queue (&self->gop);
  self->gop_bytes = 0;
  self->gop_valid = FALSE;
  for (guint i = 0; i < self->viewers->len; i++) {
    ZcViewer *viewer = self->viewers->pdata[i];

    viewer->waiting_keyframe = TRUE;
    enqueue (self, viewer, stream_init);
  }
}

static void
cache_frame (ZcFanout *self, GBytes *frame, gboolean keyframe)
{
  if (keyframe) {
    clear_queue (&self->gop);
    self->gop_bytes = 0;
    self->gop_valid = TRUE;
  }
  if (!self->gop_valid)
    return;
  /* A GOP too big to replay is dropped whole: a joining viewer then waits
   * for (and asks for) the next keyframe instead. */
  if (self->gop_bytes + g_bytes_get_size (frame) > self->limits.max_gop_bytes) {
    clear_queue (&self->gop);
    self->gop_bytes = 0;
    self->gop_valid = FALSE;
    return;
  }
  g_queue_push_tail (&self->gop, g_bytes_ref (frame));
  self->gop_bytes += g_bytes_get_size (frame);
}

void
zc_fanout_push_frame (ZcFanout *self, GBytes *frame, gboolean keyframe)
{
  self->stats.frames_in++;
  cache_frame (self, frame, keyframe);

  for (guint i = 0; i < self->viewers->len; i++) {
    ZcViewer *viewer = self->viewers->pdata[i];

    if (viewer->closed || viewer->paused)
      continue;
    if (viewer->waiting_keyframe) {
      if (!keyframe) {
        self->stats.frames_dropped++;
        continue;
      }
      viewer->waiting_keyframe = FALSE;
    }
    enqueue (self, viewer, frame);
  }
}

void
zc_fanout_reset (ZcFanout *self)
{
  clear_queue (&self->gop);
  self->gop_bytes = 0;
  self->gop_valid = FALSE;
  /* Frames of the old stream must not be followed by P-frames of the new
   * one: everybody restarts at the new stream's first keyframe. */
  for (guint i = 0; i < self->viewers->len; i++)
    ((ZcViewer *) self->viewers->pdata[i])->waiting_keyframe = TRUE;
  /* The new stream's StreamInit goes out again even when it equals the
   * old one, so a viewer can reset its decoder before the new keyframe. */
  g_clear_pointer (&self->stream_init, g_bytes_unref);
}

/* Starts @viewer's video at a keyframe: the cached GOP if it is small
 * enough, else the next keyframe (asked for). */
static void
start_at_keyframe (ZcFanout *self, ZcViewer *viewer)
{
  if (self->gop_valid && !g_queue_is_empty (&self->gop)
      && self->gop_bytes <= self->limits.max_queue_bytes / 2) {
    /* Replay from the last keyframe so the first frame decodes and a still
     * desktop shows at once; only the copies' flags differ. */
    for (GList *l = self->gop.head; l && !viewer->closed; l = l->next) {
      gboolean key = l == self->gop.head;
      g_autoptr (GBytes) replay = zc_wire_video_frame_with_flags (
          l->data, ZC_WIRE_FLAG_REPLAYED | (key ? ZC_WIRE_FLAG_KEYFRAME : 0));
      enqueue (self, viewer, replay);
    }
  } else {
    viewer->waiting_keyframe = TRUE;
    self->request_keyframe (self->user_data);
  }
}

ZcViewer *
zc_fanout_add_viewer (
    ZcFanout *self, const ZcViewerSinkFuncs *funcs, gpointer sink)
{
  ZcViewer *viewer = g_new0 (ZcViewer, 1);

  viewer->funcs = funcs;
  viewer->sink = sink;
  viewer->last_taken_us = g_get_monotonic_time ();
  g_queue_init (&viewer->queue);
  g_ptr_array_add (self->viewers, viewer);

  if (self->stream_init)
    enqueue (self, viewer, self->stream_init);
  /* The pointer's shape and place: with a still desktop nothing else
   * would ever tell this viewer. */
  if (self->cursor_shape)
    enqueue (self, viewer, self->cursor_shape);
  if (self->cursor_position)
    enqueue (self, viewer, self->cursor_position);
  start_at_keyframe (self, viewer);
  return viewer;
}

void
zc_fanout_viewer_set_paused (ZcFanout *self, ZcViewer *viewer, gboolean paused)
{
  if (viewer->closed || viewer->paused == paused)
    return;
  viewer->paused = paused;
  if (paused) {
    /* Frames already queued go too: a paused viewer wants none. */
    self->stats.frames_dropped += count_frames (&viewer->queue);
    drop_queue (self, viewer);
    return;
  }
  /* The decoder has seen nothing for a while: restart it at a keyframe,
   * as a joining viewer. */
  start_at_keyframe (self, viewer);
}

gboolean
zc_fanout_get_stream_size (ZcFanout *self, guint *width, guint *height)
{
  gsize size;
  const guint8 *m;

  *width = *height = 0;
  if (self->stream_init == NULL)
    return FALSE;
  m = g_bytes_get_data (self->stream_init, &size);
  if (size < ZC_WIRE_STREAM_INIT_SIZE)
    return FALSE;
  *width = m[2] << 8 | m[3];
  *height = m[4] << 8 | m[5];
  return TRUE;
}

void
zc_fanout_remove_viewer (ZcFanout *self, ZcViewer *viewer)
{
  if (g_ptr_array_remove_fast (self->viewers, viewer)) {
    self->total_queued -= viewer->queued_bytes;
    viewer_free (viewer);
  }
}

void
zc_fanout_viewer_writable (ZcFanout *self, ZcViewer *viewer)
{
  flush (self, viewer);
}

void
zc_fanout_viewer_request_keyframe (ZcFanout *self, ZcViewer *viewer)
{
  viewer->waiting_keyframe = TRUE;
  self->request_keyframe (self->user_data);
}

void
zc_fanout_get_stats (ZcFanout *self, ZcFanoutStats *stats)
{
  *stats = self->stats;
  stats->viewers = self->viewers->len;
  stats->queued_bytes = self->total_queued;
  stats->gop_bytes = self->gop_bytes;
}
