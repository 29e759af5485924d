/* Reliability tests: a real zerocast process on loopback, watched from
 * outside (its fds and RSS from /proc, its viewers from /metrics).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _ZcTestServer ZcTestServer;

/* Starts $ZC_BUILD_ROOT/server/zerocast @args --listen 127.0.0.1:0 and
 * waits (up to @timeout_s) for its "serving URL" line. Its output is
 * copied to stderr with a prefix. It gets SIGTERM if this process dies. */
ZcTestServer *zc_test_server_start (
    const gchar *const *args, guint timeout_s, GError **error);

const gchar *zc_test_server_get_ws_url (ZcTestServer *self);
GPid zc_test_server_get_pid (ZcTestServer *self);

/* Open file descriptors and resident memory, from /proc. */
guint zc_test_server_fd_count (ZcTestServer *self);
guint64 zc_test_server_rss_kb (ZcTestServer *self);

/* One gauge or counter from /metrics; FALSE with @error when the request
 * fails or the metric is missing. */
gboolean zc_test_server_metric (ZcTestServer *self, SoupSession *session,
    const gchar *name, gdouble *value, GError **error);

/* TRUE once the output so far contains @text. */
gboolean zc_test_server_output_contains (ZcTestServer *self, const gchar *text);

/* Its output so far. */
const gchar *zc_test_server_get_output (ZcTestServer *self);

/* FALSE once the process has exited; @status gets its wait status. */
gboolean zc_test_server_is_running (ZcTestServer *self, gint *status);

/* SIGTERM, then SIGKILL after 10 s; NULL is ok. Returns the exit code,
 * or -1 when it died of a signal (or was killed). Under sanitizers a
 * leak or error report makes the exit code non-zero. */
gint zc_test_server_stop (ZcTestServer *self);

/* The child of @parent (a pid) whose command name (/proc/PID/stat, at
 * most 15 characters) or first argument (a path or a name) is @name; 0
 * when there is none. */
GPid zc_test_child_of (GPid parent, const gchar *name);

/* One variable of a process's environment (/proc/PID/environ), or NULL. */
gchar *zc_test_environ_of (GPid pid, const gchar *var);

/* Runs the default main context until @cond returns TRUE or @timeout_ms
 * pass. */
gboolean zc_test_wait (
    gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcTestServer, zc_test_server_stop)

G_END_DECLS
