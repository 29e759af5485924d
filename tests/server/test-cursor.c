/* The pointer from the element's "zc-cursor" messages to viewers: pixel
 * order, Helix's message layouts, replay to joining viewers and after an
 * overflow, one queued position per viewer however fast it moves, hidden
 * and shown again.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <gst/gst.h>

#include "zc-cursor-relay.h"
#include "zc-fanout.h"
#include "zc-wire.h"

typedef struct
{
  GPtrArray *sent; /* GBytes */
  gboolean blocked;
} Sink;

static gboolean
sink_try_send (gpointer data, GBytes *message)
{
  Sink *sink = data;

  if (sink->blocked)
    return FALSE;
  g_ptr_array_add (sink->sent, g_bytes_ref (message));
  return TRUE;
}

static void
sink_close (gpointer data, const gchar *reason)
{
}

static const ZcViewerSinkFuncs sink_funcs = { sink_try_send, sink_close };

static void
sink_init (Sink *sink)
{
  sink->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  sink->blocked = FALSE;
}

static void
no_keyframe (gpointer data)
{
}

static guint8
type_of (GBytes *b)
{
  return *(const guint8 *) g_bytes_get_data (b, NULL);
}

static gint32
le32 (GBytes *b, gsize at)
{
  const guint8 *d = g_bytes_get_data (b, NULL);

  return (gint32) (d[at] | d[at + 1] << 8 | d[at + 2] << 16
      | (guint32) d[at + 3] << 24);
}

static GstStructure *
cursor (gboolean visible, gint x, gint y, const gchar *format, guint w, guint h)
{
  GstStructure *s = gst_structure_new ("zc-cursor", "visible", G_TYPE_BOOLEAN,
      visible, "x", G_TYPE_INT, x, "y", G_TYPE_INT, y, "hotspot-x", G_TYPE_INT,
      1, "hotspot-y", G_TYPE_INT, 2, NULL);

  if (format) {
    guint8 *px = g_malloc ((gsize) w * h * 4);
    GBytes *bytes;

    for (gsize i = 0; i < (gsize) w * h * 4; i += 4)
      memcpy (px + i, "\x10\x20\x30\x40", 4);
    bytes = g_bytes_new_take (px, (gsize) w * h * 4);
    gst_structure_set (s, "width", G_TYPE_UINT, w, "height", G_TYPE_UINT, h,
        "format", G_TYPE_STRING, format, "pixels", G_TYPE_BYTES, bytes, NULL);
    g_bytes_unref (bytes);
  }
  return s;
}

static void
handle (ZcCursorRelay *relay, GstStructure *s)
{
  g_assert_true (zc_cursor_relay_handle (relay, s));
  gst_structure_free (s);
}

static void
test_to_rgba (void)
{
  /* Each order's bytes for R=0x10, G=0x20, B=0x30, A=0x40. */
  const struct
  {
    const gchar *format;
    const gchar *bytes;
  } cases[] = {
    { "RGBA", "\x10\x20\x30\x40" },
    { "BGRA", "\x30\x20\x10\x40" },
    { "ARGB", "\x40\x10\x20\x30" },
    { "ABGR", "\x40\x30\x20\x10" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GBytes) in = g_bytes_new (cases[i].bytes, 4);
    g_autoptr (GBytes) out =
        zc_cursor_relay_to_rgba (cases[i].format, in, 1, 1);

    g_assert_nonnull (out);
    g_assert_cmpmem (g_bytes_get_data (out, NULL), 4, "\x10\x20\x30\x40", 4);
  }
  {
    g_autoptr (GBytes) in = g_bytes_new ("\1\2\3\4\5\6\7\x8", 8);
    g_assert_null (zc_cursor_relay_to_rgba ("NV12", in, 2, 1));
    g_assert_null (zc_cursor_relay_to_rgba ("RGBA", in, 3, 1)); /* size */
    g_assert_null (zc_cursor_relay_to_rgba ("RGBA", in, 0, 0));
  }
}

static void
test_replay_and_order (void)
{
  ZcFanoutLimits limits;
  g_autoptr (ZcFanout) fanout = NULL;
  ZcCursorRelay *relay;
  Sink early, late;
  g_autoptr (GBytes) init =
      zc_wire_stream_init (ZC_WIRE_CODEC_H264, 64, 48, 30);
  GBytes *m;

  zc_fanout_limits_init_default (&limits);
  fanout = zc_fanout_new (&limits, no_keyframe, NULL);
  relay = zc_cursor_relay_new (fanout);
  zc_fanout_set_stream_init (fanout, init);
  sink_init (&early);
  zc_fanout_add_viewer (fanout, &sink_funcs, &early);

  handle (relay, cursor (TRUE, 30, 40, "BGRA", 2, 3));
  /* StreamInit, then the shape (with pixels, in R, G, B, A), then the
   * position. */
  g_assert_cmpuint (early.sent->len, ==, 3);
  m = early.sent->pdata[1];
  g_assert_cmpuint (type_of (m), ==, ZC_WIRE_CURSOR_IMAGE);
  g_assert_cmpuint (g_bytes_get_size (m), ==,
      ZC_WIRE_CURSOR_IMAGE_HEADER + ZC_WIRE_CURSOR_BITMAP_HEADER + 2 * 3 * 4);
  g_assert_cmpint (le32 (m, 5), ==, 30);
  g_assert_cmpint (le32 (m, 9), ==, 40);
  g_assert_cmpint (le32 (m, 13), ==, 1);
  g_assert_cmpint (le32 (m, 17), ==, 2);
  g_assert_cmpint (le32 (m, 21), ==, 16 + 24);
  g_assert_cmpuint ((guint32) le32 (m, 25), ==, ZC_CURSOR_RELAY_FOURCC);
  g_assert_cmpint (le32 (m, 29), ==, 2);
  g_assert_cmpint (le32 (m, 33), ==, 3);
  g_assert_cmpint (le32 (m, 37), ==, 8);
  g_assert_cmpmem ((const guint8 *) g_bytes_get_data (m, NULL) + 41, 4,
      "\x30\x20\x10\x40", 4);
  m = early.sent->pdata[2];
  g_assert_cmpuint (g_bytes_get_size (m), ==, ZC_WIRE_CURSOR_IMAGE_HEADER);
  g_assert_cmpint (le32 (m, 21), ==, 0);

  /* It moves: positions only. The same place again: nothing. */
  handle (relay, cursor (TRUE, 31, 41, NULL, 0, 0));
  handle (relay, cursor (TRUE, 31, 41, NULL, 0, 0));
  g_assert_cmpuint (early.sent->len, ==, 4);
  g_assert_cmpint (le32 (early.sent->pdata[3], 5), ==, 31);

  /* A viewer joining now gets StreamInit, the shape, the newest place. */
  sink_init (&late);
  zc_fanout_add_viewer (fanout, &sink_funcs, &late);
  g_assert_cmpuint (late.sent->len, ==, 3);
  g_assert_cmpuint (type_of (late.sent->pdata[0]), ==, ZC_WIRE_STREAM_INIT);
  g_assert_true (g_bytes_equal (late.sent->pdata[1], early.sent->pdata[1]));
  g_assert_cmpint (le32 (late.sent->pdata[2], 5), ==, 31);

  zc_cursor_relay_free (relay);
  g_ptr_array_unref (early.sent);
  g_ptr_array_unref (late.sent);
}

static void
test_coalesce (void)
{
  ZcFanoutLimits limits;
  g_autoptr (ZcFanout) fanout = NULL;
  ZcCursorRelay *relay;
  ZcViewer *viewer;
  ZcFanoutStats stats;
  Sink sink;

  zc_fanout_limits_init_default (&limits);
  fanout = zc_fanout_new (&limits, no_keyframe, NULL);
  relay = zc_cursor_relay_new (fanout);
  sink_init (&sink);
  viewer = zc_fanout_add_viewer (fanout, &sink_funcs, &sink);
  handle (relay, cursor (TRUE, 0, 0, "RGBA", 4, 4));
  g_assert_cmpuint (sink.sent->len, ==, 2);

  /* A viewer that takes nothing while the pointer moves 10,000 times
   * holds one position, not 10,000 (and is never cut off for it). */
  sink.blocked = TRUE;
  for (gint i = 1; i <= 10000; i++)
    handle (relay, cursor (TRUE, i % 640, i / 640, NULL, 0, 0));
  zc_fanout_get_stats (fanout, &stats);
  g_assert_cmpuint (stats.queued_bytes, ==, ZC_WIRE_CURSOR_IMAGE_HEADER);
  sink.blocked = FALSE;
  zc_fanout_viewer_writable (fanout, viewer);
  g_assert_cmpuint (sink.sent->len, ==, 3);
  g_assert_cmpint (le32 (sink.sent->pdata[2], 5), ==, 10000 % 640);
  g_assert_cmpint (le32 (sink.sent->pdata[2], 9), ==, 10000 / 640);

  zc_cursor_relay_free (relay);
  g_ptr_array_unref (sink.sent);
}

static void
test_hide_show (void)
{
  ZcFanoutLimits limits;
  g_autoptr (ZcFanout) fanout = NULL;
  ZcCursorRelay *relay;
  Sink sink;
  GBytes *m;

  zc_fanout_limits_init_default (&limits);
  fanout = zc_fanout_new (&limits, no_keyframe, NULL);
  relay = zc_cursor_relay_new (fanout);
  sink_init (&sink);
  zc_fanout_add_viewer (fanout, &sink_funcs, &sink);
  handle (relay, cursor (TRUE, 5, 5, "RGBA", 2, 2));
  g_assert_cmpuint (sink.sent->len, ==, 2);

  /* Hidden: CursorName "none" (Helix's way), then the place. */
  handle (relay, cursor (FALSE, 0, 0, NULL, 0, 0));
  g_assert_cmpuint (sink.sent->len, ==, 4);
  m = sink.sent->pdata[2];
  g_assert_cmpuint (type_of (m), ==, ZC_WIRE_CURSOR_NAME);
  g_assert_cmpuint (g_bytes_get_size (m), ==, ZC_WIRE_CURSOR_NAME_HEADER + 4);
  g_assert_cmpmem (
      (const guint8 *) g_bytes_get_data (m, NULL) + ZC_WIRE_CURSOR_NAME_HEADER,
      4, "none", 4);

  /* Shown again without a new bitmap: the old shape is sent again. */
  handle (relay, cursor (TRUE, 6, 6, NULL, 0, 0));
  g_assert_cmpuint (sink.sent->len, ==, 6);
  g_assert_true (g_bytes_equal (sink.sent->pdata[4], sink.sent->pdata[0]));

  /* Garbage in the message is ignored, not trusted: no fields, a pixel
   * count that does not match its size. */
  {
    GstStructure *bad = gst_structure_new_empty ("zc-cursor");
    handle (relay, bad);
    bad = cursor (TRUE, 6, 6, "RGBA", 2, 2);
    gst_structure_set (bad, "width", G_TYPE_UINT, 200u, NULL);
    handle (relay, bad);
  }
  g_assert_cmpuint (sink.sent->len, ==, 6);
  {
    GstStructure *other = gst_structure_new_empty ("GstMessageOther");
    g_assert_false (zc_cursor_relay_handle (relay, other));
    gst_structure_free (other);
  }

  zc_cursor_relay_free (relay);
  g_ptr_array_unref (sink.sent);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cursor/to-rgba", test_to_rgba);
  g_test_add_func ("/cursor/replay-and-order", test_replay_and_order);
  g_test_add_func ("/cursor/coalesce", test_coalesce);
  g_test_add_func ("/cursor/hide-show", test_hide_show);
  return g_test_run ();
}
