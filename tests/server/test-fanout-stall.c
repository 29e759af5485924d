/* The fan-out's rule for viewers that fall behind: three overflows within
 * the window close a slow viewer, and a viewer that takes nothing at all is
 * closed at its second overflow once a whole window has passed without it
 * taking anything, however slowly frames come (a slow encoder overflows a
 * queue less often than the window). A viewer that still takes messages is
 * not "stalled". Time here is real: the window is 200 ms.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "zc-fanout.h"

#define WINDOW_US (200 * 1000)

typedef struct
{
  gboolean accept_one; /* take the next message, then push back again */
  guint taken;
  gchar *closed; /* the reason, once closed */
} Sink;

static gboolean
try_send (gpointer data, GBytes *message)
{
  Sink *sink = data;

  if (!sink->accept_one)
    return FALSE;
  sink->accept_one = FALSE;
  sink->taken++;
  return TRUE;
}

static void
sink_close (gpointer data, const gchar *reason)
{
  Sink *sink = data;

  g_assert_null (sink->closed);
  sink->closed = g_strdup (reason);
}

static const ZcViewerSinkFuncs funcs = { .try_send = try_send,
  .close = sink_close };

static void
no_keyframe_request (gpointer data)
{
}

static ZcFanout *
new_fanout (void)
{
  ZcFanoutLimits limits;

  zc_fanout_limits_init_default (&limits);
  limits.max_queue_frames = 4;
  limits.max_overflows = 3;
  limits.overflow_window_us = WINDOW_US;
  return zc_fanout_new (&limits, no_keyframe_request, NULL);
}

/* Pushes keyframes until the viewer's queue overflows once more. */
static void
overflow_once (ZcFanout *fanout)
{
  ZcFanoutStats before, after;

  zc_fanout_get_stats (fanout, &before);
  for (guint i = 0; i < 10; i++) {
    g_autoptr (GBytes) frame = g_bytes_new_static ("\x01"
                                                   "frame",
        6);

    zc_fanout_push_frame (fanout, frame, TRUE);
    zc_fanout_get_stats (fanout, &after);
    if (after.frames_dropped > before.frames_dropped)
      return;
  }
  g_assert_not_reached ();
}

static void
test_fast_overflows (void)
{
  g_autoptr (ZcFanout) fanout = new_fanout ();
  Sink sink = { 0 };

  zc_fanout_add_viewer (fanout, &funcs, &sink);
  overflow_once (fanout);
  overflow_once (fanout);
  g_assert_null (sink.closed);
  overflow_once (fanout);
  g_assert_nonnull (sink.closed);
  g_assert_nonnull (strstr (sink.closed, "fell behind 3 times in 0 s"));
  g_free (sink.closed);
}

static void
test_stalled_slow_overflows (void)
{
  g_autoptr (ZcFanout) fanout = new_fanout ();
  Sink sink = { 0 };

  zc_fanout_add_viewer (fanout, &funcs, &sink);
  overflow_once (fanout);
  g_assert_null (sink.closed);
  /* Overflows further apart than the window: by count alone this viewer
   * would never go. */
  g_usleep (WINDOW_US + 50 * 1000);
  overflow_once (fanout);
  g_assert_nonnull (sink.closed);
  g_assert_nonnull (strstr (sink.closed, "taking nothing for 0 s"));
  g_assert_cmpuint (sink.taken, ==, 0);
  g_free (sink.closed);
}

static void
test_slow_but_taking (void)
{
  g_autoptr (ZcFanout) fanout = new_fanout ();
  Sink sink = { 0 };
  g_autoptr (GBytes) frame = g_bytes_new_static ("\x01"
                                                 "frame",
      6);

  zc_fanout_add_viewer (fanout, &funcs, &sink);

  overflow_once (fanout);
  g_usleep (WINDOW_US + 50 * 1000);
  /* It takes something (a slow link, not a dead one) just before. */
  sink.accept_one = TRUE;
  zc_fanout_push_frame (fanout, frame, TRUE);
  g_assert_cmpuint (sink.taken, ==, 1);
  overflow_once (fanout);
  g_assert_null (sink.closed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fanout-stall/fast-overflows", test_fast_overflows);
  g_test_add_func (
      "/fanout-stall/stalled-slow-overflows", test_stalled_slow_overflows);
  g_test_add_func ("/fanout-stall/slow-but-taking", test_slow_but_taking);
  return g_test_run ();
}
