/* Unit tests of the Annex-B access unit and SPS parsing (server/zc-h264.c):
 * hand-built streams with known fields, then the real encoders' output.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "zc-encoder.h"
#include "zc-h264.h"

/* An RBSP bit writer with emulation prevention, to build SPSs whose every
 * field the test chooses. */
typedef struct
{
  GByteArray *rbsp;
  guint8 cur;
  guint nbits;
} BitWriter;

static void
put_bits (BitWriter *w, guint32 v, guint n)
{
  while (n--) {
    w->cur = w->cur << 1 | ((v >> n) & 1);
    if (++w->nbits == 8) {
      g_byte_array_append (w->rbsp, &w->cur, 1);
      w->cur = 0;
      w->nbits = 0;
    }
  }
}

static void
put_ue (BitWriter *w, guint32 v)
{
  guint32 x = v + 1;
  guint len = 0;

  while ((x >> len) > 1)
    len++;
  put_bits (w, 0, len);
  put_bits (w, x, len + 1);
}

/* rbsp_trailing_bits, then 00 00 0x -> 00 00 03 0x escaping. */
static GByteArray *
finish_nal (BitWriter *w, guint8 header)
{
  GByteArray *nal = g_byte_array_new ();
  guint zeros = 0;

  put_bits (w, 1, 1);
  while (w->nbits)
    put_bits (w, 0, 1);
  g_byte_array_append (nal, &header, 1);
  for (guint i = 0; i < w->rbsp->len; i++) {
    guint8 b = w->rbsp->data[i];
    if (zeros >= 2 && b <= 3) {
      guint8 three = 3;
      g_byte_array_append (nal, &three, 1);
      zeros = 0;
    }
    g_byte_array_append (nal, &b, 1);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  g_byte_array_unref (w->rbsp);
  return nal;
}

/* A High-profile SPS, 1920x1080 (68 MB rows, cropped by 8), with VUI
 * timing info and a bitstream restriction. */
static GByteArray *
make_sps_full (gboolean vui, guint reorder, guint dpb)
{
  BitWriter w = { .rbsp = g_byte_array_new () };

  put_bits (&w, 100, 8); /* profile_idc High */
  put_bits (&w, 0, 8);
  put_bits (&w, 40, 8); /* level 4.0 */
  put_ue (&w, 0);       /* sps id */
  put_ue (&w, 1);       /* chroma 4:2:0 */
  put_ue (&w, 0);
  put_ue (&w, 0);
  put_bits (&w, 0, 1);
  put_bits (&w, 0, 1); /* no scaling matrix */
  put_ue (&w, 0);      /* log2_max_frame_num - 4 */
  put_ue (&w, 0);      /* poc type 0 */
  put_ue (&w, 2);
  put_ue (&w, 1); /* max_num_ref_frames */
  put_bits (&w, 0, 1);
  put_ue (&w, 120 - 1); /* width in MBs */
  put_ue (&w, 68 - 1);  /* height in map units */
  put_bits (&w, 1, 1);  /* frame_mbs_only */
  put_bits (&w, 1, 1);  /* direct_8x8 */
  put_bits (&w, 1, 1);  /* cropping */
  put_ue (&w, 0);
  put_ue (&w, 0);
  put_ue (&w, 0);
  put_ue (&w, 4);        /* bottom: 4 * 2 = 8 lines */
  put_bits (&w, vui, 1); /* vui */
  if (vui) {
    put_bits (&w, 0, 1); /* aspect */
    put_bits (&w, 0, 1); /* overscan */
    put_bits (&w, 1, 1); /* video signal type */
    put_bits (&w, 5, 3);
    put_bits (&w, 0, 1);
    put_bits (&w, 1, 1); /* colour description */
    put_bits (&w, 0x010101, 24);
    put_bits (&w, 0, 1); /* chroma loc */
    put_bits (&w, 1, 1); /* timing */
    put_bits (&w, 1, 32);
    put_bits (&w, 60, 32);
    put_bits (&w, 0, 1);
    put_bits (&w, 0, 1); /* nal hrd */
    put_bits (&w, 0, 1); /* vcl hrd */
    put_bits (&w, 0, 1); /* pic struct */
    put_bits (&w, 1, 1); /* bitstream restriction */
    put_bits (&w, 1, 1);
    put_ue (&w, 2);
    put_ue (&w, 1);
    put_ue (&w, 16);
    put_ue (&w, 16);
    put_ue (&w, reorder);
    put_ue (&w, dpb);
  }
  return finish_nal (&w, 0x67);
}

static GByteArray *
make_sps (guint reorder, guint dpb)
{
  return make_sps_full (TRUE, reorder, dpb);
}

static void
test_nal_split (void)
{
  /* 4-byte and 3-byte start codes, trailing zeros after the last NAL. A
   * NAL unit never ends in 0x00, so the zero before a start code is the
   * 4-byte code's. */
  const guint8 au[] = { 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x42, 0x1f, 0, 0,
    0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x00, 0x00 };
  const guint8 types[] = { 9, 7, 8, 5 };
  const gsize sizes[] = { 2, 3, 2, 2 };
  gsize offset = 0;
  const guint8 *nal;
  gsize nal_size;
  guint n = 0;
  ZcH264AuInfo info;

  while (zc_h264_next_nal (au, sizeof (au), &offset, &nal, &nal_size)) {
    g_assert_cmpuint (n, <, 4);
    g_assert_cmpuint (nal[0] & 0x1f, ==, types[n]);
    g_assert_cmpuint (nal_size, ==, sizes[n]);
    n++;
  }
  g_assert_cmpuint (n, ==, 4);

  g_assert_true (zc_h264_parse_au (au, sizeof (au), &info, NULL));
  g_assert_cmpuint (info.n_nals, ==, 4);
  g_assert_true (info.has_sps && info.has_pps && info.has_idr);
  g_assert_true (info.keyframe);
  g_assert_cmpuint (info.sps_offset, ==, 9);
  g_assert_cmpuint (info.sps_size, ==, 3);
}

static void
test_au_delta_and_bad (void)
{
  const guint8 delta[] = { 0, 0, 0, 1, 0x41, 0x9a, 0x02 };
  const guint8 garbage[] = { 0x12, 0x34, 0x56, 0x78 };
  const guint8 empty_nal[] = { 0, 0, 1, 0, 0, 1, 0x41 };
  g_autoptr (GError) error = NULL;
  ZcH264AuInfo info;

  g_assert_true (zc_h264_parse_au (delta, sizeof (delta), &info, NULL));
  g_assert_false (info.keyframe);
  g_assert_true (info.has_slice);
  g_assert_false (zc_h264_parse_au (garbage, sizeof (garbage), &info, &error));
  g_assert_nonnull (strstr (error->message, "start code"));
  g_clear_error (&error);
  g_assert_false (
      zc_h264_parse_au (empty_nal, sizeof (empty_nal), &info, &error));
}

static void
test_sps_fields (void)
{
  g_autoptr (GByteArray) sps = make_sps (0, 1);
  g_autoptr (GByteArray) reorder = make_sps (2, 4);
  g_autofree gchar *codec = NULL;
  ZcH264Sps s;
  GError *error = NULL;

  g_assert_true (zc_h264_parse_sps (sps->data, sps->len, &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.profile_idc, ==, 100);
  g_assert_cmpuint (s.level_idc, ==, 40);
  g_assert_cmpuint (s.width, ==, 1920);
  g_assert_cmpuint (s.height, ==, 1080);
  g_assert_true (s.vui_present && s.bitstream_restriction);
  g_assert_cmpuint (s.max_num_reorder_frames, ==, 0);
  g_assert_cmpuint (s.max_dec_frame_buffering, ==, 1);
  g_assert_true (zc_h264_sps_is_low_delay (&s));
  codec = zc_h264_codec_string (&s);
  g_assert_cmpstr (codec, ==, "avc1.640028");

  g_assert_true (zc_h264_parse_sps (reorder->data, reorder->len, &s, NULL));
  g_assert_cmpuint (s.max_num_reorder_frames, ==, 2);
  g_assert_false (zc_h264_sps_is_low_delay (&s));

  /* Cut anywhere inside the VUI, the parse fails instead of inventing. */
  g_assert_false (zc_h264_parse_sps (sps->data, sps->len - 4, &s, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (zc_h264_parse_sps (sps->data, 2, &s, &error));
  g_clear_error (&error);
}

static void
check_rewrite (GByteArray *in, guint *profile, guint *level)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;
  ZcH264Sps before, after;
  gsize size;
  const guint8 *data;

  g_assert_true (zc_h264_parse_sps (in->data, in->len, &before, NULL));
  g_assert_false (zc_h264_sps_is_low_delay (&before));
  out = zc_h264_sps_make_low_delay (in->data, in->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  data = g_bytes_get_data (out, &size);
  g_assert_true (zc_h264_parse_sps (data, size, &after, &error));
  g_assert_no_error (error);
  g_assert_true (zc_h264_sps_is_low_delay (&after));
  g_assert_cmpuint (after.max_num_reorder_frames, ==, 0);
  g_assert_cmpuint (after.width, ==, before.width);
  g_assert_cmpuint (after.height, ==, before.height);
  g_assert_cmpuint (after.profile_idc, ==, before.profile_idc);
  g_assert_cmpuint (after.level_idc, ==, before.level_idc);
  g_assert_cmpuint (after.max_num_ref_frames, ==, before.max_num_ref_frames);
  /* Rewriting it again changes nothing. */
  g_assert_null (zc_h264_sps_make_low_delay (data, size, NULL));
  *profile = after.profile_idc;
  *level = after.level_idc;
}

static void
test_sps_rewrite (void)
{
  g_autoptr (GByteArray) no_vui = make_sps_full (FALSE, 0, 0);
  g_autoptr (GByteArray) reorder = make_sps (2, 4);
  g_autoptr (GByteArray) low = make_sps (0, 1);
  guint profile, level;

  check_rewrite (no_vui, &profile, &level);
  g_assert_cmpuint (profile, ==, 100);
  check_rewrite (reorder, &profile, &level);
  g_assert_cmpuint (level, ==, 40);
  g_assert_null (zc_h264_sps_make_low_delay (low->data, low->len, NULL));
}

/* Encodes a few frames with @encoder set up as the server does and checks
 * the first access unit is a keyframe with an SPS of the right size, and
 * that later ones are not keyframes. */
static void
test_real_encoder (gconstpointer data)
{
  const gchar *encoder = data;
  ZcEncoderSettings settings = { .bitrate_kbps = 1000, .fps = 30, .gop = 30 };
  g_autoptr (GError) error = NULL;
  GstElement *pipeline, *src, *bin, *parse, *filter, *sink;
  g_autoptr (GstCaps) caps = NULL;
  guint keyframes = 0, frames = 0;

  if (!zc_encoder_is_available (encoder)) {
    g_test_skip ("encoder not installed");
    return;
  }
  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("videotestsrc", NULL);
  g_object_set (src, "num-buffers", 10, NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  caps = gst_caps_from_string ("video/x-raw,format=BGRx,width=320,height=240,"
                               "framerate=30/1");
  g_object_set (filter, "caps", caps, NULL);
  bin = zc_encoder_make_bin (encoder, &settings, &error);
  g_assert_no_error (error);
  parse = gst_element_factory_make ("h264parse", NULL);
  g_object_set (parse, "config-interval", -1, NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  gst_clear_caps (&caps);
  caps = gst_caps_from_string (
      "video/x-h264,stream-format=byte-stream,alignment=au");
  g_object_set (sink, "caps", caps, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, bin, parse, sink, NULL);
  g_assert_true (gst_element_link_many (src, filter, bin, parse, sink, NULL));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (;;) {
    g_autoptr (GstSample) sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
    GstMapInfo map;
    ZcH264AuInfo info;
    ZcH264Sps sps;

    if (sample == NULL)
      break;
    g_assert_true (
        gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ));
    g_assert_true (zc_h264_parse_au (map.data, map.size, &info, NULL));
    if (frames == 0) {
      g_assert_true (info.keyframe);
      g_assert_true (info.has_sps && info.has_pps);
      g_assert_true (zc_h264_parse_sps (
          map.data + info.sps_offset, info.sps_size, &sps, NULL));
      g_assert_cmpuint (sps.width, ==, 320);
      g_assert_cmpuint (sps.height, ==, 240);
      /* constrained baseline: browsers decode it everywhere */
      g_assert_cmpuint (sps.profile_idc, ==, 66);
      g_assert_cmpuint (sps.constraint_flags & 0x40, ==, 0x40);
      g_test_message ("%s: low-delay VUI %s", encoder,
          zc_h264_sps_is_low_delay (&sps) ? "yes" : "no");
    }
    keyframes += info.keyframe;
    frames++;
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_assert_cmpuint (frames, ==, 10);
  g_assert_cmpuint (keyframes, ==, 1);
}

/* A desktop that holds still sends one frame and then nothing: the
 * encoder, set up as the server does, must put that frame out without
 * waiting for another. The source has no frame rate (0/1), as Mutter's
 * ScreenCast; x264 took that as VFR input and held each frame for the
 * next. */
static void
test_encoder_does_not_hold (gconstpointer data)
{
  const gchar *encoder = data;
  ZcEncoderSettings settings = { .bitrate_kbps = 1000, .fps = 30, .gop = 30 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstSample) first = NULL, second = NULL;
  GstElement *pipeline, *src, *bin, *sink;
  GstBuffer *frame;
  const gsize size = 320 * 240 * 4;

  if (!zc_encoder_is_available (encoder)) {
    g_test_skip ("encoder not installed");
    return;
  }
  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("appsrc", NULL);
  caps = gst_caps_from_string ("video/x-raw,format=BGRx,width=320,height=240,"
                               "framerate=0/1");
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, NULL);
  bin = zc_encoder_make_bin (encoder, &settings, &error);
  g_assert_no_error (error);
  sink = gst_element_factory_make ("appsink", NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, bin, sink, NULL);
  g_assert_true (gst_element_link_many (src, bin, sink, NULL));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (guint i = 0; i < 2; i++) {
    frame = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_memset (frame, 0, i ? 0xc0 : 0x20, size);
    GST_BUFFER_PTS (frame) = i * 100 * GST_MSECOND;
    g_assert_cmpint (
        gst_app_src_push_buffer (GST_APP_SRC (src), frame), ==, GST_FLOW_OK);
    /* No further frame comes until this one is out (or the deadline). */
    if (i == 0)
      first =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
    else
      second =
          gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_assert_nonnull (first);
  g_assert_nonnull (second);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/h264/nal-split", test_nal_split);
  g_test_add_func ("/h264/au-delta-and-bad", test_au_delta_and_bad);
  g_test_add_func ("/h264/sps-fields", test_sps_fields);
  g_test_add_func ("/h264/sps-rewrite", test_sps_rewrite);
  g_test_add_data_func ("/h264/encoder/x264enc", "x264enc", test_real_encoder);
  g_test_add_data_func (
      "/h264/encoder/openh264enc", "openh264enc", test_real_encoder);
  g_test_add_data_func (
      "/h264/encoder-no-hold/x264enc", "x264enc", test_encoder_does_not_hold);
  g_test_add_data_func ("/h264/encoder-no-hold/openh264enc", "openh264enc",
      test_encoder_does_not_hold);
  return g_test_run ();
}
