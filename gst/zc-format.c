/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-format.h"

#include "zc-error.h"

#include <spa/debug/types.h>
#include <spa/param/video/type-info.h>

#include <string.h>

static const ZcFormat formats[] = {
  { .gst = GST_VIDEO_FORMAT_BGRx,
      .spa = SPA_VIDEO_FORMAT_BGRx,
      .drm = ZC_DRM_FORMAT_XRGB8888,
      .has_alpha = FALSE },
  { .gst = GST_VIDEO_FORMAT_BGRA,
      .spa = SPA_VIDEO_FORMAT_BGRA,
      .drm = ZC_DRM_FORMAT_ARGB8888,
      .has_alpha = TRUE },
  { .gst = GST_VIDEO_FORMAT_RGBx,
      .spa = SPA_VIDEO_FORMAT_RGBx,
      .drm = ZC_DRM_FORMAT_XBGR8888,
      .has_alpha = FALSE },
  { .gst = GST_VIDEO_FORMAT_RGBA,
      .spa = SPA_VIDEO_FORMAT_RGBA,
      .drm = ZC_DRM_FORMAT_ABGR8888,
      .has_alpha = TRUE },
  { .gst = GST_VIDEO_FORMAT_xRGB,
      .spa = SPA_VIDEO_FORMAT_xRGB,
      .drm = ZC_DRM_FORMAT_BGRX8888,
      .has_alpha = FALSE },
  { .gst = GST_VIDEO_FORMAT_ARGB,
      .spa = SPA_VIDEO_FORMAT_ARGB,
      .drm = ZC_DRM_FORMAT_BGRA8888,
      .has_alpha = TRUE },
};

const ZcFormat *
zc_format_table (guint *n_formats)
{
  *n_formats = G_N_ELEMENTS (formats);
  return formats;
}

const ZcFormat *
zc_format_from_gst (GstVideoFormat format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].gst == format)
      return &formats[i];
  return NULL;
}

const ZcFormat *
zc_format_from_spa (enum spa_video_format format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].spa == format)
      return &formats[i];
  return NULL;
}

const ZcFormat *
zc_format_from_drm (guint32 fourcc)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].drm == fourcc)
      return &formats[i];
  return NULL;
}

const gchar *
zc_format_spa_name (enum spa_video_format format)
{
  const char *name =
      spa_debug_type_find_short_name (spa_type_video_format, format);
  return name ? name : "unknown";
}

guint
zc_format_filter_caps (const GstCaps *caps, const gchar *feature,
    enum spa_video_format *out, guint max_out)
{
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (formats) && n < max_out; i++) {
    if (caps != NULL && !gst_caps_is_any (caps)) {
      GstCaps *probe = gst_caps_new_simple ("video/x-raw", "format",
          G_TYPE_STRING, gst_video_format_to_string (formats[i].gst), NULL);
      gboolean ok;

      if (feature)
        gst_caps_set_features (probe, 0, gst_caps_features_new (feature, NULL));
      ok = gst_caps_can_intersect (probe, caps);
      gst_caps_unref (probe);
      if (!ok)
        continue;
    }
    out[n++] = formats[i].spa;
  }
  return n;
}

static void
push_common_props (struct spa_pod_builder *b)
{
  spa_pod_builder_add (b, SPA_FORMAT_mediaType,
      SPA_POD_Id (SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype,
      SPA_POD_Id (SPA_MEDIA_SUBTYPE_raw), 0);
}

void
zc_format_preference_from_caps (const GstCaps *caps, ZcFormatPreference *pref)
{
  GstStructure *s;
  gint w = 1920, h = 1080, n = 30, d = 1;

  memset (pref, 0, sizeof (*pref));
  if (caps == NULL || gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return;
  s = gst_structure_copy (gst_caps_get_structure (caps, 0));
  pref->size_fixed = gst_structure_has_field_typed (s, "width", G_TYPE_INT)
      && gst_structure_has_field_typed (s, "height", G_TYPE_INT);
  /* Fixating a field that is fixed already leaves it; reading then gives
   * downstream's value, or our default when the field is absent. */
  if (gst_structure_has_field (s, "width"))
    gst_structure_fixate_field_nearest_int (s, "width", w);
  if (gst_structure_has_field (s, "height"))
    gst_structure_fixate_field_nearest_int (s, "height", h);
  if (gst_structure_has_field (s, "framerate"))
    gst_structure_fixate_field_nearest_fraction (s, "framerate", n, d);
  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  if (!gst_structure_get_fraction (s, "framerate", &n, &d))
    n = 30, d = 1;
  gst_structure_free (s);
  pref->width = (guint) CLAMP (w, 1, 16384);
  pref->height = (guint) CLAMP (h, 1, 16384);
  if (n > 0 && d > 0 && n / d <= 240) {
    pref->fps_n = (guint) n;
    pref->fps_d = (guint) d;
  }
}

static void
push_size_and_rate (struct spa_pod_builder *b, const ZcFormatPreference *pref)
{
  guint w = pref && pref->width ? pref->width : 1920;
  guint h = pref && pref->height ? pref->height : 1080;
  guint n = pref && pref->fps_d ? pref->fps_n : 30;
  guint d = pref && pref->fps_d ? pref->fps_d : 1;

  if (pref && pref->size_fixed)
    spa_pod_builder_add (
        b, SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle (&SPA_RECTANGLE (w, h)), 0);
  else
    spa_pod_builder_add (b, SPA_FORMAT_VIDEO_size,
        SPA_POD_CHOICE_RANGE_Rectangle (&SPA_RECTANGLE (w, h),
            &SPA_RECTANGLE (1, 1), &SPA_RECTANGLE (16384, 16384)),
        0);
  spa_pod_builder_add (b, SPA_FORMAT_VIDEO_framerate,
      SPA_POD_CHOICE_RANGE_Fraction (
          &SPA_FRACTION (n, d), &SPA_FRACTION (0, 1), &SPA_FRACTION (240, 1)),
      0);
}

struct spa_pod *
zc_format_build_enum (struct spa_pod_builder *b,
    const enum spa_video_format *fmts, guint n_formats,
    const ZcFormatPreference *pref)
{
  struct spa_pod_frame f[2];

  g_return_val_if_fail (n_formats > 0, NULL);

  spa_pod_builder_push_object (
      b, &f[0], SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat);
  push_common_props (b);
  spa_pod_builder_prop (b, SPA_FORMAT_VIDEO_format, 0);
  if (n_formats == 1) {
    spa_pod_builder_id (b, fmts[0]);
  } else {
    /* An Enum choice lists its default first, then the alternatives. */
    spa_pod_builder_push_choice (b, &f[1], SPA_CHOICE_Enum, 0);
    spa_pod_builder_id (b, fmts[0]);
    for (guint i = 0; i < n_formats; i++)
      spa_pod_builder_id (b, fmts[i]);
    spa_pod_builder_pop (b, &f[1]);
  }
  push_size_and_rate (b, pref);
  return spa_pod_builder_pop (b, &f[0]);
}

struct spa_pod *
zc_format_build_enum_modifiers (struct spa_pod_builder *b,
    enum spa_video_format format, const guint64 *modifiers, guint n_modifiers,
    const ZcFormatPreference *pref)
{
  struct spa_pod_frame f[2];

  g_return_val_if_fail (n_modifiers > 0, NULL);

  spa_pod_builder_push_object (
      b, &f[0], SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat);
  push_common_props (b);
  spa_pod_builder_add (b, SPA_FORMAT_VIDEO_format, SPA_POD_Id (format), 0);
  spa_pod_builder_prop (b, SPA_FORMAT_VIDEO_modifier,
      SPA_POD_PROP_FLAG_MANDATORY | SPA_POD_PROP_FLAG_DONT_FIXATE);
  spa_pod_builder_push_choice (b, &f[1], SPA_CHOICE_Enum, 0);
  spa_pod_builder_long (b, (int64_t) modifiers[0]);
  for (guint i = 0; i < n_modifiers; i++)
    spa_pod_builder_long (b, (int64_t) modifiers[i]);
  spa_pod_builder_pop (b, &f[1]);
  push_size_and_rate (b, pref);
  return spa_pod_builder_pop (b, &f[0]);
}

gboolean
zc_format_parse (const struct spa_pod *param, GstVideoInfo *info,
    guint64 *modifier, GError **error)
{
  uint32_t media_type, media_subtype;
  struct spa_video_info_raw raw = { 0 };
  const ZcFormat *fmt;

  if (spa_format_parse (param, &media_type, &media_subtype) < 0
      || media_type != SPA_MEDIA_TYPE_video
      || media_subtype != SPA_MEDIA_SUBTYPE_raw) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "The producer's format is not raw video");
    return FALSE;
  }
  if (spa_format_video_raw_parse (param, &raw) < 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "Could not parse the producer's raw video format");
    return FALSE;
  }
  fmt = zc_format_from_spa (raw.format);
  if (fmt == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "The producer chose format %s, which pipewirezerocopysrc cannot take "
        "(it takes BGRx, BGRA, RGBx, RGBA, xRGB, ARGB)",
        zc_format_spa_name (raw.format));
    return FALSE;
  }
  if (raw.size.width == 0 || raw.size.height == 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "The producer's format has no size (%ux%u)", raw.size.width,
        raw.size.height);
    return FALSE;
  }

  /* GstVideoInfo and caps hold the rate as gint: a larger one would turn
   * negative and break caps (found by tests/fuzz fuzz-format). */
  if (raw.framerate.num > G_MAXINT || raw.framerate.denom > G_MAXINT) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "The producer's frame rate %u/%u is out of range", raw.framerate.num,
        raw.framerate.denom);
    return FALSE;
  }
  /* GStreamer refuses sizes whose strides or frame size overflow and then
   * leaves @info unset: caps built from it would be garbage. */
  if (!gst_video_info_set_format (
          info, fmt->gst, raw.size.width, raw.size.height)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "The producer's size %ux%u is too large for a %s frame", raw.size.width,
        raw.size.height, zc_format_spa_name (raw.format));
    return FALSE;
  }
  /* A damage-based screen says 0/1 (variable) with a maximum: keep 0/1,
   * downstream sees a variable-rate live stream. */
  GST_VIDEO_INFO_FPS_N (info) = raw.framerate.num;
  GST_VIDEO_INFO_FPS_D (info) = raw.framerate.denom ? raw.framerate.denom : 1;
  if (modifier)
    *modifier = (raw.flags & SPA_VIDEO_FLAG_MODIFIER)
        ? raw.modifier
        : ZC_DRM_FORMAT_MOD_INVALID;
  return TRUE;
}
