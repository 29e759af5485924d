/* zerocast server: one viewer on a WebSocket. It feeds the fan-out's
 * messages to the socket only while the socket can take them (so libsoup
 * never queues more than a frame), answers pings, handles control
 * messages, and closes with a reason on anything malformed or unexpected.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "zc-fanout.h"
#include "zc-pipeline.h"

G_BEGIN_DECLS

typedef struct _ZcWsViewer ZcWsViewer;

/* Called once the connection is closed, whoever closed it; free the
 * viewer from here. */
typedef void (*ZcWsViewerClosedFunc) (ZcWsViewer *viewer, gpointer data);

/* @pipeline points at the current pipeline (or NULL), read for the latency
 * a pong reports. */
ZcWsViewer *zc_ws_viewer_new (SoupWebsocketConnection *conn, ZcFanout *fanout,
    ZcPipeline *const *pipeline, const gchar *peer, ZcWsViewerClosedFunc closed,
    gpointer data);

/* Sends an Error message with @reason, then closes with @code. */
void zc_ws_viewer_close (ZcWsViewer *self, gushort code, const gchar *reason);

void zc_ws_viewer_free (ZcWsViewer *self);

G_END_DECLS
