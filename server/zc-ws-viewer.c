/* zerocast server: one viewer on a WebSocket.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-ws-viewer.h"

#include <string.h>

#include "zc-wire.h"

struct _ZcWsViewer
{
  SoupWebsocketConnection *conn;
  GPollableOutputStream *output;
  GSource *writable_source;
  ZcFanout *fanout;
  ZcViewer *viewer;
  ZcPipeline *const *pipeline;
  ZcWsViewerClosedFunc closed;
  gpointer closed_data;
  gulong message_id, closed_id;
  gchar *peer;
};

static gboolean
on_writable (GObject *stream, gpointer data)
{
  ZcWsViewer *self = data;

  g_clear_pointer (&self->writable_source, g_source_destroy);
  zc_fanout_viewer_writable (self->fanout, self->viewer);
  return G_SOURCE_REMOVE;
}

/* The fan-out offers a message. A full socket means libsoup would start
 * queueing without bound: refuse, and wake the fan-out when it drains. */
static gboolean
try_send (gpointer sink, GBytes *message)
{
  ZcWsViewer *self = sink;

  if (soup_websocket_connection_get_state (self->conn)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return TRUE; /* dropped: the connection is going away */
  if (!g_pollable_output_stream_is_writable (self->output)) {
    if (self->writable_source == NULL) {
      self->writable_source =
          g_pollable_output_stream_create_source (self->output, NULL);
      g_source_set_callback (self->writable_source,
          (GSourceFunc) (void (*) (void)) on_writable, self, NULL);
      g_source_attach (self->writable_source, NULL);
      g_source_unref (self->writable_source);
    }
    return FALSE;
  }
  soup_websocket_connection_send_message (
      self->conn, SOUP_WEBSOCKET_DATA_BINARY, message);
  return TRUE;
}

static void
fanout_close (gpointer sink, const gchar *reason)
{
  ZcWsViewer *self = sink;

  g_printerr ("zerocast: closing viewer %s: %s\n", self->peer, reason);
  zc_ws_viewer_close (self, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
}

static const ZcViewerSinkFuncs sink_funcs = {
  .try_send = try_send,
  .close = fanout_close,
};

void
zc_ws_viewer_close (ZcWsViewer *self, gushort code, const gchar *reason)
{
  g_autoptr (GBytes) error = zc_wire_error (reason);
  gchar short_reason[124];

  if (soup_websocket_connection_get_state (self->conn)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  soup_websocket_connection_send_message (
      self->conn, SOUP_WEBSOCKET_DATA_BINARY, error);
  /* A close frame's reason must fit 123 bytes; the Error message above
   * carries the whole text. */
  g_strlcpy (short_reason, reason, sizeof (short_reason));
  if (strlen (reason) >= sizeof (short_reason)) {
    gchar *end = short_reason + sizeof (short_reason) - 1;
    /* Cut at a character boundary, never inside one. */
    while (end > short_reason && ((guint8) *end & 0xc0) == 0x80)
      end--;
    *end = '\0';
  }
  soup_websocket_connection_close (self->conn, code, short_reason);
}

static void
handle_control (ZcWsViewer *self, const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *type = zc_wire_parse_control (data, size, &error);
  g_autofree gchar *reason = NULL;

  if (type == NULL) {
    reason = g_strdup_printf ("bad control message: %s", error->message);
  } else if (g_str_equal (type, "keyframe")) {
    /* The viewer's decoder failed: restart it at the next keyframe. */
    zc_fanout_viewer_request_keyframe (self->fanout, self->viewer);
    return;
  } else {
    reason = g_strdup_printf ("unknown control message type \"%s\"", type);
  }
  g_printerr ("zerocast: closing viewer %s: %s\n", self->peer, reason);
  zc_ws_viewer_close (self, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, reason);
}

static void
on_message (
    SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  ZcWsViewer *self = data;
  g_autoptr (GError) error = NULL;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (message, &size);
  ZcWireType wire_type;

  if (type != SOUP_WEBSOCKET_DATA_BINARY) {
    g_printerr (
        "zerocast: closing viewer %s: it sent a text message\n", self->peer);
    zc_ws_viewer_close (self, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
        "text messages are not part of the protocol; send binary messages");
    return;
  }
  if (!zc_wire_check_client_message (bytes, size, &wire_type, &error)) {
    g_printerr (
        "zerocast: closing viewer %s: %s\n", self->peer, error->message);
    zc_ws_viewer_close (
        self, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, error->message);
    return;
  }

  switch (wire_type) {
    case ZC_WIRE_PING: {
      guint32 seq;
      guint64 client_time;
      ZcPipelineStats stats = { 0 };
      g_autoptr (GBytes) pong = NULL;

      zc_wire_parse_ping (bytes, size, &seq, &client_time, NULL);
      if (*self->pipeline)
        zc_pipeline_get_stats (*self->pipeline, &stats);
      pong = zc_wire_pong (seq, client_time, g_get_real_time (),
          (guint16) CLAMP (stats.encode_latency_us / 1000, 0, G_MAXUINT16));
      /* Pongs bypass the frame queue: they measure the network, and they
       * are small. A client that pings without reading gets none, so it
       * cannot grow libsoup's queue with them. */
      if (g_pollable_output_stream_is_writable (self->output))
        soup_websocket_connection_send_message (
            self->conn, SOUP_WEBSOCKET_DATA_BINARY, pong);
      break;
    }
    case ZC_WIRE_CONTROL:
      handle_control (self, bytes, size);
      break;
    default:
      /* Input is accepted and ignored until input injection exists. */
      break;
  }
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  ZcWsViewer *self = data;

  g_print ("zerocast: viewer %s left (code %u)\n", self->peer,
      soup_websocket_connection_get_close_code (conn));
  self->closed (self, self->closed_data);
}

ZcWsViewer *
zc_ws_viewer_new (SoupWebsocketConnection *conn, ZcFanout *fanout,
    ZcPipeline *const *pipeline, const gchar *peer, ZcWsViewerClosedFunc closed,
    gpointer data)
{
  ZcWsViewer *self = g_new0 (ZcWsViewer, 1);
  GIOStream *io = soup_websocket_connection_get_io_stream (conn);

  self->conn = g_object_ref (conn);
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (io));
  self->fanout = fanout;
  self->pipeline = pipeline;
  self->closed = closed;
  self->closed_data = data;
  self->peer = g_strdup (peer ? peer : "(unknown)");

  /* Client messages are tiny and zc_wire_check_client_message() refuses
   * anything over ZC_WIRE_MAX_CLIENT_MESSAGE with a reason. libsoup's own
   * limit sits higher because it drops the connection without one; it
   * only stops what would cost memory to even receive. */
  soup_websocket_connection_set_max_incoming_payload_size (
      conn, ZC_WIRE_MAX_RECEIVE);
  soup_websocket_connection_set_keepalive_interval (conn, 15);
  self->message_id =
      g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  self->closed_id =
      g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  self->viewer = zc_fanout_add_viewer (fanout, &sink_funcs, self);
  return self;
}

void
zc_ws_viewer_free (ZcWsViewer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->writable_source, g_source_destroy);
  g_clear_signal_handler (&self->message_id, self->conn);
  g_clear_signal_handler (&self->closed_id, self->conn);
  zc_fanout_remove_viewer (self->fanout, self->viewer);
  if (soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (
        self->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
  g_object_unref (self->conn);
  g_free (self->peer);
  g_free (self);
}
