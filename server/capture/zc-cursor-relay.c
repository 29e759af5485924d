/* zerocast server: the pointer from the capture to the viewers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-cursor-relay.h"

#include <string.h>

#include "zc-wire.h"

GST_DEBUG_CATEGORY_STATIC (zc_cursor_relay_debug);
#define GST_CAT_DEFAULT zc_cursor_relay_debug

#define MAX_SIZE 256 /* what the element accepts (gst/zc-cursor.h) */

GBytes *
zc_cursor_relay_to_rgba (
    const gchar *format, GBytes *pixels, guint width, guint height)
{
  /* Where R, G, B and A sit in each 4-byte pixel of @format. */
  static const struct
  {
    const gchar *name;
    guint8 r, g, b, a;
  } orders[] = {
    { "RGBA", 0, 1, 2, 3 },
    { "BGRA", 2, 1, 0, 3 },
    { "ARGB", 1, 2, 3, 0 },
    { "ABGR", 3, 2, 1, 0 },
  };
  gsize size;
  const guint8 *src = g_bytes_get_data (pixels, &size);
  guint8 *dst;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (orders); i++)
    if (g_strcmp0 (format, orders[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS (orders) || width == 0 || height == 0
      || width > MAX_SIZE || height > MAX_SIZE
      || size != (gsize) width * height * 4)
    return NULL;
  dst = g_malloc (size);
  for (gsize p = 0; p < size; p += 4) {
    dst[p + 0] = src[p + orders[i].r];
    dst[p + 1] = src[p + orders[i].g];
    dst[p + 2] = src[p + orders[i].b];
    dst[p + 3] = src[p + orders[i].a];
  }
  return g_bytes_new_take (dst, size);
}

struct _ZcCursorRelay
{
  ZcFanout *fanout;
  GBytes *shape;  /* the last real shape (0x50 with pixels), or NULL */
  gboolean shown; /* the viewers were last told to show @shape */
};

ZcCursorRelay *
zc_cursor_relay_new (ZcFanout *fanout)
{
  static gsize debug_once;
  ZcCursorRelay *self = g_new0 (ZcCursorRelay, 1);

  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_cursor_relay_debug, "zccursorrelay", 0, "zerocast cursor relay");
    g_once_init_leave (&debug_once, 1);
  }
  self->fanout = fanout;
  return self;
}

void
zc_cursor_relay_free (ZcCursorRelay *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->shape, g_bytes_unref);
  g_free (self);
}

void
zc_cursor_relay_reset (ZcCursorRelay *self)
{
  g_clear_pointer (&self->shape, g_bytes_unref);
  self->shown = FALSE;
  zc_fanout_clear_cursor (self->fanout);
}

gboolean
zc_cursor_relay_handle (ZcCursorRelay *self, const GstStructure *s)
{
  gboolean visible;
  gint x, y, hx, hy;
  guint width = 0, height = 0;
  const GValue *pixels_value;
  g_autoptr (GBytes) position = NULL, none = NULL;

  if (!gst_structure_has_name (s, "zc-cursor"))
    return FALSE;
  if (!gst_structure_get (s, "visible", G_TYPE_BOOLEAN, &visible, "x",
          G_TYPE_INT, &x, "y", G_TYPE_INT, &y, "hotspot-x", G_TYPE_INT, &hx,
          "hotspot-y", G_TYPE_INT, &hy, NULL)) {
    GST_WARNING ("a zc-cursor message without its fields: %" GST_PTR_FORMAT, s);
    return TRUE;
  }
  gst_structure_get_uint (s, "width", &width);
  gst_structure_get_uint (s, "height", &height);
  pixels_value = gst_structure_get_value (s, "pixels");

  if (pixels_value && G_VALUE_HOLDS (pixels_value, G_TYPE_BYTES)) {
    GBytes *pixels = g_value_get_boxed (pixels_value);
    g_autoptr (GBytes) rgba = zc_cursor_relay_to_rgba (
        gst_structure_get_string (s, "format"), pixels, width, height);

    if (rgba == NULL) {
      GST_WARNING ("ignoring a cursor image of %ux%u %s, %" G_GSIZE_FORMAT
                   " bytes",
          width, height, gst_structure_get_string (s, "format"),
          pixels ? g_bytes_get_size (pixels) : 0);
    } else {
      g_clear_pointer (&self->shape, g_bytes_unref);
      self->shape = zc_wire_cursor_image (x, y, hx, hy, ZC_CURSOR_RELAY_FOURCC,
          width, height, width * 4, g_bytes_get_data (rgba, NULL));
      self->shown = FALSE; /* a new shape to tell */
    }
  }
  position = zc_wire_cursor_image (x, y, hx, hy, 0, 0, 0, 0, NULL);
  if (visible && self->shape) {
    /* Shown again after it was hidden, or a new shape. */
    zc_fanout_set_cursor (
        self->fanout, self->shown ? NULL : self->shape, position);
    self->shown = TRUE;
  } else {
    /* Off the stream, or the desktop hid it: CSS "none" is how Helix's
     * client can be told. */
    if (self->shown || !visible)
      none = zc_wire_cursor_name ("none", 0, 0);
    zc_fanout_set_cursor (self->fanout, none, position);
    self->shown = FALSE;
  }
  return TRUE;
}
