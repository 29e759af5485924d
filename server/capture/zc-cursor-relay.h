/* zerocast server: the pointer from the capture to the viewers. The
 * element posts "zc-cursor" messages (gst/zc-cursor.h) when PipeWire's
 * cursor meta changes (--cursor metadata); this turns them into Helix's
 * CursorImage 0x50 / CursorName 0x51 messages for the fan-out, which
 * replays the current shape and position to viewers that join.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

#include "zc-fanout.h"

G_BEGIN_DECLS

/* The DRM fourcc sent with the pixels: 'RA24'. Helix's client
 * (websocket-stream.ts, convertCursorBitmapToDataUrl) copies 'RA24'
 * pixels byte for byte as R, G, B, A, so that is the order we send,
 * whatever order the compositor used. */
#define ZC_CURSOR_RELAY_FOURCC 0x34324152u

typedef struct _ZcCursorRelay ZcCursorRelay;

ZcCursorRelay *zc_cursor_relay_new (ZcFanout *fanout);
void zc_cursor_relay_free (ZcCursorRelay *self);

/* TRUE when @s was a "zc-cursor" structure (handled, bad fields logged and
 * ignored); FALSE for any other structure. Main context. */
gboolean zc_cursor_relay_handle (ZcCursorRelay *self, const GstStructure *s);

/* The stream restarted (a fallback, a new desktop): what was known of the
 * old stream's pointer is forgotten; the new stream sends its own. */
void zc_cursor_relay_reset (ZcCursorRelay *self);

/* Converts @width x @height pixels (packed, 4 bytes each) in byte order
 * @format ("RGBA", "BGRA", "ARGB" or "ABGR") to R, G, B, A. NULL for an
 * unknown format or a size that does not match. */
GBytes *zc_cursor_relay_to_rgba (
    const gchar *format, GBytes *pixels, guint width, guint height);

G_END_DECLS
