/* zc-session-reaper against real processes: helpers that left our process
 * tree (double fork, as D-Bus activated ones do), one that ignores SIGTERM,
 * one of another session that must be left alone, and (as root) a mount
 * inside the runtime directory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "zc-session-reaper.h"

/* Starts `sh -c SCRIPT` detached (setsid, its parent exits at once, so it
 * is re-parented away from us) with XDG_RUNTIME_DIR=@dir; returns its pid,
 * read back from a pid file. */
static GPid
start_detached (const gchar *dir, const gchar *script)
{
  g_autofree gchar *pidfile = g_build_filename (dir, "pid", NULL);
  g_autofree gchar *inner =
      g_strdup_printf ("echo $$ > %s.tmp && mv %s.tmp %s && exec %s", pidfile,
          pidfile, pidfile, script);
  g_autofree gchar *contents = NULL;
  gchar **env =
      g_environ_setenv (g_get_environ (), "XDG_RUNTIME_DIR", dir, TRUE);
  const gchar *argv[] = { "setsid", "-f", "sh", "-c", inner, NULL };
  gint status;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GPid pid;

  g_unlink (pidfile);
  /* Not on our stdout: the test runner waits for that pipe to close. */
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, env,
      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
          | G_SPAWN_STDERR_TO_DEV_NULL,
      NULL, NULL, NULL, NULL, &status, NULL));
  g_strfreev (env);
  while (!g_file_get_contents (pidfile, &contents, NULL, NULL)) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
  pid = (GPid) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (pid, >, 1);
  return pid;
}

static gboolean
alive (GPid pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *stat = NULL;
  const gchar *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL)
      || (end = strrchr (stat, ')')) == NULL)
    return FALSE;
  return end[2] != 'Z' && end[2] != 'X';
}

static gboolean
contains (GArray *pids, GPid pid)
{
  for (guint i = 0; i < pids->len; i++)
    if (g_array_index (pids, GPid, i) == pid)
      return TRUE;
  return FALSE;
}

static void
test_reap (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("zc-reaper-XXXXXX", NULL);
  g_autofree gchar *other = g_dir_make_tmp ("zc-reaper-XXXXXX", NULL);
  /* A directory whose name merely starts with ours is another session. */
  g_autofree gchar *longer = g_strconcat (dir, "x", NULL);
  GPid polite, stubborn, foreign, prefixed;
  g_autoptr (GArray) found = NULL;

  g_mkdir (longer, 0700);
  polite = start_detached (dir, "sleep 600");
  stubborn = start_detached (
      dir, "sh -c \"trap '' TERM; while :; do sleep 0.05; done\"");
  foreign = start_detached (other, "sleep 600");
  prefixed = start_detached (longer, "sleep 600");

  found = zc_session_find_processes (dir);
  g_assert_true (contains (found, polite));
  g_assert_true (contains (found, stubborn));
  g_assert_false (contains (found, foreign));
  g_assert_false (contains (found, prefixed));
  g_assert_false (contains (found, getpid ()));

  g_assert_cmpuint (zc_session_reap_processes (dir, 500 * 1000), >=, 2);
  g_assert_false (alive (polite));
  g_assert_false (alive (stubborn));
  g_assert_true (alive (foreign));
  g_assert_true (alive (prefixed));
  g_clear_pointer (&found, g_array_unref);
  found = zc_session_find_processes (dir);
  g_assert_cmpuint (found->len, ==, 0);

  kill (foreign, SIGKILL);
  kill (prefixed, SIGKILL);
  for (gint i = 0; i < 500 && (alive (foreign) || alive (prefixed)); i++)
    g_usleep (10000);
  g_rmdir (longer);
  {
    g_autofree gchar *pid_file = g_build_filename (dir, "pid", NULL);
    g_autofree gchar *other_pid_file = g_build_filename (other, "pid", NULL);

    g_unlink (pid_file);
    g_unlink (other_pid_file);
  }
  g_rmdir (dir);
  g_rmdir (other);
}

static void
test_unmount (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("zc-reaper-XXXXXX", NULL);
  g_autofree gchar *doc = g_build_filename (dir, "doc", NULL);
  g_autofree gchar *inner = g_build_filename (doc, "inner dir", NULL);

  if (geteuid () != 0) {
    g_test_skip ("mounting a tmpfs needs root");
    g_rmdir (dir);
    return;
  }
  g_mkdir (doc, 0700);
  g_assert_cmpint (mount ("zc-test", doc, "tmpfs", 0, "size=64k"), ==, 0);
  /* A mount inside the first, with a space in its name (escaped in
   * mountinfo): both go, the inner one first. */
  g_assert_cmpint (g_mkdir (inner, 0700), ==, 0);
  g_assert_cmpint (mount ("zc-test", inner, "tmpfs", 0, "size=64k"), ==, 0);
  g_assert_cmpuint (zc_session_unmount_all (dir), ==, 2);
  g_assert_cmpuint (zc_session_unmount_all (dir), ==, 0);
  g_assert_cmpint (g_rmdir (doc), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/session-reaper/reap", test_reap);
  g_test_add_func ("/session-reaper/unmount", test_unmount);
  return g_test_run ();
}
