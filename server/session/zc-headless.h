/* zerocast: a private headless desktop session (dbus, PipeWire,
 * WirePlumber and optionally headless Mutter) that is started and stopped
 * as one unit, for tests and for `zerocast --headless`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ZcHeadless ZcHeadless;

typedef struct
{
  gboolean mutter;        /* also start `mutter --headless` */
  gint width, height;     /* virtual monitor size; <= 0 means 1280x720 */
  gboolean colour_client; /* also start zc-colour-client (needs mutter) */
  gint64 timeout_us;      /* readiness deadline per step; <= 0 means 20 s */
  /* Path of zc-colour-client; NULL means $ZC_COLOUR_CLIENT, else
   * $ZC_BUILD_ROOT/tests/tools/zc-colour-client, else the build tree this
   * library was configured in. */
  const gchar *colour_client_path;
} ZcHeadlessOptions;

/* Starts every process and waits until each one is ready. On failure
 * everything already started is stopped again, the last lines of the
 * children's logs are printed to stderr, and NULL is returned.
 * While it waits (start and stop) it iterates the thread-default main
 * context, so sources there (a SIGINT handler) are still dispatched.
 * The children get SIGTERM when the calling *thread* exits (prctl
 * PR_SET_PDEATHSIG): call it from a thread that outlives the session. */
ZcHeadless *zc_headless_start (const ZcHeadlessOptions *opts, GError **error);

/* XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, WAYLAND_DISPLAY (NULL without
 * mutter), PIPEWIRE_RUNTIME_DIR. Owned by @self. */
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

/* Directory holding the children's log files (inside the runtime dir). */
const gchar *zc_headless_get_log_dir (ZcHeadless *self);

/* Prints the last lines of each child's log to stderr (zc_headless_start
 * does so itself when it fails). */
void zc_headless_print_logs (ZcHeadless *self);

/* TRUE while every process it started is still alive. */
gboolean zc_headless_is_running (ZcHeadless *self);

/* Stops every process it started (those still running) and starts them
 * all again with the same options in the same runtime directory, so the
 * variables of zc_headless_get_env() stay valid; the bus connection is a
 * new one. For a desktop whose compositor or PipeWire died. On failure
 * nothing of the new start is left running; stop() is still needed. */
gboolean zc_headless_restart (ZcHeadless *self, GError **error);

/* Stops every process it started in reverse order (SIGTERM, then SIGKILL
 * after a deadline), reaps them and removes the runtime dir. NULL is ok. */
void zc_headless_stop (ZcHeadless *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcHeadless, zc_headless_stop)

G_END_DECLS
