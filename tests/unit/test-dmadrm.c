/* Unit tests of the DMA-BUF caps logic, without a GPU: the DRM fourcc <->
 * GstVideoFormat <-> SPA format table checked against GStreamer's own
 * mapping, the DMA_DRM caps the element makes for a negotiated format and
 * modifier held against a capsfilter as a VA-API encoder would set it up,
 * the element's template, what it offers PipeWire in dmabuf mode, and the
 * auto choice between DMA-BUF and system memory. The import itself needs
 * /dev/dri (tests/gpu). On GStreamer 1.22 the caps name no modifier: that
 * variant is what is checked there.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include <gst/gst.h>
#include <gst/video/video.h>

#include "zc-format.h"
#include "zc-output.h"

#include <spa/buffer/buffer.h>

#include <string.h>

/* I915_FORMAT_MOD_X_TILED and _Y_TILED: what an Intel GPU, the usual
 * VA-API encoder, imports. */
#define MOD_X_TILED G_GUINT64_CONSTANT (0x0100000000000001)
#define MOD_Y_TILED G_GUINT64_CONSTANT (0x0100000000000002)

static void
video_info (GstVideoInfo *info, GstVideoFormat format)
{
  gst_video_info_set_format (info, format, 1920, 1080);
  GST_VIDEO_INFO_FPS_N (info) = 60;
  GST_VIDEO_INFO_FPS_D (info) = 1;
}

/* Asks a real capsfilter, set up with @filter, whether its sink pad takes
 * @caps (the ACCEPT_CAPS query an upstream element sends). */
static gboolean
capsfilter_accepts (const gchar *filter, GstCaps *caps)
{
  GstElement *cf = gst_element_factory_make ("capsfilter", NULL);
  GstCaps *fc = gst_caps_from_string (filter);
  GstPad *sink;
  gboolean ok;

  g_assert_nonnull (cf);
  g_assert_nonnull (fc);
  g_object_set (cf, "caps", fc, NULL);
  sink = gst_element_get_static_pad (cf, "sink");
  ok = gst_pad_query_accept_caps (sink, caps);
  gst_object_unref (sink);
  gst_caps_unref (fc);
  gst_object_unref (cf);
  return ok;
}

/* Every row of the table names one format three ways; GStreamer's own
 * DRM mapping (1.24+) and the SPA names must agree with it. */
static void
test_table (void)
{
  guint n;
  const ZcFormat *t = zc_format_table (&n);

  g_assert_cmpuint (n, ==, 6);
  for (guint i = 0; i < n; i++) {
    const gchar *gst_name = gst_video_format_to_string (t[i].gst);

    g_assert_true (zc_format_from_gst (t[i].gst) == &t[i]);
    g_assert_true (zc_format_from_spa (t[i].spa) == &t[i]);
    g_assert_true (zc_format_from_drm (t[i].drm) == &t[i]);
    g_assert_cmpstr (zc_format_spa_name (t[i].spa), ==, gst_name);
    g_assert_cmpint (t[i].has_alpha, ==,
        GST_VIDEO_FORMAT_INFO_HAS_ALPHA (gst_video_format_get_info (t[i].gst)));
#if ZC_HAVE_GST_1_24
    g_assert_cmphex (
        gst_video_dma_drm_fourcc_from_format (t[i].gst), ==, t[i].drm);
    g_assert_cmpint (
        gst_video_dma_drm_fourcc_to_format (t[i].drm), ==, t[i].gst);
#endif
  }
  g_assert_cmphex (ZC_DRM_FORMAT_XRGB8888, ==, 0x34325258); /* "XR24" */
  g_assert_null (zc_format_from_gst (GST_VIDEO_FORMAT_NV12));
  g_assert_null (zc_format_from_drm (ZC_FOURCC ('N', 'V', '1', '2')));
}

/* The caps of a negotiated DMA-BUF frame, as a VA-API encoder's
 * capsfilter sees them. */
static void
test_caps_for_encoder (void)
{
  ZcOutput out = { .mode = ZC_OUTPUT_MODE_DMABUF };
  GstVideoInfo info;
  GError *error = NULL;
  GstCaps *caps;
  gchar *str;

  video_info (&info, GST_VIDEO_FORMAT_BGRx);
  caps = zc_output_caps (&out, &info, MOD_X_TILED, &error);
  g_assert_no_error (error);
  g_assert_nonnull (caps);
  g_assert_true (gst_caps_is_fixed (caps));
  str = gst_caps_to_string (caps);
  g_test_message ("dmabuf caps: %s", str);
  g_assert_true (gst_caps_features_contains (
      gst_caps_get_features (caps, 0), "memory:DMABuf"));
#if ZC_HAVE_GST_1_24
  {
    GstVideoInfoDmaDrm drm;

    g_assert_true (gst_video_is_dma_drm_caps (caps));
    g_assert_nonnull (strstr (str, "format=(string)DMA_DRM"));
    g_assert_nonnull (
        strstr (str, "drm-format=(string)XR24:0x0100000000000001"));
    g_assert_true (gst_video_info_dma_drm_from_caps (&drm, caps));
    g_assert_cmphex (drm.drm_fourcc, ==, ZC_DRM_FORMAT_XRGB8888);
    g_assert_cmphex (drm.drm_modifier, ==, MOD_X_TILED);
    g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&drm.vinfo), ==, 1920);
  }
  /* What vah264enc's sink takes on an Intel GPU, narrowed the way an
   * application pins it. */
  g_assert_true (capsfilter_accepts ("video/x-raw(memory:DMABuf),"
                                     "format=DMA_DRM,drm-format=XR24:"
                                     "0x0100000000000001",
      caps));
  g_assert_true (capsfilter_accepts ("video/x-raw(memory:DMABuf),"
                                     "format=DMA_DRM,drm-format={ NV12:"
                                     "0x0100000000000001, XR24:"
                                     "0x0100000000000001 }",
      caps));
  /* Refused: another modifier, another fourcc, system memory, the old
   * way of naming a DMA-BUF format. */
  g_assert_false (capsfilter_accepts ("video/x-raw(memory:DMABuf),"
                                      "format=DMA_DRM,drm-format=XR24:"
                                      "0x0100000000000002",
      caps));
  g_assert_false (capsfilter_accepts (
      "video/x-raw(memory:DMABuf),format=DMA_DRM,drm-format=AR24:"
      "0x0100000000000001",
      caps));
  g_assert_false (capsfilter_accepts ("video/x-raw,format=BGRx", caps));
  g_assert_false (
      capsfilter_accepts ("video/x-raw(memory:DMABuf),format=BGRx", caps));
#else
  /* 1.22 caps cannot carry a modifier: the format is named as in system
   * memory, only linear layouts were offered. */
  g_assert_nonnull (strstr (str, "format=(string)BGRx"));
  g_assert_true (
      capsfilter_accepts ("video/x-raw(memory:DMABuf),format=BGRx", caps));
  g_assert_false (capsfilter_accepts ("video/x-raw,format=BGRx", caps));
#endif
  g_free (str);
  gst_caps_unref (caps);
}

/* A format negotiated without a modifier is linear: DMA_DRM spells it
 * with the fourcc alone. */
static void
test_caps_linear (void)
{
#if ZC_HAVE_GST_1_24
  ZcOutput out = { .mode = ZC_OUTPUT_MODE_DMABUF };
  static const struct
  {
    GstVideoFormat format;
    const gchar *drm;
  } cases[] = {
    { GST_VIDEO_FORMAT_BGRx, "XR24" },
    { GST_VIDEO_FORMAT_BGRA, "AR24" },
    { GST_VIDEO_FORMAT_RGBx, "XB24" },
    { GST_VIDEO_FORMAT_RGBA, "AB24" },
    { GST_VIDEO_FORMAT_xRGB, "BX24" },
    { GST_VIDEO_FORMAT_ARGB, "BA24" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstVideoInfo info;
    GError *error = NULL;
    GstCaps *caps;
    gchar *filter;
    const gchar *got;

    video_info (&info, cases[i].format);
    caps = zc_output_caps (&out, &info, ZC_DRM_FORMAT_MOD_INVALID, &error);
    g_assert_no_error (error);
    got = gst_structure_get_string (
        gst_caps_get_structure (caps, 0), "drm-format");
    g_assert_cmpstr (got, ==, cases[i].drm);
    filter = g_strdup_printf (
        "video/x-raw(memory:DMABuf),format=DMA_DRM,drm-format=%s",
        cases[i].drm);
    g_assert_true (capsfilter_accepts (filter, caps));
    g_free (filter);
    gst_caps_unref (caps);
  }
#else
  g_test_skip ("GStreamer < 1.24 has no DMA_DRM caps (built against 1.22)");
#endif
}

/* The element's src template takes what zc_output_caps makes, and a
 * VA-API encoder's DMA_DRM caps intersect it. */
static void
test_template (void)
{
  GstElementFactory *f = gst_element_factory_find ("pipewirezerocopysrc");
  ZcOutput out = { .mode = ZC_OUTPUT_MODE_DMABUF };
  GstCaps *tmpl = NULL, *caps, *va;
  GstVideoInfo info;
  const GList *l;

  g_assert_nonnull (f);
  for (l = gst_element_factory_get_static_pad_templates (f); l; l = l->next) {
    GstStaticPadTemplate *t = l->data;
    if (t->direction == GST_PAD_SRC)
      tmpl = gst_static_pad_template_get_caps (t);
  }
  g_assert_nonnull (tmpl);
  video_info (&info, GST_VIDEO_FORMAT_RGBA);
  caps = zc_output_caps (&out, &info, MOD_Y_TILED, NULL);
  g_assert_true (gst_caps_is_subset (caps, tmpl));
#if ZC_HAVE_GST_1_24
  va = gst_caps_from_string ("video/x-raw(memory:DMABuf),format=DMA_DRM,"
                             "drm-format=AB24:0x0100000000000002");
#else
  va = gst_caps_from_string ("video/x-raw(memory:DMABuf),format=RGBA");
#endif
  g_assert_true (gst_caps_can_intersect (va, tmpl));
  gst_caps_unref (va);
  gst_caps_unref (caps);
  gst_caps_unref (tmpl);
  gst_object_unref (f);
}

/* In dmabuf mode without EGL (no /dev/dri, as here): every format, DMA-BUF
 * only, each with the linear modifier that any importer takes. */
static void
test_offers (void)
{
  ZcOutput out = { .mode = ZC_OUTPUT_MODE_DMABUF };
  enum spa_video_format formats[16];
  guint n;
  guint32 types;

#if ZC_HAVE_GST_1_24
  /* The format is chosen with the modifier, from what PipeWire offers:
   * downstream's DMA_DRM caps do not narrow it here. */
  out.peer_caps = gst_caps_from_string ("video/x-raw(memory:DMABuf),"
                                        "format=DMA_DRM,drm-format=XR24");
  n = zc_output_formats (&out, formats, G_N_ELEMENTS (formats));
  g_assert_cmpuint (n, ==, 6);
#else
  out.peer_caps =
      gst_caps_from_string ("video/x-raw(memory:DMABuf),format=BGRx");
  n = zc_output_formats (&out, formats, G_N_ELEMENTS (formats));
  g_assert_cmpuint (n, ==, 1);
#endif
  g_assert_cmpint (formats[0], ==, SPA_VIDEO_FORMAT_BGRx);
  types = zc_output_data_types (&out, formats, n);
  g_assert_cmphex (types, ==, 1u << SPA_DATA_DmaBuf);
  g_assert_nonnull (out.modifiers);
  g_assert_cmpuint (zc_modifiers_get_n_formats (out.modifiers), ==, n);
  for (guint i = 0; i < n; i++) {
    const ZcFormat *fmt = zc_format_from_spa (formats[i]);
    g_assert_true (zc_modifiers_contains (
        out.modifiers, fmt->drm, ZC_DRM_FORMAT_MOD_LINEAR));
  }
  zc_output_clear (&out);

  /* System mode offers shared memory and no modifiers. */
  out.mode = ZC_OUTPUT_MODE_SYSTEM;
  out.peer_caps = gst_caps_from_string ("video/x-raw,format=BGRx");
  n = zc_output_formats (&out, formats, G_N_ELEMENTS (formats));
  g_assert_cmpuint (n, ==, 1);
  types = zc_output_data_types (&out, formats, n);
  g_assert_cmphex (types, ==, (1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr));
  g_assert_null (out.modifiers);
  zc_output_clear (&out);
}

/* Auto's DMA-BUF for a downstream that takes system memory too (a VA-API
 * encoder, vapostproc): shared memory is offered after DMA-BUF, in the
 * formats downstream takes in system memory, and a format negotiated
 * without a modifier (the producer has no DMA-BUF) goes out in system
 * memory; one with a modifier stays DMA-BUF. */
static void
test_shm_fallback (void)
{
  ZcOutput out = { .mode = ZC_OUTPUT_MODE_DMABUF, .shm_fallback = TRUE };
  enum spa_video_format formats[16];
  GstVideoInfo info;
  GstCaps *caps;
  guint n;

#if ZC_HAVE_GST_1_24
  out.peer_caps = gst_caps_from_string ("video/x-raw(memory:DMABuf),"
                                        "format=DMA_DRM,drm-format=XR24; "
                                        "video/x-raw,format=BGRx");
#else
  out.peer_caps = gst_caps_from_string (
      "video/x-raw(memory:DMABuf),format=BGRx; video/x-raw,format=BGRx");
#endif
  n = zc_output_formats (&out, formats, G_N_ELEMENTS (formats));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (formats[0], ==, SPA_VIDEO_FORMAT_BGRx);
  g_assert_cmphex (zc_output_data_types (&out, formats, n), ==,
      (1u << SPA_DATA_DmaBuf) | (1u << SPA_DATA_MemFd)
          | (1u << SPA_DATA_MemPtr));
  g_assert_true (zc_modifiers_contains (
      out.modifiers, 0x34325258 /* XR24 */, ZC_DRM_FORMAT_MOD_LINEAR));

  video_info (&info, GST_VIDEO_FORMAT_BGRx);
  caps = zc_output_caps (&out, &info, ZC_DRM_FORMAT_MOD_INVALID, NULL);
  g_assert_true (zc_output_frames_in_system (&out, ZC_DRM_FORMAT_MOD_INVALID));
  g_assert_cmpstr (
      zc_output_memory_name (&out, ZC_DRM_FORMAT_MOD_INVALID), ==, "system");
  g_assert_true (gst_caps_features_is_equal (
      gst_caps_get_features (caps, 0), GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY));
  g_assert_true (gst_caps_is_subset (caps, out.peer_caps));
  gst_caps_unref (caps);

  caps = zc_output_caps (&out, &info, ZC_DRM_FORMAT_MOD_LINEAR, NULL);
  g_assert_false (zc_output_frames_in_system (&out, ZC_DRM_FORMAT_MOD_LINEAR));
  g_assert_cmpstr (
      zc_output_memory_name (&out, ZC_DRM_FORMAT_MOD_LINEAR), ==, "dmabuf");
  g_assert_true (gst_caps_features_contains (
      gst_caps_get_features (caps, 0), "memory:DMABuf"));
  gst_caps_unref (caps);
  zc_output_clear (&out);

  /* Without the fallback (output-mode=dmabuf), no shared memory at all. */
  out = (ZcOutput){ .mode = ZC_OUTPUT_MODE_DMABUF };
  g_assert_false (zc_output_frames_in_system (&out, ZC_DRM_FORMAT_MOD_INVALID));
}

static ZcOutputMode
auto_choice (const gchar *peer, gboolean *had_egl)
{
  GstElement *e = gst_element_factory_make ("fakesrc", NULL);
  ZcOutput out = { 0 };
  gpointer cuda_ctx = NULL;
  GError *error = NULL;
  ZcOutputMode mode;

  out.peer_caps = peer ? gst_caps_from_string (peer) : NULL;
  g_assert_true (zc_output_choose (&out, e, ZC_OUTPUT_MODE_AUTO,
      "/dev/dri/renderD128", -1, &cuda_ctx, &error));
  g_assert_no_error (error);
  mode = out.mode;
  *had_egl = out.egl != NULL;
  zc_output_clear (&out);
  gst_object_unref (e);
  return mode;
}

/* Auto: DMA-BUF for a downstream that takes only DMA-BUF (with or without
 * EGL); with system memory also taken, DMA-BUF only where EGL can tell
 * the modifiers, else the fallback to system memory. */
static void
test_auto (void)
{
#if ZC_HAVE_GST_1_24
  const gchar *only = "video/x-raw(memory:DMABuf),format=DMA_DRM";
  const gchar *both = "video/x-raw(memory:DMABuf),format=DMA_DRM; video/x-raw";
#else
  const gchar *only = "video/x-raw(memory:DMABuf),format=BGRx";
  const gchar *both = "video/x-raw(memory:DMABuf),format=BGRx; video/x-raw";
#endif
  gboolean egl;
  ZcOutputMode mode;

  g_assert_cmpint (auto_choice (only, &egl), ==, ZC_OUTPUT_MODE_DMABUF);
  mode = auto_choice (both, &egl);
  g_test_message ("EGL %s here", egl ? "imports" : "is not available");
  g_assert_cmpint (
      mode, ==, egl ? ZC_OUTPUT_MODE_DMABUF : ZC_OUTPUT_MODE_SYSTEM);
  g_assert_cmpint (
      auto_choice ("video/x-raw,format=BGRx", &egl), ==, ZC_OUTPUT_MODE_SYSTEM);
  g_assert_cmpint (auto_choice ("ANY", &egl), ==, ZC_OUTPUT_MODE_SYSTEM);
  g_assert_cmpint (auto_choice (NULL, &egl), ==, ZC_OUTPUT_MODE_SYSTEM);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dmadrm/table", test_table);
  g_test_add_func ("/dmadrm/caps-for-encoder", test_caps_for_encoder);
  g_test_add_func ("/dmadrm/caps-linear", test_caps_linear);
  g_test_add_func ("/dmadrm/template", test_template);
  g_test_add_func ("/dmadrm/offers", test_offers);
  g_test_add_func ("/dmadrm/shm-fallback", test_shm_fallback);
  g_test_add_func ("/dmadrm/auto", test_auto);
  return g_test_run ();
}
