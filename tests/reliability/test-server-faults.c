/* Server faults against a real private desktop: zerocast --headless owns
 * dbus, PipeWire, WirePlumber and headless Mutter; the test breaks one
 * piece mid-stream and expects a viewer to see frames again within 15 s
 * (DESIGN.md: zerocast recovers or falls back, re-creating its ScreenCast
 * session where it owns one; viewers stay connected or reconnect).
 *
 *   test-server-faults mutter-killed | pipewire-killed | node-removed
 *
 * The viewer reconnects on its own, as the bundled web viewer does, and
 * checks every message against the wire format. Exit 0: recovered.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "zc-test-server.h"
#include "zc-test-viewer.h"

#define RECOVERY_S 15
#define FRAMES_AFTER 5

typedef struct
{
  ZcTestServer *server;
  SoupSession *session;
  ZcTestViewer *viewer;
  guint inits_before; /* of the current viewer at the fault */
  guint reconnects;
  gint64 next_connect_us;
} Watch;

/* Keeps one viewer connected, reconnecting every 500 ms while the server
 * refuses or drops it. TRUE once the stream has visibly restarted (a new
 * StreamInit on the same connection, or a new connection) and
 * FRAMES_AFTER frames came after it: frames already queued before the
 * fault do not count. */
static gboolean
watch_recovered (gpointer data)
{
  Watch *w = data;
  const ZcTestViewerState *s = zc_test_viewer_get_state (w->viewer);

  if (s->protocol_error) {
    g_print ("# protocol error: %s\n", s->protocol_error);
    return FALSE;
  }
  if (s->inits > w->inits_before && s->frames_since_init >= FRAMES_AFTER)
    return TRUE;
  if (s->closed && g_get_monotonic_time () >= w->next_connect_us) {
    g_clear_pointer (&w->viewer, zc_test_viewer_free);
    w->viewer =
        zc_test_viewer_new (w->session, zc_test_server_get_ws_url (w->server));
    w->inits_before = 0;
    w->reconnects++;
    w->next_connect_us = g_get_monotonic_time () + 500 * 1000;
  }
  return FALSE;
}

static gboolean
inject (const gchar *fault, GPid zerocast, guint node_id, GError **error)
{
  if (g_str_equal (fault, "mutter-killed")
      || g_str_equal (fault, "pipewire-killed")) {
    const gchar *comm = fault[0] == 'm' ? "mutter" : "pipewire";
    GPid pid = zc_test_child_of (zerocast, comm);

    if (pid == 0 || kill (pid, SIGKILL) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "no %s child of zerocast (pid %d) to kill", comm, zerocast);
      return FALSE;
    }
    g_print ("# killed %s (pid %d)\n", comm, pid);
    return TRUE;
  }
  if (g_str_equal (fault, "node-removed")) {
    GPid pw = zc_test_child_of (zerocast, "pipewire");
    g_autofree gchar *dir =
        pw ? zc_test_environ_of (pw, "XDG_RUNTIME_DIR") : NULL;
    g_autofree gchar *id = g_strdup_printf ("%u", node_id);
    g_autofree gchar *env_dir = g_strdup_printf ("XDG_RUNTIME_DIR=%s", dir);
    const gchar *argv[] = { "env", env_dir, "pw-cli", "destroy", id, NULL };
    gint status;

    if (dir == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "cannot find the private PipeWire of zerocast (pid %d)", zerocast);
      return FALSE;
    }
    if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
            NULL, NULL, NULL, &status, error)
        || !g_spawn_check_wait_status (status, error)) {
      g_prefix_error (error, "pw-cli destroy %s: ", id);
      return FALSE;
    }
    g_print ("# destroyed ScreenCast node %u\n", node_id);
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "unknown fault \"%s\": mutter-killed, pipewire-killed or node-removed",
      fault);
  return FALSE;
}

static gboolean
has_frames (gpointer data)
{
  Watch *w = data;
  const ZcTestViewerState *s = zc_test_viewer_get_state (w->viewer);

  return s->frames >= FRAMES_AFTER || s->closed;
}

int
main (int argc, char **argv)
{
  const gchar *args[] = { "--headless", "640x480", "--desktop", "mutter",
    NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = NULL;
  Watch w = { 0 };
  guint node_id = 0;
  gint64 fault_at;
  gboolean ok;
  gint code;

  if (argc != 2) {
    g_printerr (
        "usage: %s mutter-killed|pipewire-killed|node-removed\n", argv[0]);
    return 2;
  }
  w.server = zc_test_server_start (args, 90, &error);
  if (w.server == NULL) {
    g_print ("FAIL: %s\n", error->message);
    return 1;
  }
  session = soup_session_new_with_options (
      "proxy-resolver", NULL, "timeout", 10, NULL);
  w.session = session;
  w.viewer = zc_test_viewer_new (session, zc_test_server_get_ws_url (w.server));
  if (!zc_test_wait (has_frames, &w, 30000)
      || zc_test_viewer_get_state (w.viewer)->frames < FRAMES_AFTER) {
    g_print ("FAIL: no frames before the fault\n");
    zc_test_viewer_free (w.viewer);
    zc_test_server_stop (w.server);
    return 1;
  }
  g_print ("ok: a viewer gets frames before the fault\n");
  {
    /* "zerocast: source: headless Mutter 640x480, node N" */
    g_autoptr (GRegex) re = g_regex_new ("source: .*node (\\d+)", 0, 0, NULL);
    g_autoptr (GMatchInfo) match = NULL;

    if (g_regex_match (re, zc_test_server_get_output (w.server), 0, &match)) {
      g_autofree gchar *id = g_match_info_fetch (match, 1);
      node_id = atoi (id);
    }
  }

  w.inits_before = zc_test_viewer_get_state (w.viewer)->inits;
  if (!inject (argv[1], zc_test_server_get_pid (w.server), node_id, &error)) {
    g_print ("FAIL: %s\n", error->message);
    zc_test_viewer_free (w.viewer);
    zc_test_server_stop (w.server);
    return 1;
  }
  fault_at = g_get_monotonic_time ();
  ok = zc_test_wait (watch_recovered, &w, RECOVERY_S * 1000);
  if (ok)
    g_print ("ok: frames again %.1f s after %s (%u reconnects)\n",
        (g_get_monotonic_time () - fault_at) / 1e6, argv[1], w.reconnects);
  else
    g_print ("FAIL: no frames within %d s of %s (%u reconnects; zerocast "
             "%s)\n",
        RECOVERY_S, argv[1], w.reconnects,
        zc_test_server_is_running (w.server, NULL)
            ? "still running"
            : "exited: it does not recover from this fault yet");
  zc_test_viewer_free (w.viewer);
  code = zc_test_server_stop (w.server);
  if (ok && code != 0) {
    g_print ("FAIL: zerocast exit code %d on SIGTERM\n", code);
    ok = FALSE;
  }
  return ok ? 0 : 1;
}
