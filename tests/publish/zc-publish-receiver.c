/* zc-publish-receiver: the receiving end of a publish test, made of the
 * real servers' parts: an RTSP server on gst-rtsp-server taking RECORD,
 * or a GStreamer srtsrc SRT listener. Either way it decodes what arrives
 * and reports the picture.
 *
 *   zc-publish-receiver rtsp PORT PATH    RTSP RECORD at
 * rtsp://127.0.0.1:PORT/PATH zc-publish-receiver srt PORT          SRT listener
 * at 127.0.0.1:PORT
 *
 * stdout: READY, then FRAME n=N size=WxH tl=R,G,B tr=.. bl=.. br=.. (the
 * centre of each quadrant) for the first 5 frames and every 10th after.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>

#define DECODE                                                                 \
  "h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=RGB ! "          \
  "appsink name=out sync=false max-buffers=2 drop=true"

static guint64 frames;

/* What follows the depayloader or demuxer. */
static const gchar *
tail (void)
{
  return g_strcmp0 (g_getenv ("ZC_RECEIVER_NO_DECODE"), "1") == 0
      ? "fakesink name=out sync=false"
      : DECODE;
}

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstVideoInfo info;
  GstVideoFrame frame;
  static const struct
  {
    const char *name;
    double x, y;
  } spots[] = { { "tl", 0.25, 0.25 }, { "tr", 0.75, 0.25 },
    { "bl", 0.25, 0.75 }, { "br", 0.75, 0.75 } };

  if (sample == NULL)
    return GST_FLOW_EOS;
  frames++;
  if (frames > 5 && frames % 10 != 0)
    return GST_FLOW_OK;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (
          &frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
    return GST_FLOW_OK;
  printf ("FRAME n=%" G_GUINT64_FORMAT " size=%dx%d", frames, info.width,
      info.height);
  for (guint i = 0; i < G_N_ELEMENTS (spots); i++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) (info.height * spots[i].y)
            * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    const guint8 *px = row + 3 * (gsize) (info.width * spots[i].x);
    printf (" %s=%u,%u,%u", spots[i].name, px[0], px[1], px[2]);
  }
  printf ("\n");
  gst_video_frame_unmap (&frame);
  return GST_FLOW_OK;
}

static void
attach_appsink (GstElement *bin)
{
  GstAppSinkCallbacks callbacks = { .new_sample = on_sample };
  GstElement *out = gst_bin_get_by_name (GST_BIN (bin), "out");

  if (!GST_IS_APP_SINK (out)) {
    gst_object_unref (out);
    return;
  }
  gst_app_sink_set_callbacks (GST_APP_SINK (out), &callbacks, NULL, NULL);
  gst_object_unref (out);
}

static void
on_media_configure (
    GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer data)
{
  GstElement *element = gst_rtsp_media_get_element (media);

  attach_appsink (element);
  gst_object_unref (element);
  printf ("RECORD\n");
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer loop)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    printf ("ERROR %s\n", error->message);
    g_main_loop_quit (loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = NULL;
  GstElement *pipeline = NULL;
  GstRTSPServer *server = NULL;

  setvbuf (stdout, NULL, _IOLBF, 0);
  gst_init (&argc, &argv);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);

  if (argc == 4 && strcmp (argv[1], "rtsp") == 0 && argv[3][0] == '/') {
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new ();
    GstRTSPMountPoints *mounts;

    server = gst_rtsp_server_new ();
    gst_rtsp_server_set_address (server, "127.0.0.1");
    gst_rtsp_server_set_service (server, argv[2]);
    gst_rtsp_media_factory_set_transport_mode (
        factory, GST_RTSP_TRANSPORT_MODE_RECORD);
    g_autofree gchar *launch =
        g_strdup_printf ("( rtph264depay name=depay0 ! %s )", tail ());

    gst_rtsp_media_factory_set_launch (factory, launch);
    gst_rtsp_media_factory_set_latency (factory, 0);
    g_signal_connect (
        factory, "media-configure", G_CALLBACK (on_media_configure), NULL);
    mounts = gst_rtsp_server_get_mount_points (server);
    gst_rtsp_mount_points_add_factory (mounts, argv[3], factory);
    g_object_unref (mounts);
    if (gst_rtsp_server_attach (server, NULL) == 0) {
      fprintf (
          stderr, "zc-publish-receiver: cannot listen on port %s\n", argv[2]);
      return 1;
    }
  } else if (argc == 3 && strcmp (argv[1], "srt") == 0) {
    g_autofree gchar *desc = g_strdup_printf (
        "srtsrc uri=srt://127.0.0.1:%d?mode=listener latency=50 ! "
        "tsdemux ! %s",
        atoi (argv[2]), tail ());
    g_autoptr (GError) error = NULL;
    GstBus *bus;

    pipeline = gst_parse_launch (desc, &error);
    if (pipeline == NULL) {
      fprintf (stderr, "zc-publish-receiver: %s\n", error->message);
      return 1;
    }
    attach_appsink (pipeline);
    bus = gst_element_get_bus (pipeline);
    gst_bus_add_watch (bus, on_bus, loop);
    gst_object_unref (bus);
    if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE) {
      fprintf (
          stderr, "zc-publish-receiver: the SRT listener would not start\n");
      return 1;
    }
  } else {
    fprintf (stderr, "usage: zc-publish-receiver rtsp PORT /PATH | srt PORT\n");
    return 2;
  }
  printf ("READY\n");
  g_main_loop_run (loop);
  if (pipeline) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
  g_clear_object (&server);
  return 0;
}
