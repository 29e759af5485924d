/* Reliability tests: a WebSocket viewer that checks what zerocast sends
 * against the wire format (DESIGN.md, "Wire format"), written from the
 * spec rather than with the server's own zc-wire.c, so a framing bug on
 * both sides cannot cancel out.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean open;     /* the handshake finished */
  gboolean closed;   /* closed, failed, or never connected */
  gchar *failure;    /* why it failed to connect or broke */
  gchar *error_text; /* the text of an Error (0x31) message */
  gboolean got_init;
  guint16 width, height; /* from StreamInit */
  guint inits;           /* StreamInit messages (a new one after a
                          * recovery or a size change) */
  guint frames, keyframes;
  guint frames_since_init; /* VideoFrames since the newest StreamInit */
  guint16 frame_width, frame_height; /* of the newest VideoFrame */
  guint64 last_pts_us;               /* of the newest VideoFrame */
  guint pts_not_rising;  /* VideoFrames whose pts is not above the last's */
  guint cursor_messages; /* CursorImage 0x50 and CursorName 0x51 */
  gchar *protocol_error; /* the first message that broke the spec */
} ZcTestViewerState;

typedef struct _ZcTestViewer ZcTestViewer;

/* Called for each VideoFrame that kept to the spec (pts strictly rising
 * included: one that does not is a protocol error). */
typedef void (*ZcTestViewerFrameFunc) (guint64 pts_us, gboolean keyframe,
    const guint8 *au, gsize size, gpointer data);

/* Starts connecting at once; progress happens in the default main
 * context. */
ZcTestViewer *zc_test_viewer_new (SoupSession *session, const gchar *ws_url);

const ZcTestViewerState *zc_test_viewer_get_state (ZcTestViewer *self);

void zc_test_viewer_set_frame_func (
    ZcTestViewer *self, ZcTestViewerFrameFunc func, gpointer data);

/* Starts a normal close (or cancels the handshake). */
void zc_test_viewer_close (ZcTestViewer *self);

/* Frees the viewer; a connection still open is dropped. NULL is ok. */
void zc_test_viewer_free (ZcTestViewer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcTestViewer, zc_test_viewer_free)

G_END_DECLS
