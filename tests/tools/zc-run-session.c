/* zc-run-session: run a command inside a private headless desktop session.
 *
 *   zc-run-session [--mutter WxH [--shell]] [--colours] [--screencast]
 *                  [--timeout SEC] -- COMMAND ARGS...
 *
 * Starts dbus + PipeWire + WirePlumber (+ headless Mutter, or with --shell
 * GNOME Shell and a terminal, + the colour client), optionally a Mutter
 * ScreenCast of the first monitor (cursor hidden) whose node id goes to
 * ZC_NODE_ID, runs COMMAND with the session's environment and exits with its
 * status (77, "skipped", stays 77). The session is torn down on every path:
 * command exit, --timeout, SIGINT, SIGTERM, SIGHUP.
 *
 * Besides the session's XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS,
 * WAYLAND_DISPLAY and ZC_NODE_ID, the command gets ZC_SESSION_PIDS (the
 * daemons' pids, space separated) so a test can check that none survives.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "zc-headless.h"
#include "zc-mutter-session.h"

#define EXIT_TIMED_OUT 124
#define KILL_GRACE_US (G_GINT64_CONSTANT (5) * G_USEC_PER_SEC)

typedef struct
{
  GMainLoop *loop;
  GSubprocess *command;
  gint exit_status;
  gboolean done;
  gboolean stopping;    /* SIGTERM sent: SIGKILL when grace is over */
  gboolean interrupted; /* a signal came before the command ran */
  const gchar *why;     /* why we are stopping the command */
} Run;

static void
on_command_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GSubprocess *proc = G_SUBPROCESS (source);

  g_subprocess_wait_finish (proc, result, NULL);
  if (g_subprocess_get_if_exited (proc))
    run->exit_status = g_subprocess_get_exit_status (proc);
  else if (g_subprocess_get_if_signaled (proc))
    run->exit_status = 128 + g_subprocess_get_term_sig (proc);
  else
    run->exit_status = 1;
  run->done = TRUE;
  g_main_loop_quit (run->loop);
}

static gboolean
on_kill_grace_over (gpointer data)
{
  Run *run = data;

  if (!run->done) {
    g_printerr ("zc-run-session: command ignored SIGTERM: killing it\n");
    g_subprocess_force_exit (run->command);
  }
  return G_SOURCE_REMOVE;
}

static void
stop_command (Run *run, const gchar *why)
{
  if (run->done || run->stopping)
    return;
  if (run->command == NULL) {
    /* Still starting the session: give up once its start returns. */
    run->interrupted = TRUE;
    return;
  }
  run->stopping = TRUE;
  run->why = why;
  g_printerr ("zc-run-session: %s: stopping the command\n", why);
  g_subprocess_send_signal (run->command, SIGTERM);
  g_timeout_add (KILL_GRACE_US / 1000, on_kill_grace_over, run);
}

static gboolean
on_signal (gpointer data)
{
  stop_command (data, "interrupted");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  stop_command (data, "timed out");
  return G_SOURCE_REMOVE;
}

static void
child_setup (gpointer data)
{
  /* If we are killed outright, the command must not run on without
   * its session. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != GPOINTER_TO_INT (data))
    _exit (1);
}

static gboolean
parse_size (const gchar *text, gint *width, gint *height)
{
  gchar *end;
  gint64 w = g_ascii_strtoll (text, &end, 10), h;

  if (end == text || *end != 'x')
    return FALSE;
  text = end + 1;
  h = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || w < 64 || h < 64 || w > 8192 || h > 8192)
    return FALSE;
  *width = (gint) w;
  *height = (gint) h;
  return TRUE;
}

static gchar *
pids_string (ZcHeadless *session)
{
  GString *s = g_string_new (NULL);

  for (const GPid *p = zc_headless_get_pids (session); *p; p++)
    g_string_append_printf (s, "%s%d", s->len ? " " : "", *p);
  return g_string_free (s, FALSE);
}

/* Starts the ScreenCast and returns its node id, or 0. */
static guint32
start_screencast (ZcHeadless *session, gint64 timeout_us, ZcMutterSession **out,
    GError **error)
{
  ZcMutterSession *sc;
  guint32 node;

  sc = zc_mutter_session_new (zc_headless_get_bus (session), error);
  if (sc == NULL)
    return 0;
  if (!zc_mutter_session_record_monitor (sc, NULL, ZC_CURSOR_MODE_HIDDEN, error)
      || !zc_mutter_session_start (sc, error)
      || (node = zc_mutter_session_wait_node (sc, timeout_us, error)) == 0) {
    zc_mutter_session_free (sc);
    return 0;
  }
  *out = sc;
  return node;
}

int
main (int argc, char *argv[])
{
  g_autofree gchar *mutter_size = NULL;
  gboolean colours = FALSE, screencast = FALSE, shell = FALSE;
  gint timeout_sec = 0;
  g_auto (GStrv) command = NULL;
  const GOptionEntry entries[] = {
    { "mutter", 0, 0, G_OPTION_ARG_STRING, &mutter_size,
        "Also start headless Mutter with a virtual monitor of this size",
        "WxH" },
    { "shell", 0, 0, G_OPTION_ARG_NONE, &shell,
        "GNOME Shell (with a terminal) instead of bare Mutter (needs "
        "--mutter)",
        NULL },
    { "colours", 0, 0, G_OPTION_ARG_NONE, &colours,
        "Show the colour-quadrant window (needs --mutter)", NULL },
    { "screencast", 0, 0, G_OPTION_ARG_NONE, &screencast,
        "Record the first monitor and export ZC_NODE_ID (needs --mutter)",
        NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_sec,
        "Stop the command after SEC seconds (exit status 124)", "SEC" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &command, NULL,
        "-- COMMAND [ARGS...]" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  ZcHeadlessOptions opts = {
    0,
  };
  ZcHeadless *session = NULL;
  ZcMutterSession *sc = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_auto (GStrv) env = NULL;
  g_autofree gchar *pids = NULL;
  Run run = {
    0,
  };
  guint signal_ids[3];
  const int signals[3] = { SIGINT, SIGTERM, SIGHUP };

  ctx = g_option_context_new ("-- COMMAND [ARGS...]");
  g_option_context_set_summary (ctx,
      "Runs COMMAND inside a private "
      "headless desktop session (dbus, PipeWire, WirePlumber, optionally "
      "Mutter) and tears it down afterwards.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("zc-run-session: %s (see --help)\n", error->message);
    return 2;
  }
  if (command == NULL || command[0] == NULL) {
    g_printerr ("zc-run-session: no command given: put it after '--'\n");
    return 2;
  }
  if (mutter_size && !parse_size (mutter_size, &opts.width, &opts.height)) {
    g_printerr ("zc-run-session: bad --mutter '%s': use WxH, from 64x64 to "
                "8192x8192\n",
        mutter_size);
    return 2;
  }
  if ((colours || screencast || shell) && mutter_size == NULL) {
    g_printerr ("zc-run-session: --colours, --shell and --screencast need "
                "--mutter WxH\n");
    return 2;
  }
  if (timeout_sec < 0) {
    g_printerr ("zc-run-session: --timeout must be >= 0\n");
    return 2;
  }

  run.loop = g_main_loop_new (NULL, FALSE);
  /* Installed before the session starts, so a signal during start-up
   * still ends in a teardown (after zc_headless_start returns). */
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    signal_ids[i] = g_unix_signal_add (signals[i], on_signal, &run);

  opts.mutter = mutter_size != NULL;
  opts.colour_client = colours;
  opts.shell = shell;
  session = zc_headless_start (&opts, &error);
  if (session == NULL) {
    g_printerr ("zc-run-session: %s\n", error->message);
    run.exit_status = 1;
    goto out;
  }

  if (run.interrupted) {
    run.exit_status = 128 + SIGTERM;
    goto out;
  }

  env = zc_headless_environ (session, NULL);
  pids = pids_string (session);
  env = g_environ_setenv (env, "ZC_SESSION_PIDS", pids, TRUE);
  if (screencast) {
    guint32 node = start_screencast (session, 20 * G_USEC_PER_SEC, &sc, &error);
    g_autofree gchar *node_str = NULL;

    if (node == 0) {
      g_printerr ("zc-run-session: ScreenCast: %s\n", error->message);
      zc_headless_print_logs (session);
      run.exit_status = 1;
      goto out;
    }
    node_str = g_strdup_printf ("%u", node);
    env = g_environ_setenv (env, "ZC_NODE_ID", node_str, TRUE);
  }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_child_setup (
      launcher, child_setup, GINT_TO_POINTER (getpid ()), NULL);
  run.command = g_subprocess_launcher_spawnv (
      launcher, (const gchar *const *) command, &error);
  if (run.command == NULL) {
    g_printerr (
        "zc-run-session: cannot run '%s': %s\n", command[0], error->message);
    run.exit_status = 127;
    goto out;
  }
  g_subprocess_wait_async (run.command, NULL, on_command_exited, &run);
  if (timeout_sec > 0)
    g_timeout_add_seconds (timeout_sec, on_timeout, &run);
  g_main_loop_run (run.loop);

  if (run.why && g_str_equal (run.why, "timed out")) {
    g_printerr ("zc-run-session: '%s' did not finish within %d s\n", command[0],
        timeout_sec);
    run.exit_status = EXIT_TIMED_OUT;
  }
  /* A failing test is easier to read with what the daemons said. */
  if (run.exit_status != 0 && run.exit_status != 77)
    zc_headless_print_logs (session);

out:
  zc_mutter_session_free (sc);
  zc_headless_stop (session);
  g_clear_object (&run.command);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    g_source_remove (signal_ids[i]);
  g_main_loop_unref (run.loop);
  return run.exit_status;
}
