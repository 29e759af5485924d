/* Unit tests of what the stream offers PipeWire, and of dropping a DMA-BUF
 * modifier whose import failed: the next offer leaves it out, and with none
 * left the stream falls back to shared memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>

#include "zc-stream-private.h"

#include <string.h>

#define MOD_A G_GUINT64_CONSTANT (0x0300000000606014)
#define MOD_B G_GUINT64_CONSTANT (0x0300000000606015)
#define SHM ((1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr))

/* A stream as zc_stream_new leaves it, without a connection. */
static ZcStream *
fake_stream (guint32 data_types, ZcModifiers *mods)
{
  ZcStream *s = g_new0 (ZcStream, 1);

  s->data_types = data_types;
  s->modifiers = mods;
  s->formats[0] = SPA_VIDEO_FORMAT_BGRx;
  s->formats[1] = SPA_VIDEO_FORMAT_BGRA;
  s->n_formats = 2;
  return s;
}

static void
fake_stream_free (ZcStream *s)
{
  zc_modifiers_free (s->modifiers);
  g_free (s);
}

/* What one EnumFormat offers: its format, and its modifiers (the choice's
 * alternatives, default skipped) or none. */
static void
read_offer (const struct spa_pod *pod, guint32 *format, GArray *mods)
{
  const struct spa_pod_prop *prop;
  uint32_t n, choice;
  const int64_t *values;

  g_array_set_size (mods, 0);
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_format);
  g_assert_nonnull (prop);
  *format = *(const uint32_t *) SPA_POD_BODY (
      spa_pod_get_values (&prop->value, &n, &choice));
  prop = spa_pod_find_prop (pod, NULL, SPA_FORMAT_VIDEO_modifier);
  if (prop == NULL)
    return;
  values = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n, &choice));
  for (uint32_t i = 1; i < n; i++)
    g_array_append_val (mods, values[i]);
}

static guint
offers (ZcStream *s, guint8 *buffer, gsize size, const struct spa_pod **params)
{
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, size);

  return zc_stream_build_enum_formats (s, &b, params);
}

static void
test_shm_only (void)
{
  guint8 buffer[8192];
  const struct spa_pod *params[4];
  ZcStream *s = fake_stream (SHM, NULL);
  GArray *mods = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint32 format;

  g_assert_cmpuint (offers (s, buffer, sizeof (buffer), params), ==, 1);
  read_offer (params[0], &format, mods);
  g_assert_cmpuint (mods->len, ==, 0);
  g_array_unref (mods);
  fake_stream_free (s);
}

static void
test_drop_and_renegotiate (void)
{
  guint8 buffer[8192];
  const struct spa_pod *params[4];
  ZcModifiers *table = zc_modifiers_new ();
  ZcStream *s;
  GArray *mods = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint32 format;

  /* BGRx (XR24) can be imported with A, B or implicitly; BGRA not at all. */
  zc_modifiers_add (table, ZC_DRM_FORMAT_XRGB8888, MOD_A);
  zc_modifiers_add (table, ZC_DRM_FORMAT_XRGB8888, MOD_B);
  zc_modifiers_add (table, ZC_DRM_FORMAT_XRGB8888, ZC_DRM_FORMAT_MOD_INVALID);
  s = fake_stream (SHM | (1u << SPA_DATA_DmaBuf), table);

  /* DMA-BUF first, for the one format that has modifiers; MemFd last. */
  g_assert_cmpuint (offers (s, buffer, sizeof (buffer), params), ==, 2);
  read_offer (params[0], &format, mods);
  g_assert_cmpuint (format, ==, SPA_VIDEO_FORMAT_BGRx);
  g_assert_cmpuint (mods->len, ==, 3);
  g_assert_cmpuint (g_array_index (mods, guint64, 0), ==, MOD_A);
  read_offer (params[1], &format, mods);
  g_assert_cmpuint (mods->len, ==, 0);

  /* A fails to import: offered no more, the rest in the same order. */
  g_assert_cmpint (zc_stream_forget_modifier (s, ZC_DRM_FORMAT_XRGB8888, MOD_A),
      ==, ZC_MODIFIERS_DROP_FORMAT_LEFT);
  g_assert_cmpuint (offers (s, buffer, sizeof (buffer), params), ==, 2);
  read_offer (params[0], &format, mods);
  g_assert_cmpuint (mods->len, ==, 2);
  g_assert_cmpuint (g_array_index (mods, guint64, 0), ==, MOD_B);
  g_assert_cmpuint (
      g_array_index (mods, guint64, 1), ==, ZC_DRM_FORMAT_MOD_INVALID);
  g_assert_true (s->data_types & (1u << SPA_DATA_DmaBuf));

  /* Something never offered changes nothing. */
  g_assert_cmpint (zc_stream_forget_modifier (s, ZC_DRM_FORMAT_ARGB8888, MOD_B),
      ==, ZC_MODIFIERS_DROP_NOT_FOUND);

  /* The last ones fail too: shared memory only from now on. */
  zc_stream_forget_modifier (s, ZC_DRM_FORMAT_XRGB8888, MOD_B);
  g_assert_cmpint (zc_stream_forget_modifier (
                       s, ZC_DRM_FORMAT_XRGB8888, ZC_DRM_FORMAT_MOD_INVALID),
      ==, ZC_MODIFIERS_DROP_NONE_LEFT);
  g_assert_false (s->data_types & (1u << SPA_DATA_DmaBuf));
  g_assert_cmpuint (offers (s, buffer, sizeof (buffer), params), ==, 1);
  read_offer (params[0], &format, mods);
  g_assert_cmpuint (mods->len, ==, 0);

  g_array_unref (mods);
  fake_stream_free (s);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/offers/shm-only", test_shm_only);
  g_test_add_func ("/offers/drop-and-renegotiate", test_drop_and_renegotiate);
  return g_test_run ();
}
