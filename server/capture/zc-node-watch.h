/* zerocast server: notices when the PipeWire node being streamed goes
 * away. Upstream pipewiresrc keeps resending its last frame (keepalive)
 * after its producer is gone and posts no error, so without this a
 * --node-id or --portal stream would freeze silently.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ZcNodeWatch ZcNodeWatch;

/* Called once, in the main context of the caller of zc_node_watch_new(),
 * when the node is removed or the connection to PipeWire breaks (the
 * daemon died, taking the node with it). */
typedef void (*ZcNodeGoneFunc) (guint32 node_id, gpointer user_data);

/* Connects to PipeWire (through @fd when >= 0, which is dup'ed, else the
 * environment) and watches the registry for @node_id. Fails when PipeWire
 * cannot be reached or the node does not exist. */
ZcNodeWatch *zc_node_watch_new (guint32 node_id, gint fd, ZcNodeGoneFunc gone,
    gpointer user_data, GError **error);

void zc_node_watch_free (ZcNodeWatch *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcNodeWatch, zc_node_watch_free)

G_END_DECLS
