/* zerocast: reading PipeWire's cursor meta.
 *
 * The meta is written by the producer (the compositor) into memory we only
 * map: every offset and size in it is checked against the meta's own size
 * before anything is read through it.
 *
 * Mutter (43 and later) fills the meta on every buffer in metadata mode:
 * id 0 when the pointer is off the recorded area, else the position, and a
 * bitmap only when the shape changed (a 0x0 bitmap: no image, e.g. a
 * client hid the pointer). Buffers with a size-0 chunk carry nothing but
 * this meta (the pointer moved over a still picture).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-cursor.h"

#include <string.h>

#include <spa/buffer/meta.h>
#include <spa/param/video/raw.h>

GST_DEBUG_CATEGORY_STATIC (zc_cursor_debug);
#define GST_CAT_DEFAULT zc_cursor_debug

static const gchar *
format_name (guint32 spa_format)
{
  /* All four are 4 bytes a pixel with alpha, named by byte order. */
  switch (spa_format) {
    case SPA_VIDEO_FORMAT_RGBA:
      return "RGBA";
    case SPA_VIDEO_FORMAT_BGRA:
      return "BGRA";
    case SPA_VIDEO_FORMAT_ARGB:
      return "ARGB";
    case SPA_VIDEO_FORMAT_ABGR:
      return "ABGR";
    default:
      return NULL;
  }
}

/* Adds the shape to @s when @cursor carries a usable new bitmap. Returns
 * FALSE when it carries none (or a broken one). */
static gboolean
add_bitmap (GstStructure *s, const struct spa_meta_cursor *cursor,
    guint32 meta_size, gboolean *empty)
{
  struct spa_meta_bitmap bitmap;
  const guint8 *base = (const guint8 *) cursor;
  const gchar *format;
  guint64 end;
  guint32 width, height;
  gsize row;
  GByteArray *pixels;
  GBytes *bytes;

  if (cursor->bitmap_offset == 0)
    return FALSE;
  if (cursor->bitmap_offset < sizeof (*cursor)
      || (guint64) cursor->bitmap_offset + sizeof (bitmap) > meta_size) {
    GST_WARNING ("cursor bitmap at %u lies outside its %u-byte meta",
        cursor->bitmap_offset, meta_size);
    return FALSE;
  }
  /* A copy: the producer's offset need not keep the header aligned (found
   * by tests/fuzz/fuzz-cursor under UBSan). */
  memcpy (&bitmap, base + cursor->bitmap_offset, sizeof (bitmap));
  if (bitmap.format == 0)
    return FALSE; /* "no new bitmap" */
  width = bitmap.size.width;
  height = bitmap.size.height;
  if (width == 0 || height == 0 || bitmap.offset == 0) {
    *empty = TRUE;
    gst_structure_set (
        s, "width", G_TYPE_UINT, 0u, "height", G_TYPE_UINT, 0u, NULL);
    return TRUE;
  }
  format = format_name (bitmap.format);
  if (format == NULL || width > ZC_CURSOR_MAX_SIZE
      || height > ZC_CURSOR_MAX_SIZE) {
    GST_WARNING ("ignoring a %ux%u cursor bitmap of SPA format %u (we take "
                 "up to %dx%d RGBA, BGRA, ARGB or ABGR)",
        width, height, bitmap.format, ZC_CURSOR_MAX_SIZE, ZC_CURSOR_MAX_SIZE);
    return FALSE;
  }
  row = (gsize) width * 4;
  end = (guint64) cursor->bitmap_offset + bitmap.offset
      + (guint64) (bitmap.stride > 0 ? bitmap.stride : 0) * (height - 1) + row;
  if (bitmap.stride < 0 || (gsize) bitmap.stride < row
      || bitmap.offset < sizeof (bitmap) || end > meta_size) {
    GST_WARNING ("cursor bitmap %ux%u, stride %d, offset %u does not fit its "
                 "%u-byte meta",
        width, height, bitmap.stride, bitmap.offset, meta_size);
    return FALSE;
  }
  /* Packed rows: the consumer needs no stride, and the copy is at most
   * 256 KiB, once per shape change. */
  base += cursor->bitmap_offset + bitmap.offset;
  pixels = g_byte_array_sized_new ((guint) (row * height));
  for (guint32 y = 0; y < height; y++)
    g_byte_array_append (pixels, base + (gsize) bitmap.stride * y, (guint) row);
  bytes = g_byte_array_free_to_bytes (pixels);
  gst_structure_set (s, "width", G_TYPE_UINT, width, "height", G_TYPE_UINT,
      height, "format", G_TYPE_STRING, format, "pixels", G_TYPE_BYTES, bytes,
      NULL);
  g_bytes_unref (bytes);
  return TRUE;
}

GstStructure *
zc_cursor_read (struct spa_buffer *buffer, ZcCursorState *state)
{
  static gsize debug_once;
  struct spa_meta *meta;
  const struct spa_meta_cursor *cursor;
  GstStructure *s;
  gboolean visible, shape = FALSE, empty = FALSE;
  gint32 x = 0, y = 0, hx = 0, hy = 0;

  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_cursor_debug, "zccursor", 0, "zerocast cursor meta");
    g_once_init_leave (&debug_once, 1);
  }
  meta = spa_buffer_find_meta (buffer, SPA_META_Cursor);
  if (meta == NULL || meta->size < sizeof (*cursor))
    return NULL;
  cursor = meta->data;
  visible = spa_meta_cursor_is_valid (cursor);
  /* The hotspot belongs to the bitmap: a buffer without one (the pointer
   * only moved) leaves it as the last bitmap set it. */
  hx = state->hotspot_x;
  hy = state->hotspot_y;
  if (visible) {
    x = cursor->position.x;
    y = cursor->position.y;
  }

  s = gst_structure_new_empty (ZC_CURSOR_MESSAGE);
  if (visible && (shape = add_bitmap (s, cursor, meta->size, &empty))) {
    state->shape_empty = empty;
    hx = cursor->hotspot.x;
    hy = cursor->hotspot.y;
  }
  /* An empty shape hides the cursor until a real one comes. */
  if (state->shape_empty)
    visible = FALSE;
  if (!shape && state->known && state->visible == visible && state->x == x
      && state->y == y && state->hotspot_x == hx && state->hotspot_y == hy) {
    gst_structure_free (s);
    return NULL;
  }
  state->known = TRUE;
  state->visible = visible;
  state->x = x;
  state->y = y;
  state->hotspot_x = hx;
  state->hotspot_y = hy;
  gst_structure_set (s, "visible", G_TYPE_BOOLEAN, visible, "x", G_TYPE_INT, x,
      "y", G_TYPE_INT, y, "hotspot-x", G_TYPE_INT, hx, "hotspot-y", G_TYPE_INT,
      hy, NULL);
  GST_LOG ("cursor %s at %d,%d hotspot %d,%d%s", visible ? "shown" : "hidden",
      x, y, hx, hy, shape ? ", new shape" : "");
  return s;
}
