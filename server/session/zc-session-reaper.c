/* zerocast: stopping what a private desktop session leaves behind.
 *
 * Why by environment: D-Bus activated helpers are started by dbus-daemon
 * (not by us), daemonise, and are re-parented to init once the bus is
 * gone, so neither our child list nor the process tree finds them. Every
 * one of them inherited the session's XDG_RUNTIME_DIR, a directory made
 * fresh for this session (mkdtemp), so that names exactly the processes
 * that belong to it and no other session's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-session-reaper.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gio/gio.h>

#define POLL_INTERVAL_US (10 * 1000)

/* Field 4 of /proc/PID/stat (after the parenthesised command, which may
 * itself hold spaces and parentheses), and the state letter. */
static gboolean
read_stat (pid_t pid, pid_t *ppid, gchar *state)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *stat = NULL;
  const gchar *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL)
      || (end = strrchr (stat, ')')) == NULL || end[1] != ' ' || !end[2])
    return FALSE;
  if (state)
    *state = end[2];
  if (ppid)
    *ppid = (pid_t) g_ascii_strtoll (end + 4, NULL, 10);
  return TRUE;
}

static gboolean
is_alive (pid_t pid)
{
  gchar state = 0;

  /* A zombie has exited; its parent (init, by now) reaps it. */
  return read_stat (pid, NULL, &state) && state != 'Z' && state != 'X';
}

static GHashTable *
ancestors (void)
{
  GHashTable *set = g_hash_table_new (NULL, NULL);
  pid_t pid = getpid ();

  for (guint depth = 0; pid > 1 && depth < 64; depth++) {
    g_hash_table_add (set, GINT_TO_POINTER (pid));
    if (!read_stat (pid, &pid, NULL))
      break;
  }
  return set;
}

static gboolean
environ_names_dir (pid_t pid, const gchar *wanted, gsize wanted_len)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/environ", pid);
  g_autofree gchar *env = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &env, &len, NULL))
    return FALSE; /* gone, or not ours to read */
  for (gsize i = 0; i < len; i += strlen (env + i) + 1)
    if (len - i >= wanted_len && memcmp (env + i, wanted, wanted_len) == 0)
      return TRUE;
  return FALSE;
}

GArray *
zc_session_find_processes (const gchar *runtime_dir)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_autoptr (GHashTable) skip = ancestors ();
  /* The whole entry with its terminating NUL: a longer directory that
   * merely starts with ours does not match. */
  g_autofree gchar *wanted =
      g_strdup_printf ("XDG_RUNTIME_DIR=%s", runtime_dir);
  gsize wanted_len = strlen (wanted) + 1;
  GDir *dir = g_dir_open ("/proc", 0, NULL);
  const gchar *name;

  if (dir == NULL)
    return pids;
  while ((name = g_dir_read_name (dir))) {
    guint64 value;
    GPid pid;

    if (!g_ascii_string_to_unsigned (name, 10, 2, G_MAXINT, &value, NULL))
      continue;
    pid = (GPid) value;
    if (!g_hash_table_contains (skip, GINT_TO_POINTER (pid))
        && environ_names_dir (pid, wanted, wanted_len) && is_alive (pid))
      g_array_append_val (pids, pid);
  }
  g_dir_close (dir);
  return pids;
}

#define REAP_ROUNDS 4

/* One round: SIGTERM to each, SIGKILL to those alive at @deadline. */
static void
stop_all (GArray *pids, gint64 deadline)
{
  gboolean any_alive = TRUE;

  for (guint i = 0; i < pids->len; i++) {
    GPid pid = g_array_index (pids, GPid, i);
    g_autofree gchar *comm_path = g_strdup_printf ("/proc/%d/comm", pid);
    g_autofree gchar *comm = NULL;

    g_file_get_contents (comm_path, &comm, NULL, NULL);
    g_debug (
        "stopping session helper %d (%s)", pid, comm ? g_strstrip (comm) : "?");
    kill (pid, SIGTERM);
  }
  while (any_alive && g_get_monotonic_time () < deadline) {
    any_alive = FALSE;
    for (guint i = 0; i < pids->len && !any_alive; i++)
      any_alive = is_alive (g_array_index (pids, GPid, i));
    if (any_alive)
      g_usleep (POLL_INTERVAL_US);
  }
  for (guint i = 0; i < pids->len; i++) {
    GPid pid = g_array_index (pids, GPid, i);
    if (is_alive (pid)) {
      g_printerr ("session helper %d ignored SIGTERM: killing it\n", pid);
      kill (pid, SIGKILL);
    }
  }
}

guint
zc_session_reap_processes (const gchar *runtime_dir, gint64 timeout_us)
{
  guint total = 0;

  /* Again until none is found: a helper may start another while it is
   * being stopped (a shell's last command, a launcher's child). */
  for (guint round = 0; round < REAP_ROUNDS; round++) {
    g_autoptr (GArray) pids = zc_session_find_processes (runtime_dir);

    if (pids->len == 0)
      break;
    total += pids->len;
    stop_all (pids, g_get_monotonic_time () + timeout_us);
    /* SIGKILLed ones take a moment to become zombies. */
    for (guint i = 0; i < 100; i++) {
      gboolean any = FALSE;
      for (guint j = 0; j < pids->len && !any; j++)
        any = is_alive (g_array_index (pids, GPid, j));
      if (!any)
        break;
      g_usleep (POLL_INTERVAL_US);
    }
  }
  return total;
}

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static gchar *
unescape_mount_path (const gchar *field)
{
  GString *out = g_string_new (NULL);

  for (const gchar *p = field; *p; p++) {
    if (p[0] == '\\' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2])
        && g_ascii_isdigit (p[3])) {
      g_string_append_c (out,
          (gchar) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0')));
      p += 3;
    } else {
      g_string_append_c (out, *p);
    }
  }
  return g_string_free (out, FALSE);
}

static gboolean
unmount_one (const gchar *path)
{
  const gchar *helpers[] = { "fusermount3", "fusermount" };

  if (umount2 (path, MNT_DETACH) == 0)
    return TRUE;
  /* Not root: FUSE mounts of our own go through the setuid helper. */
  for (guint i = 0; i < G_N_ELEMENTS (helpers); i++) {
    g_autofree gchar *program = g_find_program_in_path (helpers[i]);
    gint status = -1;

    if (program == NULL)
      continue;
    const gchar *argv[] = { program, "-u", "-z", path, NULL };
    if (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
            NULL, NULL, &status, NULL)
        && g_spawn_check_wait_status (status, NULL))
      return TRUE;
  }
  g_printerr (
      "cannot unmount %s (%s): unmount it by hand\n", path, g_strerror (errno));
  return FALSE;
}

guint
zc_session_unmount_all (const gchar *runtime_dir)
{
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  gsize dir_len = strlen (runtime_dir);
  guint n = 0;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_auto (GStrv) fields = g_strsplit (lines[i], " ", 6);
    g_autofree gchar *mount_point = NULL;

    if (g_strv_length (fields) < 5)
      continue;
    mount_point = unescape_mount_path (fields[4]);
    if (strncmp (mount_point, runtime_dir, dir_len) == 0
        && (mount_point[dir_len] == '/' || mount_point[dir_len] == '\0'))
      g_ptr_array_add (found, g_steal_pointer (&mount_point));
  }
  /* Deepest first: a mount inside another goes before its parent. */
  for (guint i = found->len; i > 0; i--)
    n += unmount_one (g_ptr_array_index (found, i - 1));
  return n;
}
