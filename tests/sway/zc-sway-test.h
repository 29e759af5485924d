/* Sway tests: what every one of them needs first. Sway refuses to run as
 * root, so a test started as root (CI, the release chroots) runs itself
 * again as "nobody", which has the passwd entry Sway and dbus-daemon look
 * for; and the tests need a Sway whose portal backend can capture without
 * a GPU (xdg-desktop-portal-wlr 0.8 or later, Debian sid).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "zc-session-util.h" /* zc_remove_tree */
#include "zc-test-check.h"   /* CHECK */

G_BEGIN_DECLS

#define ZC_SWAY_TEST_SKIP 77

/* As root: prepares a HOME, XDG_STATE_HOME and GStreamer registry that
 * nobody may write and execs argv again under setpriv as nobody (returns
 * only on failure, with the exit code to use). Otherwise returns 0. */
gint zc_sway_test_drop_root (gchar **argv);

/* At the end of a test run as nobody: removes the HOME that
 * zc_sway_test_drop_root() made. */
void zc_sway_test_cleanup (void);

/* 0 when Sway, foot and a ScreenCast backend that works headless are
 * installed; else prints why and returns ZC_SWAY_TEST_SKIP. */
gint zc_sway_test_check_installed (void);

/* Runs the default main context until @cond holds or @timeout_ms pass;
 * conditions are polled every 10 ms. */
gboolean zc_sway_test_wait (
    gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);

/* TRUE once the file at @path holds a line starting with @prefix. */
gboolean zc_sway_test_file_has_line (const gchar *path, const gchar *prefix);

G_END_DECLS
