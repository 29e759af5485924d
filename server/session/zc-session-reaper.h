/* zerocast: what a private desktop leaves behind after its own children
 * are stopped. GNOME Shell has D-Bus activate helpers (at-spi, dconf,
 * xdg-permission-store, xdg-document-portal, gnome-terminal-server and the
 * shells it runs) that are not our children and outlive the bus; the
 * document portal leaves a FUSE mount inside the runtime directory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The pids of processes whose environment names @runtime_dir as their
 * XDG_RUNTIME_DIR (so they belong to that private session), except this
 * process and its ancestors. Only processes we may read (/proc/PID/environ)
 * are seen: our own, or all of them as root. */
GArray *zc_session_find_processes (const gchar *runtime_dir);

/* Stops every such process: SIGTERM, then SIGKILL to those still alive
 * after @timeout_us. Returns how many it found. */
guint zc_session_reap_processes (const gchar *runtime_dir, gint64 timeout_us);

/* Unmounts whatever is mounted at or below @runtime_dir (lazily, so a
 * FUSE mount whose daemon is gone still goes), so that removing the
 * directory does not walk into it. Returns how many it unmounted. */
guint zc_session_unmount_all (const gchar *runtime_dir);

G_END_DECLS
