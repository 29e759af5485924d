/* zerocast: start and stop a private headless desktop session.
 *
 * Order matters and each step waits for the previous one to be ready:
 * dbus-daemon (everything talks over it), PipeWire, WirePlumber (without a
 * session manager no consumer is ever linked), Mutter (needs both), then
 * the colour client (needs Mutter's Wayland socket). Readiness is polled
 * against a deadline, and a child that dies early fails the start at once
 * with its log instead of waiting out the deadline.
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
#include "zc-pw-probe.h"

#define DEFAULT_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define STOP_TIMEOUT_US (G_GINT64_CONSTANT (5) * G_USEC_PER_SEC)
#define POLL_INTERVAL_MS 10
#define LOG_TAIL_LINES 30
#define WAYLAND_NAME "zc-wayland-0"

typedef struct
{
  gchar *name; /* "dbus", "pipewire", ...: names the log */
  GSubprocess *proc;
  GPid pid;
  gchar *log_path;
} Child;

struct _ZcHeadless
{
  gchar *runtime_dir;
  gchar *log_dir;
  gchar *bus_address;
  gchar *wayland_display; /* NULL without Mutter */
  gchar **child_env;      /* environment of the daemons */
  GDBusConnection *bus;
  GPtrArray *children; /* Child *, in start order */
  GArray *pids;        /* GPid, 0-terminated copy for callers */
  gint64 timeout_us;
  /* What to start, kept for zc_headless_restart(). */
  gboolean mutter, colour_client;
  gint width, height;
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

/* Sleeps one poll interval while still dispatching the thread-default
 * main context (D-Bus replies and signals keep flowing). */
static gboolean
on_poll_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
poll_step (void)
{
  GMainContext *ctx = g_main_context_get_thread_default ();
  gboolean fired = FALSE;
  GSource *timeout = g_timeout_source_new (POLL_INTERVAL_MS);

  g_source_set_callback (timeout, on_poll_timeout, &fired, NULL);
  g_source_attach (timeout, ctx);
  while (!fired)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
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
      poll_step ();
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

static gboolean
start_dbus (ZcHeadless *self, GError **error)
{
  g_autofree gchar *program =
      find_program ("dbus-daemon", "dbus-daemon", error);
  g_autofree gchar *address_arg = NULL;
  Child *child;

  if (program == NULL)
    return FALSE;
  address_arg = g_strdup_printf ("--address=%s", self->bus_address);
  const gchar *argv[] = { program, "--session", "--nofork", "--nopidfile",
    address_arg, NULL };
  if ((child = spawn_child (self, "dbus", argv, NULL, error)) == NULL)
    return FALSE;
  return wait_ready (
      self, child, "the session bus answers", bus_ready, NULL, NULL, error);
}

/* ---- PipeWire and WirePlumber ---- */

typedef struct
{
  gchar *socket;
  ZcPwProbe *probe;
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

  /* WirePlumber's second connection (it exports its objects through it)
   * comes after its core is set up; policy loaded later still links the
   * streams that already exist, so this is early enough to start on. */
  return zc_pw_probe_has_client (w->probe, "WirePlumber [export]");
}

static void
pw_step (gpointer data)
{
  PwWait *w = data;

  if (w->probe)
    zc_pw_probe_iterate (w->probe, POLL_INTERVAL_MS);
  else
    poll_step ();
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
  if (!(child = spawn_child (self, "wireplumber", wp_argv, NULL, error))
      || !wait_ready (self, child, "it connects to PipeWire", wireplumber_ready,
          &w, pw_step, error))
    goto out;
  ok = TRUE;

out:
  zc_pw_probe_free (w.probe);
  g_free (w.socket);
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
start_mutter (ZcHeadless *self, gint width, gint height, GError **error)
{
  g_autofree gchar *program = find_program ("mutter", "mutter", error);
  g_autofree gchar *monitor = NULL;
  Child *child;

  if (program == NULL)
    return FALSE;
  monitor = g_strdup_printf ("%dx%d", width, height);
  const gchar *argv[] = { program, "--headless", "--wayland", "--no-x11",
    "--virtual-monitor", monitor, "--wayland-display=" WAYLAND_NAME, NULL };
  if ((child = spawn_child (self, "mutter", argv, NULL, error)) == NULL)
    return FALSE;
  if (!wait_ready (self, child, "org.gnome.Mutter.ScreenCast is on the bus",
          mutter_ready, NULL, NULL, error))
    return FALSE;
  self->wayland_display = g_strdup (WAYLAND_NAME);
  return TRUE;
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
  else
    path = g_build_filename (build_root ? build_root : ZC_BUILD_ROOT, "tests",
        "tools", "zc-colour-client", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "colour client '%s' not found: build the tests (ninja -C BUILDDIR) "
        "or point ZC_COLOUR_CLIENT at zc-colour-client",
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
  if ((child = spawn_child (self, "colour-client", argv, env, error)) == NULL)
    return FALSE;
  return wait_ready (self, child, "its window is mapped", colour_client_ready,
      child, NULL, error);
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
  return env;
}

static gboolean
start_all (ZcHeadless *self, GError **error)
{
  if (!start_dbus (self, error) || !start_pipewire (self, error)
      || (self->mutter
          && !start_mutter (self, self->width, self->height, error))
      || (self->colour_client && !start_colour_client (self, error))) {
    zc_headless_print_logs (self);
    g_prefix_error (error, "headless session: ");
    return FALSE;
  }
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
  if (opts->colour_client && !opts->mutter) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the colour client needs Mutter: set mutter too");
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
  self->child_env = make_child_env (self);
  self->mutter = opts->mutter;
  self->colour_client = opts->colour_client;
  self->width = width;
  self->height = height;
  self->colour_client_path = g_strdup (opts->colour_client_path);

  if (!start_all (self, error)) {
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
  g_subprocess_send_signal (child->proc, SIGTERM);
  if (!wait_until (self, child, STOP_TIMEOUT_US, "it stops", child_gone, child,
          NULL, NULL)) {
    g_printerr ("%s (pid %d) ignored SIGTERM for %" G_GINT64_FORMAT
                " s: killing it\n",
        child->name, child->pid, STOP_TIMEOUT_US / G_USEC_PER_SEC);
    g_subprocess_force_exit (child->proc);
  }
  /* Reaped by GLib's worker thread; this returns once it is. */
  g_subprocess_wait (child->proc, NULL, NULL);
}

static void
remove_tree (const gchar *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
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

gboolean
zc_headless_restart (ZcHeadless *self, GError **error)
{
  stop_children (self);
  g_ptr_array_set_size (self->children, 0);
  g_array_set_size (self->pids, 0);
  g_clear_pointer (&self->wayland_display, g_free);
  /* The same directory, emptied: the sockets keep their paths, so the
   * environment this process exported for the old session stays right,
   * and a killed daemon's stale socket or lock cannot confuse the new one. */
  remove_tree (self->runtime_dir);
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

void
zc_headless_stop (ZcHeadless *self)
{
  if (self == NULL)
    return;
  stop_children (self);
  if (self->runtime_dir)
    remove_tree (self->runtime_dir);
  g_ptr_array_unref (self->children);
  g_array_unref (self->pids);
  g_strfreev (self->child_env);
  g_free (self->runtime_dir);
  g_free (self->log_dir);
  g_free (self->bus_address);
  g_free (self->wayland_display);
  g_free (self->colour_client_path);
  g_free (self);
}
