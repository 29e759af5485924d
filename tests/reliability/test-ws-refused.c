/* A viewer that sends something zerocast refuses (a text message, an
 * unknown message type) followed at once by pings: zerocast closes it with
 * a reason, and must send nothing more on that connection, no pong for the
 * pings that arrive behind the refused message. libsoup refuses a send on
 * a connection that is not open with a critical
 * (soup_websocket_connection_send_message: assertion ... OPEN); the server
 * runs with G_DEBUG=fatal-criticals, so one kills it and fails the test.
 * Then a new viewer still gets frames. zerocast streams a test pattern: no
 * desktop needed. About 3 s.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "zc-test-server.h"
#include "zc-test-viewer.h"

#define PINGS 20

typedef struct
{
  SoupWebsocketConnection *conn;
  gboolean failed_connect, closed;
  guint pongs;
  gboolean got_error;
} Client;

static void
on_message (
    SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Client *c = data;
  gsize size;
  const guint8 *m = g_bytes_get_data (message, &size);

  if (size > 0 && m[0] == 0x41)
    c->pongs++;
  if (size > 0 && m[0] == 0x31)
    c->got_error = TRUE;
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  ((Client *) data)->closed = TRUE;
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  Client *c = data;
  g_autoptr (GError) error = NULL;

  c->conn = soup_session_websocket_connect_finish (
      SOUP_SESSION (source), res, &error);
  if (c->conn == NULL) {
    g_print ("# connect failed: %s\n", error->message);
    c->failed_connect = TRUE;
    return;
  }
  soup_websocket_connection_set_max_incoming_payload_size (c->conn, 0);
  g_signal_connect (c->conn, "message", G_CALLBACK (on_message), c);
  g_signal_connect (c->conn, "closed", G_CALLBACK (on_closed), c);
}

static gboolean
connected (gpointer data)
{
  Client *c = data;

  return c->conn != NULL || c->failed_connect;
}

static gboolean
closed (gpointer data)
{
  return ((Client *) data)->closed;
}

static gboolean
has_frames (gpointer data)
{
  const ZcTestViewerState *s = zc_test_viewer_get_state (data);

  return s->frames >= 3 || s->closed;
}

static GBytes *
ping (guint32 seq)
{
  guint8 m[13] = { 0x40 };
  guint64 t = (guint64) g_get_real_time ();

  for (int i = 0; i < 4; i++)
    m[1 + i] = (guint8) (seq >> (8 * (3 - i)));
  for (int i = 0; i < 8; i++)
    m[5 + i] = (guint8) (t >> (8 * (7 - i)));
  return g_bytes_new (m, sizeof (m));
}

/* Connects, sends @refused then PINGS pings in one burst, and waits for
 * the close. FALSE when zerocast did not close the connection. */
static gboolean
refused_then_pings (SoupSession *session, const gchar *url, gboolean text)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  static const guint8 unknown_type[] = { 0x7e, 1, 2, 3 };
  Client c = { 0 };
  gboolean ok;

  soup_session_websocket_connect_async (
      session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_connected, &c);
  if (!zc_test_wait (connected, &c, 10000) || c.conn == NULL) {
    g_print ("FAIL: no WebSocket connection\n");
    return FALSE;
  }
  /* Queued together, the messages leave in one write: zerocast reads the
   * pings right behind the message it refuses. */
  if (text) {
    soup_websocket_connection_send_text (c.conn, "hello");
  } else {
    g_autoptr (GBytes) bad = g_bytes_new_static (unknown_type, 4);
    soup_websocket_connection_send_message (
        c.conn, SOUP_WEBSOCKET_DATA_BINARY, bad);
  }
  for (guint i = 0; i < PINGS; i++) {
    g_autoptr (GBytes) p = ping (i);
    soup_websocket_connection_send_message (
        c.conn, SOUP_WEBSOCKET_DATA_BINARY, p);
  }
  ok = zc_test_wait (closed, &c, 10000);
  /* The pings came after the refused message: none may be answered. */
  g_print ("%s: %s then %d pings: %s (Error message %s, %u pongs)\n",
      ok && c.got_error && c.pongs == 0 ? "ok" : "FAIL",
      text ? "a text message" : "an unknown message type", PINGS,
      ok ? "zerocast closed the connection" : "still open after 10 s",
      c.got_error ? "received" : "missing", c.pongs);
  ok = ok && c.got_error && c.pongs == 0;
  g_clear_object (&c.conn);
  return ok;
}

int
main (int argc, char *argv[])
{
  static const gchar *const args[] = { "--test-pattern", "320x240", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = NULL;
  ZcTestServer *server;
  ZcTestViewer *viewer;
  gboolean failed = FALSE;
  gint code, status;

  /* Any critical in zerocast aborts it (kept beside what G_DEBUG already
   * asks for, gc-friendly under the sanitizers). */
  {
    const gchar *debug = g_getenv ("G_DEBUG");
    g_autofree gchar *value = debug && *debug
        ? g_strconcat (debug, ",fatal-criticals", NULL)
        : g_strdup ("fatal-criticals");
    g_setenv ("G_DEBUG", value, TRUE);
  }
  server = zc_test_server_start (args, 120, &error);
  if (server == NULL) {
    g_print ("FAIL: %s\n", error->message);
    return 1;
  }
  session = soup_session_new_with_options (
      "proxy-resolver", NULL, "timeout", 10, NULL);
  for (int round = 0; round < 3; round++) {
    if (!refused_then_pings (session, zc_test_server_get_ws_url (server), TRUE))
      failed = TRUE;
    if (!refused_then_pings (
            session, zc_test_server_get_ws_url (server), FALSE))
      failed = TRUE;
  }

  viewer = zc_test_viewer_new (session, zc_test_server_get_ws_url (server));
  if (!zc_test_wait (has_frames, viewer, 20000)
      || zc_test_viewer_get_state (viewer)->frames < 3) {
    g_print ("FAIL: a new viewer got no frames afterwards\n");
    failed = TRUE;
  } else {
    g_print ("ok: a new viewer gets frames afterwards\n");
  }
  zc_test_viewer_free (viewer);

  if (!zc_test_server_is_running (server, &status)) {
    g_print ("FAIL: zerocast died (wait status %d)\n", status);
    failed = TRUE;
  }
  if (zc_test_server_output_contains (server, "CRITICAL")) {
    g_print ("FAIL: zerocast logged a critical (its output is above)\n");
    failed = TRUE;
  }
  code = zc_test_server_stop (server);
  if (code != 0) {
    g_print ("FAIL: zerocast exit code %d on SIGTERM\n", code);
    failed = TRUE;
  }
  return failed ? 1 : 0;
}
