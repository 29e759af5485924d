/* zerocast: start and stop a private headless desktop session.
 *
 * Order matters and each step waits for the previous one to be ready:
 * dbus-daemon (everything talks over it), PipeWire, WirePlumber (without a
 * session manager no consumer is ever linked), Mutter (needs both), then
 * the colour client (needs Mutter's Wayland socket). Readiness is polled
 * against a deadline, and a child that dies early fails the start at once
 * with its log instead of waiting out the deadline.
 *
 * GNOME Shell instead of Mutter (seen on Debian 12's 43.9) needs more:
 * a system bus, or it dies at once looking for logind (a stand-in
 * dbus-daemon does: it then finds no logind and goes on); the terminal
 * is D-Bus activated, so the bus must know WAYLAND_DISPLAY; the overview
 * opens at login and would hide the terminal; and activated helpers
 * outlive the session unless they are stopped by hand (zc-session-reaper).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"
#include "zc-headless.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "zc-error.h"
#include "zc-install-dirs.h"
#include "zc-mutter-session.h"
#include "zc-pw-probe.h"
#include "zc-session-reaper.h"
#include "zc-session-util.h"

#define DEFAULT_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define STOP_TIMEOUT_US (G_GINT64_CONSTANT (5) * G_USEC_PER_SEC)
/* GNOME Shell takes 1 s on an idle machine and was seen taking 26 s on a
 * loaded 2-core one; once in many starts (under load, GNOME Shell 43) it
 * hangs for good before "started", ignoring SIGTERM: after this long it
 * is reported and the session started once more. */
#define SHELL_START_TIMEOUT_US (G_GINT64_CONSTANT (50) * G_USEC_PER_SEC)
#define SHELL_STOP_TIMEOUT_US (G_GINT64_CONSTANT (3) * G_USEC_PER_SEC)
#define HELPER_STOP_TIMEOUT_US (G_GINT64_CONSTANT (2) * G_USEC_PER_SEC)
#define OVERVIEW_SETTLE_US (G_GINT64_CONSTANT (5) * G_USEC_PER_SEC)
#define POLL_INTERVAL_MS 10
#define LOG_TAIL_LINES 30
#define WAYLAND_NAME "zc-wayland-0"

typedef struct
{
  gchar *name; /* "dbus", "pipewire", ...: names the log */
  GSubprocess *proc;
  GPid pid;
  gchar *log_path;
  gint64 stop_timeout_us; /* 0: STOP_TIMEOUT_US */
} Child;

struct _ZcHeadless
{
  gchar *runtime_dir;
  gchar *log_dir;
  gchar *bus_address;
  gchar *system_bus_address; /* the shell's stand-in system bus */
  gchar *wayland_display;    /* NULL without Mutter */
  gchar **child_env;         /* environment of the daemons */
  GDBusConnection *bus;
  GPtrArray *children; /* Child *, in start order */
  GArray *pids;        /* GPid, 0-terminated copy for callers */
  gint64 timeout_us;
  /* What to start, kept for zc_headless_restart(). */
  gboolean mutter, colour_client, shell, sway, terminal;
  gboolean virtual_only; /* no monitor but the ScreenCast's virtual one */
  gint width, height;
  /* virtual_only: the compositor runs, with no monitor until a consumer
   * streams; the shell's start and the colour client wait for
   * zc_headless_finish(). */
  gboolean pending;
  /* The last start failed because the compositor hung (worth one more
   * try). */
  gboolean compositor_stuck;
  guint compositor_starts;
  gchar *colour_client_path;
};

typedef gboolean (*ReadyFunc) (ZcHeadless *self, gpointer data);

static void
child_free (Child *child)
{
  g_clear_object (&child->proc);
  g_free (child->name);
  g_free (child->log_path);
  g_free (child);
}

static gboolean
child_running (Child *child)
{
  /* GLib reaps the child in its worker thread; from then on the
   * identifier is NULL. */
  return g_subprocess_get_identifier (child->proc) != NULL;
}

/* The children must not outlive us, even if we crash or are SIGKILLed:
 * the kernel sends them SIGTERM when the thread that forked them exits
 * (so start the session from a thread that lives as long as it). */
static void
child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  /* The parent may have died before prctl() took effect. */
  if (getppid () != parent)
    _exit (1);
}

static gchar *
find_program (const gchar *program, const gchar *package, GError **error)
{
  gchar *path = g_find_program_in_path (program);

  if (path == NULL)
    g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
        "'%s' is not installed or not in PATH: install the Debian package "
        "'%s' (apt-get install %s)",
        program, package, package);
  return path;
}

static void
print_log_tail (Child *child)
{
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint n, first;

  if (!g_file_get_contents (child->log_path, &contents, NULL, NULL))
    return;
  lines = g_strsplit (contents, "\n", -1);
  n = g_strv_length (lines);
  if (n > 0 && lines[n - 1][0] == '\0')
    n--; /* the text ends with a newline */
  if (n == 0)
    return;
  first = n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0;
  g_printerr ("---- last %u lines of %s (%s) ----\n", n - first, child->name,
      child->log_path);
  for (guint i = first; i < n; i++)
    g_printerr ("%s: %s\n", child->name, lines[i]);
}

static Child *
spawn_child (ZcHeadless *self, const gchar *name, const gchar *const *argv,
    gchar **env, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  Child *child;

  child = g_new0 (Child, 1);
  child->name = g_strdup (name);
  child->log_path = g_strdup_printf ("%s/%s.log", self->log_dir, name);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_environ (launcher, env ? env : self->child_env);
  g_subprocess_launcher_set_cwd (launcher, self->runtime_dir);
  g_subprocess_launcher_set_stdout_file_path (launcher, child->log_path);
  g_subprocess_launcher_set_child_setup (
      launcher, child_setup, GINT_TO_POINTER (getpid ()), NULL);
  child->proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (child->proc == NULL) {
    g_prefix_error (error, "cannot start %s: ", argv[0]);
    child_free (child);
    return NULL;
  }
  child->pid = (GPid) g_ascii_strtoll (
      g_subprocess_get_identifier (child->proc), NULL, 10);
  g_ptr_array_add (self->children, child);
  g_array_append_val (self->pids, child->pid);
  g_debug ("started %s, pid %d, log %s", name, child->pid, child->log_path);
  return child;
}

static gboolean
wait_until (ZcHeadless *self, Child *child, gint64 timeout_us,
    const gchar *what, ReadyFunc ready, gpointer data, void (*step) (gpointer),
    GError **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  while (!ready (self, data)) {
    if (!child_running (child)) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
          "%s exited before %s (see its log: %s)", child->name, what,
          child->log_path);
      return FALSE;
    }
    if (g_get_monotonic_time () >= deadline) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
          "timed out after %" G_GINT64_FORMAT " ms waiting until %s "
          "(see %s)",
          timeout_us / 1000, what, child->log_path);
      return FALSE;
    }
    if (step)
      step (data);
    else
      zc_iterate_for_ms (POLL_INTERVAL_MS);
  }
  return TRUE;
}

static gboolean
wait_ready (ZcHeadless *self, Child *child, const gchar *what, ReadyFunc ready,
    gpointer data, void (*step) (gpointer), GError **error)
{
  return wait_until (
      self, child, self->timeout_us, what, ready, data, step, error);
}

/* ---- dbus-daemon ---- */

static gboolean
bus_ready (ZcHeadless *self, gpointer data)
{
  g_autofree gchar *socket = g_build_filename (self->runtime_dir, "bus", NULL);

  if (!g_file_test (socket, G_FILE_TEST_EXISTS))
    return FALSE;
  self->bus = g_dbus_connection_new_for_address_sync (self->bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, NULL);
  return self->bus != NULL;
}

/* A private dbus-daemon at @address, waited on until @ready says it
 * answers. */
static gboolean
start_bus (ZcHeadless *self, const gchar *name, const gchar *address,
    const gchar *what, ReadyFunc ready, GError **error)
{
  g_autofree gchar *program =
      find_program ("dbus-daemon", "dbus-daemon", error);
  g_autofree gchar *address_arg = NULL;
  Child *child;

  if (program == NULL)
    return FALSE;
  address_arg = g_strdup_printf ("--address=%s", address);
  const gchar *argv[] = { program, "--session", "--nofork", "--nopidfile",
    address_arg, NULL };
  if ((child = spawn_child (self, name, argv, NULL, error)) == NULL)
    return FALSE;
  return wait_ready (self, child, what, ready, NULL, NULL, error);
}

static gboolean
start_dbus (ZcHeadless *self, GError **error)
{
  return start_bus (self, "dbus", self->bus_address, "the session bus answers",
      bus_ready, error);
}

/* ---- PipeWire and WirePlumber ---- */

typedef struct
{
  gchar *socket;
  ZcPwProbe *probe;
  gchar *status; /* what the session manager showed last */
} PwWait;

static gboolean
pipewire_ready (ZcHeadless *self, gpointer data)
{
  PwWait *w = data;

  if (w->probe == NULL)
    w->probe = zc_pw_probe_connect (w->socket, NULL);
  return w->probe != NULL;
}

static gboolean
wireplumber_ready (ZcHeadless *self, gpointer data)
{
  PwWait *w = data;

  /* Not "is it connected" (its first connection comes before anything is
   * loaded) nor a client name (0.5.18 no longer opens "[export]"): ready
   * to link, as the probe reads it from what WirePlumber publishes. */
  g_free (w->status);
  w->status = NULL;
  return zc_pw_probe_session_manager_ready (w->probe, &w->status);
}

static void
pw_step (gpointer data)
{
  PwWait *w = data;

  if (w->probe)
    zc_pw_probe_iterate (w->probe, POLL_INTERVAL_MS);
  else
    zc_iterate_for_ms (POLL_INTERVAL_MS);
}

static gboolean
start_pipewire (ZcHeadless *self, GError **error)
{
  g_autofree gchar *pipewire = NULL, *wireplumber = NULL;
  PwWait w = {
    0,
  };
  Child *child;
  gboolean ok = FALSE;

  if (!(pipewire = find_program ("pipewire", "pipewire-bin", error))
      || !(wireplumber = find_program ("wireplumber", "wireplumber", error)))
    return FALSE;

  w.socket = g_build_filename (self->runtime_dir, "pipewire-0", NULL);
  const gchar *pw_argv[] = { pipewire, NULL };
  if (!(child = spawn_child (self, "pipewire", pw_argv, NULL, error))
      || !wait_ready (self, child, "its socket accepts connections",
          pipewire_ready, &w, NULL, error))
    goto out;
  if (!zc_pw_probe_sync (w.probe, self->timeout_us, error)) {
    g_prefix_error (error, "PipeWire started but does not answer: ");
    goto out;
  }

  const gchar *wp_argv[] = { wireplumber, NULL };
  if (!(child = spawn_child (self, "wireplumber", wp_argv, NULL, error)))
    goto out;
  if (!wait_ready (self, child, "it is ready to link streams",
          wireplumber_ready, &w, pw_step, error)) {
    if (w.status)
      g_prefix_error (error, "%s: ", w.status);
    goto out;
  }
  g_debug ("session manager ready: %s", w.status);
  ok = TRUE;

out:
  zc_pw_probe_free (w.probe);
  g_free (w.socket);
  g_free (w.status);
  return ok;
}

/* ---- Mutter and the colour client ---- */

static gboolean
mutter_ready (ZcHeadless *self, gpointer data)
{
  g_autofree gchar *socket =
      g_build_filename (self->runtime_dir, WAYLAND_NAME, NULL);
  g_autoptr (GVariant) reply = NULL;
  gboolean owned = FALSE;

  if (!g_file_test (socket, G_FILE_TEST_EXISTS))
    return FALSE;
  reply = g_dbus_connection_call_sync (self->bus, "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", "org.gnome.Mutter.ScreenCast"),
      G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL);
  if (reply)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

static gboolean
shell_ready (ZcHeadless *self, gpointer data)
{
  Child *child = data;
  g_autofree gchar *contents = NULL;

  /* Printed at startup-complete: panel, overview and app launching work
   * from then on (ScreenCast answers a while before). */
  return mutter_ready (self, NULL)
      && g_file_get_contents (child->log_path, &contents, NULL, NULL)
      && strstr (contents, "GNOME Shell started") != NULL;
}

/* What a process that stopped answering is doing, from /proc: its state,
 * the CPU it used, the kernel function it sleeps in and its main thread's
 * system call ("R 12.3 s CPU" spins; "S, futex_wait_queue" waits on a
 * lock). Freed by the caller. */
static gchar *
describe_stuck (GPid pid)
{
  g_autofree gchar *stat = NULL, *wchan = NULL, *syscall = NULL;
  g_autofree gchar *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *wchan_path = g_strdup_printf ("/proc/%d/wchan", pid);
  g_autofree gchar *syscall_path = g_strdup_printf ("/proc/%d/syscall", pid);
  g_auto (GStrv) fields = NULL;
  const gchar *end;
  gdouble cpu_s = 0;
  gchar state = '?';

  if (g_file_get_contents (stat_path, &stat, NULL, NULL)
      && (end = strrchr (stat, ')')) != NULL && end[1] == ' ') {
    fields = g_strsplit (end + 2, " ", 0);
    /* After the name: state, then utime and stime are fields 12 and 13. */
    if (g_strv_length (fields) > 12) {
      state = fields[0][0];
      cpu_s = (g_ascii_strtod (fields[11], NULL)
                  + g_ascii_strtod (fields[12], NULL))
          / (gdouble) sysconf (_SC_CLK_TCK);
    }
  }
  g_file_get_contents (wchan_path, &wchan, NULL, NULL);
  /* Its number comes first, then the arguments. */
  if (g_file_get_contents (syscall_path, &syscall, NULL, NULL))
    syscall[strcspn (syscall, " \n")] = '\0';
  return g_strdup_printf ("pid %d state %c, %.1f s CPU, waiting in %s, "
                          "main thread in system call %s",
      pid, state, cpu_s, wchan && *wchan ? wchan : "-",
      syscall && *syscall ? syscall : "-");
}

/* After a wait for @child timed out: if it still runs, it hung; say what
 * it is doing instead of the timeout, and flag it, so the session can be
 * started once more. */
static void
flag_if_hung (ZcHeadless *self, Child *child, gint64 waited_us, GError **error)
{
  g_autofree gchar *what = NULL;

  if (!child_running (child))
    return;
  what = describe_stuck (child->pid);
  self->compositor_stuck = TRUE;
  g_clear_error (error);
  g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
      "%s hung while starting (not ready after %" G_GINT64_FORMAT
      " s: %s; see %s)",
      child->name, waited_us / G_USEC_PER_SEC, what, child->log_path);
}

/* How long to wait for the compositor's @step: @timeout_us, except for
 * the first start with ZEROCAST_TEST_SHELL_START_TIMEOUT_S set (test
 * only: a test that stops the first shell need not wait the whole time;
 * the next start, slow on a loaded machine, gets all of it). */
static gint64
compositor_timeout (ZcHeadless *self, gint64 timeout_us)
{
  const gchar *test_s = g_getenv ("ZEROCAST_TEST_SHELL_START_TIMEOUT_S");

  if (test_s && self->compositor_starts == 1)
    return g_ascii_strtoll (test_s, NULL, 10) * G_USEC_PER_SEC;
  return timeout_us;
}

/* Waits for GNOME Shell's "started"; a shell that hangs is flagged. */
static gboolean
wait_shell_started (ZcHeadless *self, Child *shell, GError **error)
{
  gint64 timeout_us =
      compositor_timeout (self, MAX (self->timeout_us, SHELL_START_TIMEOUT_US));

  if (wait_until (self, shell, timeout_us, "GNOME Shell has started",
          shell_ready, shell, NULL, error))
    return TRUE;
  flag_if_hung (self, shell, timeout_us, error);
  return FALSE;
}

/* Bare Mutter or, with self->shell, GNOME Shell (a Mutter too: the same
 * options, the same ScreenCast and RemoteDesktop interfaces). */
static gboolean
start_compositor (ZcHeadless *self, gint width, gint height, GError **error)
{
  const gchar *name = self->shell ? "gnome-shell" : "mutter";
  g_autofree gchar *program = find_program (name, name, error);
  g_autofree gchar *monitor = NULL;
  gint64 timeout_us;
  Child *child;

  if (program == NULL)
    return FALSE;
  monitor = g_strdup_printf ("%dx%d", width, height);
  const gchar *argv[] = { program, "--headless", "--wayland", "--no-x11",
    "--wayland-display=" WAYLAND_NAME, "--virtual-monitor", monitor, NULL };
  /* Without a monitor of its own, the ScreenCast's virtual one (which
   * takes the size its consumer asks) is the desktop's only one. */
  if (self->virtual_only)
    argv[5] = NULL;
  if ((child = spawn_child (self, name, argv, NULL, error)) == NULL)
    return FALSE;
  if (self->shell)
    child->stop_timeout_us = SHELL_STOP_TIMEOUT_US;
  self->compositor_starts++;
  timeout_us = compositor_timeout (self, self->timeout_us);
  if (!wait_until (self, child, timeout_us,
          "org.gnome.Mutter.ScreenCast is on the bus", mutter_ready, NULL, NULL,
          error)) {
    flag_if_hung (self, child, timeout_us, error);
    return FALSE;
  }
  self->wayland_display = g_strdup (WAYLAND_NAME);
  /* No monitor until a consumer streams the virtual one: GNOME Shell does
   * not finish starting, Mutter 51 maps no window. The rest waits for
   * zc_headless_finish(). */
  if (self->virtual_only) {
    self->pending = TRUE;
    return TRUE;
  }
  return !self->shell || wait_shell_started (self, child, error);
}

/* ---- GNOME Shell: stand-in system bus, terminal, overview ---- */

static gboolean
system_bus_ready (ZcHeadless *self, gpointer data)
{
  g_autoptr (GDBusConnection) bus = NULL;

  bus = g_dbus_connection_new_for_address_sync (self->system_bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, NULL);
  if (bus)
    g_dbus_connection_close_sync (bus, NULL, NULL);
  return bus != NULL;
}

static gboolean
start_system_bus (ZcHeadless *self, GError **error)
{
  /* A session-type bus at the system bus address: nothing on it, so the
   * shell finds no logind, polkit or NetworkManager and carries on
   * without them, and never touches the host's real system bus. */
  return start_bus (self, "system-bus", self->system_bus_address,
      "the stand-in system bus answers", system_bus_ready, error);
}

static gboolean
overview_active (ZcHeadless *self, gboolean *active, GError **error)
{
  g_autoptr (GVariant) reply = NULL, value = NULL;

  reply = g_dbus_connection_call_sync (self->bus, "org.gnome.Shell",
      "/org/gnome/Shell", "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.gnome.Shell", "OverviewActive"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &value);
  *active = g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN)
      && g_variant_get_boolean (value);
  return TRUE;
}

static gboolean
overview_hidden (ZcHeadless *self, gpointer data)
{
  gboolean active = TRUE;

  return overview_active (self, &active, NULL) && !active;
}

/* The shell opens the overview at login; a new user would see app icons
 * and no terminal. Its own D-Bus property closes it, with no key press
 * (which a RemoteDesktop session would have to spend: see RECIPES). */
static gboolean
set_overview_hidden (ZcHeadless *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (self->bus, "org.gnome.Shell",
      "/org/gnome/Shell", "org.freedesktop.DBus.Properties", "Set",
      g_variant_new ("(ssv)", "org.gnome.Shell", "OverviewActive",
          g_variant_new_boolean (FALSE)),
      NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    g_prefix_error (error, "closing the GNOME Shell overview: ");
  return reply != NULL;
}

static gboolean
close_overview (ZcHeadless *self, Child *shell, GError **error)
{
  gint64 settle_end;
  guint closed = 1;

  if (!set_overview_hidden (self, error)
      || !wait_ready (self, shell, "the overview is closed", overview_hidden,
          NULL, NULL, error))
    return FALSE;
  /* GNOME Shell 51 opens it (again) when its start-up animation ends,
   * which can be after "GNOME Shell started" and after it was closed
   * once (seen on Debian sid): watch a while and close it again. */
  settle_end = g_get_monotonic_time () + OVERVIEW_SETTLE_US;
  while (g_get_monotonic_time () < settle_end && child_running (shell)) {
    gboolean active = FALSE;

    if (overview_active (self, &active, NULL) && active) {
      if (!set_overview_hidden (self, error))
        return FALSE;
      closed++;
    }
    for (guint i = 0; i < 10; i++)
      zc_iterate_for_ms (POLL_INTERVAL_MS);
  }
  g_debug ("closed the overview %u time(s)", closed);
  return TRUE;
}

static gboolean
update_activation_environment (ZcHeadless *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariantBuilder env;

  /* gnome-terminal-server is started by dbus-daemon, whose environment
   * predates the Wayland socket. */
  g_variant_builder_init (&env, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (
      &env, "{ss}", "WAYLAND_DISPLAY", self->wayland_display);
  g_variant_builder_add (&env, "{ss}", "XDG_SESSION_TYPE", "wayland");
  reply = g_dbus_connection_call_sync (self->bus, "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "UpdateActivationEnvironment", g_variant_new ("(a{ss})", &env), NULL,
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    g_prefix_error (error, "telling the bus about the Wayland display: ");
  return reply != NULL;
}

/* The gnome-terminal client asks the (activated) server for a window and
 * exits 0 once the window exists. It is not a daemon: it is not kept in
 * the children (zc_headless_is_running() would see it gone). */
static gboolean
start_terminal (ZcHeadless *self, GError **error)
{
  g_autofree gchar *program =
      find_program ("gnome-terminal", "gnome-terminal", error);
  g_autofree gchar *log_path = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_auto (GStrv) env = NULL;
  gint64 deadline;

  if (program == NULL || !update_activation_environment (self, error))
    return FALSE;
  env = zc_headless_environ (self, self->child_env);
  log_path = g_build_filename (self->log_dir, "gnome-terminal.log", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_cwd (launcher, g_get_home_dir ());
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  const gchar *argv[] = { program, NULL };
  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (proc == NULL) {
    g_prefix_error (error, "cannot start gnome-terminal: ");
    return FALSE;
  }
  deadline =
      g_get_monotonic_time () + MAX (self->timeout_us, 30 * G_USEC_PER_SEC);
  while (g_subprocess_get_identifier (proc) != NULL) {
    if (g_get_monotonic_time () >= deadline) {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
          "gnome-terminal did not open its window in time (see %s)", log_path);
      return FALSE;
    }
    zc_iterate_for_ms (POLL_INTERVAL_MS);
  }
  g_subprocess_wait (proc, NULL, NULL);
  if (!g_subprocess_get_successful (proc)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "gnome-terminal could not open a window (see %s)", log_path);
    return FALSE;
  }
  return TRUE;
}

gboolean
zc_headless_shell_available (const gchar **missing)
{
  const gchar *programs[] = { "gnome-shell", "gnome-terminal" };

  for (guint i = 0; i < G_N_ELEMENTS (programs); i++) {
    g_autofree gchar *path = g_find_program_in_path (programs[i]);
    if (path == NULL) {
      if (missing)
        *missing = programs[i]; /* the Debian package has the same name */
      return FALSE;
    }
  }
  return TRUE;
}

static Child *find_child (ZcHeadless *self, const gchar *name);

/* Mutter lists a logical monitor (in virtual_only mode, the stream's
 * virtual one, made once the consumer streams). */
static gboolean
monitor_ready (ZcHeadless *self, gpointer data)
{
  g_autoptr (GVariant) reply = NULL, logical = NULL;

  reply = zc_mutter_display_state (self->bus, 1000, NULL);
  if (reply == NULL)
    return FALSE;
  /* (u a(...) a(iiduba(ssss)a{sv}) a{sv}): the third is the logical
   * monitors. */
  logical = g_variant_get_child_value (reply, 2);
  return g_variant_n_children (logical) > 0;
}

/* Mutter 48 maps a window while it has no monitor and leaves it off the
 * stream's monitor once that comes: a window opens only on a monitor. */
static gboolean
wait_monitor (ZcHeadless *self, GError **error)
{
  Child *compositor = find_child (self, self->shell ? "gnome-shell" : "mutter");

  if (!self->virtual_only || compositor == NULL)
    return TRUE;
  return wait_ready (self, compositor, "the stream's monitor exists",
      monitor_ready, NULL, NULL, error);
}

static gboolean
colour_client_ready (ZcHeadless *self, gpointer data)
{
  Child *child = data;
  g_autofree gchar *contents = NULL;

  /* zc-colour-client prints MAPPED once its first frame is committed. */
  return g_file_get_contents (child->log_path, &contents, NULL, NULL)
      && strstr (contents, "MAPPED ") != NULL;
}

static gchar *
find_colour_client (const ZcHeadlessOptions *opts, GError **error)
{
  const gchar *build_root = g_getenv ("ZC_BUILD_ROOT");
  g_autofree gchar *path = NULL;

  if (opts->colour_client_path)
    path = g_strdup (opts->colour_client_path);
  else if (g_getenv ("ZC_COLOUR_CLIENT"))
    path = g_strdup (g_getenv ("ZC_COLOUR_CLIENT"));
  else if (build_root)
    path = g_build_filename (
        build_root, "server", "session", "zc-colour-client", NULL);
  else if (!(path = zc_install_find (ZC_LIBEXEC_DIR_FROM_BINDIR, ZC_LIBEXEC_DIR,
                 "zc-colour-client")))
    path = g_build_filename (
        ZC_BUILD_ROOT, "server", "session", "zc-colour-client", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "colour window '%s' not found: install zerocast (meson install), "
        "build it (ninja -C BUILDDIR) or point ZC_COLOUR_CLIENT at "
        "zc-colour-client",
        path);
    return NULL;
  }
  return g_steal_pointer (&path);
}

static gboolean
start_colour_client (ZcHeadless *self, GError **error)
{
  ZcHeadlessOptions opts = { .colour_client_path = self->colour_client_path };
  g_autofree gchar *program = find_colour_client (&opts, error);
  g_auto (GStrv) env = NULL;
  Child *child;

  if (program == NULL)
    return FALSE;
  env = g_environ_setenv (g_strdupv (self->child_env), "WAYLAND_DISPLAY",
      self->wayland_display, TRUE);
  const gchar *argv[] = { program, NULL };
  if (self->mutter && !wait_monitor (self, error))
    return FALSE;
  if ((child = spawn_child (self, "colour-client", argv, env, error)) == NULL)
    return FALSE;
  return wait_ready (self, child, "its window is mapped", colour_client_ready,
      child, NULL, error);
}

/* ---- Sway and its portals ---- */

static gboolean
sway_ready (ZcHeadless *self, gpointer data)
{
  const gchar *marker = data;
  g_autofree gchar *name = NULL;

  /* The config's last exec writes the display name once Sway runs its
   * deferred commands, which is after the headless output exists. */
  if (!g_file_get_contents (marker, &name, NULL, NULL) || *name == '\0')
    return FALSE;
  g_free (self->wayland_display);
  self->wayland_display = g_strdup (g_strstrip (name));
  return TRUE;
}

/* WLR_BACKENDS=headless: no DRM, no input devices, one virtual output
 * (HEADLESS-1); pixman renders on the CPU, so no GPU is needed. */
static gchar **
sway_env (ZcHeadless *self)
{
  gchar **env = g_strdupv (self->child_env);

  env = g_environ_setenv (env, "WLR_BACKENDS", "headless", TRUE);
  env = g_environ_setenv (env, "WLR_LIBINPUT_NO_DEVICES", "1", TRUE);
  env = g_environ_setenv (env, "WLR_RENDERER", "pixman", FALSE);
  env = g_environ_unsetenv (env, "SWAYSOCK");
  env = g_environ_unsetenv (env, "I3SOCK");
  return env;
}

static gboolean
start_sway (ZcHeadless *self, GError **error)
{
  g_autofree gchar *program = find_program ("sway", "sway", error);
  g_autofree gchar *config = NULL, *marker = NULL, *text = NULL;
  g_auto (GStrv) env = NULL;
  Child *child;

  if (program == NULL)
    return FALSE;
  config = g_build_filename (self->runtime_dir, "sway.config", NULL);
  marker = g_build_filename (self->runtime_dir, "sway-ready", NULL);
  /* The runtime directory is ours (mkdtemp): its path needs no quoting
   * beyond the single quotes below. */
  text = g_strdup_printf ("xwayland disable\n"
                          "output HEADLESS-1 mode %dx%d position 0 0\n"
                          "default_border none\n"
                          "exec sh -c 'printf %%s \"$WAYLAND_DISPLAY\" > "
                          "%s.tmp && mv %s.tmp %s'\n",
      self->width, self->height, marker, marker, marker);
  if (!g_file_set_contents (config, text, -1, error)) {
    g_prefix_error (error, "cannot write the Sway config: ");
    return FALSE;
  }
  g_unlink (marker);
  env = sway_env (self);
  const gchar *argv[] = { program, "-c", config, NULL };
  if ((child = spawn_child (self, "sway", argv, env, error)) == NULL)
    return FALSE;
  return wait_ready (self, child, "its headless output is up", sway_ready,
      marker, NULL, error);
}

static gboolean
name_owned (ZcHeadless *self, gpointer data)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_sync (self->bus, "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", (const gchar *) data), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL);
  if (reply)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

static gchar *
find_libexec (const gchar *name, const gchar *package, GError **error)
{
  const gchar *dirs[] = { "/usr/libexec", "/usr/lib" };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree gchar *path = g_build_filename (dirs[i], name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
      return g_steal_pointer (&path);
  }
  g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
      "%s is not installed: install the Debian package '%s' (apt-get "
      "install %s)",
      name, package, package);
  return NULL;
}

/* The ScreenCast chain of a wlroots desktop: the backend first (it needs
 * the Wayland display and takes the screen without a chooser), then the
 * portal front-end, which picks the backend by XDG_CURRENT_DESKTOP. */
static gboolean
start_portals (ZcHeadless *self, GError **error)
{
  g_autofree gchar *xdpw = NULL, *xdp = NULL, *config = NULL;
  g_auto (GStrv) env = NULL;
  Child *child;

  if (!(xdpw = find_libexec (
            "xdg-desktop-portal-wlr", "xdg-desktop-portal-wlr", error))
      || !(xdp = find_libexec (
               "xdg-desktop-portal", "xdg-desktop-portal", error)))
    return FALSE;
  config = g_build_filename (self->runtime_dir, "xdpw.config", NULL);
  if (!g_file_set_contents (config,
          "[screencast]\noutput_name=HEADLESS-1\nchooser_type=none\n", -1,
          error)) {
    g_prefix_error (error, "cannot write the portal backend's config: ");
    return FALSE;
  }
  env = g_environ_setenv (g_strdupv (self->child_env), "WAYLAND_DISPLAY",
      self->wayland_display, TRUE);
  env = g_environ_setenv (env, "XDG_CURRENT_DESKTOP", "sway", TRUE);

  const gchar *xdpw_argv[] = { xdpw, "-r", "-l", "INFO", "-c", config, NULL };
  if (!(child = spawn_child (
            self, "xdg-desktop-portal-wlr", xdpw_argv, env, error))
      || !wait_ready (self, child, "it owns its D-Bus name", name_owned,
          (gpointer) "org.freedesktop.impl.portal.desktop.wlr", NULL, error))
    return FALSE;
  const gchar *xdp_argv[] = { xdp, "-r", NULL };
  if (!(child = spawn_child (self, "xdg-desktop-portal", xdp_argv, env, error)))
    return FALSE;
  return wait_ready (self, child, "it owns its D-Bus name", name_owned,
      (gpointer) "org.freedesktop.portal.Desktop", NULL, error);
}

static gboolean
start_foot (ZcHeadless *self, GError **error)
{
  g_autofree gchar *program = find_program ("foot", "foot", error);
  g_auto (GStrv) env = NULL;

  if (program == NULL)
    return FALSE;
  env = g_environ_setenv (g_strdupv (self->child_env), "WAYLAND_DISPLAY",
      self->wayland_display, TRUE);
  const gchar *argv[] = { program, NULL };
  return spawn_child (self, "foot", argv, env, error) != NULL;
}

/* ---- public API ---- */

static gchar **
make_child_env (ZcHeadless *self)
{
  gchar **env = g_get_environ ();
  g_autofree gchar *state = g_build_filename (self->runtime_dir, "state", NULL);

  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", self->runtime_dir, TRUE);
  env = g_environ_setenv (env, "PIPEWIRE_RUNTIME_DIR", self->runtime_dir, TRUE);
  env = g_environ_setenv (
      env, "DBUS_SESSION_BUS_ADDRESS", self->bus_address, TRUE);
  /* Keep the daemons off the user's settings and state. */
  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "XDG_STATE_HOME", state, TRUE);
  /* Never reach a desktop the caller may be running in. */
  env = g_environ_unsetenv (env, "DISPLAY");
  env = g_environ_unsetenv (env, "WAYLAND_DISPLAY");
  env = g_environ_unsetenv (env, "WAYLAND_SOCKET");
  env = g_environ_unsetenv (env, "PIPEWIRE_REMOTE");
  if (self->shell) {
    g_autofree gchar *config =
        g_build_filename (self->runtime_dir, "config", NULL);
    g_autofree gchar *data = g_build_filename (self->runtime_dir, "data", NULL);
    g_autofree gchar *cache =
        g_build_filename (self->runtime_dir, "cache", NULL);

    env = g_environ_setenv (
        env, "DBUS_SYSTEM_BUS_ADDRESS", self->system_bus_address, TRUE);
    env = g_environ_setenv (env, "XDG_SESSION_TYPE", "wayland", TRUE);
    env = g_environ_setenv (env, "XDG_CURRENT_DESKTOP", "GNOME", TRUE);
    /* What the shell and its helpers write (extensions state, caches,
     * the terminal's settings) stays in the session and goes with it. */
    env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
    env = g_environ_setenv (env, "XDG_DATA_HOME", data, TRUE);
    env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
    /* No input method daemon is started; GTK would wait for it. */
    env = g_environ_unsetenv (env, "GTK_IM_MODULE");
    /* Settings from a key file of the session's own (make_shell_dirs),
     * still never the user's. */
    env = g_environ_setenv (env, "GSETTINGS_BACKEND", "keyfile", TRUE);
  }
  return env;
}

/* The hot corner off. A remote pointer appears at the top left corner of
 * a new RemoteDesktop session, and GNOME Shell 51 took that for a push
 * into the corner: the overview opened and took the first keys typed
 * (seen on sid). */
#define SHELL_SETTINGS                                                         \
  "[org/gnome/desktop/interface]\nenable-hot-corners=false\n"

static void
make_shell_dirs (ZcHeadless *self)
{
  const gchar *names[] = { "config", "data", "cache" };

  g_autofree gchar *settings = NULL, *keyfile = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *dir =
        g_build_filename (self->runtime_dir, names[i], NULL);
    g_mkdir (dir, 0700);
  }
  /* GLib's keyfile backend reads $XDG_CONFIG_HOME/glib-2.0/settings. */
  settings = g_build_filename (
      self->runtime_dir, "config", "glib-2.0", "settings", NULL);
  g_mkdir_with_parents (settings, 0700);
  keyfile = g_build_filename (settings, "keyfile", NULL);
  if (!g_file_set_contents (keyfile, SHELL_SETTINGS, -1, NULL))
    g_printerr ("headless session: cannot write %s: the hot corner stays "
                "on\n",
        keyfile);
}

static Child *
find_child (ZcHeadless *self, const gchar *name)
{
  for (guint i = 0; i < self->children->len; i++) {
    Child *child = g_ptr_array_index (self->children, i);
    if (g_str_equal (child->name, name))
      return child;
  }
  return NULL;
}

/* The terminal first, then the overview closes onto it (focused).
 * Neither is worth losing the desktop over (another GNOME may refuse
 * one): the shell streams and takes input without them, so say what is
 * missing and go on. */
static gboolean
set_up_shell (ZcHeadless *self, GError **error)
{
  g_autoptr (GError) terminal_error = NULL, overview_error = NULL;
  Child *shell = find_child (self, "gnome-shell");

  if (!start_terminal (self, &terminal_error))
    g_printerr ("headless session: GNOME Shell has no terminal: %s\n",
        terminal_error->message);
  if (!close_overview (self, shell, &overview_error))
    g_printerr ("headless session: the GNOME Shell overview stays open (a "
                "click or Escape leaves it): %s\n",
        overview_error->message);
  if (!child_running (shell)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "gnome-shell exited after start-up (see %s)", shell->log_path);
    return FALSE;
  }
  return TRUE;
}

static gboolean restart_all (ZcHeadless *self, GError **error);
static void stop_child (ZcHeadless *self, Child *child);

static gboolean
start_all (ZcHeadless *self, GError **error)
{
  if (self->shell)
    make_shell_dirs (self);
  if (!start_dbus (self, error)
      || (self->shell && !start_system_bus (self, error))
      || !start_pipewire (self, error)
      || (self->mutter
          && !start_compositor (self, self->width, self->height, error))
      || (self->sway
          && (!start_sway (self, error) || !start_portals (self, error)
              || (self->terminal && !start_foot (self, error))))
      || (self->colour_client && !self->pending
          && !start_colour_client (self, error)))
    goto failed;
  if (self->shell && !self->pending && !set_up_shell (self, error))
    goto failed;
  return TRUE;

failed:
  zc_headless_print_logs (self);
  g_prefix_error (error, "headless session: ");
  return FALSE;
}

/* After a failed start: once more if the shell hung (a new session: new
 * bus, new PipeWire, new shell), else FALSE with @error as it is. */
static gboolean
again_if_stuck (ZcHeadless *self, GError **error)
{
  if (!self->compositor_stuck)
    return FALSE;
  self->compositor_stuck = FALSE;
  g_printerr ("%s: starting the session once more\n", (*error)->message);
  g_clear_error (error);
  return restart_all (self, error);
}

gboolean
zc_headless_finish (ZcHeadless *self, GError **error)
{
  Child *shell = self->shell ? find_child (self, "gnome-shell") : NULL;

  if (!self->pending)
    return TRUE;
  self->compositor_stuck = FALSE;
  if ((self->shell
          && (shell == NULL || !wait_shell_started (self, shell, error)
              || !set_up_shell (self, error)))
      || (self->colour_client && !start_colour_client (self, error))) {
    zc_headless_print_logs (self);
    /* A hung shell answers nothing: gone, zc_headless_is_running() says
     * the desktop must be started again, not just its session. */
    if (self->compositor_stuck)
      stop_child (self, shell);
    g_prefix_error (error, "headless session: ");
    return FALSE;
  }
  self->pending = FALSE;
  return TRUE;
}

ZcHeadless *
zc_headless_start (const ZcHeadlessOptions *opts, GError **error)
{
  ZcHeadlessOptions defaults = {
    0,
  };
  ZcHeadless *self;
  gint width, height;

  if (opts == NULL)
    opts = &defaults;
  width = opts->width > 0 ? opts->width : 1280;
  height = opts->height > 0 ? opts->height : 720;
  if ((opts->colour_client || opts->shell) && !opts->mutter && !opts->sway) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the colour client and GNOME Shell need a compositor: set mutter "
        "(or sway, for the colour client) too");
    return NULL;
  }
  if (opts->mutter && opts->sway) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "choose one compositor: mutter or sway");
    return NULL;
  }
  if (opts->sway && geteuid () == 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
        "Sway refuses to run as root (it drops privileges it does not "
        "have and stops): run this as an ordinary user with a passwd entry, "
        "e.g. `runuser -u USER -- zerocast --sway`, or use --headless "
        "(GNOME), which runs as root");
    return NULL;
  }

  self = g_new0 (ZcHeadless, 1);
  self->timeout_us =
      opts->timeout_us > 0 ? opts->timeout_us : DEFAULT_TIMEOUT_US;
  self->children = g_ptr_array_new_with_free_func ((GDestroyNotify) child_free);
  self->pids = g_array_new (TRUE, TRUE, sizeof (GPid)); /* 0-terminated */
  /* g_dir_make_tmp creates it with mode 0700, as XDG_RUNTIME_DIR must be. */
  self->runtime_dir = g_dir_make_tmp ("zc-session-XXXXXX", error);
  if (self->runtime_dir == NULL) {
    g_prefix_error (error, "cannot create a runtime directory: ");
    zc_headless_stop (self);
    return NULL;
  }
  self->log_dir = g_build_filename (self->runtime_dir, "logs", NULL);
  g_mkdir (self->log_dir, 0700);
  self->bus_address = g_strdup_printf ("unix:path=%s/bus", self->runtime_dir);
  self->system_bus_address =
      g_strdup_printf ("unix:path=%s/system_bus", self->runtime_dir);
  self->mutter = opts->mutter;
  self->shell = opts->shell;
  self->sway = opts->sway;
  self->virtual_only = opts->virtual_only;
  self->terminal = opts->terminal;
  self->colour_client = opts->colour_client;
  self->child_env = make_child_env (self);
  self->width = width;
  self->height = height;
  self->colour_client_path = g_strdup (opts->colour_client_path);

  if (!start_all (self, error) && !again_if_stuck (self, error)) {
    zc_headless_stop (self);
    return NULL;
  }
  return self;
}

const gchar *
zc_headless_get_env (ZcHeadless *self, const gchar *name)
{
  if (g_strcmp0 (name, "XDG_RUNTIME_DIR") == 0
      || g_strcmp0 (name, "PIPEWIRE_RUNTIME_DIR") == 0)
    return self->runtime_dir;
  if (g_strcmp0 (name, "DBUS_SESSION_BUS_ADDRESS") == 0)
    return self->bus_address;
  if (g_strcmp0 (name, "WAYLAND_DISPLAY") == 0)
    return self->wayland_display;
  return NULL;
}

gchar **
zc_headless_environ (ZcHeadless *self, gchar **base_env)
{
  gchar **env = base_env ? g_strdupv (base_env) : g_get_environ ();

  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", self->runtime_dir, TRUE);
  env = g_environ_setenv (env, "PIPEWIRE_RUNTIME_DIR", self->runtime_dir, TRUE);
  env = g_environ_setenv (
      env, "DBUS_SESSION_BUS_ADDRESS", self->bus_address, TRUE);
  if (self->wayland_display)
    env =
        g_environ_setenv (env, "WAYLAND_DISPLAY", self->wayland_display, TRUE);
  else
    env = g_environ_unsetenv (env, "WAYLAND_DISPLAY");
  env = g_environ_unsetenv (env, "DISPLAY");
  env = g_environ_unsetenv (env, "WAYLAND_SOCKET");
  env = g_environ_unsetenv (env, "PIPEWIRE_REMOTE");
  return env;
}

void
zc_headless_print_logs (ZcHeadless *self)
{
  for (guint i = 0; i < self->children->len; i++)
    print_log_tail (g_ptr_array_index (self->children, i));
}

GDBusConnection *
zc_headless_get_bus (ZcHeadless *self)
{
  return self->bus;
}

const GPid *
zc_headless_get_pids (ZcHeadless *self)
{
  return (const GPid *) self->pids->data;
}

GPid
zc_headless_get_pid (ZcHeadless *self, const gchar *name)
{
  for (guint i = 0; i < self->children->len; i++) {
    Child *child = g_ptr_array_index (self->children, i);
    if (g_strcmp0 (child->name, name) == 0)
      return child->pid;
  }
  return 0;
}

const gchar *
zc_headless_get_log_dir (ZcHeadless *self)
{
  return self->log_dir;
}

static gboolean
child_gone (ZcHeadless *self, gpointer data)
{
  return !child_running (data);
}

static void
stop_child (ZcHeadless *self, Child *child)
{
  if (!child_running (child))
    return;
  gint64 timeout_us =
      child->stop_timeout_us > 0 ? child->stop_timeout_us : STOP_TIMEOUT_US;

  g_subprocess_send_signal (child->proc, SIGTERM);
  if (!wait_until (
          self, child, timeout_us, "it stops", child_gone, child, NULL, NULL)) {
    g_printerr ("%s (pid %d) ignored SIGTERM for %" G_GINT64_FORMAT
                " s: killing it\n",
        child->name, child->pid, timeout_us / G_USEC_PER_SEC);
    g_subprocess_force_exit (child->proc);
  }
  /* Reaped by GLib's worker thread; this returns once it is. */
  g_subprocess_wait (child->proc, NULL, NULL);
}

static void
stop_children (ZcHeadless *self)
{
  /* Our bus connection first, so stopping dbus-daemon does not race it. */
  if (self->bus) {
    g_dbus_connection_close_sync (self->bus, NULL, NULL);
    g_clear_object (&self->bus);
  }
  for (guint i = self->children->len; i > 0; i--)
    stop_child (self, g_ptr_array_index (self->children, i - 1));
  /* What the bus activated for the shell (and what those started: the
   * terminal's shell) is not among our children; then the document
   * portal's FUSE mount, so removing the directory does not walk into it. */
  if (self->runtime_dir) {
    zc_session_reap_processes (self->runtime_dir, HELPER_STOP_TIMEOUT_US);
    zc_session_unmount_all (self->runtime_dir);
  }
}

/* A process killed a moment ago may not be reaped yet, so GLib still
 * thinks it runs: /proc tells a zombie apart. */
static gboolean
child_alive (Child *child)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", child->pid);
  g_autofree gchar *stat = NULL;
  const gchar *end;

  if (!child_running (child) || !g_file_get_contents (path, &stat, NULL, NULL)
      || (end = strrchr (stat, ')')) == NULL)
    return FALSE;
  return end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

gboolean
zc_headless_is_running (ZcHeadless *self)
{
  for (guint i = 0; i < self->children->len; i++)
    if (!child_alive (g_ptr_array_index (self->children, i)))
      return FALSE;
  return self->children->len > 0;
}

static gboolean
restart_all (ZcHeadless *self, GError **error)
{
  stop_children (self);
  g_ptr_array_set_size (self->children, 0);
  g_array_set_size (self->pids, 0);
  g_clear_pointer (&self->wayland_display, g_free);
  self->pending = FALSE;
  /* The same directory, emptied: the sockets keep their paths, so the
   * environment this process exported for the old session stays right,
   * and a killed daemon's stale socket or lock cannot confuse the new one. */
  zc_remove_tree (self->runtime_dir);
  if (g_mkdir (self->runtime_dir, 0700) != 0
      || g_mkdir (self->log_dir, 0700) != 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "cannot re-create the runtime directory %s: %s", self->runtime_dir,
        g_strerror (errno));
    return FALSE;
  }
  if (!start_all (self, error)) {
    /* Nothing half-started is left running until the next attempt. */
    stop_children (self);
    return FALSE;
  }
  return TRUE;
}

gboolean
zc_headless_restart (ZcHeadless *self, GError **error)
{
  self->compositor_stuck = FALSE;
  return restart_all (self, error) || again_if_stuck (self, error);
}

void
zc_headless_stop (ZcHeadless *self)
{
  if (self == NULL)
    return;
  stop_children (self);
  if (self->runtime_dir)
    zc_remove_tree (self->runtime_dir);
  g_ptr_array_unref (self->children);
  g_array_unref (self->pids);
  g_strfreev (self->child_env);
  g_free (self->runtime_dir);
  g_free (self->log_dir);
  g_free (self->bus_address);
  g_free (self->system_bus_address);
  g_free (self->wayland_display);
  g_free (self->colour_client_path);
  g_free (self);
}
