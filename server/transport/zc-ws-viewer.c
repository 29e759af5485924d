/* zerocast server: one viewer on a WebSocket.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-ws-viewer.h"

#include <string.h>

#include "zc-control.h"
#include "zc-input-msg.h"
#include "zc-wire.h"

/* How long a /ws/stream viewer may take to send its text init. */
#define INIT_TIMEOUT_S 10

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
  ZcWsViewerOptions options;
  ZcInputClient *input;
  gboolean init_received;
  gboolean complete_pending; /* ConnectionComplete waits for a size */
  guint requested_bitrate_kbps;
  guint requested_width, requested_height, requested_fps;
  guint init_timeout;
  gboolean unknown_control_logged;
};

/* libsoup allows sending only while the connection is OPEN (anything else
 * is a critical, and the message is lost anyway). Once we or the viewer
 * started the close, messages still arrive and frames still come from the
 * fan-out until "closed": every send goes through here. */
static gboolean
is_open (ZcWsViewer *self)
{
  return soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
on_writable (GObject *stream, gpointer data)
{
  ZcWsViewer *self = data;

  g_clear_pointer (&self->writable_source, g_source_destroy);
  zc_fanout_viewer_writable (self->fanout, self->viewer);
  return G_SOURCE_REMOVE;
}

static void send_connection_complete (ZcWsViewer *self);

/* The fan-out offers a message. A full socket means libsoup would start
 * queueing without bound: refuse, and wake the fan-out when it drains. */
static gboolean
try_send (gpointer sink, GBytes *message)
{
  ZcWsViewer *self = sink;

  if (!is_open (self))
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
  if (self->complete_pending && g_bytes_get_size (message) > 0
      && ((const guint8 *) g_bytes_get_data (message, NULL))[0]
          == ZC_WIRE_STREAM_INIT)
    send_connection_complete (self);
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

guint
zc_ws_viewer_get_requested_bitrate (ZcWsViewer *self)
{
  return self->requested_bitrate_kbps;
}

void
zc_ws_viewer_get_requested_size (ZcWsViewer *self, guint *width, guint *height)
{
  *width = self->requested_width;
  *height = self->requested_height;
}

guint
zc_ws_viewer_get_requested_fps (ZcWsViewer *self)
{
  return self->requested_fps;
}

gboolean
zc_ws_viewer_may_control (ZcWsViewer *self)
{
  return self->options.may_control;
}

void
zc_ws_viewer_close (ZcWsViewer *self, gushort code, const gchar *reason)
{
  g_autoptr (GBytes) error = zc_wire_error (reason);
  gchar short_reason[124];

  if (!is_open (self))
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
close_protocol_error (ZcWsViewer *self, const gchar *what, const gchar *why)
{
  g_autofree gchar *reason = g_strdup_printf ("%s: %s", what, why);

  g_printerr ("zerocast: closing viewer %s: %s\n", self->peer, reason);
  zc_ws_viewer_close (self, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, reason);
}

static void
handle_control (ZcWsViewer *self, const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  ZcControlMsg msg;

  if (!zc_control_parse (data, size, &msg, &error)) {
    close_protocol_error (self, "bad control message", error->message);
    return;
  }
  if (msg.unknown && !self->unknown_control_logged) {
    /* A newer client may send more than we know: ignore it, once said. */
    self->unknown_control_logged = TRUE;
    g_print ("zerocast: viewer %s sent a control message zerocast does not "
             "know (%s): ignored (further ones silently)\n",
        self->peer, msg.unknown);
  }
  if (self->viewer == NULL) {
    zc_control_msg_clear (&msg);
    return; /* before the init: there is no video to control yet */
  }
  if (msg.keyframe)
    /* The viewer's decoder failed: restart it at the next keyframe. */
    zc_fanout_viewer_request_keyframe (self->fanout, self->viewer);
  if (msg.has_video_enabled) {
    g_print ("zerocast: viewer %s %s its video\n", self->peer,
        msg.video_enabled ? "resumed" : "paused");
    zc_fanout_viewer_set_paused (
        self->fanout, self->viewer, !msg.video_enabled);
  }
  zc_control_msg_clear (&msg);
}

static void
handle_input (ZcWsViewer *self, const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  ZcInputMsg msg;

  if (!zc_input_msg_parse (data, size, &msg, &error)) {
    close_protocol_error (self, "bad input message", error->message);
    return;
  }
  /* Before the init a Helix client is not connected yet: it sends no
   * input, and whatever comes is not meant for the desktop. */
  if (self->init_received || !self->options.needs_init) {
    guint w, h;

    /* Positions scale to the stream as it is now (it can change size). */
    zc_fanout_get_stream_size (self->fanout, &w, &h);
    zc_input_hub_set_stream_size (self->options.input_hub, w, h);
    zc_input_client_handle (self->input, &msg);
  }
}

static void
join (ZcWsViewer *self)
{
  if (self->viewer == NULL)
    self->viewer = zc_fanout_add_viewer (self->fanout, &sink_funcs, self);
}

/* Helix's handshake answer after the init: the cursor's name (unless
 * --cursor metadata already sent a shape: "default", the browser's own
 * arrow over the picture, as Helix sends until it knows better) and the
 * text ConnectionComplete that starts its input handlers. */
static void
send_connection_complete (ZcWsViewer *self)
{
  ZcInputCaps caps = zc_input_client_get_caps (self->input);
  ZcInput *backend = zc_input_hub_get_backend (self->options.input_hub);
  ZcConnectionInfo info = {
    .pointer = caps & ZC_INPUT_CAP_POINTER,
    .keyboard = caps & ZC_INPUT_CAP_KEYBOARD,
    .touch = caps & ZC_INPUT_CAP_TOUCH,
    .control = caps != ZC_INPUT_CAP_NONE,
    .input = caps != ZC_INPUT_CAP_NONE ? backend->name : "none",
  };
  g_autoptr (GBytes) cursor = zc_wire_cursor_name ("default", 0, 0);
  g_autofree gchar *text = NULL;

  /* Why this viewer cannot control: the source first (nobody could),
   * then this viewer's rights. */
  if (!info.control)
    info.view_only = backend == NULL
        ? zc_input_hub_get_no_input_reason (self->options.input_hub)
        : !zc_input_client_may_control (self->input)
        ? "this viewer has no right to control"
        : "the input backend offers no devices";
  /* Right after a resize for this viewer no frame of the new size has
   * come yet: the size asked of the source is the one it will get. */
  if (!zc_fanout_get_stream_size (self->fanout, &info.width, &info.height)
      && *self->pipeline)
    zc_pipeline_get_size (*self->pipeline, &info.width, &info.height);
  /* No frame yet from a source whose size only its frames tell (a node,
   * the portal, a real monitor): after the first StreamInit, which
   * carries it (try_send()). A client sizes its view from this. */
  if (info.width == 0 || info.height == 0) {
    self->complete_pending = TRUE;
    return;
  }
  self->complete_pending = FALSE;
  text = zc_control_connection_complete (&info);
  /* With --cursor metadata the shape went out on joining: keep it. */
  if (!zc_fanout_has_cursor (self->fanout))
    soup_websocket_connection_send_message (
        self->conn, SOUP_WEBSOCKET_DATA_BINARY, cursor);
  soup_websocket_connection_send_text (self->conn, text);
  if (info.control)
    g_print ("zerocast: viewer %s connected (%ux%u, input: %s, %s)\n",
        self->peer, info.width, info.height, info.input,
        zc_input_caps_to_string (caps));
  else
    g_print ("zerocast: viewer %s connected (%ux%u, view-only: %s)\n",
        self->peer, info.width, info.height, info.view_only);
}

static void
handle_init (ZcWsViewer *self, GBytes *message)
{
  g_autoptr (GError) error = NULL;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);
  ZcInitRequest init;
  guint w, h;

  if (self->init_received) {
    close_protocol_error (self, "unexpected text message",
        "the init was already received; everything after it is binary");
    return;
  }
  if (!zc_control_parse_init (text, size, &init, &error)) {
    g_printerr ("zerocast: closing viewer %s: bad init: %s\n", self->peer,
        error->message);
    zc_ws_viewer_close (
        self, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA, error->message);
    return;
  }
  self->init_received = TRUE;
  self->requested_bitrate_kbps = init.bitrate_kbps;
  self->requested_width = init.width;
  self->requested_height = init.height;
  self->requested_fps = init.fps;
  g_clear_handle_id (&self->init_timeout, g_source_remove);
  zc_fanout_get_stream_size (self->fanout, &w, &h);
  g_print ("zerocast: viewer %s init: asks %ux%u at %u fps, %u kbit/s; "
           "streaming %ux%u\n",
      self->peer, init.width, init.height, init.fps, init.bitrate_kbps, w, h);
  /* One encode serves every viewer: zc-http.c decides what of the init
   * applies (see server/README.md). Before joining, so that a resize for
   * this viewer has dropped the old stream and it starts on the new one. */
  if (self->options.init_received)
    self->options.init_received (self, self->closed_data);
  join (self);
  if (is_open (self))
    send_connection_complete (self);
}

static gboolean
on_init_timeout (gpointer data)
{
  ZcWsViewer *self = data;
  g_autofree gchar *reason = g_strdup_printf (
      "no init within %d s: send {\"type\":\"init\", ...} as the first "
      "(text) message",
      INIT_TIMEOUT_S);

  self->init_timeout = 0;
  g_printerr ("zerocast: closing viewer %s: %s\n", self->peer, reason);
  zc_ws_viewer_close (self, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
  return G_SOURCE_REMOVE;
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

  /* What a viewer says after the close started (it may have sent a ping
   * and more behind the message we refused) gets no answer. */
  if (!is_open (self))
    return;
  if (type != SOUP_WEBSOCKET_DATA_BINARY) {
    /* The one text message: Helix's init (on either route). */
    handle_init (self, message);
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
      handle_input (self, bytes, size);
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
    ZcPipeline *const *pipeline, const gchar *peer,
    const ZcWsViewerOptions *options, ZcWsViewerClosedFunc closed,
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
  self->options = *options;
  self->input = zc_input_client_new (
      options->input_hub, options->may_control, self->peer);

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
  if (options->needs_init)
    /* /ws/stream (Helix): StreamInit and frames follow the init. */
    self->init_timeout =
        g_timeout_add_seconds (INIT_TIMEOUT_S, on_init_timeout, self);
  else
    join (self);
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
  g_clear_handle_id (&self->init_timeout, g_source_remove);
  /* Whatever it held down (a key, a button in mid-drag) goes up now. */
  g_clear_pointer (&self->input, zc_input_client_free);
  if (self->viewer)
    zc_fanout_remove_viewer (self->fanout, self->viewer);
  if (is_open (self))
    soup_websocket_connection_close (
        self->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
  g_object_unref (self->conn);
  g_free (self->peer);
  g_free (self);
}
