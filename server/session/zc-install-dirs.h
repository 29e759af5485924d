/* zerocast: where an installed zerocast finds the files installed with it
 * (the viewer, the colour window), and whether it runs from its build tree.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the running executable lies in the build tree it was built in
 * (then the source tree's files are the ones to use). */
gboolean zc_running_from_build_tree (void);

/* The installed @name (a file or folder): first relative to the running
 * executable's folder (@from_bindir, e.g. "../share/zerocast/web", so an
 * install under a DESTDIR or moved elsewhere works), then at @configured,
 * the absolute path for the configured prefix (skipped when running from
 * the build tree, where an older install must not win). NULL when neither
 * exists. @from_bindir may be "" (bindir or datadir configured absolute:
 * not relocatable). */
gchar *zc_install_find (
    const gchar *from_bindir, const gchar *configured, const gchar *name);

G_END_DECLS
