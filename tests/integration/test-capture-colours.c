/* Integration test: capture the colour client's window from a real
 * headless Mutter ScreenCast and check each quadrant's colour.
 *
 * Run under `zc-run-session --mutter 640x480 --colours --screencast`,
 * which exports ZC_NODE_ID. The argument picks the source:
 *   zerocopy    pipewirezerocopysrc pipewire-node-id=ID output-mode=system
 *   pipewiresrc upstream pipewiresrc path=ID (checks the harness itself)
 *   swapped     pipewiresrc, with BGRx frames relabelled RGBx: a negative
 *               control proving the check catches a red/blue swap. The
 *               relabelling covers the caps (capssetter) and each buffer's
 *               video meta (relabel_meta), which GStreamer >= 1.24 checks
 *               against the caps when a frame is mapped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include <gst/gst.h>

#include "zc-test-frames.h"

#define FRAME_TIMEOUT_US (G_GINT64_CONSTANT (20) * G_USEC_PER_SEC)

static gboolean
quadrants_match (const GstVideoFrame *frame, GstSample *sample,
    gpointer user_data, gchar **why)
{
  /* Mutter fades a newly mapped window in: early frames are dimmer, so
   * keep pulling until one matches or the deadline passes. */
  return zc_frame_check_quadrants (frame, why);
}

static gboolean
near_rgb (const GstVideoFrame *frame, gint x, gint y, guint rgb, gchar **why)
{
  guint8 p[4];

  if (!zc_frame_pixel (frame, x, y, p, why))
    return FALSE;
  return ABS (p[1] - (gint) (rgb >> 16)) <= 8
      && ABS (p[2] - (gint) ((rgb >> 8) & 0xff)) <= 8
      && ABS (p[3] - (gint) (rgb & 0xff)) <= 8;
}

static gboolean
swap_detected (const GstVideoFrame *frame, GstSample *sample,
    gpointer user_data, gchar **why)
{
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  g_autofree gchar *check_why = NULL;

  /* Done once a frame shows exactly the swapped picture (blue where red
   * belongs and the other way round) and the quadrant check rejects it. */
  if (zc_frame_check_quadrants (frame, &check_why)) {
    *why = g_strdup_printf ("the check accepted a red/blue swapped frame: "
                            "%s",
        check_why);
    return FALSE;
  }
  if (near_rgb (frame, w / 4, h / 4, 0x0000ff, why)
      && near_rgb (frame, w / 4, 3 * h / 4, 0xff0000, why)) {
    g_print ("the swapped frame was rejected: %s\n", check_why);
    return TRUE;
  }
  if (*why == NULL)
    *why = g_strdup_printf ("not yet the swapped picture: %s", check_why);
  return FALSE;
}

/* pipewiresrc's buffers carry a GstVideoMeta naming BGRx (and the real
 * strides); after capssetter the caps say RGBx, and mapping such a frame
 * fails on GStreamer >= 1.24. Relabel the meta too, keeping its layout. */
static GstPadProbeReturn
relabel_meta (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);

  if (meta != NULL && meta->format != GST_VIDEO_FORMAT_RGBx) {
    buf = gst_buffer_make_writable (buf);
    meta = gst_buffer_get_video_meta (buf);
    meta->format = GST_VIDEO_FORMAT_RGBx;
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char *argv[])
{
  const gchar *node = g_getenv ("ZC_NODE_ID");
  const gchar *source = argc > 1 ? argv[1] : "";
  g_autofree gchar *desc = NULL;
  g_autoptr (GError) error = NULL;
  GstElement *pipeline, *sink;
  GstElementFactory *probe;
  const gchar *factory;
  ZcFrameFunc check = quadrants_match;
  guint frames = 0;
  gboolean ok;

  gst_init (&argc, &argv);
  if (node == NULL || *node == '\0') {
    g_printerr ("ZC_NODE_ID is not set: run this test under "
                "zc-run-session --mutter 640x480 --colours --screencast\n");
    return 1;
  }
  if (g_str_equal (source, "zerocopy")) {
    factory = "pipewirezerocopysrc";
    desc =
        g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%s "
                         "output-mode=system ! video/x-raw ! appsink name=sink "
                         "max-buffers=2 drop=true sync=false",
            node);
  } else if (g_str_equal (source, "pipewiresrc")) {
    factory = "pipewiresrc";
    /* pipewiresrc hangs in PAUSED without a caps filter after it. */
    desc =
        g_strdup_printf ("pipewiresrc path=%s ! video/x-raw ! "
                         "appsink name=sink max-buffers=2 drop=true sync=false",
            node);
  } else if (g_str_equal (source, "swapped")) {
    factory = "pipewiresrc";
    check = swap_detected;
    desc = g_strdup_printf (
        "pipewiresrc path=%s ! video/x-raw,format=BGRx "
        "! capssetter caps=video/x-raw,format=RGBx ! appsink name=sink "
        "max-buffers=2 drop=true sync=false",
        node);
  } else {
    g_printerr ("usage: %s zerocopy|pipewiresrc|swapped\n", argv[0]);
    return 2;
  }
  if ((probe = gst_element_factory_find (factory)) == NULL) {
    g_printerr (
        "element '%s' not found: for pipewirezerocopysrc build the "
        "plugin and set GST_PLUGIN_PATH (meson test does), for pipewiresrc "
        "install gstreamer1.0-pipewire\n",
        factory);
    return 1;
  }
  gst_object_unref (probe);

  g_print ("pipeline: %s\n", desc);
  pipeline = gst_parse_launch (desc, &error);
  if (pipeline == NULL) {
    g_printerr ("cannot build the pipeline: %s\n", error->message);
    return 1;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (check == swap_detected) {
    GstPad *pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, relabel_meta, NULL, NULL);
    gst_object_unref (pad);
  }
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("the pipeline cannot go to PLAYING\n");
    ok = FALSE;
  } else {
    ok = zc_pull_frames (pipeline, GST_APP_SINK (sink), FRAME_TIMEOUT_US, check,
        NULL, &frames, &error);
  }
  if (ok)
    g_print ("PASS: %s (%s), after %u frames\n", factory, source, frames);
  else if (error)
    g_printerr ("FAIL: %s: %s\n", factory, error->message);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return ok ? 0 : 1;
}
