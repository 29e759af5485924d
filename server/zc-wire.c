/* zerocast server: the binary WebSocket framing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-wire.h"

#include <string.h>
#include <json-glib/json-glib.h>

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
      /* Input messages are part of the protocol (the old client sends them)
       * but not handled yet; they are accepted and ignored. */
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

gchar *
zc_wire_parse_control (const guint8 *data, gsize size, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  JsonNode *root;
  JsonObject *obj;
  JsonNode *type_node;
  const gchar *type;

  if (size < 1 || data[0] != ZC_WIRE_CONTROL) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "not a control message");
    return NULL;
  }
  if (!json_parser_load_from_data (
          parser, (const gchar *) data + 1, size - 1, &json_error)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "control message is not JSON: %s", json_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "control message is not a JSON object");
    return NULL;
  }
  obj = json_node_get_object (root);
  /* Only a string value will do: json-glib's getters complain (a
   * critical per message) when "type" is an object or an array (found by
   * tests/fuzz fuzz-wire). */
  type_node = json_object_get_member (obj, "type");
  type = type_node && JSON_NODE_HOLDS_VALUE (type_node)
          && json_node_get_value_type (type_node) == G_TYPE_STRING
      ? json_node_get_string (type_node)
      : NULL;
  if (type == NULL) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "control message has no string \"type\"");
    return NULL;
  }
  return g_strdup (type);
}
