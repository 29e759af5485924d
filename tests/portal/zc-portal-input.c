/* The application's record and a Helix-speaking viewer, for the portal
 * test (see zc-portal-input.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-portal-input.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "zc-server-error.h"
#include "zc-test-input-log.h"

/* Input message types and sub-types of Helix's protocol (its client's
 * websocket-stream.ts; the server's ws_input.go). */
#define MSG_KEYBOARD 0x10
#define MSG_MOUSE 0x11
#define MSG_ABSOLUTE 0x12
#define KEYBOARD_KEYCODE 0x00
#define KEYBOARD_KEYSYM 0x02
#define MOUSE_BUTTON 0x02
#define MOUSE_WHEEL_SMOOTH 0x03
#define MOUSE_WHEEL 0x04
#define ABSOLUTE_POSITION 0x01

typedef gboolean (*Cond) (gpointer data);

/* Polls: the record is a file another process appends to, which no main
 * context source announces. */
static gboolean
wait_until (Cond cond, gpointer data, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (!cond (data)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_usleep (10000);
  }
  return TRUE;
}

/* ---- the application ---- */

struct _ZcApp
{
  GSubprocess *proc;
  gchar *record;
};

gchar *
zc_app_text (ZcApp *self, gsize from)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (self->record, &text, &len, NULL) || len < from)
    return g_strdup ("");
  return g_strdup (text + from);
}

gsize
zc_app_mark (ZcApp *self)
{
  g_autofree gchar *text = zc_app_text (self, 0);

  return strlen (text);
}

/* Only whole lines: the client may be writing the last one. */
static gchar **
lines_from (ZcApp *self, gsize from)
{
  g_autofree gchar *text = zc_app_text (self, from);
  gchar *end = strrchr (text, '\n');

  if (end == NULL)
    return g_new0 (gchar *, 1);
  *end = '\0';
  return g_strsplit (text, "\n", -1);
}

typedef struct
{
  ZcApp *app;
  const gchar *prefix;
  gsize from;
  gchar *found;
} LineWait;

static gboolean
has_line (gpointer data)
{
  LineWait *w = data;
  g_auto (GStrv) lines = lines_from (w->app, w->from);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], w->prefix)) {
      w->found = g_strdup (lines[i]);
      return TRUE;
    }
  return FALSE;
}

gchar *
zc_app_wait_line (
    ZcApp *self, const gchar *prefix, gsize from, gint64 timeout_us)
{
  LineWait w = { self, prefix, from, NULL };

  wait_until (has_line, &w, timeout_us);
  return w.found;
}

gboolean
zc_app_has_pointer_at (
    ZcApp *self, gsize from, gdouble x, gdouble y, gdouble tolerance)
{
  g_auto (GStrv) lines = lines_from (self, from);
  gdouble px, py;

  for (guint i = 0; lines[i]; i++)
    if (zc_input_log_pointer (lines[i], &px, &py) && fabs (px - x) <= tolerance
        && fabs (py - y) <= tolerance)
      return TRUE;
  return FALSE;
}

gboolean
zc_app_pointer_before (
    ZcApp *self, gsize from, const gchar *prefix, gdouble *x, gdouble *y)
{
  g_autofree gchar *text = zc_app_text (self, from);

  return zc_input_log_pointer_before (text, prefix, x, y);
}

ZcApp *
zc_app_start (gchar **env, const gchar *dir, gint *width, gint *height,
    gint64 timeout_us, GError **error)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  const gchar *root = g_getenv ("ZC_BUILD_ROOT");
  g_autofree gchar *exe = g_build_filename (
      root ? root : ".", "tests", "tools", "zc-input-client", NULL);
  ZcApp *self = g_new0 (ZcApp, 1);
  LineWait w = { self, "MAPPED ", 0, NULL };

  self->record = g_build_filename (dir, "input-client.txt", NULL);
  g_unlink (self->record);
  g_subprocess_launcher_set_environ (l, env);
  self->proc =
      g_subprocess_launcher_spawn (l, error, exe, "-o", self->record, NULL);
  if (self->proc == NULL) {
    zc_app_stop (self);
    return NULL;
  }
  if (!wait_until (has_line, &w, timeout_us)
      || sscanf (w.found, "MAPPED %dx%d", width, height) != 2) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "zc-input-client showed no window within %" G_GINT64_FORMAT " s%s",
        timeout_us / G_USEC_PER_SEC,
        g_subprocess_get_identifier (self->proc) ? "" : " (it exited)");
    g_free (w.found);
    zc_app_stop (self);
    return NULL;
  }
  g_free (w.found);
  return self;
}

void
zc_app_stop (ZcApp *self)
{
  if (self == NULL)
    return;
  if (self->proc) {
    g_subprocess_send_signal (self->proc, SIGTERM);
    g_subprocess_wait (self->proc, NULL, NULL);
    g_object_unref (self->proc);
  }
  g_free (self->record);
  g_free (self);
}

/* ---- the viewer ---- */

/* Loopback needs no proxy, and asking for one would be harmful here: GIO's
 * default resolver on a GNOME system reads GSettings through dconf on the
 * session bus, which for this process is the test desktop's (its
 * XDG_RUNTIME_DIR has the bus socket); that connection, GIO's shared one,
 * raises SIGTERM in this process when the desktop's bus goes away. */
static SoupSession *
session_new (void)
{
  return soup_session_new_with_options ("proxy-resolver", NULL, NULL);
}

struct _ZcViewer
{
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GError *error;
  JsonParser *parser;
  JsonObject *capabilities; /* in parser's tree */
  gboolean closed;
  gint ref_width, ref_height; /* what pointer positions are measured in */
};

gchar *
zc_viewer_base_from_log (const gchar *log)
{
  g_autofree gchar *contents = NULL;
  g_autoptr (GUri) uri = NULL;
  const gchar *at;
  g_autofree gchar *url = NULL;

  if (!g_file_get_contents (log, &contents, NULL, NULL)
      || (at = strstr (contents, "zerocast: serving ")) == NULL)
    return NULL;
  at += strlen ("zerocast: serving ");
  url = g_strndup (at, strcspn (at, " \n"));
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_port (uri) <= 0)
    return NULL;
  return g_strdup_printf ("http://127.0.0.1:%d/", g_uri_get_port (uri));
}

static void
on_message (
    SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  ZcViewer *self = data;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);
  JsonObject *root, *cc;

  /* Video frames and the like are binary: only the text matters here. */
  if (type != SOUP_WEBSOCKET_DATA_TEXT || self->capabilities)
    return;
  if (!json_parser_load_from_data (self->parser, text, size, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (self->parser)))
    return;
  root = json_node_get_object (json_parser_get_root (self->parser));
  if (!json_object_has_member (root, "ConnectionComplete"))
    return;
  cc = json_object_get_object_member (root, "ConnectionComplete");
  if (cc && json_object_has_member (cc, "capabilities"))
    self->capabilities = json_object_get_object_member (cc, "capabilities");
}

static void
on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ((ZcViewer *) data)->closed = TRUE;
}

static void
on_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  ZcViewer *self = data;

  self->ws = soup_session_websocket_connect_finish (
      SOUP_SESSION (src), res, &self->error);
  if (self->ws) {
    g_signal_connect (self->ws, "message", G_CALLBACK (on_message), self);
    g_signal_connect (self->ws, "closed", G_CALLBACK (on_closed), self);
  }
}

static gboolean
connected (gpointer data)
{
  ZcViewer *self = data;
  return self->ws != NULL || self->error != NULL;
}

static gboolean
completed (gpointer data)
{
  ZcViewer *self = data;
  return self->capabilities != NULL || self->closed;
}

ZcViewer *
zc_viewer_connect (const gchar *base, gint width, gint height,
    gint64 timeout_us, GError **error)
{
  ZcViewer *self = g_new0 (ZcViewer, 1);
  g_autofree gchar *url = g_strconcat (base, "ws/stream", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autofree gchar *init = NULL;

  self->ref_width = width;
  self->ref_height = height;
  self->parser = json_parser_new ();
  self->session = session_new ();
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_connected, self);
  if (!wait_until (connected, self, timeout_us) || self->ws == NULL) {
    if (self->error)
      g_propagate_prefixed_error (
          error, g_steal_pointer (&self->error), "cannot open %s: ", url);
    else
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
          "%s did not answer", url);
    zc_viewer_free (self);
    return NULL;
  }
  /* Video frames can be large. */
  soup_websocket_connection_set_max_incoming_payload_size (self->ws, 0);
  /* Helix's init, the members its client sends. */
  init = g_strdup_printf ("{\"type\":\"init\",\"host_id\":0,\"app_id\":0,"
                          "\"session_id\":\"portal-test\",\"width\":%d,"
                          "\"height\":%d,\"fps\":30,\"bitrate\":4000,"
                          "\"packet_size\":1024,\"play_audio_local\":false,"
                          "\"video_supported_formats\":1}",
      width, height);
  soup_websocket_connection_send_text (self->ws, init);
  if (!wait_until (completed, self, timeout_us) || self->capabilities == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "no ConnectionComplete with capabilities came (%s)",
        self->closed ? "zerocast closed the connection" : "timed out");
    zc_viewer_free (self);
    return NULL;
  }
  return self;
}

JsonObject *
zc_viewer_get_capabilities (ZcViewer *self)
{
  return self->capabilities;
}

static void
send_bytes (ZcViewer *self, const guint8 *data, gsize size)
{
  if (self->closed)
    return;
  soup_websocket_connection_send_binary (self->ws, data, size);
}

static void
put16 (guint8 *at, gint v)
{
  at[0] = (guint8) ((guint16) v >> 8);
  at[1] = (guint8) v;
}

void
zc_viewer_pointer (ZcViewer *self, gint x, gint y)
{
  guint8 m[10] = { MSG_ABSOLUTE, ABSOLUTE_POSITION };

  put16 (m + 2, x);
  put16 (m + 4, y);
  put16 (m + 6, self->ref_width);
  put16 (m + 8, self->ref_height);
  send_bytes (self, m, sizeof m);
}

void
zc_viewer_button (ZcViewer *self, guint button, gboolean down)
{
  const guint8 m[4] = { MSG_MOUSE, MOUSE_BUTTON, down ? 1 : 0,
    (guint8) button };

  send_bytes (self, m, sizeof m);
}

void
zc_viewer_key (ZcViewer *self, guint16 keycode, gboolean down)
{
  guint8 m[6] = { MSG_KEYBOARD, KEYBOARD_KEYCODE, down ? 1 : 0, 0 };

  put16 (m + 4, keycode);
  send_bytes (self, m, sizeof m);
}

void
zc_viewer_keysym (ZcViewer *self, guint32 keysym, gboolean down)
{
  guint8 m[8] = { MSG_KEYBOARD, KEYBOARD_KEYSYM, down ? 1 : 0, 0 };

  put16 (m + 4, (gint) (keysym >> 16));
  put16 (m + 6, (gint) (keysym & 0xffff));
  send_bytes (self, m, sizeof m);
}

void
zc_viewer_wheel (ZcViewer *self, gint8 dy)
{
  const guint8 m[4] = { MSG_MOUSE, MOUSE_WHEEL, 0, (guint8) dy };

  send_bytes (self, m, sizeof m);
}

void
zc_viewer_wheel_smooth (ZcViewer *self, gfloat dy)
{
  guint8 m[10] = { MSG_MOUSE, MOUSE_WHEEL_SMOOTH };
  guint32 bits;

  /* dx 0, then dy: IEEE 754 single, little-endian. */
  memcpy (&bits, &dy, sizeof bits);
  bits = GUINT32_TO_LE (bits);
  memcpy (m + 6, &bits, sizeof bits);
  send_bytes (self, m, sizeof m);
}

gboolean
zc_viewer_is_open (ZcViewer *self)
{
  return self->ws && !self->closed
      && soup_websocket_connection_get_state (self->ws)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

void
zc_viewer_free (ZcViewer *self)
{
  if (self == NULL)
    return;
  if (self->ws) {
    g_signal_handlers_disconnect_by_data (self->ws, self);
    if (soup_websocket_connection_get_state (self->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (
          self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (self->ws);
  }
  g_clear_error (&self->error);
  g_clear_object (&self->parser);
  g_clear_object (&self->session);
  g_free (self);
}

gboolean
zc_viewer_metric (
    const gchar *base, const gchar *name, gdouble *value, GError **error)
{
  g_autoptr (SoupSession) session = session_new ();
  g_autofree gchar *url = g_strconcat (base, "metrics", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *key = g_strdup_printf ("\n%s ", name);
  const gchar *at;

  body = soup_session_send_and_read (session, msg, NULL, error);
  if (body == NULL)
    return FALSE;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "%s answered %u", url, soup_message_get_status (msg));
    return FALSE;
  }
  text = g_strdup_printf ("\n%.*s", (gint) g_bytes_get_size (body),
      (const gchar *) g_bytes_get_data (body, NULL));
  at = strstr (text, key);
  if (at == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE, "no %s in %s",
        name, url);
    return FALSE;
  }
  *value = g_ascii_strtod (at + strlen (key), NULL);
  return TRUE;
}
