/* zerocast --sway end to end: the real server, its private headless Sway
 * and portals, and a WebSocket viewer that checks the wire format
 * (tests/reliability/zc-test-viewer.c).
 *
 *   test-sway-server portal-killed | backend-killed | sway-killed |
 *                    viewer-input
 *
 * Both first check that the stream runs (StreamInit at the Sway output's
 * size, frames) with wlroots input, then break one part:
 * portal-killed  xdg-desktop-portal is killed: the portal session is gone
 *                with it, and zerocast opens a new one (restarting the
 *                portals with the desktop);
 * backend-killed xdg-desktop-portal-wlr (the ScreenCast backend) is
 *                killed: its PipeWire node goes with it, xdg-desktop-portal
 *                stays; zerocast must not hang on the dead session but
 *                get a new stream;
 * sway-killed    the compositor is killed: zerocast starts the desktop
 *                again;
 * and the same viewer, still connected, must get a new StreamInit and
 * frames after it.
 * viewer-input   zc-input-client runs fullscreen on zerocast's Sway, and a
 *                second WebSocket viewer sends Helix's input messages: the
 *                pointer lands at the scaled position, a click repaints
 *                the client, a key types through the keymap, and a key
 *                still held when that viewer leaves is released. Started as
 * root, it first checks that zerocast --sway refuses root with a reason (exit
 * 3), then runs itself as nobody. SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <linux/input-event-codes.h>
#include <glib/gstdio.h>

#include "zc-input-msg.h"
#include "zc-sway-test.h"
#include "zc-test-server.h"
#include "zc-test-viewer.h"

#define START_S 60
#define RECOVERY_MS (30 * 1000)
#define FRAMES 5

static gint failures;

/* zerocast --sway as root: a clear refusal, not Sway's own. */
static gint
check_root_refused (void)
{
  const gchar *root = g_getenv ("ZC_BUILD_ROOT");
  g_autofree gchar *zerocast =
      g_build_filename (root ? root : ".", "server", "zerocast", NULL);
  const gchar *argv[] = { zerocast, "--sway", "--listen", "127.0.0.1:0", NULL };
  g_autofree gchar *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  gint status = 0;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, 0, NULL, NULL, &out, &err,
          &status, &error)) {
    g_print ("not ok - cannot run %s: %s\n", zerocast, error->message);
    return 1;
  }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 3
      || strstr (err, "refuses to run as root") == NULL
      || strstr (err, "ordinary user") == NULL) {
    g_print ("not ok - zerocast --sway as root: status %d, stderr: %s\n",
        status, err);
    return 1;
  }
  g_print ("ok - as root, zerocast --sway refuses with a reason (exit 3): "
           "%s",
      err);
  return 0;
}

typedef struct
{
  ZcTestViewer *viewer;
  guint inits_before;
} Watch;

static gboolean
streaming (gpointer data)
{
  Watch *w = data;
  const ZcTestViewerState *s = zc_test_viewer_get_state (w->viewer);

  return s->protocol_error != NULL || s->closed
      || (s->inits > w->inits_before && s->frames_since_init >= FRAMES);
}

typedef struct
{
  const gchar *path;
  const gchar *prefix;
} LineWait;

static gboolean
has_line (gpointer data)
{
  LineWait *w = data;
  return zc_sway_test_file_has_line (w->path, w->prefix);
}

static gboolean
wait_line (const gchar *log, const gchar *prefix)
{
  LineWait w = { log, prefix };

  if (zc_sway_test_wait (has_line, &w, 15000))
    return TRUE;
  g_print ("# zc-input-client never logged \"%s\"\n", prefix);
  return FALSE;
}

static void
on_ws_connected (GObject *obj, GAsyncResult *res, gpointer data)
{
  SoupWebsocketConnection **ws = data;
  g_autoptr (GError) error = NULL;

  *ws = soup_session_websocket_connect_finish (SOUP_SESSION (obj), res, &error);
  if (*ws == NULL)
    g_print ("# the input viewer cannot connect: %s\n", error->message);
}

static gboolean
ws_done (gpointer data)
{
  return *(SoupWebsocketConnection **) data != NULL;
}

static void
send_input (SoupWebsocketConnection *ws, ZcInputMsg m)
{
  g_autoptr (GBytes) b = zc_input_msg_build (&m);
  gsize size;
  gconstpointer bytes = g_bytes_get_data (b, &size);

  soup_websocket_connection_send_binary (ws, bytes, size);
}

/* Helix's input over /ws into zerocast --sway, read back from the app. */
static void
viewer_input (ZcTestServer *server, SoupSession *session)
{
  g_autofree gchar *sway = g_find_program_in_path ("sway");
  GPid sway_pid = zc_test_child_of (zc_test_server_get_pid (server), sway);
  g_autofree gchar *rt = NULL, *display = NULL, *dir = NULL, *log = NULL;
  g_autofree gchar *app = NULL;
  g_autoptr (GSubprocess) client = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDir) d = NULL;
  SoupWebsocketConnection *ws = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *root = g_getenv ("ZC_BUILD_ROOT");
  const gchar *name;

  rt = sway_pid ? zc_test_environ_of (sway_pid, "XDG_RUNTIME_DIR") : NULL;
  CHECK (rt, "zerocast's Sway and its runtime directory are found");
  /* The runtime directory is the desktop's own: one Wayland socket. */
  d = g_dir_open (rt, 0, NULL);
  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "wayland-")
        && !g_str_has_suffix (name, ".lock"))
      display = g_build_filename (rt, name, NULL);
  CHECK (display, "Sway's Wayland socket is in %s", rt);
  dir = g_dir_make_tmp ("zc-sway-input-XXXXXX", NULL);
  log = g_build_filename (dir, "events", NULL);
  app = g_build_filename (
      root ? root : ".", "tests", "tools", "zc-input-client", NULL);
  launcher = g_subprocess_launcher_new (0);
  g_subprocess_launcher_setenv (launcher, "WAYLAND_DISPLAY", display, TRUE);
  client = g_subprocess_launcher_spawn (launcher, &error, app, "-o", log, NULL);
  CHECK (client, "zc-input-client starts: %s", error->message);
  CHECK (wait_line (log, "MAPPED ") && wait_line (log, "KEYBOARD_ENTER"),
      "zc-input-client is mapped and focused");

  msg = soup_message_new (SOUP_METHOD_GET, zc_test_server_get_ws_url (server));
  soup_session_websocket_connect_async (
      session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_ws_connected, &ws);
  CHECK (zc_sway_test_wait (ws_done, &ws, 10000) && ws,
      "an input viewer connects");

  /* The viewer's reference size is twice the stream's: zerocast scales. */
  send_input (ws,
      (ZcInputMsg){ .kind = ZC_INPUT_MSG_ABSOLUTE,
          .x = 400,
          .y = 300,
          .ref_width = 1280,
          .ref_height = 960 });
  /* Pixel centres: viewer pixel 400 of 1280 is stream pixel 199.75. */
  CHECK (wait_line (log, "MOTION 199.75 149.75"),
      "the pointer lands at (199.75, 149.75)");
  send_input (ws,
      (ZcInputMsg){
          .kind = ZC_INPUT_MSG_BUTTON, .code = BTN_LEFT, .pressed = TRUE });
  send_input (ws,
      (ZcInputMsg){
          .kind = ZC_INPUT_MSG_BUTTON, .code = BTN_LEFT, .pressed = FALSE });
  CHECK (wait_line (log, "PAINTED #ff0000 1"), "a click repaints the app");
  send_input (ws,
      (ZcInputMsg){ .kind = ZC_INPUT_MSG_KEY, .code = KEY_A, .pressed = TRUE });
  send_input (ws,
      (ZcInputMsg){
          .kind = ZC_INPUT_MSG_KEY, .code = KEY_A, .pressed = FALSE });
  CHECK (wait_line (log, "KEY 30 0x61 a RELEASED"), "a key types a");
  send_input (ws,
      (ZcInputMsg){ .kind = ZC_INPUT_MSG_KEY, .code = KEY_S, .pressed = TRUE });
  CHECK (wait_line (log, "KEY 31 0x73 s PRESSED"), "KEY_S goes down");
  soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  CHECK (wait_line (log, "KEY 31 0x73 s RELEASED"),
      "the key is released when its viewer leaves");
  g_print ("ok - a viewer's pointer, click and keys reach an app on Sway; "
           "its held key is released when it leaves\n");

out:
  if (failures && log) {
    g_autofree gchar *text = NULL;
    if (g_file_get_contents (log, &text, NULL, NULL))
      g_print ("# zc-input-client's log:\n%s\n", text);
  }
  g_clear_object (&ws);
  if (client) {
    g_subprocess_force_exit (client);
    g_subprocess_wait (client, NULL, NULL);
  }
  if (log)
    g_unlink (log);
  if (dir)
    g_rmdir (dir);
}

static gboolean
run (const gchar *fault)
{
  const gchar *args[] = { "--sway", "640x480", "--video-mode", "zerocopy",
    NULL };
  const gchar *exe = "/usr/libexec/xdg-desktop-portal";
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = soup_session_new ();
  ZcTestServer *server = NULL;
  Watch w = { 0 };
  const ZcTestViewerState *s;
  g_autofree gchar *sway = g_find_program_in_path ("sway");
  GPid victim;
  gint64 t0;

  if (g_str_equal (fault, "sway-killed"))
    exe = NULL;
  else if (g_str_equal (fault, "backend-killed"))
    exe = "/usr/libexec/xdg-desktop-portal-wlr";
  server = zc_test_server_start (args, START_S, &error);
  CHECK (server, "zerocast --sway starts: %s", error->message);
  CHECK (zc_test_server_output_contains (
             server, "input through wlroots-virtual-input (pointer,keyboard)"),
      "zerocast drives Sway's input through the virtual devices");
  w.viewer = zc_test_viewer_new (session, zc_test_server_get_ws_url (server));
  CHECK (zc_sway_test_wait (streaming, &w, 30 * 1000), "a viewer gets frames");
  s = zc_test_viewer_get_state (w.viewer);
  CHECK (!s->protocol_error && !s->closed, "the stream is well formed: %s",
      s->protocol_error ? s->protocol_error : s->failure);
  CHECK (s->width == 640 && s->height == 480,
      "StreamInit has Sway's output size (got %ux%u)", s->width, s->height);
  g_print ("ok - zerocast --sway streams 640x480 through the portal\n");

  if (g_str_equal (fault, "viewer-input")) {
    viewer_input (server, session);
    goto out;
  }

  victim = zc_test_child_of (zc_test_server_get_pid (server), exe ? exe : sway);
  CHECK (victim > 0, "%s runs under zerocast", exe ? exe : sway);
  w.inits_before = s->inits;
  t0 = g_get_monotonic_time ();
  kill (victim, SIGKILL);
  g_print ("# killed %s (pid %d)\n", exe ? exe : sway, victim);
  CHECK (zc_sway_test_wait (streaming, &w, RECOVERY_MS),
      "the viewer gets a new stream within %d s", RECOVERY_MS / 1000);
  s = zc_test_viewer_get_state (w.viewer);
  CHECK (!s->protocol_error && !s->closed,
      "the same viewer stays connected: %s",
      s->protocol_error ? s->protocol_error : s->failure);
  CHECK (zc_test_server_output_contains (server, "zerocast: recovered in"),
      "zerocast says it recovered");
  g_print ("ok - %s: the viewer streams again after %.1f s\n", fault,
      (g_get_monotonic_time () - t0) / 1e6);

out:
  zc_test_viewer_free (w.viewer);
  if (server) {
    gint code = zc_test_server_stop (server);
    if (code != 0) {
      g_print ("not ok - zerocast exits 0 on SIGTERM (got %d)\n", code);
      failures++;
    }
  }
  return failures == 0;
}

int
main (int argc, char **argv)
{
  gint rc;

  if (argc != 2
      || (strcmp (argv[1], "portal-killed") != 0
          && strcmp (argv[1], "backend-killed") != 0
          && strcmp (argv[1], "sway-killed") != 0
          && strcmp (argv[1], "viewer-input") != 0)) {
    g_printerr ("usage: %s portal-killed|backend-killed|sway-killed|"
                "viewer-input\n",
        argv[0]);
    return 2;
  }
  if ((rc = zc_sway_test_check_installed ()) != 0)
    return rc;
  if (geteuid () == 0 && check_root_refused () != 0)
    return 1;
  if ((rc = zc_sway_test_drop_root (argv)) != 0)
    return rc;
  rc = run (argv[1]) ? 0 : 1;
  zc_sway_test_cleanup ();
  return rc;
}
