/* Integration test of the test harness itself: zc-run-session starts a
 * full headless session, hands its environment to the command, forwards
 * the exit status and leaves no process or directory behind, whichever
 * way it ends (exit, timeout, SIGTERM).
 *
 * usage: test-session-harness PATH-TO-zc-run-session
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "zc-session-util.h"

#define EXIT_TIMEOUT_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define FILE_TIMEOUT_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)

static const gchar *run_session;

typedef struct
{
  GSubprocess *proc;
  gchar *out_file; /* the command writes its view here */
  gchar *stdout_text, *stderr_text;
} Wrapper;

static gboolean
on_tick (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* Waits for a condition without a fixed sleep: iterate the main context
 * (child exits and replies arrive there) with a short tick, up to a
 * deadline. */
static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  while (!cond (data)) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_timeout_add (20, on_tick, NULL);
    g_main_context_iteration (NULL, TRUE);
  }
  return TRUE;
}

static gboolean
proc_exited (gpointer data)
{
  return g_subprocess_get_identifier (data) == NULL;
}

static void
wrapper_start (Wrapper *w, const gchar *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  gint fd;

  fd = g_file_open_tmp ("zc-harness-XXXXXX", &w->out_file, &error);
  g_assert_no_error (error);
  close (fd);
  g_ptr_array_add (argv, (gpointer) run_session);
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The command inherits it through the session's environment. */
  g_subprocess_launcher_setenv (launcher, "ZC_HARNESS_OUT", w->out_file, TRUE);
  w->proc = g_subprocess_launcher_spawnv (
      launcher, (const gchar *const *) argv->pdata, &error);
  g_assert_no_error (error);
}

/* Returns the wait status decoded like a shell: exit code or 128+signal. */
static gint
wrapper_finish (Wrapper *w, gint64 timeout_us)
{
  g_autoptr (GError) error = NULL;
  gint status;

  /* Reading both pipes to the end also waits for the exit. */
  g_subprocess_communicate_utf8 (
      w->proc, NULL, NULL, &w->stdout_text, &w->stderr_text, &error);
  g_assert_no_error (error);
  if (!wait_for (proc_exited, w->proc, timeout_us)) {
    g_subprocess_force_exit (w->proc);
    g_error ("zc-run-session did not exit in time");
  }
  g_test_message ("zc-run-session stderr:\n%s", w->stderr_text);
  if (g_subprocess_get_if_exited (w->proc))
    status = g_subprocess_get_exit_status (w->proc);
  else
    status = 128 + g_subprocess_get_term_sig (w->proc);
  return status;
}

static void
wrapper_clear (Wrapper *w)
{
  if (w->proc && !proc_exited (w->proc)) {
    g_subprocess_force_exit (w->proc);
    g_subprocess_wait (w->proc, NULL, NULL);
  }
  g_clear_object (&w->proc);
  if (w->out_file)
    g_unlink (w->out_file);
  g_clear_pointer (&w->out_file, g_free);
  g_clear_pointer (&w->stdout_text, g_free);
  g_clear_pointer (&w->stderr_text, g_free);
}

static gboolean
out_file_written (gpointer data)
{
  Wrapper *w = data;
  g_autofree gchar *text = NULL;

  return g_file_get_contents (w->out_file, &text, NULL, NULL)
      && strchr (text, '\n') != NULL;
}

/* What the command wrote: "PIDS|RUNTIME_DIR|NODE_ID|WAYLAND_DISPLAY". */
static gchar **
read_view (Wrapper *w)
{
  g_autofree gchar *text = NULL;
  gchar **fields;

  g_assert_true (g_file_get_contents (w->out_file, &text, NULL, NULL));
  g_strstrip (text);
  fields = g_strsplit (text, "|", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 4);
  return fields;
}

/* Gone, or a zombie: an orphan is reaped by whoever is pid 1, which in a
 * container may never do it. */
static gboolean
pid_gone (pid_t pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *stat = NULL;
  const gchar *state;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  /* "pid (comm) S ...": the state follows the last ')'. */
  state = strrchr (stat, ')');
  return state && state[1] == ' ' && state[2] == 'Z';
}

static gboolean
all_pids_gone (gpointer data)
{
  g_auto (GStrv) list = g_strsplit (data, " ", -1);

  for (gchar **p = list; *p; p++)
    if (!pid_gone ((pid_t) g_ascii_strtoll (*p, NULL, 10)))
      return FALSE;
  return TRUE;
}

static void
assert_all_gone (const gchar *pids, const gchar *runtime_dir)
{
  g_auto (GStrv) list = g_strsplit (pids, " ", -1);

  for (gchar **p = list; *p; p++) {
    pid_t pid = (pid_t) g_ascii_strtoll (*p, NULL, 10);
    g_autofree gchar *path = g_strdup_printf ("/proc/%d/cmdline", pid);
    g_autofree gchar *cmdline = NULL;

    g_assert_cmpint (pid, >, 0);
    if (!pid_gone (pid)) {
      g_file_get_contents (path, &cmdline, NULL, NULL);
      g_error ("session process %d (%s) is still there after zc-run-session "
               "exited",
          pid, cmdline ? cmdline : "?");
    }
  }
  g_assert_true (g_path_is_absolute (runtime_dir));
  if (g_file_test (runtime_dir, G_FILE_TEST_EXISTS))
    g_error ("runtime dir %s was not removed", runtime_dir);
}

/* The command line that records the session as the command sees it, after
 * checking that every daemon is alive. */
#define RECORD_VIEW                                                            \
  "for p in $ZC_SESSION_PIDS; do kill -0 $p || exit 3; done; "                 \
  "echo \"$ZC_SESSION_PIDS|$XDG_RUNTIME_DIR|${ZC_NODE_ID:-}|"                  \
  "${WAYLAND_DISPLAY:-}\" > \"$ZC_HARNESS_OUT\""

static void
test_full_session (void)
{
  const gchar *args[] = { "--mutter", "320x240", "--colours", "--screencast",
    "--", "sh", "-c", RECORD_VIEW, NULL };
  Wrapper w = {
    0,
  };
  g_auto (GStrv) view = NULL, pids = NULL;

  wrapper_start (&w, args);
  g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, 0);
  view = read_view (&w);
  pids = g_strsplit (view[0], " ", -1);
  /* dbus, pipewire, wireplumber, mutter, colour client */
  g_assert_cmpuint (g_strv_length (pids), ==, 5);
  g_assert_cmpint (g_ascii_strtoll (view[2], NULL, 10), >, 0);
  g_assert_cmpstr (view[3], !=, "");
  assert_all_gone (view[0], view[1]);
  wrapper_clear (&w);
}

static void
test_exit_status (void)
{
  const gint codes[] = { 0, 3, 77 };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++) {
    g_autofree gchar *script =
        g_strdup_printf (RECORD_VIEW "; exit %d", codes[i]);
    const gchar *args[] = { "--", "sh", "-c", script, NULL };
    Wrapper w = {
      0,
    };
    g_auto (GStrv) view = NULL;

    wrapper_start (&w, args);
    g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, codes[i]);
    view = read_view (&w);
    /* No Mutter asked for: no node, no Wayland display. */
    g_assert_cmpstr (view[2], ==, "");
    g_assert_cmpstr (view[3], ==, "");
    assert_all_gone (view[0], view[1]);
    wrapper_clear (&w);
  }
}

static void
test_timeout (void)
{
  const gchar *args[] = { "--timeout", "1", "--", "sh", "-c",
    RECORD_VIEW "; exec sleep 600", NULL };
  Wrapper w = {
    0,
  };
  g_auto (GStrv) view = NULL;
  gint64 start = g_get_monotonic_time ();

  wrapper_start (&w, args);
  g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, 124);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
  g_assert_nonnull (strstr (w.stderr_text, "did not finish within 1 s"));
  view = read_view (&w);
  assert_all_gone (view[0], view[1]);
  wrapper_clear (&w);
}

static void
test_sigterm (void)
{
  const gchar *args[] = { "--mutter", "320x240", "--screencast", "--", "sh",
    "-c", RECORD_VIEW "; exec sleep 600", NULL };
  Wrapper w = {
    0,
  };
  g_auto (GStrv) view = NULL;
  gint status;

  wrapper_start (&w, args);
  if (!wait_for (out_file_written, &w, FILE_TIMEOUT_US))
    g_error ("the command did not start within %d s",
        (int) (FILE_TIMEOUT_US / G_USEC_PER_SEC));
  g_subprocess_send_signal (w.proc, SIGTERM);
  status = wrapper_finish (&w, EXIT_TIMEOUT_US);
  /* The command was stopped with SIGTERM and that is what is reported. */
  g_assert_cmpint (status, ==, 128 + SIGTERM);
  view = read_view (&w);
  assert_all_gone (view[0], view[1]);
  wrapper_clear (&w);
}

static void
test_sigkill (void)
{
  /* The command's own pid ($$, kept by exec) joins the daemons' list. */
  const gchar *args[] = { "--mutter", "320x240", "--", "sh", "-c",
    "ZC_SESSION_PIDS=\"$ZC_SESSION_PIDS $$\"; " RECORD_VIEW "; exec sleep 600",
    NULL };
  Wrapper w = {
    0,
  };
  g_auto (GStrv) view = NULL, pids = NULL;

  /* zc-run-session has no chance to clean up: the kernel's parent-death
   * signal must take every child down with it. */
  wrapper_start (&w, args);
  if (!wait_for (out_file_written, &w, FILE_TIMEOUT_US))
    g_error ("the command did not start within %d s",
        (int) (FILE_TIMEOUT_US / G_USEC_PER_SEC));
  view = read_view (&w);
  pids = g_strsplit (view[0], " ", -1);
  /* dbus, pipewire, wireplumber, mutter and the command */
  g_assert_cmpuint (g_strv_length (pids), ==, 5);
  g_subprocess_force_exit (w.proc);
  g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, 128 + SIGKILL);
  if (!wait_for (all_pids_gone, view[0], EXIT_TIMEOUT_US))
    g_error (
        "session processes survived a SIGKILLed zc-run-session: %s", view[0]);
  /* Nobody was left to remove the runtime dir: that is ours to do. */
  zc_remove_tree (view[1]);
  wrapper_clear (&w);
}

static void
test_bad_usage (void)
{
  const gchar *bad[][6] = {
    { "--colours", "--", "true", NULL },
    { "--mutter", "12", "--", "true", NULL },
    { "--mutter", "640x480", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    Wrapper w = {
      0,
    };

    wrapper_start (&w, bad[i]);
    g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, 2);
    g_assert_true (strlen (w.stderr_text) > 0);
    wrapper_clear (&w);
  }
}

static void
test_missing_program (void)
{
  const gchar *args[] = { "--", "true", NULL };
  const gchar *saved = g_getenv ("PATH");
  g_autofree gchar *path = g_strdup (saved);
  g_autofree gchar *empty = g_dir_make_tmp ("zc-empty-path-XXXXXX", NULL);
  Wrapper w = {
    0,
  };

  /* With an empty PATH, dbus-daemon cannot be found: the error must say
   * which package to install. */
  g_setenv ("PATH", empty, TRUE);
  wrapper_start (&w, args);
  g_setenv ("PATH", path, TRUE);
  g_assert_cmpint (wrapper_finish (&w, EXIT_TIMEOUT_US), ==, 1);
  g_assert_nonnull (strstr (w.stderr_text, "apt-get install dbus-daemon"));
  wrapper_clear (&w);
  g_rmdir (empty);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2 || !g_file_test (argv[1], G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("usage: %s PATH-TO-zc-run-session\n", argv[0]);
    return 1;
  }
  run_session = argv[1];
  g_test_add_func ("/harness/full-session", test_full_session);
  g_test_add_func ("/harness/exit-status", test_exit_status);
  g_test_add_func ("/harness/timeout", test_timeout);
  g_test_add_func ("/harness/sigterm", test_sigterm);
  g_test_add_func ("/harness/sigkill", test_sigkill);
  g_test_add_func ("/harness/bad-usage", test_bad_usage);
  g_test_add_func ("/harness/missing-program", test_missing_program);
  return g_test_run ();
}
