/* Tests of zc-test-producer through upstream pipewiresrc, so the producer
 * the other tests rely on is itself checked against an element we did not
 * write: the colours of every RGB format, the sequence pixels, consumers
 * that come and go, two at once, `still`, and a clean exit.
 *
 * usage (under zc-run-session): test-producer PATH-TO-zc-test-producer
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <gst/gst.h>

#include "zc-test-frames.h"

#define LINE_TIMEOUT_US (G_GINT64_CONSTANT (10) * G_USEC_PER_SEC)
#define FRAME_TIMEOUT_US (G_GINT64_CONSTANT (10) * G_USEC_PER_SEC)

static const gchar *producer_path;

typedef struct
{
  GSubprocess *proc;
  GDataInputStream *out;
  GOutputStream *in;
  guint node_id;
} Producer;

typedef struct
{
  gchar *line;
  gboolean done;
} LineRead;

static void
on_line (GObject *source, GAsyncResult *res, gpointer data)
{
  LineRead *r = data;

  r->line = g_data_input_stream_read_line_finish_utf8 (
      G_DATA_INPUT_STREAM (source), res, NULL, NULL);
  r->done = TRUE;
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* One line of the producer's stdout, or NULL at EOF or after the
 * deadline (the read is cancelled then). */
static gchar *
producer_read_line (Producer *p, gint64 timeout_us)
{
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  LineRead r = { NULL, FALSE };
  gboolean expired = FALSE;
  guint timer = g_timeout_add (timeout_us / 1000, on_deadline, &expired);

  g_data_input_stream_read_line_async (
      p->out, G_PRIORITY_DEFAULT, cancel, on_line, &r);
  while (!r.done && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
  if (!r.done) {
    g_cancellable_cancel (cancel);
    while (!r.done)
      g_main_context_iteration (NULL, TRUE);
  }
  return r.line;
}

static void
producer_command (Producer *p, const gchar *cmd)
{
  g_autofree gchar *line = g_strdup_printf ("%s\n", cmd);
  g_autofree gchar *expect = g_strdup_printf ("OK %s", cmd);
  g_autofree gchar *reply = NULL;
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (p->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  reply = producer_read_line (p, LINE_TIMEOUT_US);
  g_assert_cmpstr (reply, ==, expect);
}

static void
producer_start (Producer *p, const gchar *const *extra)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ready = NULL;

  g_ptr_array_add (argv, (gpointer) producer_path);
  for (; extra && *extra; extra++)
    g_ptr_array_add (argv, (gpointer) *extra);
  g_ptr_array_add (argv, NULL);
  p->proc = g_subprocess_newv ((const gchar *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  p->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  p->in = g_subprocess_get_stdin_pipe (p->proc);

  ready = producer_read_line (p, LINE_TIMEOUT_US);
  g_assert_nonnull (ready);
  g_assert_true (g_str_has_prefix (ready, "READY "));
  p->node_id = (guint) g_ascii_strtoull (ready + 6, NULL, 10);
  g_assert_cmpuint (p->node_id, >, 0);
}

static void
on_exited (GObject *source, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) data = TRUE;
}

/* Ends the producer through @how ("eof", "quit" or "sigterm") and checks
 * that it exits 0 in time. */
static void
producer_stop (Producer *p, const gchar *how)
{
  g_autoptr (GError) error = NULL;
  gboolean expired = FALSE, exited = FALSE;
  guint timer;

  if (g_str_equal (how, "quit"))
    producer_command (p, "quit");
  else if (g_str_equal (how, "sigterm"))
    g_subprocess_send_signal (p->proc, SIGTERM);
  g_output_stream_close (p->in, NULL, NULL);

  /* The exit is reported in this main context, which wakes the loop. */
  g_subprocess_wait_async (p->proc, NULL, on_exited, &exited);
  timer = g_timeout_add (LINE_TIMEOUT_US / 1000, on_deadline, &expired);
  while (!exited && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!exited) {
    g_subprocess_force_exit (p->proc);
    while (!exited)
      g_main_context_iteration (NULL, TRUE);
    g_error ("zc-test-producer did not exit after %s", how);
  }
  g_source_remove (timer);
  g_subprocess_wait_check (p->proc, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&p->out);
  g_clear_object (&p->proc);
}

typedef struct
{
  GstElement *pipeline;
  GstAppSink *sink;
} Consumer;

static void
consumer_start (Consumer *c, guint node_id)
{
  g_autofree gchar *desc = g_strdup_printf (
      "pipewiresrc path=%u ! "
      "video/x-raw ! appsink name=sink max-buffers=4 drop=true sync=false",
      node_id);
  g_autoptr (GError) error = NULL;

  c->pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  c->sink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (c->pipeline), "sink"));
  g_assert_cmpint (gst_element_set_state (c->pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
}

static void
consumer_stop (Consumer *c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  gst_clear_object (&c->sink);
  gst_clear_object (&c->pipeline);
}

typedef struct
{
  guint32 last_seq;
  guint good; /* frames with the right picture */
  guint wanted;
} SeqCheck;

static gboolean
pattern_and_seq (
    const GstVideoFrame *frame, GstSample *sample, gpointer data, gchar **why)
{
  SeqCheck *s = data;
  guint32 seq;

  if (!zc_frame_check_quadrants (frame, why))
    return FALSE;
  g_clear_pointer (why, g_free);
  if (!zc_frame_producer_seq (frame, &seq, why))
    return FALSE;
  /* Each frame is new: the sequence only goes up. */
  if (s->good > 0 && seq <= s->last_seq) {
    *why = g_strdup_printf ("sequence went from %u to %u", s->last_seq, seq);
    return FALSE;
  }
  s->last_seq = seq;
  return ++s->good >= s->wanted;
}

static void
expect_frames (Consumer *c, guint wanted, SeqCheck *s)
{
  g_autoptr (GError) error = NULL;

  s->good = 0;
  s->wanted = wanted;
  if (!zc_pull_frames (c->pipeline, c->sink, FRAME_TIMEOUT_US, pattern_and_seq,
          s, NULL, &error))
    g_error ("%s", error->message);
}

static void
test_formats (void)
{
  const gchar *formats[] = { "BGRx", "BGRA", "RGBx", "RGBA", "xRGB", "ARGB" };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    const gchar *args[] = { "--format", formats[i], "--size", "160x120",
      "--fps", "60", NULL };
    Producer p = {
      0,
    };
    Consumer c = {
      0,
    };
    SeqCheck s = {
      0,
    };
    g_autoptr (GstCaps) caps = NULL;
    GstStructure *st;
    GstPad *pad;

    producer_start (&p, args);
    consumer_start (&c, p.node_id);
    expect_frames (&c, 3, &s);
    /* The consumer saw the format we asked for, not a converted one. */
    pad = gst_element_get_static_pad (GST_ELEMENT (c.sink), "sink");
    g_object_get (pad, "caps", &caps, NULL);
    gst_object_unref (pad);
    st = gst_caps_get_structure (caps, 0);
    g_assert_cmpstr (gst_structure_get_string (st, "format"), ==, formats[i]);
    consumer_stop (&c);
    producer_stop (&p, "quit");
  }
}

static void
test_reconnect (void)
{
  const gchar *args[] = { "--fps", "60", NULL };
  Producer p = {
    0,
  };
  SeqCheck s = {
    0,
  };
  guint32 previous = 0;

  /* pipewiresink stalls for good after its first consumer leaves: ours
   * must serve every new consumer. */
  producer_start (&p, args);
  for (guint i = 0; i < 10; i++) {
    Consumer c = {
      0,
    };

    consumer_start (&c, p.node_id);
    expect_frames (&c, 2, &s);
    g_assert_cmpuint (s.last_seq, >, previous);
    previous = s.last_seq;
    consumer_stop (&c);
  }
  producer_stop (&p, "eof");
}

static void
test_two_consumers (void)
{
  const gchar *args[] = { "--fps", "60", NULL };
  Producer p = {
    0,
  };
  Consumer a = { 0, }, b = { 0, };
  SeqCheck sa = { 0, }, sb = { 0, };

  producer_start (&p, args);
  consumer_start (&a, p.node_id);
  consumer_start (&b, p.node_id);
  expect_frames (&a, 5, &sa);
  expect_frames (&b, 5, &sb);
  consumer_stop (&a);
  /* The one that stays keeps getting frames. */
  expect_frames (&b, 5, &sb);
  consumer_stop (&b);
  producer_stop (&p, "sigterm");
}

static void
test_still (void)
{
  const gchar *args[] = { "--fps", "60", NULL };
  Producer p = {
    0,
  };
  Consumer c = {
    0,
  };
  SeqCheck s = {
    0,
  };
  GstSample *sample;
  guint late = 0;

  producer_start (&p, args);
  consumer_start (&c, p.node_id);
  expect_frames (&c, 2, &s);
  producer_command (&p, "still");
  /* Frames already on their way may still arrive; at 60 fps a producer
   * that kept going would send ~30 in this half second. */
  while ((sample = gst_app_sink_try_pull_sample (c.sink, 500 * GST_MSECOND))) {
    gst_sample_unref (sample);
    if (++late > 4)
      g_error ("frames keep coming after 'still'");
  }
  producer_command (&p, "move");
  expect_frames (&c, 2, &s);
  consumer_stop (&c);
  producer_stop (&p, "quit");
}

static void
test_yuv_and_bad_input (void)
{
  const gchar *yuy2[] = { "--format", "YUY2", NULL };
  Producer p = {
    0,
  };
  Consumer c = {
    0,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) bad = NULL;
  g_autofree gchar *err_text = NULL;
  GstSample *sample;
  g_autofree gchar *why = NULL;
  GstVideoInfo info;
  GstVideoFrame frame;
  guint8 px[4];

  /* YUY2 negotiates, and the RGB check refuses it with a reason. */
  producer_start (&p, yuy2);
  consumer_start (&c, p.node_id);
  sample = gst_app_sink_try_pull_sample (c.sink, FRAME_TIMEOUT_US * 1000);
  g_assert_nonnull (sample);
  g_assert_true (
      gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_YUY2);
  g_assert_true (gst_video_frame_map (
      &frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ));
  g_assert_false (zc_frame_pixel (&frame, 0, 0, px, &why));
  g_assert_nonnull (strstr (why, "not 8-bit RGB"));
  gst_video_frame_unmap (&frame);
  gst_sample_unref (sample);
  consumer_stop (&c);

  /* A command it does not know gets an ERR line, and it keeps going. */
  g_output_stream_write_all (p.in, "jump\n", 5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_free (why);
  why = producer_read_line (&p, LINE_TIMEOUT_US);
  g_assert_true (g_str_has_prefix (why, "ERR unknown command 'jump'"));
  producer_stop (&p, "quit");

  /* A format it cannot make is refused up front, with the reason. */
  bad = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, producer_path,
      "--format", "NV12", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (bad, NULL, NULL, NULL, &err_text, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (bad), ==, 2);
  g_assert_nonnull (strstr (err_text, "unknown --format 'NV12'"));
}

int
main (int argc, char *argv[])
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  if (argc < 2 || !g_file_test (argv[1], G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("usage: %s PATH-TO-zc-test-producer (run it under "
                "zc-run-session)\n",
        argv[0]);
    return 1;
  }
  if (g_getenv ("ZC_SESSION_PIDS") == NULL) {
    g_printerr ("run this test under zc-run-session: it needs a private "
                "PipeWire session\n");
    return 1;
  }
  producer_path = argv[1];
  g_test_add_func ("/producer/formats", test_formats);
  g_test_add_func ("/producer/reconnect", test_reconnect);
  g_test_add_func ("/producer/two-consumers", test_two_consumers);
  g_test_add_func ("/producer/still", test_still);
  g_test_add_func ("/producer/yuv-and-bad-input", test_yuv_and_bad_input);
  return g_test_run ();
}
