/* Unit tests of the format table: every row maps the same colour bytes in
 * GStreamer, SPA and DRM names, and the EnumFormat pods parse back.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>
#include <gst/video/video.h>

#include "zc-error.h"
#include "zc-format.h"

#include <string.h>

/* Byte order in memory of (R, G, B, A/x) for each DRM fourcc, derived from
 * the DRM definition (a little-endian word, named from its top bits) and not
 * from our table, so a red/blue swap in the table fails here. */
typedef struct
{
  guint32 drm;
  gint r, g, b, a; /* byte index of each channel in a pixel */
} DrmLayout;

static const DrmLayout drm_layouts[] = {
  { ZC_DRM_FORMAT_XRGB8888, 2, 1, 0, 3 },
  { ZC_DRM_FORMAT_ARGB8888, 2, 1, 0, 3 },
  { ZC_DRM_FORMAT_XBGR8888, 0, 1, 2, 3 },
  { ZC_DRM_FORMAT_ABGR8888, 0, 1, 2, 3 },
  { ZC_DRM_FORMAT_BGRX8888, 1, 2, 3, 0 },
  { ZC_DRM_FORMAT_BGRA8888, 1, 2, 3, 0 },
};

static void
test_table_colour_order (void)
{
  guint n;
  const ZcFormat *table = zc_format_table (&n);

  g_assert_cmpuint (n, ==, 6);
  for (guint i = 0; i < n; i++) {
    const GstVideoFormatInfo *finfo = gst_video_format_get_info (table[i].gst);
    const DrmLayout *layout = NULL;

    for (guint j = 0; j < G_N_ELEMENTS (drm_layouts); j++)
      if (drm_layouts[j].drm == table[i].drm)
        layout = &drm_layouts[j];
    g_assert_nonnull (layout);
    /* GStreamer's own description of where each channel sits. */
    g_assert_cmpint (finfo->poffset[0], ==, layout->r);
    g_assert_cmpint (finfo->poffset[1], ==, layout->g);
    g_assert_cmpint (finfo->poffset[2], ==, layout->b);
    g_assert_cmpint (
        GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo), ==, table[i].has_alpha);
    g_assert_cmpint (table[i].has_alpha, ==,
        (table[i].drm >> 0 & 0xff) == 'A' || (table[i].drm >> 8 & 0xff) == 'A');
  }
}

static void
test_lookups_round_trip (void)
{
  guint n;
  const ZcFormat *table = zc_format_table (&n);

  for (guint i = 0; i < n; i++) {
    g_assert_true (zc_format_from_gst (table[i].gst) == &table[i]);
    g_assert_true (zc_format_from_spa (table[i].spa) == &table[i]);
    g_assert_true (zc_format_from_drm (table[i].drm) == &table[i]);
    /* SPA and GStreamer spell these formats the same way. */
    g_assert_cmpstr (zc_format_spa_name (table[i].spa), ==,
        gst_video_format_to_string (table[i].gst));
  }
  g_assert_null (zc_format_from_gst (GST_VIDEO_FORMAT_I420));
  g_assert_null (zc_format_from_spa (SPA_VIDEO_FORMAT_YUY2));
  g_assert_null (zc_format_from_drm (ZC_FOURCC ('N', 'V', '1', '2')));
}

static void
test_filter_caps (void)
{
  enum spa_video_format out[16];
  GstCaps *caps;
  guint n_all;

  zc_format_table (&n_all);
  g_assert_cmpuint (zc_format_filter_caps (NULL, NULL, out, 16), ==, n_all);

  caps = gst_caps_from_string ("video/x-raw,format={RGBA,I420,xRGB}");
  g_assert_cmpuint (zc_format_filter_caps (caps, NULL, out, 16), ==, 2);
  g_assert_cmpint (out[0], ==, SPA_VIDEO_FORMAT_RGBA);
  g_assert_cmpint (out[1], ==, SPA_VIDEO_FORMAT_xRGB);
  gst_caps_unref (caps);

  caps = gst_caps_from_string ("video/x-raw,format=I420");
  g_assert_cmpuint (zc_format_filter_caps (caps, NULL, out, 16), ==, 0);
  gst_caps_unref (caps);

  /* Memory features count: DMA-BUF caps are not system memory caps. */
  caps = gst_caps_from_string ("video/x-raw(memory:DMABuf),format=BGRA");
  g_assert_cmpuint (zc_format_filter_caps (caps, NULL, out, 16), ==, 0);
  g_assert_cmpuint (
      zc_format_filter_caps (caps, "memory:DMABuf", out, 16), ==, 1);
  g_assert_cmpint (out[0], ==, SPA_VIDEO_FORMAT_BGRA);
  gst_caps_unref (caps);
}

/* A fixated Format param as a producer sends it. */
static struct spa_pod *
build_fixed (
    struct spa_pod_builder *b, enum spa_video_format format, guint w, guint h)
{
  return spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_Format,
      SPA_PARAM_Format, SPA_FORMAT_mediaType, SPA_POD_Id (SPA_MEDIA_TYPE_video),
      SPA_FORMAT_mediaSubtype, SPA_POD_Id (SPA_MEDIA_SUBTYPE_raw),
      SPA_FORMAT_VIDEO_format, SPA_POD_Id (format), SPA_FORMAT_VIDEO_size,
      SPA_POD_Rectangle (&SPA_RECTANGLE (w, h)), SPA_FORMAT_VIDEO_framerate,
      SPA_POD_Fraction (&SPA_FRACTION (0, 1)), SPA_FORMAT_VIDEO_maxFramerate,
      SPA_POD_Fraction (&SPA_FRACTION (60, 1)));
}

/* Builds an EnumFormat, fixates it the way a producer would, and checks
 * zc_format_parse reads back what was chosen. */
static void
test_enum_and_parse (void)
{
  guint8 buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  enum spa_video_format fmts[] = { SPA_VIDEO_FORMAT_RGBx,
    SPA_VIDEO_FORMAT_BGRA };
  struct spa_pod *pod = zc_format_build_enum (&b, fmts, 2, NULL);
  const struct spa_pod_prop *prop;
  uint32_t n_values, choice;
  const uint32_t *values;
  struct spa_pod *fixed;
  GstVideoInfo info;
  guint64 modifier = 0;
  GError *error = NULL;

  g_assert_nonnull (pod);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_format);
  g_assert_nonnull (prop);
  values = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n_values, &choice));
  g_assert_cmpuint (choice, ==, SPA_CHOICE_Enum);
  g_assert_cmpuint (n_values, ==, 3); /* default + 2 alternatives */
  g_assert_cmpuint (values[1], ==, SPA_VIDEO_FORMAT_RGBx);
  g_assert_cmpuint (values[2], ==, SPA_VIDEO_FORMAT_BGRA);

  b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  fixed = build_fixed (&b, SPA_VIDEO_FORMAT_BGRA, 1280, 720);
  g_assert_true (zc_format_parse (fixed, &info, &modifier, &error));
  g_assert_no_error (error);
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_BGRA);
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 1280);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, 720);
  g_assert_cmpint (GST_VIDEO_INFO_FPS_N (&info), ==, 0);
  g_assert_cmpuint (modifier, ==, ZC_DRM_FORMAT_MOD_INVALID);

  /* A format outside the table is refused with its name in the message. */
  b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  fixed = build_fixed (&b, SPA_VIDEO_FORMAT_NV12, 1280, 720);
  g_assert_false (zc_format_parse (fixed, &info, &modifier, &error));
  g_assert_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED);
  g_assert_nonnull (strstr (error->message, "NV12"));
  g_clear_error (&error);
}

static void
test_enum_modifiers (void)
{
  guint8 buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  guint64 mods[] = { ZC_DRM_FORMAT_MOD_LINEAR, 0x0300000000606014ULL };
  struct spa_pod *pod =
      zc_format_build_enum_modifiers (&b, SPA_VIDEO_FORMAT_BGRx, mods, 2, NULL);
  const struct spa_pod_prop *prop =
      spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_modifier);
  uint32_t n_values, choice;
  const int64_t *values;

  g_assert_nonnull (prop);
  g_assert_true (prop->flags & SPA_POD_PROP_FLAG_MANDATORY);
  g_assert_true (prop->flags & SPA_POD_PROP_FLAG_DONT_FIXATE);
  values = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n_values, &choice));
  g_assert_cmpuint (n_values, ==, 3);
  g_assert_cmpuint ((guint64) values[1], ==, mods[0]);
  g_assert_cmpuint ((guint64) values[2], ==, mods[1]);
}

/* Downstream's size becomes the default a producer that lets the consumer
 * choose (Mutter's RecordVirtual) will pick. */
static void
test_preference (void)
{
  guint8 buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  enum spa_video_format fmts[] = { SPA_VIDEO_FORMAT_BGRx };
  GstCaps *caps = gst_caps_from_string (
      "video/x-raw,width=1280,height=[100,800],framerate=60/1");
  ZcFormatPreference pref;
  const struct spa_pod_prop *prop;
  const struct spa_rectangle *size;
  const struct spa_fraction *rate;
  uint32_t n, choice;
  struct spa_pod *pod;

  zc_format_preference_from_caps (caps, &pref);
  gst_caps_unref (caps);
  g_assert_cmpuint (pref.width, ==, 1280);
  g_assert_cmpuint (pref.height, ==, 800); /* nearest to 1080 in range */
  g_assert_cmpuint (pref.fps_n, ==, 60);
  g_assert_false (pref.size_fixed); /* height is a range */
  pod = zc_format_build_enum (&b, fmts, 1, &pref);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_size);
  size = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n, &choice));
  g_assert_cmpuint (choice, ==, SPA_CHOICE_Range);
  g_assert_cmpuint (size[0].width, ==, 1280);
  g_assert_cmpuint (size[0].height, ==, 800);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_framerate);
  rate = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n, &choice));
  g_assert_cmpuint (rate[0].num, ==, 60);

  /* A size downstream fixes is the only one offered. */
  caps = gst_caps_from_string ("video/x-raw,width=800,height=600");
  zc_format_preference_from_caps (caps, &pref);
  gst_caps_unref (caps);
  g_assert_true (pref.size_fixed);
  b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  pod = zc_format_build_enum (&b, fmts, 1, &pref);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_size);
  size = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n, &choice));
  g_assert_cmpuint (choice, ==, SPA_CHOICE_None);
  g_assert_cmpuint (size[0].width, ==, 800);
  g_assert_cmpuint (size[0].height, ==, 600);

  /* Caps that name no size: the defaults. */
  caps = gst_caps_from_string ("video/x-raw,format=BGRx");
  zc_format_preference_from_caps (caps, &pref);
  gst_caps_unref (caps);
  g_assert_cmpuint (pref.width, ==, 1920);
  g_assert_cmpuint (pref.fps_n, ==, 30);

  /* ANY caps: no preference, 1920x1080 at 30/1. */
  zc_format_preference_from_caps (NULL, &pref);
  b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  pod = zc_format_build_enum (&b, fmts, 1, &pref);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_size);
  size = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n, &choice));
  g_assert_cmpuint (size[0].width, ==, 1920);
  g_assert_cmpuint (size[0].height, ==, 1080);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/format/table-colour-order", test_table_colour_order);
  g_test_add_func ("/format/lookups", test_lookups_round_trip);
  g_test_add_func ("/format/filter-caps", test_filter_caps);
  g_test_add_func ("/format/enum-and-parse", test_enum_and_parse);
  g_test_add_func ("/format/enum-modifiers", test_enum_modifiers);
  g_test_add_func ("/format/preference", test_preference);
  return g_test_run ();
}
