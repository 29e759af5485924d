/* zerocast: the colour formats we take from PipeWire, and their names in
 * GStreamer, SPA and DRM.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/video/video.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

G_BEGIN_DECLS

/* DRM fourccs, spelled out so the table does not need libdrm's headers. */
#define ZC_FOURCC(a, b, c, d)                                                  \
  ((guint32) (a) | ((guint32) (b) << 8) | ((guint32) (c) << 16)                \
      | ((guint32) (d) << 24))
#define ZC_DRM_FORMAT_XRGB8888 ZC_FOURCC ('X', 'R', '2', '4')
#define ZC_DRM_FORMAT_ARGB8888 ZC_FOURCC ('A', 'R', '2', '4')
#define ZC_DRM_FORMAT_XBGR8888 ZC_FOURCC ('X', 'B', '2', '4')
#define ZC_DRM_FORMAT_ABGR8888 ZC_FOURCC ('A', 'B', '2', '4')
#define ZC_DRM_FORMAT_BGRX8888 ZC_FOURCC ('B', 'X', '2', '4')
#define ZC_DRM_FORMAT_BGRA8888 ZC_FOURCC ('B', 'A', '2', '4')
#define ZC_DRM_FORMAT_MOD_INVALID G_GUINT64_CONSTANT (0x00ffffffffffffff)
#define ZC_DRM_FORMAT_MOD_LINEAR G_GUINT64_CONSTANT (0)

/* One row of the table. The names differ in what they count: GStreamer and
 * SPA name the bytes in memory order, DRM names a little-endian 32-bit word
 * from the most significant end, so GStreamer BGRx is DRM XRGB8888. */
typedef struct
{
  GstVideoFormat gst;
  enum spa_video_format spa;
  guint32 drm;
  gboolean has_alpha;
} ZcFormat;

const ZcFormat *zc_format_table (guint *n_formats);
const ZcFormat *zc_format_from_gst (GstVideoFormat format);
const ZcFormat *zc_format_from_spa (enum spa_video_format format);
const ZcFormat *zc_format_from_drm (guint32 fourcc);
const gchar *zc_format_spa_name (enum spa_video_format format);

/* The formats of the table that @caps can take in memory @feature (NULL:
 * system memory), all of them when @caps is NULL or ANY, in table order.
 * Returns the count written to @out. */
guint zc_format_filter_caps (const GstCaps *caps, const gchar *feature,
    enum spa_video_format *out, guint max_out);

/* What the consumer would like when the producer lets it choose (a Mutter
 * RecordVirtual stream takes its size from the consumer): the defaults of
 * the size and framerate ranges offered. */
typedef struct
{
  guint width, height; /* 0: 1920x1080 */
  guint fps_n, fps_d;  /* 0/0: 30/1 */
  gboolean size_fixed; /* downstream takes only this size */
} ZcFormatPreference;

/* Reads a preferred size and rate from downstream caps (the first
 * structure, fixated towards 1920x1080 at 30/1). A size that downstream
 * fixes is offered as the only size: a producer that lets the consumer
 * choose keeps its own default when both sides offer ranges. */
void zc_format_preference_from_caps (
    const GstCaps *caps, ZcFormatPreference *pref);

/* An EnumFormat object offering @formats in system memory (no modifier):
 * video/raw, any size, any framerate up to 240/1, defaulting to @pref
 * (NULL: 1920x1080 at 30/1). */
struct spa_pod *zc_format_build_enum (struct spa_pod_builder *b,
    const enum spa_video_format *formats, guint n_formats,
    const ZcFormatPreference *pref);

/* An EnumFormat object offering one format with DMA-BUF modifiers,
 * MANDATORY|DONT_FIXATE so the producer picks among them. */
struct spa_pod *zc_format_build_enum_modifiers (struct spa_pod_builder *b,
    enum spa_video_format format, const guint64 *modifiers, guint n_modifiers,
    const ZcFormatPreference *pref);

/* Parses a negotiated Format param into @info. @modifier is set to the
 * negotiated modifier or ZC_DRM_FORMAT_MOD_INVALID when none was.
 * Fails with a message naming the format when it is not ours. */
gboolean zc_format_parse (const struct spa_pod *param, GstVideoInfo *info,
    guint64 *modifier, GError **error);

G_END_DECLS
