/* Reliability tests: a checking WebSocket viewer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-test-viewer.h"

struct _ZcTestViewer
{
  GCancellable *cancel;
  SoupWebsocketConnection *conn;
  ZcTestViewerState state;
  gulong message_id, closed_id;
  ZcTestViewerFrameFunc frame_func;
  gpointer frame_data;
};

static guint16
be16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16
      | (guint32) p[3] << 24;
}

static guint64
be64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static void
protocol_error (ZcTestViewer *self, gchar *text)
{
  if (self->state.protocol_error == NULL)
    self->state.protocol_error = text;
  else
    g_free (text);
}

/* An Annex-B access unit starts with a 3- or 4-byte start code. */
static gboolean
starts_annexb (const guint8 *au, gsize size)
{
  return (size >= 4 && au[0] == 0 && au[1] == 0 && au[2] == 1)
      || (size >= 5 && au[0] == 0 && au[1] == 0 && au[2] == 0 && au[3] == 1);
}

static void
on_message (
    SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  ZcTestViewer *self = data;
  ZcTestViewerState *s = &self->state;
  gsize size;
  const guint8 *m = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_BINARY || size == 0) {
    protocol_error (self, g_strdup ("a text or empty message"));
    return;
  }
  switch (m[0]) {
    case 0x30: /* StreamInit */
      if (size != 13) {
        protocol_error (self,
            g_strdup_printf (
                "StreamInit of %" G_GSIZE_FORMAT " bytes (want 13)", size));
        return;
      }
      s->got_init = TRUE;
      s->inits++;
      s->frames_since_init = 0;
      s->width = be16 (m + 2);
      s->height = be16 (m + 4);
      break;
    case 0x01: /* VideoFrame */
      if (!s->got_init) {
        protocol_error (self, g_strdup ("a VideoFrame before StreamInit"));
        return;
      }
      if (size < 15 + 4 || !starts_annexb (m + 15, size - 15)) {
        protocol_error (self,
            g_strdup_printf ("a VideoFrame of %" G_GSIZE_FORMAT
                             " bytes without an Annex-B access unit",
                size));
        return;
      }
      /* A viewer starts at a keyframe, and so does a decoder configured
       * anew by a later StreamInit. */
      if (s->frames_since_init == 0 && !(m[2] & 1)) {
        protocol_error (self,
            g_strdup_printf ("VideoFrame %u, the first "
                             "after StreamInit %u, is not a keyframe",
                s->frames + 1, s->inits));
        return;
      }
      /* A player or muxer orders by pts: it rises strictly, also across
       * the server's restarts (a new StreamInit) and keepalive copies. */
      if (s->frames > 0 && be64 (m + 3) <= s->last_pts_us) {
        s->pts_not_rising++;
        protocol_error (self,
            g_strdup_printf (
                "VideoFrame %u has pts %" G_GUINT64_FORMAT
                " us, not after the previous one's %" G_GUINT64_FORMAT,
                s->frames + 1, be64 (m + 3), s->last_pts_us));
      }
      s->last_pts_us = be64 (m + 3);
      s->frames++;
      s->frames_since_init++;
      if (m[2] & 1)
        s->keyframes++;
      s->frame_width = be16 (m + 11);
      s->frame_height = be16 (m + 13);
      if (s->frame_width != s->width || s->frame_height != s->height)
        protocol_error (self,
            g_strdup_printf ("a %ux%u VideoFrame after a "
                             "%ux%u StreamInit",
                s->frame_width, s->frame_height, s->width, s->height));
      else if (self->frame_func)
        self->frame_func (
            s->last_pts_us, m[2] & 1, m + 15, size - 15, self->frame_data);
      break;
    case 0x31: /* Error */
      if (size < 3 || be16 (m + 1) != size - 3) {
        protocol_error (self, g_strdup ("a malformed Error message"));
        return;
      }
      g_free (s->error_text);
      s->error_text = g_strndup ((const gchar *) m + 3, size - 3);
      break;
    case 0x41: /* Pong */
      break;
    case 0x50: /* CursorImage, little-endian (Helix's layout) */
      if (size < 25 || size != 25 + le32 (m + 21)) {
        protocol_error (self,
            g_strdup_printf (
                "a CursorImage of %" G_GSIZE_FORMAT " bytes", size));
        return;
      }
      s->cursor_messages++;
      break;
    case 0x51: /* CursorName: 13 bytes, then a name of its length byte */
      if (size < 14 || size != 14 + (gsize) m[13]) {
        protocol_error (self,
            g_strdup_printf (
                "a CursorName of %" G_GSIZE_FORMAT " bytes", size));
        return;
      }
      s->cursor_messages++;
      break;
    default:
      protocol_error (
          self, g_strdup_printf ("unknown message type 0x%02x", m[0]));
      break;
  }
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  ZcTestViewer *self = data;

  self->state.open = FALSE;
  self->state.closed = TRUE;
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn = soup_session_websocket_connect_finish (
      SOUP_SESSION (source), res, &error);
  ZcTestViewer *self;

  if (conn == NULL) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return; /* freed: @data is gone */
    self = data;
    self->state.closed = TRUE;
    self->state.failure = g_strdup (error->message);
    return;
  }
  self = data;
  self->conn = conn;
  self->state.open = TRUE;
  /* Frames are large: the default limit (128 KiB) would drop keyframes. */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  self->message_id =
      g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  self->closed_id =
      g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
}

ZcTestViewer *
zc_test_viewer_new (SoupSession *session, const gchar *ws_url)
{
  ZcTestViewer *self = g_new0 (ZcTestViewer, 1);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", ws_url);

  self->cancel = g_cancellable_new ();
  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancel, on_connected, self);
  return self;
}

const ZcTestViewerState *
zc_test_viewer_get_state (ZcTestViewer *self)
{
  return &self->state;
}

void
zc_test_viewer_set_frame_func (
    ZcTestViewer *self, ZcTestViewerFrameFunc func, gpointer data)
{
  self->frame_func = func;
  self->frame_data = data;
}

void
zc_test_viewer_close (ZcTestViewer *self)
{
  if (self->conn == NULL) {
    g_cancellable_cancel (self->cancel);
    self->state.closed = TRUE;
    return;
  }
  if (soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (
        self->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

void
zc_test_viewer_free (ZcTestViewer *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancel);
  if (self->conn) {
    g_clear_signal_handler (&self->message_id, self->conn);
    g_clear_signal_handler (&self->closed_id, self->conn);
    /* Dropping the last reference closes the socket without a close
     * handshake, like a browser tab that is killed. */
    g_object_unref (self->conn);
  }
  g_object_unref (self->cancel);
  g_free (self->state.failure);
  g_free (self->state.error_text);
  g_free (self->state.protocol_error);
  g_free (self);
}
