/* zerocast: a private headless desktop session (dbus, PipeWire,
 * WirePlumber and optionally headless Mutter, or GNOME Shell with a
 * terminal) that is started and stopped as one unit, for tests and for
 * `zerocast --headless`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ZcHeadless ZcHeadless;

typedef struct
{
  gboolean mutter; /* also start `mutter --headless` */
  /* Instead of Mutter: a headless Sway (wlroots' headless backend, pixman
   * renderer unless WLR_RENDERER says otherwise) and the ScreenCast portal
   * for it (xdg-desktop-portal-wlr, then xdg-desktop-portal, both started
   * here with the Wayland display, which D-Bus activation would not give
   * them). Sway refuses to run as root: this fails at once for root. */
  gboolean sway;
  gboolean terminal;      /* with sway: also start foot */
  gint width, height;     /* monitor size; <= 0 means 1280x720 */
  gboolean colour_client; /* also start zc-colour-client (needs a compositor) */
  gint64 timeout_us;      /* readiness deadline per step; <= 0 means 20 s */
  /* Path of zc-colour-client; NULL means $ZC_COLOUR_CLIENT, else
   * $ZC_BUILD_ROOT/server/session/zc-colour-client, else the installed one
   * (libexecdir/zerocast), else the build tree this library was
   * configured in. */
  const gchar *colour_client_path;
  /* GNOME Shell (gnome-shell --headless) instead of bare Mutter, with a
   * stand-in system bus and a gnome-terminal window, the overview closed
   * (needs mutter). See zc_headless_shell_available(). */
  gboolean shell;
  /* Mutter (or the shell) starts without a monitor of its own: the one a
   * ScreenCast RecordVirtual stream makes is its only one, at the size
   * the stream's consumer negotiates, so the desktop follows its viewer.
   * width and height are then only the size the caller will ask for.
   * Without a monitor GNOME Shell does not finish starting and Mutter 51
   * maps no window: zc_headless_start() returns once the ScreenCast is on
   * the bus, and zc_headless_finish() does the rest (the shell's start,
   * the colour client) once a consumer streams. */
  gboolean virtual_only;
} ZcHeadlessOptions;

/* TRUE when gnome-shell and gnome-terminal are installed (in PATH), so a
 * desktop people can use can be started; else *missing (if not NULL) names
 * the Debian package to install. */
gboolean zc_headless_shell_available (const gchar **missing);

/* Starts every process and waits until each one is ready. On failure
 * everything already started is stopped again, the last lines of the
 * children's logs are printed to stderr, and NULL is returned.
 * While it waits (start and stop) it iterates the thread-default main
 * context, so sources there (a SIGINT handler) are still dispatched.
 * The children get SIGTERM when the calling *thread* exits (prctl
 * PR_SET_PDEATHSIG): call it from a thread that outlives the session. */
ZcHeadless *zc_headless_start (const ZcHeadlessOptions *opts, GError **error);

/* With virtual_only, once a RecordVirtual stream is consumed (the monitor
 * exists then): waits until GNOME Shell has started, opens the terminal
 * and closes the overview, or starts the colour client, as
 * zc_headless_start() does without virtual_only. Iterates the thread-default
 * main context meanwhile. A shell that does not start in time is reported (what
 * it is doing) and FALSE returned: restart the session. TRUE at once in any
 * other case, and after a success (until zc_headless_restart()). */
gboolean zc_headless_finish (ZcHeadless *self, GError **error);

/* XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, WAYLAND_DISPLAY (NULL without
 * a compositor), PIPEWIRE_RUNTIME_DIR. Owned by @self. */
const gchar *zc_headless_get_env (ZcHeadless *self, const gchar *name);

/* A copy of @base_env (NULL = the current environment) with the session's
 * variables set; free with g_strfreev(). */
gchar **zc_headless_environ (ZcHeadless *self, gchar **base_env);

/* The session bus connection it opened (owned by @self); a ScreenCast
 * session created on it lives until zc_headless_stop(). */
GDBusConnection *zc_headless_get_bus (ZcHeadless *self);

/* The pids of the processes it started, in start order (0-terminated,
 * owned by @self), so a test can check that none survives stop(). */
const GPid *zc_headless_get_pids (ZcHeadless *self);

/* The pid of the child started as @name ("dbus", "pipewire",
 * "wireplumber", "mutter", "sway", "xdg-desktop-portal-wlr",
 * "xdg-desktop-portal", "foot", "colour-client"), or 0. */
GPid zc_headless_get_pid (ZcHeadless *self, const gchar *name);

/* Directory holding the children's log files (inside the runtime dir). */
const gchar *zc_headless_get_log_dir (ZcHeadless *self);

/* Prints the last lines of each child's log to stderr (zc_headless_start
 * does so itself when it fails). */
void zc_headless_print_logs (ZcHeadless *self);

/* TRUE while every process it started is still alive. */
gboolean zc_headless_is_running (ZcHeadless *self);

/* Stops every process it started (those still running) and starts them
 * all again with the same options in the same runtime directory (with
 * virtual_only and shell, zc_headless_finish() is due again), so the
 * variables of zc_headless_get_env() stay valid; the bus connection is a
 * new one. For a desktop whose compositor or PipeWire died. On failure
 * nothing of the new start is left running; stop() is still needed. */
gboolean zc_headless_restart (ZcHeadless *self, GError **error);

/* Stops every process it started in reverse order (SIGTERM, then SIGKILL
 * after a deadline), reaps them and removes the runtime dir. NULL is ok. */
void zc_headless_stop (ZcHeadless *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcHeadless, zc_headless_stop)

G_END_DECLS
