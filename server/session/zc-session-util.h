/* Small helpers the session code, the server and the tests share.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and everything below it; symbolic links are removed, not
 * followed. What cannot be removed is left (best effort). */
void zc_remove_tree (const gchar *path);

/* Iterates the thread-default main context for about @ms, so D-Bus
 * replies, signals and timeouts keep flowing while the caller polls. */
void zc_iterate_for_ms (guint ms);

G_END_DECLS
