/* zerocast server: the binary WebSocket framing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-wire.h"

#include <string.h>

#include "zc-server-error.h"

static void
put_u16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static void
put_u32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
put_u64 (guint8 *p, guint64 v)
{
  put_u32 (p, v >> 32);
  put_u32 (p + 4, (guint32) v);
}

static guint16
get_u16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8
      | p[3];
}

static guint64
get_u64 (const guint8 *p)
{
  return (guint64) get_u32 (p) << 32 | get_u32 (p + 4);
}

GBytes *
zc_wire_stream_init (guint8 codec, guint16 width, guint16 height, guint8 fps)
{
  guint8 *m = g_malloc0 (ZC_WIRE_STREAM_INIT_SIZE);

  m[0] = ZC_WIRE_STREAM_INIT;
  m[1] = codec;
  put_u16 (m + 2, width);
  put_u16 (m + 4, height);
  m[6] = fps;
  /* m[7] audio channels, m[8..11] sample rate: no audio yet.
   * m[12] touch: input is not supported yet. */
  return g_bytes_new_take (m, ZC_WIRE_STREAM_INIT_SIZE);
}

static void
write_video_header (guint8 *m, const ZcWireVideoHeader *h)
{
  m[0] = ZC_WIRE_VIDEO_FRAME;
  m[1] = h->codec;
  m[2] = h->flags;
  put_u64 (m + 3, h->pts_us);
  put_u16 (m + 11, h->width);
  put_u16 (m + 13, h->height);
}

GBytes *
zc_wire_video_frame (
    const ZcWireVideoHeader *header, const guint8 *au, gsize au_size)
{
  guint8 *m = g_malloc (ZC_WIRE_VIDEO_HEADER_SIZE + au_size);

  write_video_header (m, header);
  if (au_size > 0)
    memcpy (m + ZC_WIRE_VIDEO_HEADER_SIZE, au, au_size);
  return g_bytes_new_take (m, ZC_WIRE_VIDEO_HEADER_SIZE + au_size);
}

GBytes *
zc_wire_video_frame_with_flags (GBytes *frame, guint8 flags)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  guint8 *m;

  g_return_val_if_fail (size >= ZC_WIRE_VIDEO_HEADER_SIZE, NULL);
  m = g_memdup2 (data, size);
  m[2] = flags;
  return g_bytes_new_take (m, size);
}

gboolean
zc_wire_parse_video_frame (const guint8 *data, gsize size,
    ZcWireVideoHeader *header, const guint8 **au, gsize *au_size,
    GError **error)
{
  if (size < ZC_WIRE_VIDEO_HEADER_SIZE || data[0] != ZC_WIRE_VIDEO_FRAME) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "not a video frame: %" G_GSIZE_FORMAT " bytes, type 0x%02x", size,
        size > 0 ? data[0] : 0);
    return FALSE;
  }
  header->codec = data[1];
  header->flags = data[2];
  header->pts_us = get_u64 (data + 3);
  header->width = get_u16 (data + 11);
  header->height = get_u16 (data + 13);
  *au = data + ZC_WIRE_VIDEO_HEADER_SIZE;
  *au_size = size - ZC_WIRE_VIDEO_HEADER_SIZE;
  return TRUE;
}

GBytes *
zc_wire_error (const gchar *text)
{
  gsize len = strlen (text);
  const gchar *end;
  guint8 *m;

  /* Never send a cut multi-byte character: back up to a boundary. */
  if (len > G_MAXUINT16) {
    len = G_MAXUINT16;
    while (len > 0 && ((guint8) text[len] & 0xc0) == 0x80)
      len--;
  }
  if (!g_utf8_validate (text, len, &end))
    len = end - text;

  m = g_malloc (3 + len);
  m[0] = ZC_WIRE_ERROR;
  put_u16 (m + 1, len);
  memcpy (m + 3, text, len);
  return g_bytes_new_take (m, 3 + len);
}

gboolean
zc_wire_parse_ping (const guint8 *data, gsize size, guint32 *seq,
    guint64 *client_time_us, GError **error)
{
  if (size != ZC_WIRE_PING_SIZE || data[0] != ZC_WIRE_PING) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "bad ping: expected %d bytes of type 0x40, got %" G_GSIZE_FORMAT,
        ZC_WIRE_PING_SIZE, size);
    return FALSE;
  }
  *seq = get_u32 (data + 1);
  *client_time_us = get_u64 (data + 5);
  return TRUE;
}

GBytes *
zc_wire_pong (guint32 seq, guint64 client_time_us, guint64 server_time_us,
    guint16 latency_ms)
{
  guint8 *m = g_malloc0 (ZC_WIRE_PONG_SIZE);

  m[0] = ZC_WIRE_PONG;
  put_u32 (m + 1, seq);
  put_u64 (m + 5, client_time_us);
  put_u64 (m + 13, server_time_us);
  put_u16 (m + 21, latency_ms);
  /* m[23..28]: the old server's scheduler figures, left 0. */
  return g_bytes_new_take (m, ZC_WIRE_PONG_SIZE);
}

gboolean
zc_wire_check_client_message (
    const guint8 *data, gsize size, ZcWireType *type, GError **error)
{
  if (size == 0) {
    g_set_error_literal (
        error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL, "empty message");
    return FALSE;
  }
  if (size > ZC_WIRE_MAX_CLIENT_MESSAGE) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "message of %" G_GSIZE_FORMAT " bytes is over the limit of %d", size,
        ZC_WIRE_MAX_CLIENT_MESSAGE);
    return FALSE;
  }

  switch (data[0]) {
    case ZC_WIRE_PING:
      if (size != ZC_WIRE_PING_SIZE)
        goto truncated;
      break;
    case ZC_WIRE_CONTROL:
      if (size < 3)
        goto truncated;
      break;
    case ZC_WIRE_KEYBOARD:
    case ZC_WIRE_MOUSE_BUTTON:
    case ZC_WIRE_MOUSE_ABSOLUTE:
    case ZC_WIRE_MOUSE_RELATIVE:
    case ZC_WIRE_TOUCH:
      /* Input: zc_input_msg_parse() (zc-input-msg.h) checks the rest. */
      break;
    default:
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
          "unknown client message type 0x%02x", data[0]);
      return FALSE;
  }
  *type = data[0];
  return TRUE;

truncated:
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
      "client message of type 0x%02x has a bad size (%" G_GSIZE_FORMAT
      " bytes)",
      data[0], size);
  return FALSE;
}

static void
put_u32_le (guint8 *p, guint32 v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

GBytes *
zc_wire_cursor_name (const gchar *name, gint32 hotspot_x, gint32 hotspot_y)
{
  gsize len = strlen (name);
  guint8 *m;

  if (len > 255) {
    /* Cut at a character boundary so the name stays UTF-8. */
    len = 255;
    while (len > 0 && ((guint8) name[len] & 0xc0) == 0x80)
      len--;
  }
  m = g_malloc (ZC_WIRE_CURSOR_NAME_HEADER + len);
  m[0] = ZC_WIRE_CURSOR_NAME;
  put_u32_le (m + 1, 0);
  put_u32_le (m + 5, (guint32) hotspot_x);
  put_u32_le (m + 9, (guint32) hotspot_y);
  m[13] = len;
  memcpy (m + 14, name, len);
  return g_bytes_new_take (m, ZC_WIRE_CURSOR_NAME_HEADER + len);
}

GBytes *
zc_wire_cursor_image (gint32 x, gint32 y, gint32 hotspot_x, gint32 hotspot_y,
    guint32 drm_format, guint32 width, guint32 height, guint32 stride,
    const guint8 *pixels)
{
  gsize pixel_bytes = pixels ? (gsize) height * stride : 0;
  gsize bitmap = pixels ? ZC_WIRE_CURSOR_BITMAP_HEADER + pixel_bytes : 0;
  guint8 *m;

  g_return_val_if_fail (bitmap <= G_MAXUINT32, NULL);
  m = g_malloc (ZC_WIRE_CURSOR_IMAGE_HEADER + bitmap);
  m[0] = ZC_WIRE_CURSOR_IMAGE;
  put_u32_le (m + 1, 0);
  put_u32_le (m + 5, (guint32) x);
  put_u32_le (m + 9, (guint32) y);
  put_u32_le (m + 13, (guint32) hotspot_x);
  put_u32_le (m + 17, (guint32) hotspot_y);
  put_u32_le (m + 21, (guint32) bitmap);
  if (pixels) {
    guint8 *b = m + ZC_WIRE_CURSOR_IMAGE_HEADER;

    put_u32_le (b, drm_format);
    put_u32_le (b + 4, width);
    put_u32_le (b + 8, height);
    put_u32_le (b + 12, stride);
    memcpy (b + ZC_WIRE_CURSOR_BITMAP_HEADER, pixels, pixel_bytes);
  }
  return g_bytes_new_take (m, ZC_WIRE_CURSOR_IMAGE_HEADER + bitmap);
}
