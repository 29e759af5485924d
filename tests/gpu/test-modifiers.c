/* Unit tests of the DMA-BUF modifier table: order, dedupe, the implicit
 * modifier kept last, and drop-and-renegotiate down to the MemFd fallback.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "zc-modifiers.h"

#define AR24 0x34325241u /* 'A','R','2','4' little-endian */
#define XR24 0x34325258u
#define AB24 0x34324241u

/* Vendor-looking values only as opaque numbers: the table must not care. */
#define MOD_A G_GUINT64_CONSTANT (0x0300000000606010)
#define MOD_B G_GUINT64_CONSTANT (0x0300000000606015)

static GArray *
mod_array (guint n, ...)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint64));
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++) {
    guint64 m = va_arg (ap, guint64);

    g_array_append_val (a, m);
  }
  va_end (ap);
  return a;
}

static void
assert_modifiers (ZcModifiers *mods, guint32 fourcc, guint n, ...)
{
  guint got_n = 0;
  const guint64 *got = zc_modifiers_get_modifiers (mods, fourcc, &got_n);
  va_list ap;

  g_assert_cmpuint (got_n, ==, n);
  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmphex (got[i], ==, va_arg (ap, guint64));
  va_end (ap);
}

static void
test_order_and_dedupe (void)
{
  ZcModifiers *mods = zc_modifiers_new ();

  g_assert_true (zc_modifiers_is_empty (mods));
  g_assert_true (zc_modifiers_add (mods, XR24, MOD_A));
  g_assert_true (zc_modifiers_add (mods, AR24, ZC_DRM_FORMAT_MOD_LINEAR));
  g_assert_true (zc_modifiers_add (mods, XR24, ZC_DRM_FORMAT_MOD_LINEAR));
  g_assert_false (zc_modifiers_add (mods, XR24, MOD_A));
  g_assert_false (zc_modifiers_add (mods, AR24, ZC_DRM_FORMAT_MOD_LINEAR));

  g_assert_cmpuint (zc_modifiers_get_n_formats (mods), ==, 2);
  g_assert_cmphex (zc_modifiers_get_format (mods, 0), ==, XR24);
  g_assert_cmphex (zc_modifiers_get_format (mods, 1), ==, AR24);
  assert_modifiers (mods, XR24, 2, MOD_A, ZC_DRM_FORMAT_MOD_LINEAR);
  assert_modifiers (mods, AR24, 1, ZC_DRM_FORMAT_MOD_LINEAR);
  assert_modifiers (mods, AB24, 0);
  g_assert_true (zc_modifiers_contains (mods, XR24, MOD_A));
  g_assert_false (zc_modifiers_contains (mods, AR24, MOD_A));
  zc_modifiers_free (mods);
  zc_modifiers_free (NULL);
}

static void
test_implicit_last (void)
{
  ZcModifiers *mods = zc_modifiers_new ();
  GArray *egl = mod_array (2, MOD_A, MOD_B);

  /* An implicit modifier added first still ends up after explicit ones. */
  zc_modifiers_add (mods, XR24, ZC_DRM_FORMAT_MOD_INVALID);
  g_assert_cmpuint (zc_modifiers_add_array (mods, XR24, egl, TRUE), ==, 3);
  assert_modifiers (mods, XR24, 3, MOD_A, MOD_B, ZC_DRM_FORMAT_MOD_INVALID);

  /* EGL reported none and no implicit import: the format is not offered. */
  g_assert_cmpuint (zc_modifiers_add_array (mods, AR24, NULL, FALSE), ==, 0);
  g_assert_cmpuint (zc_modifiers_get_n_formats (mods), ==, 1);

  /* EGL reported none but an implicit import is possible. */
  g_assert_cmpuint (zc_modifiers_add_array (mods, AB24, NULL, TRUE), ==, 1);
  assert_modifiers (mods, AB24, 1, ZC_DRM_FORMAT_MOD_INVALID);

  g_array_unref (egl);
  zc_modifiers_free (mods);
}

static void
test_drop_down_to_memfd (void)
{
  ZcModifiers *mods = zc_modifiers_new ();
  GArray *egl = mod_array (2, MOD_A, ZC_DRM_FORMAT_MOD_LINEAR);
  ZcModifiers *copy;

  zc_modifiers_add_array (mods, XR24, egl, TRUE);
  zc_modifiers_add (mods, AR24, ZC_DRM_FORMAT_MOD_LINEAR);
  copy = zc_modifiers_copy (mods);

  g_assert_cmpint (
      zc_modifiers_drop (mods, XR24, MOD_B), ==, ZC_MODIFIERS_DROP_NOT_FOUND);
  g_assert_cmpint (
      zc_modifiers_drop (mods, AB24, MOD_A), ==, ZC_MODIFIERS_DROP_NOT_FOUND);
  g_assert_cmpint (
      zc_modifiers_drop (mods, XR24, MOD_A), ==, ZC_MODIFIERS_DROP_FORMAT_LEFT);
  assert_modifiers (
      mods, XR24, 2, ZC_DRM_FORMAT_MOD_LINEAR, ZC_DRM_FORMAT_MOD_INVALID);
  /* Dropping twice is harmless: a late failure of an old buffer. */
  g_assert_cmpint (
      zc_modifiers_drop (mods, XR24, MOD_A), ==, ZC_MODIFIERS_DROP_NOT_FOUND);
  g_assert_cmpint (zc_modifiers_drop (mods, XR24, ZC_DRM_FORMAT_MOD_INVALID),
      ==, ZC_MODIFIERS_DROP_FORMAT_LEFT);
  g_assert_cmpint (zc_modifiers_drop (mods, XR24, ZC_DRM_FORMAT_MOD_LINEAR), ==,
      ZC_MODIFIERS_DROP_OTHERS_LEFT);
  g_assert_cmpuint (zc_modifiers_get_n_formats (mods), ==, 1);
  g_assert_cmphex (zc_modifiers_get_format (mods, 0), ==, AR24);
  g_assert_cmpint (zc_modifiers_drop (mods, AR24, ZC_DRM_FORMAT_MOD_LINEAR), ==,
      ZC_MODIFIERS_DROP_NONE_LEFT);
  g_assert_true (zc_modifiers_is_empty (mods));

  /* The copy was not touched by any of it. */
  g_assert_cmpuint (zc_modifiers_get_n_formats (copy), ==, 2);
  assert_modifiers (copy, XR24, 3, MOD_A, ZC_DRM_FORMAT_MOD_LINEAR,
      ZC_DRM_FORMAT_MOD_INVALID);

  g_array_unref (egl);
  zc_modifiers_free (copy);
  zc_modifiers_free (mods);
}

static void
test_to_string (void)
{
  ZcModifiers *mods = zc_modifiers_new ();
  gchar *s;

  zc_modifiers_add (mods, XR24, ZC_DRM_FORMAT_MOD_LINEAR);
  zc_modifiers_add (mods, XR24, ZC_DRM_FORMAT_MOD_INVALID);
  zc_modifiers_add (mods, AR24, MOD_A);
  s = zc_modifiers_to_string (mods);
  g_assert_cmpstr (s, ==,
      "XR24:0x0000000000000000,0x00ffffffffffffff "
      "AR24:0x0300000000606010");
  g_free (s);
  zc_modifiers_free (mods);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/modifiers/order-and-dedupe", test_order_and_dedupe);
  g_test_add_func ("/modifiers/implicit-last", test_implicit_last);
  g_test_add_func ("/modifiers/drop-down-to-memfd", test_drop_down_to_memfd);
  g_test_add_func ("/modifiers/to-string", test_to_string);
  return g_test_run ();
}
