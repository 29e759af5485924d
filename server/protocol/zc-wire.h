/* zerocast server: the binary WebSocket framing shared with the browser
 * client of the system zerocast replaces (see DESIGN.md, "Wire format").
 * Pure functions, no I/O: every integer is big-endian, the first byte of a
 * message is its type.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_WIRE_VIDEO_FRAME = 0x01,
  ZC_WIRE_KEYBOARD = 0x10,
  ZC_WIRE_MOUSE_BUTTON = 0x11,
  ZC_WIRE_MOUSE_ABSOLUTE = 0x12,
  ZC_WIRE_MOUSE_RELATIVE = 0x13,
  ZC_WIRE_TOUCH = 0x14,
  ZC_WIRE_CONTROL = 0x20,
  ZC_WIRE_STREAM_INIT = 0x30,
  ZC_WIRE_ERROR = 0x31,
  ZC_WIRE_PING = 0x40,
  ZC_WIRE_PONG = 0x41,
  ZC_WIRE_CURSOR_IMAGE = 0x50,
  ZC_WIRE_CURSOR_NAME = 0x51,
} ZcWireType;

typedef enum
{
  ZC_WIRE_CODEC_H264 = 0x01,
  ZC_WIRE_CODEC_H264_HIGH = 0x02,
  ZC_WIRE_CODEC_H265 = 0x10,
} ZcWireCodec;

#define ZC_WIRE_FLAG_KEYFRAME (1 << 0)
#define ZC_WIRE_FLAG_REPLAYED (1 << 1)

#define ZC_WIRE_STREAM_INIT_SIZE 13
#define ZC_WIRE_VIDEO_HEADER_SIZE 15
#define ZC_WIRE_PING_SIZE 13
#define ZC_WIRE_PONG_SIZE 29
/* The longest client message accepted; anything longer closes the viewer. */
#define ZC_WIRE_MAX_CLIENT_MESSAGE 4096
/* Larger messages are not even received: the connection just drops. */
#define ZC_WIRE_MAX_RECEIVE (128 * 1024)

typedef struct
{
  guint8 codec;
  guint8 flags;
  guint64 pts_us;
  guint16 width;
  guint16 height;
} ZcWireVideoHeader;

GBytes *zc_wire_stream_init (
    guint8 codec, guint16 width, guint16 height, guint8 fps);

/* One message: the 15-byte header followed by a copy of @au. */
GBytes *zc_wire_video_frame (
    const ZcWireVideoHeader *header, const guint8 *au, gsize au_size);

/* The same frame with other flags (a replayed catch-up frame); @frame must
 * be a message made by zc_wire_video_frame(). */
GBytes *zc_wire_video_frame_with_flags (GBytes *frame, guint8 flags);

gboolean zc_wire_parse_video_frame (const guint8 *data, gsize size,
    ZcWireVideoHeader *header, const guint8 **au, gsize *au_size,
    GError **error);

/* @text is UTF-8 and is cut at a character boundary to fit a u16 length. */
GBytes *zc_wire_error (const gchar *text);

gboolean zc_wire_parse_ping (const guint8 *data, gsize size, guint32 *seq,
    guint64 *client_time_us, GError **error);

/* @latency_ms is the capture-to-send latency of the newest frame. The three
 * scheduler figures the old client reads after it are not measured here and
 * are sent as 0. */
GBytes *zc_wire_pong (guint32 seq, guint64 client_time_us,
    guint64 server_time_us, guint16 latency_ms);

/* Cursor messages to the client, in Helix's layout, which unlike the rest
 * is little-endian (helixml/helix api/pkg/desktop/ws_stream.go):
 *   CursorName 0x51: type, last mover u32 (0 here: one seat), hotspot x,
 *     y i32, name length u8, name (a CSS cursor name, cut to 255 bytes).
 *   CursorImage 0x50: type, last mover u32, position x, y i32, hotspot
 *     x, y i32, bitmap size u32 (0: no bitmap, only position/hotspot), then
 *     the bitmap: DRM fourcc u32, width u32, height u32, stride u32,
 *     pixels (height * stride bytes). */
#define ZC_WIRE_CURSOR_NAME_HEADER 14
#define ZC_WIRE_CURSOR_IMAGE_HEADER 25
#define ZC_WIRE_CURSOR_BITMAP_HEADER 16
GBytes *zc_wire_cursor_name (
    const gchar *name, gint32 hotspot_x, gint32 hotspot_y);
/* @pixels may be NULL (no bitmap: a position update); otherwise it holds
 * @height rows of @stride bytes. */
GBytes *zc_wire_cursor_image (gint32 x, gint32 y, gint32 hotspot_x,
    gint32 hotspot_y, guint32 drm_format, guint32 width, guint32 height,
    guint32 stride, const guint8 *pixels);

/* Checks a client message's type and size. Returns FALSE with a reason in
 * @error for an empty, oversized, unknown or truncated message. */
gboolean zc_wire_check_client_message (
    const guint8 *data, gsize size, ZcWireType *type, GError **error);

G_END_DECLS
