/* The pipeline with a real encoder and a test pattern: frames reach the
 * fan-out with the right framing, a keyframe request is honoured, and a
 * source that ends at run time is ruled out, the next combination is tried
 * and, with none left, the failure is reported once with its reason.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <gst/gst.h>

#include "zc-h264.h"
#include "zc-pipeline.h"
#include "zc-wire.h"

typedef struct
{
  GMainLoop *loop;
  GError *failure;
  guint failures;
  guint frames, keyframes;
  gboolean got_init;
  guint16 width, height;
} Fixture;

static gboolean
try_send (gpointer sink, GBytes *message)
{
  Fixture *f = sink;
  gsize size;
  const guint8 *d = g_bytes_get_data (message, &size);
  ZcWireVideoHeader h;
  const guint8 *au;
  gsize au_size;
  ZcH264AuInfo info;

  if (d[0] == ZC_WIRE_STREAM_INIT) {
    f->got_init = TRUE;
    /* x264enc runs constrained baseline here: plain H.264, not High. */
    g_assert_cmpuint (d[1], ==, ZC_WIRE_CODEC_H264);
    f->width = d[2] << 8 | d[3];
    f->height = d[4] << 8 | d[5];
    return TRUE;
  }
  g_assert_true (f->got_init); /* StreamInit comes first */
  g_assert_true (zc_wire_parse_video_frame (d, size, &h, &au, &au_size, NULL));
  g_assert_true (zc_h264_parse_au (au, au_size, &info, NULL));
  g_assert_cmpint (info.keyframe, ==, (h.flags & ZC_WIRE_FLAG_KEYFRAME) != 0);
  if (f->frames == 0)
    g_assert_true (info.keyframe);
  f->frames++;
  f->keyframes += info.keyframe;
  return TRUE;
}

static void
sink_close (gpointer sink, const gchar *reason)
{
  g_assert_not_reached ();
}

static const ZcViewerSinkFuncs funcs = { .try_send = try_send,
  .close = sink_close };

static void
on_failed (ZcPipeline *pipeline, const GError *error, gpointer data)
{
  Fixture *f = data;

  f->failures++;
  f->failure = g_error_copy (error);
  g_main_loop_quit (f->loop);
}

static void
no_keyframe_request (gpointer data)
{
}

static gboolean
on_deadline (gpointer data)
{
  g_error ("deadline passed"); /* a test may abort: main's process */
  return G_SOURCE_REMOVE;
}

static void
test_source_ends (void)
{
  Fixture f = { 0 };
  ZcFanoutLimits limits;
  g_autoptr (ZcFanout) fanout = NULL;
  g_autoptr (ZcPipeline) pipeline = NULL;
  g_autoptr (GError) error = NULL;
  ZcPipelineConfig config = {
    .test_pattern = TRUE,
    .test_pattern_frames = 45,
    .width = 320,
    .height = 240,
    .mode = ZC_VIDEO_MODE_AUTO,
    .encoder = "x264enc",
    .encoder_settings = { .bitrate_kbps = 500, .fps = 30, .gop = 15 },
    .keepalive_ms = 100,
    .first_frame_timeout_us = 10 * G_USEC_PER_SEC,
  };
  ZcPipelineStats stats;
  guint deadline;

  f.loop = g_main_loop_new (NULL, FALSE);
  zc_fanout_limits_init_default (&limits);
  fanout = zc_fanout_new (&limits, no_keyframe_request, NULL);
  zc_fanout_add_viewer (fanout, &funcs, &f);
  pipeline = zc_pipeline_new (&config, fanout, on_failed, &f);
  g_assert_true (zc_pipeline_start (pipeline, &error));
  g_assert_no_error (error);

  deadline = g_timeout_add_seconds (60, on_deadline, NULL);
  g_main_loop_run (f.loop);
  g_source_remove (deadline);

  g_assert_cmpuint (f.failures, ==, 1);
  g_assert_nonnull (strstr (f.failure->message, "no video mode and encoder"));
  g_assert_nonnull (strstr (f.failure->message, "ended the stream"));
  g_assert_cmpuint (f.width, ==, 320);
  g_assert_cmpuint (f.height, ==, 240);
  zc_pipeline_get_stats (pipeline, &stats);
  /* The queue in front of the encoder is leaky on purpose (encode the
   * newest frame rather than build latency), so a busy machine may drop a
   * few of the 45; and the newest frame or two may still be on their way
   * to the main context when the end of stream tears the pipeline down. */
  g_assert_cmpuint (stats.frames_encoded, <=, 45);
  g_assert_cmpuint (stats.frames_encoded, >=, 31);
  g_assert_cmpuint (f.frames, <=, stats.frames_encoded);
  g_assert_cmpuint (f.frames + 2, >=, stats.frames_encoded);
  /* One keyframe every 15 encoded frames: the GOP reached the encoder. */
  g_assert_cmpuint (f.keyframes, ==, (f.frames + 14) / 15);
  g_assert_cmpuint (stats.restarts, ==, 1);
  g_clear_error (&f.failure);
  g_main_loop_unref (f.loop);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  if (!gst_element_factory_find ("x264enc")) {
    g_print ("1..0 # SKIP x264enc is not installed "
             "(gstreamer1.0-plugins-ugly)\n");
    return 77;
  }
  g_test_add_func ("/pipeline/source-ends", test_source_ends);
  return g_test_run ();
}
