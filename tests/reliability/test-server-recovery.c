/* Server recovery against a real private desktop (zerocast --headless:
 * dbus, PipeWire, WirePlumber, headless Mutter), for the faults that
 * test-server-faults.c does not cover:
 *
 *   test-server-recovery mutter-resolution-changed | encoder-failed
 *                        | repeated
 *
 * mutter-resolution-changed  the desktop turns from 640x480 to 480x640
 *                     (Mutter's DisplayConfig rotates the monitor; Mutter
 *                     43's headless monitor has a single mode, so a
 *                     rotation is how its size changes) under zerocast
 *                     --mutter on a desktop it does not own (run under
 *                     zc-run-session --mutter): Mutter closes the
 *                     ScreenCast session; zerocast opens a new one. (The
 *                     desktop of --headless has no monitor but its
 *                     stream's virtual one, whose size follows the viewer:
 *                     test-helix-client --resize.)
 * encoder-failed      the first encoder fails mid-stream
 *                     (ZEROCAST_TEST_FAIL_ENCODER_AFTER, a test-only hook)
 *                     and zerocast falls back to the next one.
 * repeated            Mutter, PipeWire and the ScreenCast node are broken
 *                     one after another: each time the same viewer sees
 *                     the picture again and zerocast's fds are back at
 *                     their baseline; then a desktop that keeps dying is
 *                     given up on (exit 1, a clear error) after a bounded
 *                     number of recoveries with growing delays.
 *
 * In every case one viewer stays connected throughout (no reconnect): it
 * must get a StreamInit before the first frame of each new stream, at the
 * stream's size, and that frame must be a keyframe. A second viewer
 * (zc-test-viewer) checks every message against the wire format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "zc-test-server.h"
#include "zc-test-viewer.h"

#define RECOVERY_S 15
#define FRAMES_AFTER 5
#define SKIP 77

/* What one viewer saw, stream by stream. */
typedef struct
{
  SoupWebsocketConnection *conn;
  guint inits;           /* StreamInit messages */
  guint16 width, height; /* of the newest one */
  guint frames_since_init;
  guint frames;
  gboolean closed;
  gchar *violation; /* the first broken rule */
} Stream;

typedef struct
{
  ZcTestServer *server;
  SoupSession *session;
  Stream stream;
  ZcTestViewer *checker;
  gboolean mutter; /* zerocast --mutter on the desktop we run in */
  guint fd_baseline;
  guint64 rss_baseline_kb;
  /* What the current wait is for. */
  guint want_inits;
  guint16 want_width, want_height;
} Test;

static gboolean failed;

static void
check (gboolean ok, const gchar *what)
{
  g_print ("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    failed = TRUE;
}

static guint16
be16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static void
violation (Stream *s, gchar *text)
{
  if (s->violation == NULL)
    s->violation = text;
  else
    g_free (text);
}

static void
on_message (
    SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Stream *s = data;
  gsize size;
  const guint8 *m = g_bytes_get_data (message, &size);

  if (size == 13 && m[0] == 0x30) {
    s->inits++;
    s->width = be16 (m + 2);
    s->height = be16 (m + 4);
    s->frames_since_init = 0;
  } else if (size >= 15 && m[0] == 0x01) {
    if (s->inits == 0) {
      violation (s, g_strdup ("a VideoFrame before any StreamInit"));
      return;
    }
    if (s->frames_since_init == 0 && !(m[2] & 1))
      violation (s,
          g_strdup_printf ("the first VideoFrame after StreamInit "
                           "%u is not a keyframe",
              s->inits));
    if (be16 (m + 11) != s->width || be16 (m + 13) != s->height)
      violation (s,
          g_strdup_printf ("a %ux%u VideoFrame in a %ux%u stream",
              be16 (m + 11), be16 (m + 13), s->width, s->height));
    s->frames_since_init++;
    s->frames++;
  }
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  ((Stream *) data)->closed = TRUE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Stream *s = data;
  g_autoptr (GError) error = NULL;

  s->conn = soup_session_websocket_connect_finish (
      SOUP_SESSION (source), result, &error);
  if (s->conn == NULL) {
    violation (s, g_strdup_printf ("cannot connect: %s", error->message));
    s->closed = TRUE;
    return;
  }
  /* Keyframes are bigger than libsoup's default message limit. */
  soup_websocket_connection_set_max_incoming_payload_size (
      s->conn, 64 * 1024 * 1024);
  g_signal_connect (s->conn, "message", G_CALLBACK (on_message), s);
  g_signal_connect (s->conn, "closed", G_CALLBACK (on_closed), s);
}

static void
stream_connect (Test *t)
{
  g_autoptr (SoupMessage) msg =
      soup_message_new ("GET", zc_test_server_get_ws_url (t->server));

  soup_session_websocket_connect_async (t->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_connected, &t->stream);
}

static void
stream_clear (Stream *s)
{
  if (s->conn) {
    g_signal_handlers_disconnect_by_data (s->conn, s);
    if (soup_websocket_connection_get_state (s->conn)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (s->conn, 1000, NULL);
    g_clear_object (&s->conn);
  }
  g_clear_pointer (&s->violation, g_free);
}

/* The viewer has FRAMES_AFTER frames of stream number want_inits (or a
 * later one) at the wanted size; or something broke. */
static gboolean
stream_ready (gpointer data)
{
  Test *t = data;
  Stream *s = &t->stream;

  if (s->closed || s->violation)
    return TRUE;
  return s->inits >= t->want_inits && s->frames_since_init >= FRAMES_AFTER
      && (t->want_width == 0
          || (s->width == t->want_width && s->height == t->want_height));
}

/* Waits for the picture again after a fault; reports how long it took. */
static gboolean
wait_picture (Test *t, const gchar *after, guint timeout_s)
{
  gint64 start = g_get_monotonic_time ();
  const ZcTestViewerState *c = zc_test_viewer_get_state (t->checker);
  gboolean ok = zc_test_wait (stream_ready, t, timeout_s * 1000)
      && !t->stream.closed && t->stream.violation == NULL;
  g_autofree gchar *what = NULL;

  what = g_strdup_printf ("the viewer sees %ux%u again %.1f s after %s "
                          "(stream %u, %u frames)%s%s",
      t->stream.width, t->stream.height,
      (g_get_monotonic_time () - start) / 1e6, after, t->stream.inits,
      t->stream.frames_since_init, t->stream.closed ? "; it was closed" : "",
      t->stream.violation ? t->stream.violation : "");
  check (ok, what);
  if (c->protocol_error || c->closed) {
    g_print ("# checker viewer: %s%s\n",
        c->protocol_error ? c->protocol_error : "",
        c->failure ? c->failure : "closed");
    check (FALSE, "the wire format holds and the checker stays connected");
    ok = FALSE;
  }
  return ok;
}

static gboolean
fds_back (gpointer data)
{
  Test *t = data;

  return zc_test_server_fd_count (t->server) <= t->fd_baseline;
}

/* After a recovery nothing of the old desktop may be held: no pipeline,
 * session, D-Bus or PipeWire connection (each would be an fd). Closing
 * can lag a little behind the new stream, hence the wait. */
static void
check_resources (Test *t, const gchar *after)
{
  g_autofree gchar *fds = NULL, *rss = NULL;
  guint64 rss_kb;

  zc_test_wait (fds_back, t, 5000);
  fds = g_strdup_printf ("%u open fds after %s (baseline %u)",
      zc_test_server_fd_count (t->server), after, t->fd_baseline);
  check (zc_test_server_fd_count (t->server) <= t->fd_baseline, fds);
  /* AddressSanitizer's quarantine holds freed memory back: the figure
   * would say nothing (scripts/test-sanitizers.sh sets ZC_SANITIZERS). */
  if (g_getenv ("ZC_SANITIZERS"))
    return;
  rss_kb = zc_test_server_rss_kb (t->server);
  rss = g_strdup_printf ("resident memory %" G_GUINT64_FORMAT " KiB after %s "
                         "(baseline %" G_GUINT64_FORMAT " KiB, limit 1.5x)",
      rss_kb, after, t->rss_baseline_kb);
  check (rss_kb * 2 <= t->rss_baseline_kb * 3, rss);
}

/* ---- reaching into zerocast's private desktop ---- */

/* The child of @parent whose command name is @comm, or 0. */
static GPid
child_named (GPid parent, const gchar *comm)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree gchar *want = g_strdup_printf ("(%s) ", comm);
  const gchar *name;

  while (proc && (name = g_dir_read_name (proc)) != NULL) {
    g_autofree gchar *path = g_build_filename ("/proc", name, "stat", NULL);
    g_autofree gchar *stat = NULL;
    const gchar *p;
    gint ppid;

    if (g_ascii_isdigit (name[0])
        && g_file_get_contents (path, &stat, NULL, NULL)
        && (p = strstr (stat, want)) != NULL
        && sscanf (p + strlen (want), "%*c %d", &ppid) == 1 && ppid == parent)
      return atoi (name);
  }
  return 0;
}

static gboolean
kill_child (Test *t, const gchar *comm)
{
  GPid pid = child_named (zc_test_server_get_pid (t->server), comm);

  if (pid == 0 || kill (pid, SIGKILL) != 0) {
    g_print ("# no %s child of zerocast to kill\n", comm);
    return FALSE;
  }
  g_print ("# killed %s (pid %d)\n", comm, pid);
  return TRUE;
}

/* The session's environment, read from its PipeWire daemon; with
 * --mutter the desktop is ours (zc-run-session's). */
static gchar **
desktop_environ (Test *t)
{
  GPid pw = child_named (zc_test_server_get_pid (t->server), "pipewire");
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/environ", pw);
  g_autofree gchar *env = NULL;
  GPtrArray *vars = g_ptr_array_new ();
  gsize len;

  if (t->mutter) {
    g_ptr_array_unref (vars);
    return g_get_environ ();
  }
  if (pw && g_file_get_contents (path, &env, &len, NULL))
    for (gsize i = 0; i < len; i += strlen (env + i) + 1)
      g_ptr_array_add (vars, g_strdup (env + i));
  g_ptr_array_add (vars, NULL);
  return (gchar **) g_ptr_array_free (vars, FALSE);
}

/* The newest ScreenCast node, from "recovered ... node N" or "source: ...
 * node N" in zerocast's output. */
static guint
current_node (Test *t)
{
  g_autoptr (GRegex) re =
      g_regex_new ("(source|streaming) .*node (\\d+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  guint node = 0;

  g_regex_match (re, zc_test_server_get_output (t->server), 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL)) {
    g_autofree gchar *id = g_match_info_fetch (match, 2);
    node = atoi (id);
  }
  return node;
}

static gboolean
destroy_node (Test *t)
{
  g_auto (GStrv) env = desktop_environ (t);
  g_autofree gchar *id = g_strdup_printf ("%u", current_node (t));
  const gchar *argv[] = { "pw-cli", "destroy", id, NULL };
  g_autoptr (GError) error = NULL;
  gint status;

  if (!g_spawn_sync (NULL, (gchar **) argv, env,
          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
          NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error)) {
    g_print ("# pw-cli destroy %s: %s\n", id, error->message);
    return FALSE;
  }
  g_print ("# destroyed ScreenCast node %s\n", id);
  return TRUE;
}

/* Turns the first monitor of zerocast's headless Mutter by 90 degrees,
 * through org.gnome.Mutter.DisplayConfig on the private session bus. */
static gboolean
rotate_desktop (Test *t, GError **error)
{
  g_auto (GStrv) env = desktop_environ (t);
  const gchar *address = g_environ_getenv (env, "DBUS_SESSION_BUS_ADDRESS");
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) state = NULL, monitors = NULL, monitor = NULL;
  g_autoptr (GVariant) modes = NULL, reply = NULL;
  const gchar *connector, *mode_id;
  guint32 serial;
  GVariantBuilder logical;

  if (address == NULL) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "cannot find the private session bus of zerocast");
    return FALSE;
  }
  bus = g_dbus_connection_new_for_address_sync (address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, error);
  if (bus == NULL)
    return FALSE;
  state = g_dbus_connection_call_sync (bus, "org.gnome.Mutter.DisplayConfig",
      "/org/gnome/Mutter/DisplayConfig", "org.gnome.Mutter.DisplayConfig",
      "GetCurrentState", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (state == NULL)
    return FALSE;
  /* (u a((ssss)a(siiddada{sv})a{sv}) a(iiduba(ssss)a{sv}) a{sv}) */
  g_variant_get_child (state, 0, "u", &serial);
  monitors = g_variant_get_child_value (state, 1);
  if (g_variant_n_children (monitors) == 0) {
    g_set_error_literal (
        error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Mutter reports no monitor");
    return FALSE;
  }
  monitor = g_variant_get_child_value (monitors, 0);
  g_variant_get_child (monitor, 0, "(&s&s&s&s)", &connector, NULL, NULL, NULL);
  modes = g_variant_get_child_value (monitor, 1);
  g_variant_get_child (modes, 0, "(&siiddada{sv})", &mode_id, NULL, NULL, NULL,
      NULL, NULL, NULL);

  g_variant_builder_init (&logical, G_VARIANT_TYPE ("a(iiduba(ssa{sv}))"));
  g_variant_builder_add_parsed (&logical,
      "(0, 0, 1.0, uint32 1, true, [(%s, %s, @a{sv} {})])", connector, mode_id);
  /* Method 1: temporary, nothing is written to monitors.xml. */
  reply = g_dbus_connection_call_sync (bus, "org.gnome.Mutter.DisplayConfig",
      "/org/gnome/Mutter/DisplayConfig", "org.gnome.Mutter.DisplayConfig",
      "ApplyMonitorsConfig",
      g_variant_new ("(uua(iiduba(ssa{sv}))a{sv})", serial, 1, &logical, NULL),
      NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_print ("# rotated %s (%s) by 90 degrees\n", connector, mode_id);
  return TRUE;
}

/* ---- the cases ---- */

static gboolean
have_element (const gchar *name)
{
  const gchar *argv[] = { "gst-inspect-1.0", "--exists", name, NULL };
  gint status;

  return g_spawn_sync (NULL, (gchar **) argv, NULL,
             G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                 | G_SPAWN_STDERR_TO_DEV_NULL,
             NULL, NULL, NULL, NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL);
}

static void
resolution_changed (Test *t)
{
  g_autoptr (GError) error = NULL;

  if (!rotate_desktop (t, &error)) {
    check (FALSE, error->message);
    return;
  }
  t->want_inits = t->stream.inits + 1;
  t->want_width = 480;
  t->want_height = 640;
  if (wait_picture (t, "the rotation to 480x640", RECOVERY_S))
    check_resources (t, "the resolution change");
}

static gboolean
encoder_switched (gpointer data)
{
  Test *t = data;
  g_autoptr (GRegex) re =
      g_regex_new ("streaming with .* encoder (\\w+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  guint n = 0;

  g_regex_match (re, zc_test_server_get_output (t->server), 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    n++;
  return n >= 2 || !zc_test_server_is_running (t->server, NULL);
}

static void
encoder_failed (Test *t)
{
  gboolean ok;

  /* The fallback's stream is the next one, whenever it comes. */
  t->want_inits = t->stream.inits + 1;
  ok = zc_test_wait (encoder_switched, t, RECOVERY_S * 1000);

  check (ok
          && zc_test_server_output_contains (
              t->server, "failed: test-encoder-fault"),
      "zerocast logs the encoder's "
      "failure and streams with another encoder");
  if (!ok)
    return;
  if (wait_picture (t, "the encoder failed", RECOVERY_S))
    check_resources (t, "the encoder fallback");
}

static gboolean
server_exited (gpointer data)
{
  return !zc_test_server_is_running (((Test *) data)->server, NULL);
}

static void
repeated (Test *t)
{
  const gchar *faults[] = { "mutter", "pipewire", "node" };
  gint status = 0;

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++) {
    g_autofree gchar *after =
        g_strdup_printf ("fault %u (%s)", i + 1, faults[i]);
    gboolean injected = g_str_equal (faults[i], "node")
        ? destroy_node (t)
        : kill_child (t, faults[i]);

    check (injected, after);
    if (!injected)
      return;
    t->want_inits = t->stream.inits + 1;
    if (!wait_picture (t, after, RECOVERY_S))
      return;
    check_resources (t, after);
  }

  /* The recoveries so far count too: two more deaths use up the five
   * allowed within the window (waiting 4 s, then 8 s), the next one is
   * given up on. */
  for (guint i = 0; i < 2; i++) {
    t->want_inits = t->stream.inits + 1;
    if (!kill_child (t, "mutter")
        || !wait_picture (t, "Mutter died again", RECOVERY_S))
      return;
  }
  check (zc_test_server_output_contains (t->server, "in 4000 ms")
          && zc_test_server_output_contains (t->server, "in 8000 ms"),
      "recoveries in a row wait longer and longer (4 s, then 8 s)");
  if (!kill_child (t, "mutter"))
    return;
  check (zc_test_wait (server_exited, t, RECOVERY_S * 1000)
          && !zc_test_server_is_running (t->server, &status)
          && WIFEXITED (status) && WEXITSTATUS (status) == 1
          && zc_test_server_output_contains (t->server, "giving up"),
      "a desktop that keeps dying is given up on: exit 1 with a reason");
}

static gboolean
first_picture (gpointer data)
{
  Test *t = data;
  const ZcTestViewerState *c = zc_test_viewer_get_state (t->checker);

  return stream_ready (t) && (c->frames >= FRAMES_AFTER || c->closed);
}

int
main (int argc, char **argv)
{
  const gchar *headless_args[] = { "--headless", "640x480", "--desktop",
    "mutter", NULL };
  const gchar *mutter_args[] = { "--mutter", NULL };
  const gchar *const *args = headless_args;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = NULL;
  Test t = { 0 };
  const gchar *fault = argc == 2 ? argv[1] : "";
  gint code;

  if (!g_str_equal (fault, "encoder-failed") && !g_str_equal (fault, "repeated")
      && !g_str_equal (fault, "mutter-resolution-changed")) {
    g_printerr ("usage: %s mutter-resolution-changed|encoder-failed|"
                "repeated\n",
        argv[0]);
    return 2;
  }
  if (g_str_equal (fault, "mutter-resolution-changed")) {
    if (g_getenv ("ZC_SESSION_PIDS") == NULL
        || g_getenv ("WAYLAND_DISPLAY") == NULL) {
      g_print ("SKIP: run me under zc-run-session --mutter 640x480\n");
      return SKIP;
    }
    t.mutter = TRUE;
    args = mutter_args;
  }
  if (g_str_equal (fault, "encoder-failed")) {
    if (!have_element ("openh264enc") || !have_element ("x264enc")) {
      g_print ("SKIP: a fallback needs two software encoders (openh264enc "
               "and x264enc: gstreamer1.0-plugins-bad, -ugly)\n");
      return SKIP;
    }
    /* Test only: the first encoder fails after this many access units. */
    g_setenv ("ZEROCAST_TEST_FAIL_ENCODER_AFTER", "40", TRUE);
  }

  /* One malloc arena: with one per thread, each new pipeline's threads
   * may land in a fresh arena and the resident memory steps up without a
   * leak, which would hide a real one behind the 1.5x margin. */
  g_setenv ("MALLOC_ARENA_MAX", "1", TRUE);
  t.server = zc_test_server_start (args, 90, &error);
  if (t.server == NULL) {
    g_print ("FAIL: %s\n", error->message);
    return 1;
  }
  session = soup_session_new_with_options (
      "proxy-resolver", NULL, "timeout", 10, NULL);
  t.session = session;
  stream_connect (&t);
  t.checker =
      zc_test_viewer_new (session, zc_test_server_get_ws_url (t.server));
  t.want_inits = 1;
  t.want_width = 640;
  t.want_height = 480;
  if (!zc_test_wait (first_picture, &t, 30000) || t.stream.violation
      || t.stream.closed) {
    g_print ("FAIL: no 640x480 picture before the fault%s%s\n",
        t.stream.violation ? ": " : "",
        t.stream.violation ? t.stream.violation : "");
    failed = TRUE;
    goto out;
  }
  g_print ("ok: two viewers see 640x480 before the fault\n");
  t.want_width = t.want_height = 0;
  t.fd_baseline = zc_test_server_fd_count (t.server);
  t.rss_baseline_kb = zc_test_server_rss_kb (t.server);
  g_print ("# baseline: %u fds, %" G_GUINT64_FORMAT " KiB resident\n",
      t.fd_baseline, t.rss_baseline_kb);

  if (g_str_equal (fault, "mutter-resolution-changed"))
    resolution_changed (&t);
  else if (g_str_equal (fault, "encoder-failed"))
    encoder_failed (&t);
  else
    repeated (&t);

out:
  stream_clear (&t.stream);
  g_clear_pointer (&t.checker, zc_test_viewer_free);
  code = zc_test_server_stop (t.server);
  if (!g_str_equal (fault, "repeated") && code != 0) {
    g_print ("FAIL: zerocast exit code %d on SIGTERM\n", code);
    failed = TRUE;
  }
  return failed ? 1 : 0;
}
