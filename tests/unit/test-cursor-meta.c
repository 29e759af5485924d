/* zc_cursor_read: PipeWire's cursor meta as the producer writes it, and as
 * a broken or hostile one might (offsets outside the meta, huge bitmaps).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <gst/gst.h>
#include <spa/buffer/buffer.h>
#include <spa/buffer/meta.h>
#include <spa/param/video/raw.h>

#include "zc-cursor.h"

#define META_SIZE                                                              \
  (sizeof (struct spa_meta_cursor) + sizeof (struct spa_meta_bitmap)           \
      + 64 * 64 * 4)

typedef struct
{
  struct spa_buffer buffer;
  struct spa_meta meta;
  guint8 area[META_SIZE];
} Fake;

static struct spa_meta_cursor *
fake_init (Fake *f, guint32 id, gint x, gint y)
{
  struct spa_meta_cursor *c = (struct spa_meta_cursor *) f->area;

  memset (f, 0, sizeof (*f));
  f->meta.type = SPA_META_Cursor;
  f->meta.size = META_SIZE;
  f->meta.data = f->area;
  f->buffer.n_metas = 1;
  f->buffer.metas = &f->meta;
  c->id = id;
  c->position.x = x;
  c->position.y = y;
  c->hotspot.x = 2;
  c->hotspot.y = 3;
  return c;
}

/* A @w x @h bitmap right after the cursor, rows of @stride bytes, each
 * pixel's bytes 1, 2, 3, 4 (so the order can be checked). */
static struct spa_meta_bitmap *
add_bitmap (
    struct spa_meta_cursor *c, guint32 format, guint w, guint h, gint stride)
{
  struct spa_meta_bitmap *b;
  guint8 *px;

  c->bitmap_offset = sizeof (*c);
  b = SPA_PTROFF (c, c->bitmap_offset, struct spa_meta_bitmap);
  b->format = format;
  b->size.width = w;
  b->size.height = h;
  b->stride = stride;
  b->offset = sizeof (*b);
  px = SPA_PTROFF (b, b->offset, guint8);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      memcpy (px + (gsize) y * stride + x * 4, "\1\2\3\4", 4);
  return b;
}

static void
test_position_and_dedupe (void)
{
  Fake f;
  ZcCursorState state = { 0 };
  GstStructure *s;
  gint x, y, hx;
  gboolean visible;

  fake_init (&f, 1, 10, 20);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_has_name (s, ZC_CURSOR_MESSAGE));
  g_assert_true (gst_structure_get (s, "visible", G_TYPE_BOOLEAN, &visible, "x",
      G_TYPE_INT, &x, "y", G_TYPE_INT, &y, "hotspot-x", G_TYPE_INT, &hx, NULL));
  g_assert_true (visible);
  g_assert_cmpint (x, ==, 10);
  g_assert_cmpint (y, ==, 20);
  /* No bitmap yet: no hotspot either (the meta's field means nothing
   * without one). */
  g_assert_cmpint (hx, ==, 0);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);

  /* Nothing changed: nothing to post. */
  g_assert_null (zc_cursor_read (&f.buffer, &state));

  /* id 0: off the stream (Mutter's meaning). */
  fake_init (&f, 0, 10, 20);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get_boolean (s, "visible", &visible));
  g_assert_false (visible);
  gst_structure_free (s);

  /* No meta at all: nothing. */
  f.buffer.n_metas = 0;
  g_assert_null (zc_cursor_read (&f.buffer, &state));
}

static void
test_bitmap (void)
{
  Fake f;
  ZcCursorState state = { 0 };
  struct spa_meta_cursor *c = fake_init (&f, 1, 5, 6);
  GstStructure *s;
  GBytes *pixels = NULL;
  guint w = 0, h = 0;
  gsize size;
  const guint8 *data;

  /* A padded stride: the rows come out packed. */
  add_bitmap (c, SPA_VIDEO_FORMAT_BGRA, 3, 2, 16);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get (s, "width", G_TYPE_UINT, &w, "height",
      G_TYPE_UINT, &h, "pixels", G_TYPE_BYTES, &pixels, NULL));
  g_assert_cmpuint (w, ==, 3);
  g_assert_cmpuint (h, ==, 2);
  g_assert_cmpstr (gst_structure_get_string (s, "format"), ==, "BGRA");
  data = g_bytes_get_data (pixels, &size);
  g_assert_cmpuint (size, ==, 3 * 2 * 4);
  for (gsize i = 0; i < size; i += 4)
    g_assert_cmpmem (data + i, 4, "\1\2\3\4", 4);
  g_bytes_unref (pixels);
  gst_structure_free (s);

  /* A position-only buffer (no bitmap, hotspot 0 as Mutter leaves it)
   * keeps the bitmap's hotspot. */
  {
    gint hx = -1, hy = -1;
    struct spa_meta_cursor *moved = fake_init (&f, 1, 9, 9);

    moved->hotspot.x = moved->hotspot.y = 0;
    s = zc_cursor_read (&f.buffer, &state);
    g_assert_nonnull (s);
    g_assert_true (gst_structure_get (
        s, "hotspot-x", G_TYPE_INT, &hx, "hotspot-y", G_TYPE_INT, &hy, NULL));
    g_assert_cmpint (hx, ==, 2);
    g_assert_cmpint (hy, ==, 3);
    gst_structure_free (s);
    c = fake_init (&f, 1, 5, 6);
    add_bitmap (c, SPA_VIDEO_FORMAT_BGRA, 3, 2, 16);
  }

  /* The same bitmap again is a new shape message (Mutter only sends one
   * when the shape changed). */
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);

  /* A 0x0 bitmap hides the cursor, also on later position-only buffers. */
  c = fake_init (&f, 1, 5, 6);
  add_bitmap (c, SPA_VIDEO_FORMAT_RGBA, 0, 0, 0);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get_uint (s, "width", &w));
  g_assert_cmpuint (w, ==, 0);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);
  fake_init (&f, 1, 7, 8);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s);
  {
    gboolean visible = TRUE;
    g_assert_true (gst_structure_get_boolean (s, "visible", &visible));
    g_assert_false (visible);
  }
  gst_structure_free (s);
}

static void
test_hostile (void)
{
  Fake f;
  ZcCursorState state = { 0 };
  struct spa_meta_cursor *c;
  struct spa_meta_bitmap *b;
  GstStructure *s;

  /* Bitmap header beyond the meta. */
  c = fake_init (&f, 1, 1, 1);
  c->bitmap_offset = META_SIZE - 4;
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_nonnull (s); /* the position still counts */
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);

  /* Pixels running past the meta (a height the area cannot hold). */
  c = fake_init (&f, 1, 2, 2);
  b = add_bitmap (c, SPA_VIDEO_FORMAT_RGBA, 64, 64, 64 * 4);
  b->offset = sizeof (*b) + 64;
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);

  /* A stride shorter than a row, a negative one, a huge size, a format
   * we do not read. */
  c = fake_init (&f, 1, 3, 3);
  add_bitmap (c, SPA_VIDEO_FORMAT_RGBA, 8, 8, 16);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);
  c = fake_init (&f, 1, 4, 4);
  b = add_bitmap (c, SPA_VIDEO_FORMAT_RGBA, 8, 8, 32);
  b->stride = -32;
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);
  c = fake_init (&f, 1, 5, 5);
  b = add_bitmap (c, SPA_VIDEO_FORMAT_RGBA, 8, 8, 32);
  b->size.width = b->size.height = 100000;
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);
  c = fake_init (&f, 1, 6, 6);
  add_bitmap (c, SPA_VIDEO_FORMAT_NV12, 8, 8, 32);
  s = zc_cursor_read (&f.buffer, &state);
  g_assert_false (gst_structure_has_field (s, "pixels"));
  gst_structure_free (s);

  /* A meta too small to be a cursor. */
  fake_init (&f, 1, 7, 7);
  f.meta.size = 8;
  g_assert_null (zc_cursor_read (&f.buffer, &state));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cursor-meta/position", test_position_and_dedupe);
  g_test_add_func ("/cursor-meta/bitmap", test_bitmap);
  g_test_add_func ("/cursor-meta/hostile", test_hostile);
  return g_test_run ();
}
