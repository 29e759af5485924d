/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-test-frames.h"

#include <stdlib.h>
#include <string.h>

#include "zc-error.h"

/* Compositing and scaling may round by a step or two; a swapped or
 * missing channel is off by ~255. */
#define TOLERANCE 8

gboolean
zc_frame_pixel (
    const GstVideoFrame *frame, gint x, gint y, guint8 argb[4], gchar **why)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint width = GST_VIDEO_FRAME_WIDTH (frame);
  g_autofree guint8 *line = NULL;

  if (!GST_VIDEO_FORMAT_INFO_IS_RGB (finfo)
      || GST_VIDEO_FORMAT_INFO_DEPTH (finfo, 0) != 8) {
    *why = g_strdup_printf ("negotiated format %s is not 8-bit RGB",
        GST_VIDEO_FORMAT_INFO_NAME (finfo));
    return FALSE;
  }
  if (x < 0 || y < 0 || x >= width || y >= GST_VIDEO_FRAME_HEIGHT (frame)) {
    *why = g_strdup_printf ("pixel %d,%d is outside the %dx%d frame", x, y,
        width, GST_VIDEO_FRAME_HEIGHT (frame));
    return FALSE;
  }
  /* 8-bit RGB formats unpack to ARGB: bytes A, R, G, B per pixel. */
  line = g_malloc (width * 4);
  finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, line, frame->data,
      frame->info.stride, 0, y, width);
  memcpy (argb, line + 4 * x, 4);
  return TRUE;
}

static gboolean
near (guint8 value, guint8 expected)
{
  return abs ((int) value - (int) expected) <= TOLERANCE;
}

gboolean
zc_frame_check_quadrants (const GstVideoFrame *frame, gchar **why)
{
  static const struct
  {
    const gchar *where, *name;
    gint fx, fy; /* quarter positions: 1 = left/top, 3 = right/bottom */
    guint8 r, g, b;
  } expect[] = {
    { "top-left", "red", 1, 1, 0xff, 0x00, 0x00 },
    { "top-right", "green", 3, 1, 0x00, 0xff, 0x00 },
    { "bottom-left", "blue", 1, 3, 0x00, 0x00, 0xff },
    { "bottom-right", "white", 3, 3, 0xff, 0xff, 0xff },
  };
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  GString *found = g_string_new (NULL);
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    gint x = w * expect[i].fx / 4, y = h * expect[i].fy / 4;
    guint8 p[4];

    if (!zc_frame_pixel (frame, x, y, p, why)) {
      g_string_free (found, TRUE);
      return FALSE;
    }
    g_string_append_printf (found, "%s%s (%d,%d) #%02x%02x%02x", i ? ", " : "",
        expect[i].where, x, y, p[1], p[2], p[3]);
    if (!near (p[1], expect[i].r) || !near (p[2], expect[i].g)
        || !near (p[3], expect[i].b)) {
      ok = FALSE;
      g_string_append_printf (found, " (want %s)", expect[i].name);
    }
  }
  *why = g_strdup_printf ("%s %dx%d: %s",
      GST_VIDEO_FRAME_FORMAT (frame)
          ? gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame))
          : "?",
      w, h, found->str);
  g_string_free (found, TRUE);
  return ok;
}

static gboolean
read_seq (
    const GstVideoFrame *frame, gint x0, gint y, guint32 *seq, gchar **why)
{
  *seq = 0;
  for (gint i = 0; i < 4; i++) {
    guint8 p[4];
    if (!zc_frame_pixel (frame, x0 + i, y, p, why))
      return FALSE;
    if (p[1] != p[2] || p[2] != p[3]) {
      *why = g_strdup_printf ("sequence pixel %d,%d is not grey: "
                              "#%02x%02x%02x",
          x0 + i, y, p[1], p[2], p[3]);
      return FALSE;
    }
    *seq = (*seq << 8) | p[1];
  }
  return TRUE;
}

gboolean
zc_frame_producer_seq (const GstVideoFrame *frame, guint32 *seq, gchar **why)
{
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  guint32 tail;

  if (!read_seq (frame, 0, 0, seq, why)
      || !read_seq (frame, w - 4, h - 1, &tail, why))
    return FALSE;
  if (*seq != tail) {
    *why = g_strdup_printf ("torn frame: sequence %u in the first row, %u "
                            "in the last",
        *seq, tail);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_bus (GstElement *pipeline, GError **error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg =
      gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;

  if (msg == NULL)
    return TRUE;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the pipeline ended (EOS) before the expected frame");
    return FALSE;
  }
  gst_message_parse_error (msg, &err, &debug);
  g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
      "%s posted an error: %s "
      "(%s)",
      GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
  return FALSE;
}

gboolean
zc_pull_frames (GstElement *pipeline, GstAppSink *sink, gint64 timeout_us,
    ZcFrameFunc func, gpointer user_data, guint *n_frames, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  g_autofree gchar *last_why = NULL;
  guint frames = 0;
  gboolean done = FALSE;

  while (!done) {
    g_autoptr (GstSample) sample = NULL;
    GstVideoInfo info;
    GstVideoFrame frame;
    gchar *why = NULL;

    if (!check_bus (pipeline, error))
      break;
    if (g_get_monotonic_time () >= deadline) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
          "no acceptable frame within %" G_GINT64_FORMAT " ms (%u frames "
          "seen; last: %s)",
          timeout_us / 1000, frames, last_why ? last_why : "none");
      break;
    }
    /* Short pulls keep the bus and the deadline checked. */
    sample = gst_app_sink_try_pull_sample (sink, 200 * GST_MSECOND);
    if (sample == NULL)
      continue;
    /* A cursor-only update carries no picture. */
    if (gst_buffer_get_size (gst_sample_get_buffer (sample)) == 0)
      continue;
    if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
        || !gst_video_frame_map (
            &frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ)) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
          "cannot map a frame with caps %" GST_PTR_FORMAT,
          gst_sample_get_caps (sample));
      break;
    }
    frames++;
    done = func (&frame, sample, user_data, &why);
    gst_video_frame_unmap (&frame);
    g_free (last_why);
    last_why = why;
  }
  if (n_frames)
    *n_frames = frames;
  return done;
}
