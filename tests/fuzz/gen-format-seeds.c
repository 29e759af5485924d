/* Writes the seed corpus of fuzz-format: Format params as producers send
 * them (Mutter's BGRx with a variable frame rate, a DMA-BUF format with a
 * modifier, formats we refuse, our own EnumFormat offers). Run once by
 * hand: gen-format-seeds tests/fuzz/corpus/format
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

#include "zc-format.h"

static gboolean
write_pod (const gchar *dir, const gchar *name, const struct spa_pod *pod)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (
          path, (const gchar *) pod, SPA_POD_SIZE (pod), &error)) {
    fprintf (stderr, "%s\n", error->message);
    return FALSE;
  }
  return TRUE;
}

static struct spa_pod *
raw_format (struct spa_pod_builder *b, enum spa_video_format format, guint32 w,
    guint32 h, guint32 fps_n, guint64 modifier, gboolean with_mod)
{
  struct spa_video_info_raw info = {
    .format = format,
    .size = SPA_RECTANGLE (w, h),
    .framerate = SPA_FRACTION (fps_n, 1),
    .modifier = modifier,
    .flags = with_mod ? SPA_VIDEO_FLAG_MODIFIER : 0,
  };

  /* max_framerate stays unset: PipeWire 0.3.65's
   * spa_format_video_raw_build() passes it by value where the builder
   * wants a pointer, and crashes. */
  return spa_format_video_raw_build (b, SPA_PARAM_Format, &info);
}

int
main (int argc, char **argv)
{
  guint8 buf[4096];
  struct spa_pod_builder b;
  enum spa_video_format fmts[] = { SPA_VIDEO_FORMAT_BGRx,
    SPA_VIDEO_FORMAT_RGBA };
  guint64 mods[] = { 0, G_GUINT64_CONSTANT (0x0300000000606014) };
  gboolean ok = TRUE;

  if (argc != 2) {
    fprintf (stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
#define SEED(name, expr)                                                       \
  G_STMT_START                                                                 \
  {                                                                            \
    b = SPA_POD_BUILDER_INIT (buf, sizeof (buf));                              \
    ok &= write_pod (argv[1], name, (expr));                                   \
  }                                                                            \
  G_STMT_END
  SEED ("bgrx-1280x720-var",
      raw_format (&b, SPA_VIDEO_FORMAT_BGRx, 1280, 720, 0, 0, FALSE));
  SEED ("rgba-1920x1080-60",
      raw_format (&b, SPA_VIDEO_FORMAT_RGBA, 1920, 1080, 60, 0, FALSE));
  SEED ("bgra-modifier",
      raw_format (&b, SPA_VIDEO_FORMAT_BGRA, 640, 480, 30, mods[1], TRUE));
  SEED ("nv12-refused",
      raw_format (&b, SPA_VIDEO_FORMAT_NV12, 640, 480, 30, 0, FALSE));
  SEED ("xrgb-zero-size",
      raw_format (&b, SPA_VIDEO_FORMAT_xRGB, 0, 0, 30, 0, FALSE));
  SEED ("enum-system",
      zc_format_build_enum (&b, fmts, G_N_ELEMENTS (fmts), NULL));
  SEED ("enum-modifiers",
      zc_format_build_enum_modifiers (
          &b, SPA_VIDEO_FORMAT_BGRx, mods, G_N_ELEMENTS (mods), NULL));
  return ok ? 0 : 1;
}
