/* Element tests of pipewirezerocopysrc with GstHarness, against a private
 * PipeWire + WirePlumber (started by zc-run-session) and zc-test-producer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* SCHED_RESET_ON_FORK */
#include "zc-config.h"

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "producer.h"

#include <glib/gstdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define FRAME_DEADLINE_US (10 * G_USEC_PER_SEC)

/* Pulls the next buffer, or NULL when none comes within @timeout_us. */
static GstBuffer *
pull_within (GstHarness *h, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  GstBuffer *buf;

  while ((buf = gst_harness_try_pull (h)) == NULL
      && g_get_monotonic_time () < deadline)
    g_usleep (2000);
  return buf;
}

static GstBuffer *
pull (GstHarness *h)
{
  GstBuffer *buf = pull_within (h, FRAME_DEADLINE_US);

  if (buf == NULL)
    g_error ("no frame within %d s", (int) (FRAME_DEADLINE_US / 1000000));
  return buf;
}

static guint64
stat_of (GstHarness *h, const gchar *name)
{
  guint64 v;

  g_object_get (h->element, name, &v, NULL);
  return v;
}

static GstHarness *
harness_for (TestProducer *p, guint keepalive_ms)
{
  GstHarness *h = gst_harness_new ("pipewirezerocopysrc");

  g_object_set (h->element, "pipewire-node-id", p->node_id, "keepalive-time",
      keepalive_ms, NULL);
  gst_harness_play (h);
  return h;
}

/* Every format arrives in its own name, colours in place, without a copy. */
static void
test_formats (void)
{
  static const GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_xRGB,
    GST_VIDEO_FORMAT_ARGB,
  };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    const gchar *name = gst_video_format_to_string (formats[i]);
    TestProducer *p = test_producer_start (name, "320x240", 30);
    GstHarness *h = harness_for (p, 0);
    guint32 prev = 0;
    GstCaps *caps;
    GstVideoInfo info;
    gchar *memtype;

    for (int n = 0; n < 10; n++) {
      GstBuffer *buf = pull (h);
      guint32 seq = test_check_frame (buf, formats[i]);
      g_assert_cmpuint (seq, >, prev); /* never stale, never repeated */
      prev = seq;
      gst_buffer_unref (buf);
    }
    caps = gst_pad_get_current_caps (h->sinkpad);
    g_assert_true (gst_video_info_from_caps (&info, caps));
    g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, formats[i]);
    g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 320);
    g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, 240);
    gst_caps_unref (caps);
    g_object_get (h->element, "memory-type", &memtype, NULL);
    g_assert_cmpstr (memtype, ==, "system");
    g_free (memtype);
    g_assert_cmpuint (stat_of (h, "bytes-copied"), ==, 0);
    g_assert_cmpuint (stat_of (h, "frames-received"), >=, 10);
    gst_harness_teardown (h);
    test_producer_stop (p);
  }
}

/* PTS always rise, with or without a header timestamp gap. */
static void
test_pts_rising (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 60);
  GstHarness *h = harness_for (p, 50);
  GstClockTime prev = GST_CLOCK_TIME_NONE;

  for (int n = 0; n < 30; n++) {
    GstBuffer *buf = pull (h);
    g_assert_true (GST_BUFFER_PTS_IS_VALID (buf));
    if (GST_CLOCK_TIME_IS_VALID (prev))
      g_assert_cmpuint (GST_BUFFER_PTS (buf), >, prev);
    prev = GST_BUFFER_PTS (buf);
    gst_buffer_unref (buf);
    if (n == 10)
      test_producer_command (p, "still"); /* keepalive takes over */
  }
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* A still screen: keepalive resends the last picture as its own copy, and
 * a moving screen takes over again with fresh frames. */
static void
test_keepalive (void)
{
  TestProducer *p = test_producer_start ("BGRx", "320x240", 30);
  GstHarness *h = harness_for (p, 100);
  GstBuffer *buf;
  guint32 last_seq = 0, seq;
  guint64 copied;

  for (int n = 0; n < 5; n++) {
    buf = pull (h);
    last_seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    gst_buffer_unref (buf);
  }
  test_producer_command (p, "still");
  /* Frames already in flight may still come; then only resends. */
  while (stat_of (h, "frames-resent") < 5) {
    buf = pull (h);
    seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    g_assert_cmpuint (seq, >=, last_seq);
    last_seq = seq;
    gst_buffer_unref (buf);
  }
  /* One copy serves every resend: the copy of a single frame. */
  copied = stat_of (h, "bytes-copied");
  g_assert_cmpuint (copied, ==, 320 * 240 * 4);
  buf = pull (h);
  g_assert_cmpuint (
      test_check_frame (buf, GST_VIDEO_FORMAT_BGRx), ==, last_seq);
  gst_buffer_unref (buf);
  g_assert_cmpuint (stat_of (h, "bytes-copied"), ==, copied);

  test_producer_command (p, "move");
  do {
    buf = pull (h);
    seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    gst_buffer_unref (buf);
  } while (seq == last_seq);
  g_assert_cmpuint (seq, >, last_seq);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* keepalive-time=0: a still screen sends nothing. */
static void
test_keepalive_disabled (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  GstHarness *h = harness_for (p, 0);
  GstBuffer *buf;

  buf = pull (h);
  gst_buffer_unref (buf);
  test_producer_command (p, "still");
  /* Drain what was in flight, then expect silence. */
  while ((buf = pull_within (h, 300 * 1000)) != NULL)
    gst_buffer_unref (buf);
  g_assert_null (pull_within (h, 500 * 1000));
  g_assert_cmpuint (stat_of (h, "frames-resent"), ==, 0);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* The producer changes size: new caps, and never a frame of the old size
 * after the first of the new one, never a torn one. */
static void
test_resize (void)
{
  TestProducer *p = test_producer_start ("BGRx", "320x240", 30);
  GstHarness *h = harness_for (p, 100);
  GstBuffer *buf;
  gboolean seen_new = FALSE;
  GstCaps *caps;
  GstVideoInfo info;

  buf = pull (h);
  test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  gst_buffer_unref (buf);
  test_producer_command (p, "size 640x360");
  for (int n = 0; n < 200 && !seen_new; n++) {
    GstVideoMeta *meta;
    buf = pull (h);
    meta = gst_buffer_get_video_meta (buf);
    test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    seen_new = meta->width == 640 && meta->height == 360;
    if (!seen_new)
      g_assert_true (meta->width == 320 && meta->height == 240);
    gst_buffer_unref (buf);
  }
  g_assert_true (seen_new);
  for (int n = 0; n < 10; n++) {
    GstVideoMeta *meta;
    buf = pull (h);
    meta = gst_buffer_get_video_meta (buf);
    g_assert_cmpint (meta->width, ==, 640);
    g_assert_cmpint (meta->height, ==, 360);
    test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    gst_buffer_unref (buf);
  }
  caps = gst_pad_get_current_caps (h->sinkpad);
  g_assert_true (gst_video_info_from_caps (&info, caps));
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 640);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, 360);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* Corrupted buffers and cursor-only (size 0) updates are not frames. */
static void
test_corrupted_and_cursor (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 60);
  GstHarness *h = harness_for (p, 0);
  GstBuffer *buf;
  guint64 corrupted_before;

  buf = pull (h);
  gst_buffer_unref (buf);
  corrupted_before = stat_of (h, "frames-corrupted");
  test_producer_command (p, "corrupt 5");
  test_producer_command (p, "cursor 5");
  /* Every buffer that comes out is a whole, valid picture. */
  for (int n = 0; n < 40; n++) {
    buf = pull (h);
    g_assert_cmpuint (gst_buffer_get_size (buf), >=, 160 * 120 * 4);
    test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    gst_buffer_unref (buf);
  }
  g_assert_cmpuint (stat_of (h, "frames-corrupted") - corrupted_before, ==, 5);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* A consumer that stops pulling for a while: the producer is never
 * starved (it keeps making frames), and the next frame is a fresh one. */
static void
test_slow_consumer (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 60);
  GstHarness *h = harness_for (p, 0);
  GstBuffer *buf;
  guint32 before, after;
  GstBuffer *held[4];

  buf = pull (h);
  before = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  gst_buffer_unref (buf);
  /* Hold a few frames (as an encoder would) and wait a second. */
  for (int i = 0; i < 4; i++)
    held[i] = pull (h);
  g_usleep (2 * G_USEC_PER_SEC); /* the scenario: a stalled consumer */
  for (int i = 0; i < 4; i++)
    gst_buffer_unref (held[i]);
  /* Drop what queued in the harness; the newest frame must be recent. */
  while ((buf = gst_harness_try_pull (h)) != NULL)
    gst_buffer_unref (buf);
  buf = pull (h);
  after = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  gst_buffer_unref (buf);
  /* Two seconds at 60 fps: a producer that went on is well over 25 frames
   * on (PipeWire's buffer recycling keeps it nearer 20 fps while most
   * buffers are downstream); a starved one stops when its buffers run out,
   * before frame 20 (seen: 18). */
  g_test_message ("frame %u before the stall, %u after", before, after);
  g_assert_cmpuint (after, >, before + 25);
  /* Downstream held frames, so some were copied rather than lent. */
  g_assert_cmpuint (stat_of (h, "bytes-copied"), >, 0);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* Start and stop the element many times against one producer. */
static void
test_reconnect (void)
{
  TestProducer *p = test_producer_start ("RGBx", "160x120", 30);

  for (int i = 0; i < 5; i++) {
    GstHarness *h = harness_for (p, 0);
    GstBuffer *buf = pull (h);
    test_check_frame (buf, GST_VIDEO_FORMAT_RGBx);
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
  }
  test_producer_stop (p);
}

/* resend-last: on EOS from the application, the last picture once more. */
static void
test_resend_last (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  GstHarness *h = gst_harness_new ("pipewirezerocopysrc");
  GstBuffer *buf;
  guint32 seq = 0;
  GstEvent *ev;
  gint64 deadline;

  g_object_set (h->element, "pipewire-node-id", p->node_id, "keepalive-time", 0,
      "resend-last", TRUE, NULL);
  gst_harness_play (h);
  buf = pull (h);
  seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  gst_buffer_unref (buf);
  test_producer_command (p, "still");
  while ((buf = pull_within (h, 300 * 1000)) != NULL) {
    seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    gst_buffer_unref (buf);
  }
  g_assert_true (gst_element_send_event (h->element, gst_event_new_eos ()));
  buf = pull (h);
  g_assert_cmpuint (test_check_frame (buf, GST_VIDEO_FORMAT_BGRx), ==, seq);
  gst_buffer_unref (buf);
  g_assert_cmpuint (stat_of (h, "frames-resent"), ==, 1);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;) {
    ev = gst_harness_try_pull_event (h);
    if (ev && GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      break;
    if (ev)
      gst_event_unref (ev);
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (2000);
  }
  gst_event_unref (ev);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* Runs `DESC ! fakesink` and returns the first error's message, failing
 * the test if none is posted within 5 s (the contract). */
static gchar *
error_of_pipeline (const gchar *desc, gint64 *elapsed_us)
{
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstBus *bus;
  GstMessage *msg;
  gchar *text;
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  if (msg == NULL)
    g_error ("'%s' posted no error within 5 s", desc);
  *elapsed_us = g_get_monotonic_time () - start;
  gst_message_parse_error (msg, &error, NULL);
  text = g_strdup (error->message);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return text;
}

static void
test_error_no_node (void)
{
  gint64 t;
  gchar *msg = error_of_pipeline (
      "pipewirezerocopysrc pipewire-node-id=99999 ! fakesink", &t);

  g_assert_nonnull (strstr (msg, "node 99999 does not exist"));
  g_free (msg);
}

static void
test_error_no_daemon (void)
{
  gchar *saved = g_strdup (g_getenv ("XDG_RUNTIME_DIR"));
  gchar *saved_pw = g_strdup (g_getenv ("PIPEWIRE_RUNTIME_DIR"));
  gchar *empty = g_dir_make_tmp ("zc-no-pw-XXXXXX", NULL);
  gint64 t;
  gchar *msg;

  g_setenv ("XDG_RUNTIME_DIR", empty, TRUE);
  g_unsetenv ("PIPEWIRE_REMOTE");
  g_unsetenv ("PIPEWIRE_RUNTIME_DIR");
  msg = error_of_pipeline ("pipewirezerocopysrc pipewire-node-id=1 ! "
                           "fakesink",
      &t);
  g_setenv ("XDG_RUNTIME_DIR", saved, TRUE);
  if (saved_pw)
    g_setenv ("PIPEWIRE_RUNTIME_DIR", saved_pw, TRUE);
  g_free (saved_pw);
  g_assert_nonnull (strstr (msg, "Could not connect to the PipeWire daemon"));
  g_assert_nonnull (strstr (msg, empty));
  g_rmdir (empty);
  g_free (empty);
  g_free (saved);
  g_free (msg);
}

static void
test_error_bad_format (void)
{
  TestProducer *p = test_producer_start ("YUY2", "160x120", 30);
  gchar *desc = g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%u ! "
                                 "fakesink",
      p->node_id);
  gint64 t;
  gchar *msg = error_of_pipeline (desc, &t);

  g_assert_nonnull (strstr (msg, "offers YUY2"));
  g_free (msg);
  g_free (desc);
  test_producer_stop (p);
}

/* Downstream that takes none of our formats is named in the error. */
static void
test_error_downstream_refuses (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  gchar *desc = g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%u ! "
                                 "video/x-raw,format=RGBA ! fakesink",
      p->node_id);
  gint64 t;
  gchar *msg;

  msg = error_of_pipeline (desc, &t);
  /* RGBA is ours but the producer only offers BGRx: both sides named. */
  g_assert_nonnull (strstr (msg, "offers BGRx"));
  g_assert_nonnull (strstr (msg, "can take RGBA"));
  g_free (msg);
  g_free (desc);
  test_producer_stop (p);
}

/* The node vanishes mid-stream: an element error within 5 s, no hang. */
static void
test_error_node_gone (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc pipewire-node-id=%u "
      "keepalive-time=100 ! appsink name=sink max-buffers=2 drop=true",
      p->node_id);
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstBus *bus = gst_element_get_bus (pipe);
  GstSample *sample;
  GstMessage *msg;

  g_assert_no_error (error);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  g_signal_emit_by_name (sink, "try-pull-sample", 10 * GST_SECOND, &sample);
  g_assert_nonnull (sample);
  gst_sample_unref (sample);

  test_producer_kill (p);
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  g_assert_nonnull (strstr (error->message, "went away"));
  g_clear_error (&error);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  test_producer_stop (p);
}

/* output-mode=cuda where CUDA cannot work (no libcuda here; or a build
 * without CUDA): an immediate error that says so. Skipped on a GPU host. */
static void
test_cuda_missing (void)
{
  TestProducer *p;
  gchar *desc, *msg;
  gint64 t;

  if (g_file_test ("/dev/nvidiactl", G_FILE_TEST_EXISTS)) {
    g_test_skip ("this host has an NVIDIA GPU; tests/gpu covers it");
    return;
  }
  p = test_producer_start ("BGRx", "160x120", 30);
  desc = g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%u "
                          "output-mode=cuda ! fakesink",
      p->node_id);
  msg = error_of_pipeline (desc, &t);
  g_assert_nonnull (strstr (msg, "CUDA is not available"));
  g_assert_cmpint (t, <, G_USEC_PER_SEC);
  g_free (msg);
  g_free (desc);
  test_producer_stop (p);
}

/* output-mode=auto with a downstream that would take CUDA memory, on a host
 * without CUDA: falls back to system memory, colours in place. */
static void
test_auto_falls_back (void)
{
  TestProducer *p;
  GstHarness *h;
  GstBuffer *buf;
  gchar *memtype;

  if (g_file_test ("/dev/nvidiactl", G_FILE_TEST_EXISTS)) {
    g_test_skip ("this host has an NVIDIA GPU; tests/gpu covers it");
    return;
  }
  p = test_producer_start ("RGBA", "320x240", 30);
  h = gst_harness_new ("pipewirezerocopysrc");
  gst_harness_set_sink_caps_str (h,
      "video/x-raw(memory:CUDAMemory), "
      "format=NV12; video/x-raw(memory:DMABuf); video/x-raw");
  g_object_set (
      h->element, "pipewire-node-id", p->node_id, "keepalive-time", 0, NULL);
  gst_harness_play (h);
  buf = pull (h);
  test_check_frame (buf, GST_VIDEO_FORMAT_RGBA);
  gst_buffer_unref (buf);
  g_object_get (h->element, "memory-type", &memtype, NULL);
  g_assert_cmpstr (memtype, ==, "system");
  g_free (memtype);
  gst_harness_teardown (h);
  test_producer_stop (p);
}

/* A producer that allows only 4 buffers still streams: the element asks
 * for 8 first (so frames are lent, not copied) and takes fewer when that is
 * all there is. With 8, lending never runs out here: nothing is copied. */
static void
test_buffer_count (void)
{
  static const gint max_buffers[] = { 4, 16 };

  for (guint i = 0; i < G_N_ELEMENTS (max_buffers); i++) {
    TestProducer *p =
        test_producer_start_full ("BGRx", "160x120", 30, max_buffers[i]);
    GstHarness *h = harness_for (p, 0);
    guint32 prev = 0;

    for (int n = 0; n < 10; n++) {
      GstBuffer *buf = pull (h);
      guint32 seq = test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
      g_assert_cmpuint (seq, >, prev);
      prev = seq;
      gst_buffer_unref (buf);
    }
    if (max_buffers[i] >= 8)
      g_assert_cmpuint (stat_of (h, "bytes-copied"), ==, 0);
    gst_harness_teardown (h);
    test_producer_stop (p);
  }
}

/* output-mode=dmabuf with a producer that has only shared memory: a clear
 * negotiation error, not a hang. */
static void
test_dmabuf_unavailable (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  gchar *desc = g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%u "
                                 "output-mode=dmabuf ! fakesink",
      p->node_id);
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;

  g_assert_no_error (error);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  g_assert_nonnull (strstr (error->message, "offers no DMA-BUF"));
  g_clear_error (&error);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  test_producer_stop (p);
}

/* Waits for the pipeline's first error and returns its message. */
static gchar *
first_error (const gchar *desc)
{
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstBus *bus;
  GstMessage *msg;
  gchar *text;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  text = g_strdup (error->message);
  g_clear_error (&error);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return text;
}

/* A downstream that takes only DMA-BUF (a VA-API encoder behind a DMA_DRM
 * capsfilter) and a producer that has only shared memory: output-mode=auto
 * picks DMA-BUF for it and fails at once saying why, not with caps that
 * never negotiate. */
static void
test_dma_drm_only (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
#if ZC_HAVE_GST_1_24
  const gchar *filter =
      "video/x-raw(memory:DMABuf),format=DMA_DRM,drm-format=XR24";
#else
  const gchar *filter = "video/x-raw(memory:DMABuf),format=BGRx";
#endif
  gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc pipewire-node-id=%u ! capsfilter caps=\"%s\" ! "
      "fakesink",
      p->node_id, filter);
  gchar *msg = first_error (desc);

  g_test_message ("error: %s", msg);
  g_assert_nonnull (strstr (msg, "offers no DMA-BUF"));
  g_free (msg);
  g_free (desc);
  test_producer_stop (p);
}

/* A producer that offers the explicit-sync meta (as a GPU compositor does)
 * with MemFd buffers: the element must not take it, so PipeWire makes the
 * buffers without it; the Header meta, which both sides ask for, is there
 * (so the count is not zero for want of buffers). */
static void
test_sync_timeline_not_with_memfd (void)
{
#if ZC_HAVE_PW_1_2
  TestProducer *p =
      test_producer_start_with ("BGRx", "160x120", 30, 16, "--sync-timeline");
  GstHarness *h = harness_for (p, 0);
  GstBuffer *buf = pull (h);
  gint buffers = -1, header = -1, sync = -1;
  gchar *line;
  gchar *memtype;

  test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  gst_buffer_unref (buf);
  g_object_get (h->element, "memory-type", &memtype, NULL);
  g_assert_cmpstr (memtype, ==, "system");
  g_free (memtype);
  line = test_producer_query (p, "metas");
  g_test_message ("producer: %s", line);
  g_assert_cmpint (
      sscanf (line, "OK metas buffers=%d header=%d sync-timeline=%d", &buffers,
          &header, &sync),
      ==, 3);
  g_assert_cmpint (buffers, >, 0);
  g_assert_cmpint (header, ==, buffers);
  g_assert_cmpint (sync, ==, 0);
  g_free (line);
  gst_harness_teardown (h);
  test_producer_stop (p);
#else
  g_test_skip ("PipeWire < 1.2 has no SyncTimeline meta (built against "
               "0.3): nothing to negotiate");
#endif
}

/* Can this process make a thread real-time? (root, CAP_SYS_NICE or an
 * RLIMIT_RTPRIO; rtkit is not asked here.) */
static void *
try_realtime (void *data)
{
  struct sched_param sp = { .sched_priority = 1 };

  *(gboolean *) data =
      pthread_setschedparam (pthread_self (), SCHED_FIFO, &sp) == 0;
  return NULL;
}

static gboolean
may_make_realtime (void)
{
  pthread_t t;
  gboolean ok = FALSE;

  g_assert_cmpint (pthread_create (&t, NULL, try_realtime, &ok), ==, 0);
  pthread_join (t, NULL);
  return ok;
}

static gboolean
any_thread_realtime (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *name;
  gboolean found = FALSE;

  g_assert_nonnull (dir);
  while (!found && (name = g_dir_read_name (dir)) != NULL) {
    /* PipeWire asks for SCHED_RESET_ON_FORK with it. */
    gint policy = sched_getscheduler ((pid_t) g_ascii_strtoll (name, NULL, 10))
        & ~SCHED_RESET_ON_FORK;
    found = policy == SCHED_FIFO || policy == SCHED_RR;
  }
  g_dir_close (dir);
  return found;
}

/* The stream's data thread runs real-time where the system allows it (on
 * every PipeWire: 0.3 loads module-rt only through client-rt.conf). Under
 * load a data thread that is late to finish its cycle leaves the frame the
 * producer queued meanwhile in the producer's queue, and Mutter sends it
 * only with its next frame: the picture a viewer sees stays one change
 * behind on a still desktop. */
static void
test_data_thread_realtime (void)
{
  TestProducer *p;
  GstHarness *h;

  if (!may_make_realtime ()) {
    g_test_skip ("this process may not make threads real-time");
    return;
  }
  g_assert_false (any_thread_realtime ());
  p = test_producer_start ("BGRx", "160x120", 30);
  h = harness_for (p, 0);
  gst_buffer_unref (pull (h));
  g_assert_true (any_thread_realtime ());
  gst_harness_teardown (h);
  test_producer_stop (p);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("XDG_RUNTIME_DIR") == NULL
      || g_getenv ("ZC_TEST_PRODUCER") == NULL) {
    g_printerr ("run under zc-run-session with ZC_TEST_PRODUCER set\n");
    return 1;
  }
  g_test_add_func ("/element/formats", test_formats);
  g_test_add_func ("/element/pts-rising", test_pts_rising);
  g_test_add_func ("/element/keepalive", test_keepalive);
  g_test_add_func ("/element/keepalive-disabled", test_keepalive_disabled);
  g_test_add_func ("/element/resize", test_resize);
  g_test_add_func ("/element/corrupted-and-cursor", test_corrupted_and_cursor);
  g_test_add_func ("/element/slow-consumer", test_slow_consumer);
  g_test_add_func ("/element/reconnect", test_reconnect);
  g_test_add_func ("/element/resend-last", test_resend_last);
  g_test_add_func ("/element/error-no-node", test_error_no_node);
  g_test_add_func ("/element/error-no-daemon", test_error_no_daemon);
  g_test_add_func ("/element/error-bad-format", test_error_bad_format);
  g_test_add_func (
      "/element/error-downstream-refuses", test_error_downstream_refuses);
  g_test_add_func ("/element/error-node-gone", test_error_node_gone);
  g_test_add_func ("/element/cuda-missing", test_cuda_missing);
  g_test_add_func ("/element/auto-falls-back", test_auto_falls_back);
  g_test_add_func ("/element/buffer-count", test_buffer_count);
  g_test_add_func ("/element/dmabuf-unavailable", test_dmabuf_unavailable);
  g_test_add_func ("/element/dma-drm-only", test_dma_drm_only);
  g_test_add_func ("/element/sync-timeline-not-with-memfd",
      test_sync_timeline_not_with_memfd);
  g_test_add_func ("/element/data-thread-realtime", test_data_thread_realtime);
  return g_test_run ();
}
