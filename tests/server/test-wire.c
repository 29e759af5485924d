/* Unit tests of the binary WebSocket framing (server/zc-wire.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "zc-wire.h"

static void
test_stream_init (void)
{
  g_autoptr (GBytes) m =
      zc_wire_stream_init (ZC_WIRE_CODEC_H264, 1920, 1080, 60);
  gsize size;
  const guint8 *d = g_bytes_get_data (m, &size);

  g_assert_cmpuint (size, ==, ZC_WIRE_STREAM_INIT_SIZE);
  g_assert_cmpuint (d[0], ==, 0x30);
  g_assert_cmpuint (d[1], ==, 0x01);
  g_assert_cmpuint (d[2] << 8 | d[3], ==, 1920); /* big-endian */
  g_assert_cmpuint (d[4] << 8 | d[5], ==, 1080);
  g_assert_cmpuint (d[6], ==, 60);
  for (guint i = 7; i < 13; i++)
    g_assert_cmpuint (d[i], ==, 0); /* no audio, no touch */
}

static void
test_video_frame_round_trip (void)
{
  const guint8 au[] = { 0, 0, 0, 1, 0x65, 0x88, 0x84 };
  ZcWireVideoHeader h = { .codec = ZC_WIRE_CODEC_H264,
    .flags = ZC_WIRE_FLAG_KEYFRAME,
    .pts_us = G_GUINT64_CONSTANT (0x0102030405060708),
    .width = 1280,
    .height = 720 };
  g_autoptr (GBytes) m = zc_wire_video_frame (&h, au, sizeof (au));
  g_autoptr (GBytes) replay = NULL;
  ZcWireVideoHeader out;
  const guint8 *d, *out_au;
  gsize size, au_size;

  d = g_bytes_get_data (m, &size);
  g_assert_cmpuint (size, ==, 15 + sizeof (au));
  g_assert_cmpuint (d[0], ==, 0x01);
  g_assert_cmpuint (d[2], ==, 1);
  /* pts is a big-endian u64 at offset 3 */
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint (d[3 + i], ==, i + 1);
  g_assert_cmpuint (d[11] << 8 | d[12], ==, 1280);
  g_assert_cmpuint (d[13] << 8 | d[14], ==, 720);
  g_assert_cmpmem (d + 15, sizeof (au), au, sizeof (au));

  g_assert_true (
      zc_wire_parse_video_frame (d, size, &out, &out_au, &au_size, NULL));
  g_assert_cmpuint (out.pts_us, ==, h.pts_us);
  g_assert_cmpuint (out.width, ==, 1280);
  g_assert_cmpuint (out.height, ==, 720);
  g_assert_cmpmem (out_au, au_size, au, sizeof (au));

  replay = zc_wire_video_frame_with_flags (
      m, ZC_WIRE_FLAG_KEYFRAME | ZC_WIRE_FLAG_REPLAYED);
  g_assert_cmpuint (
      ((const guint8 *) g_bytes_get_data (replay, NULL))[2], ==, 3);
  /* The original, shared with other viewers, is untouched. */
  g_assert_cmpuint (d[2], ==, 1);
}

static void
test_video_frame_bad (void)
{
  const guint8 short_msg[] = { 0x01, 0x01, 0x00 };
  const guint8 wrong_type[15] = { 0x30 };
  g_autoptr (GError) error = NULL;
  ZcWireVideoHeader h;
  const guint8 *au;
  gsize au_size;

  g_assert_false (zc_wire_parse_video_frame (
      short_msg, sizeof (short_msg), &h, &au, &au_size, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (zc_wire_parse_video_frame (
      wrong_type, sizeof (wrong_type), &h, &au, &au_size, &error));
}

static void
test_error_message (void)
{
  g_autoptr (GBytes) m = zc_wire_error ("viewer too slow");
  GString *big = g_string_new (NULL);
  g_autoptr (GBytes) cut = NULL;
  const guint8 *d;
  gsize size;
  guint len;

  d = g_bytes_get_data (m, &size);
  g_assert_cmpuint (d[0], ==, 0x31);
  g_assert_cmpuint (d[1] << 8 | d[2], ==, 15);
  g_assert_cmpuint (size, ==, 3 + 15);
  g_assert_cmpmem (d + 3, 15, "viewer too slow", 15);

  /* 70000 bytes of 2-byte characters: cut to fit u16, on a boundary. */
  for (guint i = 0; i < 35000; i++)
    g_string_append (big, "\xc3\xa9");
  cut = zc_wire_error (big->str);
  d = g_bytes_get_data (cut, &size);
  len = d[1] << 8 | d[2];
  g_assert_cmpuint (len, <=, G_MAXUINT16);
  g_assert_cmpuint (len % 2, ==, 0);
  g_assert_cmpuint (size, ==, 3 + len);
  g_assert_true (g_utf8_validate ((const gchar *) d + 3, len, NULL));
  g_string_free (big, TRUE);
}

static void
test_ping_pong (void)
{
  guint8 ping[13] = { 0x40, 0, 0, 0, 42 };
  g_autoptr (GBytes) pong = NULL;
  g_autoptr (GError) error = NULL;
  guint64 client = G_GUINT64_CONSTANT (1700000000123456);
  guint32 seq;
  guint64 t;
  const guint8 *d;
  gsize size;

  for (guint i = 0; i < 8; i++)
    ping[5 + i] = client >> (56 - 8 * i);
  g_assert_true (zc_wire_parse_ping (ping, sizeof (ping), &seq, &t, NULL));
  g_assert_cmpuint (seq, ==, 42);
  g_assert_cmpuint (t, ==, client);
  g_assert_false (zc_wire_parse_ping (ping, 12, &seq, &t, &error));
  g_assert_nonnull (error);

  pong = zc_wire_pong (seq, t, G_GUINT64_CONSTANT (1700000000999999), 17);
  d = g_bytes_get_data (pong, &size);
  g_assert_cmpuint (size, ==, 29);
  g_assert_cmpuint (d[0], ==, 0x41);
  g_assert_cmpmem (d + 1, 12, ping + 1, 12); /* seq + client time echoed */
  g_assert_cmpuint (d[21] << 8 | d[22], ==, 17);
}

static void
test_client_messages (void)
{
  const guint8 ping[13] = { 0x40 };
  const guint8 mouse[] = { 0x12, 0, 1, 0, 2 };
  const guint8 unknown[] = { 0x99 };
  const guint8 control[] = { 0x20, '{', '}' };
  g_autofree guint8 *huge = g_malloc0 (ZC_WIRE_MAX_CLIENT_MESSAGE + 1);
  ZcWireType type;
  GError *error = NULL;

  g_assert_true (zc_wire_check_client_message (ping, 13, &type, NULL));
  g_assert_cmpint (type, ==, ZC_WIRE_PING);
  g_assert_true (
      zc_wire_check_client_message (mouse, sizeof (mouse), &type, NULL));
  g_assert_cmpint (type, ==, ZC_WIRE_MOUSE_ABSOLUTE);
  g_assert_true (
      zc_wire_check_client_message (control, sizeof (control), &type, NULL));

  g_assert_false (zc_wire_check_client_message (ping, 0, &type, &error));
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);
  g_assert_false (zc_wire_check_client_message (ping, 5, &type, &error));
  g_assert_nonnull (strstr (error->message, "bad size"));
  g_clear_error (&error);
  g_assert_false (zc_wire_check_client_message (unknown, 1, &type, &error));
  g_assert_nonnull (strstr (error->message, "0x99"));
  g_clear_error (&error);
  huge[0] = 0x20;
  g_assert_false (zc_wire_check_client_message (
      huge, ZC_WIRE_MAX_CLIENT_MESSAGE + 1, &type, &error));
  g_assert_nonnull (strstr (error->message, "over the limit"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wire/stream-init", test_stream_init);
  g_test_add_func ("/wire/video-frame", test_video_frame_round_trip);
  g_test_add_func ("/wire/video-frame-bad", test_video_frame_bad);
  g_test_add_func ("/wire/error", test_error_message);
  g_test_add_func ("/wire/ping-pong", test_ping_pong);
  g_test_add_func ("/wire/client-messages", test_client_messages);
  return g_test_run ();
}
