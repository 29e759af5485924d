/* zerocast: the cursor PipeWire sends beside the picture (SPA_META_Cursor,
 * filled by Mutter in ScreenCast cursor-mode "metadata"), read into a
 * GstStructure the element posts as an element message:
 *
 *   zc-cursor, visible=(boolean), x=(int), y=(int), hotspot-x=(int),
 *              hotspot-y=(int)
 *   and, only when the shape changed: width=(uint), height=(uint),
 *              format=(string) "RGBA" | "BGRA" | "ARGB" | "ABGR" (byte
 *              order, as GstVideoFormat names it), pixels=(GBytes)
 *              (width * 4 bytes a row, no padding)
 *
 * x, y are the pointer's position in stream pixels (where the hotspot
 * is). visible=false: the cursor is off this stream or has no image.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <spa/buffer/buffer.h>

G_BEGIN_DECLS

#define ZC_CURSOR_MESSAGE "zc-cursor"
/* The largest bitmap we accept (and ask PipeWire room for). */
#define ZC_CURSOR_MAX_SIZE 256

/* What was last reported, so only changes are posted. Zeroed at start. */
typedef struct
{
  gboolean known;
  gboolean visible;
  gboolean shape_empty; /* the last bitmap was 0x0: nothing to show */
  gint32 x, y, hotspot_x, hotspot_y;
} ZcCursorState;

/* The cursor of @buffer as a new "zc-cursor" structure when it differs
 * from @state (which is updated), else NULL. A bitmap that does not fit
 * its meta, is larger than ZC_CURSOR_MAX_SIZE or of another format is
 * ignored (logged), the position still counts. */
GstStructure *zc_cursor_read (struct spa_buffer *buffer, ZcCursorState *state);

G_END_DECLS
