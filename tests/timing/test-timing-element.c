/* Frame timing out of pipewirezerocopysrc (issue 11): producers of our own
 * at 10 fps (the period equal to keepalive-time=100), 9 and 11 fps, a
 * still one, and one that renegotiates and pauses, all captured at once for
 * one 10 s window. Every case: PTS strictly rising. The steady ones: the
 * frame count within 20 % of what the producer sends (from a still one,
 * 1000 / keepalive-time a second), and no two pushes within 2 ms. Before the
 * fix a keepalive copy raced each real frame that came about keepalive-time
 * after the last: both went out, a few microseconds apart (a 9 fps producer
 * gave 18 frames a second).
 *
 * Usage: test-timing-element [--output-mode MODE] (the GPU machine runs it
 * with cuda). Runs under zc-run-session (private PipeWire + WirePlumber).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "producer.h"

#define KEEPALIVE_MS 100
#define WINDOW_S 10
#define TOLERANCE 0.2
#define DOUBLE_US 2000 /* two pushes closer than this: doubled */
#define MAX_DOUBLES 2
#define FIRST_FRAME_DEADLINE_US (60 * G_USEC_PER_SEC)

typedef struct
{
  const gchar *name;
  gint fps;             /* of the producer */
  gboolean still;       /* goes still once it has sent a frame */
  gboolean renegotiate; /* resizes, then the pipeline pauses and resumes */
  TestProducer *producer;
  GstElement *pipe, *src;

  GMutex lock;
  gboolean counting;
  guint frames;     /* in the window */
  guint non_rising; /* PTS not above the previous one's, at any time */
  guint doubles;    /* in the window: two pushes within DOUBLE_US (a copy
                     * and a frame together) */
  guint total;
  GstClockTime last_pts;
  guint64 resent_at_start;
  guint total_at_resume;
} Case;

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  Case *c = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstClockTime pts = buf ? GST_BUFFER_PTS (buf) : GST_CLOCK_TIME_NONE;

  g_mutex_lock (&c->lock);
  if (!GST_CLOCK_TIME_IS_VALID (pts)
      || (GST_CLOCK_TIME_IS_VALID (c->last_pts) && pts <= c->last_pts)) {
    c->non_rising++;
    g_printerr ("# %s: pts %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT "\n",
        c->name, GST_TIME_ARGS (pts), GST_TIME_ARGS (c->last_pts));
  } else if (c->counting && GST_CLOCK_TIME_IS_VALID (c->last_pts)
      && pts - c->last_pts < DOUBLE_US * GST_USECOND) {
    c->doubles++;
  }
  c->last_pts = pts;
  c->total++;
  if (c->counting)
    c->frames++;
  g_mutex_unlock (&c->lock);
  if (sample)
    gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static const gchar *output_mode = "auto";

static void
case_start (Case *c)
{
  g_autofree gchar *desc = NULL;
  GstAppSinkCallbacks callbacks = { .new_sample = on_sample };
  GstElement *sink;
  GError *error = NULL;

  g_mutex_init (&c->lock);
  c->last_pts = GST_CLOCK_TIME_NONE;
  c->producer = test_producer_start ("BGRx", "160x120", c->fps);
  desc = g_strdup_printf ("pipewirezerocopysrc name=src pipewire-node-id=%u "
                          "keepalive-time=%u output-mode=%s ! appsink "
                          "name=sink sync=false",
      c->producer->node_id, KEEPALIVE_MS, output_mode);
  c->pipe = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  c->src = gst_bin_get_by_name (GST_BIN (c->pipe), "src");
  sink = gst_bin_get_by_name (GST_BIN (c->pipe), "sink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, c, NULL);
  gst_object_unref (sink);
  gst_element_set_state (c->pipe, GST_STATE_PLAYING);
}

static guint
case_total (Case *c)
{
  guint n;

  g_mutex_lock (&c->lock);
  n = c->total;
  g_mutex_unlock (&c->lock);
  return n;
}

static guint64
resent_of (Case *c)
{
  guint64 v;

  g_object_get (c->src, "frames-resent", &v, NULL);
  return v;
}

static void
case_set_counting (Case *c, gboolean on)
{
  g_mutex_lock (&c->lock);
  c->counting = on;
  g_mutex_unlock (&c->lock);
  if (on)
    c->resent_at_start = resent_of (c);
}

/* Fails on an error message from the case's pipeline. */
static void
case_check_bus (Case *c)
{
  GstBus *bus = gst_element_get_bus (c->pipe);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (msg) {
    GError *error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    g_error ("%s: pipeline error: %s", c->name, error->message);
  }
  gst_object_unref (bus);
}

static void
case_stop (Case *c)
{
  gst_element_set_state (c->pipe, GST_STATE_NULL);
  gst_object_unref (c->src);
  gst_object_unref (c->pipe);
  test_producer_stop (c->producer);
  g_mutex_clear (&c->lock);
}

int
main (int argc, char *argv[])
{
  Case cases[] = {
    { .name = "10 fps", .fps = 10 },
    { .name = "9 fps", .fps = 9 },
    { .name = "11 fps", .fps = 11 },
    { .name = "still", .fps = 10, .still = TRUE },
    { .name = "renegotiate+pause", .fps = 20, .renegotiate = TRUE },
  };
  gboolean failed = FALSE, resized = FALSE, paused = FALSE;
  gint64 deadline, start;

  gst_init (&argc, &argv);
  if (argc == 3 && g_str_equal (argv[1], "--output-mode")) {
    output_mode = argv[2];
  } else if (argc != 1) {
    g_printerr ("usage: %s [--output-mode auto|system|cuda|dmabuf]\n", argv[0]);
    return 2;
  }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    case_start (&cases[i]);

  /* Every capture running, and the still producer still, before the
   * window opens. */
  deadline = g_get_monotonic_time () + FIRST_FRAME_DEADLINE_US;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    while (case_total (&cases[i]) == 0) {
      case_check_bus (&cases[i]);
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: no frame within %d s", cases[i].name,
            (int) (FIRST_FRAME_DEADLINE_US / G_USEC_PER_SEC));
      g_usleep (10 * 1000);
    }
    if (cases[i].still)
      test_producer_command (cases[i].producer, "still");
  }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    case_set_counting (&cases[i], TRUE);

  /* The window: a measurement over a fixed time, not a wait for a
   * condition. Midway the last case renegotiates, then pauses. */
  start = g_get_monotonic_time ();
  for (gint64 now = start; now - start < WINDOW_S * G_USEC_PER_SEC;
       now = g_get_monotonic_time ()) {
    Case *r = &cases[G_N_ELEMENTS (cases) - 1];

    if (!resized && now - start > 3 * G_USEC_PER_SEC) {
      test_producer_command (r->producer, "size 200x150");
      resized = TRUE;
    }
    if (!paused && now - start > 6 * G_USEC_PER_SEC) {
      gst_element_set_state (r->pipe, GST_STATE_PAUSED);
      g_usleep (300 * 1000); /* frames pile up while paused */
      gst_element_set_state (r->pipe, GST_STATE_PLAYING);
      r->total_at_resume = case_total (r);
      paused = TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      case_check_bus (&cases[i]);
    g_usleep (20 * 1000);
  }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    case_set_counting (&cases[i], FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Case *c = &cases[i];
    gdouble want = c->still ? WINDOW_S * 1000.0 / KEEPALIVE_MS
                            : (gdouble) WINDOW_S * c->fps;
    guint64 resent = resent_of (c) - c->resent_at_start;
    /* The renegotiating case has no steady rate to expect: it must go on
     * after its resize and its pause. */
    gboolean rate_ok = c->renegotiate ? case_total (c) > c->total_at_resume + 10
                                      : c->frames >= want * (1 - TOLERANCE)
            && c->frames <= want * (1 + TOLERANCE);
    /* A real frame and a keepalive copy pushed together: never, but for
     * MAX_DOUBLES a producer stalled past 1.5 keepalive-times on a loaded
     * machine may cause (a copy, then the late frame). Before the fix a
     * 10 fps producer gave 8 to 50 in 10 s, a 9 fps one about 90. */
    gboolean doubles_ok = c->renegotiate || c->doubles <= MAX_DOUBLES;

    gboolean ok = rate_ok && doubles_ok && c->non_rising == 0;

    g_print (
        "%s: %s: %u frames in %d s (want %.0f +- %.0f %%), %" G_GUINT64_FORMAT
        " keepalive copies, %u doubled, %u pts not rising (of %u)\n",
        ok ? "ok" : "FAIL", c->name, c->frames, WINDOW_S, want, TOLERANCE * 100,
        resent, c->doubles, c->non_rising, c->total);
    if (!ok)
      failed = TRUE;
  }
  {
    gchar *memory_type = NULL;
    g_object_get (cases[0].src, "memory-type", &memory_type, NULL);
    g_print (
        "# output-mode=%s: frames in %s memory\n", output_mode, memory_type);
    g_free (memory_type);
  }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    case_stop (&cases[i]);
  return failed ? 1 : 0;
}
