/* zerocast server: the JSON a viewer and zerocast exchange besides the
 * binary framing (Helix's client: helixml/helix
 * frontend/src/lib/helix-stream/stream/websocket-stream.ts):
 * - the client's first message, a *text* init
 *   {"type":"init","width":W,"height":H,"fps":F,"bitrate":KBPS,
 *    "video_supported_formats":BITS, ...} (other members are Helix's own
 *   and ignored here);
 * - control messages, type 0x20 then a JSON object: {"type":"keyframe"}
 *   (our viewer: its decoder failed) and {"set_video_enabled":bool}
 *   (Helix: pause and resume video). Members we do not know are reported,
 *   not refused, so a newer client keeps working;
 * - zerocast's text ConnectionComplete
 *   {"ConnectionComplete":{"capabilities":{...},"width":W,"height":H}}.
 * Pure functions, no I/O.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest init accepted (Helix's is about 250 bytes). */
#define ZC_CONTROL_MAX_INIT 4096
/* Sizes and rates outside these are refused (a typo or an attack, not a
 * screen). */
#define ZC_CONTROL_MAX_DIMENSION 8192
#define ZC_CONTROL_MAX_FPS 240
#define ZC_CONTROL_MAX_BITRATE_KBPS 1000000

typedef struct
{
  /* 0 where the client did not say. */
  guint width, height;
  guint fps;
  guint bitrate_kbps;
  guint32 video_supported_formats;
  gboolean has_video_supported_formats;
} ZcInitRequest;

/* What a viewer's init may give a desktop zerocast sizes itself: each side
 * clamped to these (a monitor people use, and what H.264 levels and
 * browsers' decoders take), then rounded down to even (4:2:0 chroma). */
#define ZC_CONTROL_MIN_WIDTH 320
#define ZC_CONTROL_MIN_HEIGHT 200
#define ZC_CONTROL_MAX_WIDTH 3840
#define ZC_CONTROL_MAX_HEIGHT 2160

/* The size to give the desktop for an init that asked @width x @height
 * (clamped and made even as above). FALSE when it named no size (either
 * side 0): the desktop keeps its own. */
gboolean zc_control_fit_size (
    guint width, guint height, guint *out_width, guint *out_height);

/* Parses the text init. Returns FALSE with a reason for anything that is
 * not a JSON object with "type":"init" or has a known member of the wrong
 * type or out of range. */
gboolean zc_control_parse_init (
    const gchar *text, gsize size, ZcInitRequest *init, GError **error);

typedef struct
{
  gboolean keyframe;          /* {"type":"keyframe"} */
  gboolean has_video_enabled; /* "set_video_enabled" was present */
  gboolean video_enabled;
  /* The first member (or "type" value) we do not know, for a log line;
   * NULL when everything was known. Free with zc_control_msg_clear(). */
  gchar *unknown;
} ZcControlMsg;

/* Parses a control message (0x20 then JSON). Returns FALSE with a reason
 * when it is not a JSON object or a known member has the wrong type. */
gboolean zc_control_parse (
    const guint8 *data, gsize size, ZcControlMsg *msg, GError **error);

void zc_control_msg_clear (ZcControlMsg *msg);

typedef struct
{
  guint width, height;
  gboolean touch, pointer, keyboard;
  /* Whether this viewer may send input at all (rights, backend). */
  gboolean control;
  /* The input backend's name, or "none". */
  const gchar *input;
  /* Without control: why (the source's reason, or the viewer's rights);
   * sent as capabilities.view_only. NULL: the member is left out. */
  const gchar *view_only;
} ZcConnectionInfo;

/* The text ConnectionComplete message. Helix reads capabilities.touch,
 * width and height; the other capabilities are ours. */
gchar *zc_control_connection_complete (const ZcConnectionInfo *info);

G_END_DECLS
