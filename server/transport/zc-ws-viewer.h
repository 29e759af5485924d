/* zerocast server: one viewer on a WebSocket. It feeds the fan-out's
 * messages to the socket only while the socket can take them (so libsoup
 * never queues more than a frame), answers pings, handles control
 * messages, and closes with a reason on anything malformed or unexpected.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "zc-fanout.h"
#include "zc-input-client.h"
#include "zc-pipeline.h"

G_BEGIN_DECLS

typedef struct _ZcWsViewer ZcWsViewer;

/* Called once the connection is closed, whoever closed it; free the
 * viewer from here. */
typedef void (*ZcWsViewerClosedFunc) (ZcWsViewer *viewer, gpointer data);

typedef struct
{
  /* /ws/stream: wait for the text init before any video (Helix). On /ws
   * the video starts at once and an init is optional. */
  gboolean needs_init;
  /* This viewer's right to control (zc-http.c decides). */
  gboolean may_control;
  ZcInputHub *input_hub;
  /* Called (with the closed function's data) once the init arrived. */
  void (*init_received) (ZcWsViewer *viewer, gpointer data);
} ZcWsViewerOptions;

/* @pipeline points at the current pipeline (or NULL), read for the latency
 * a pong reports. */
ZcWsViewer *zc_ws_viewer_new (SoupWebsocketConnection *conn, ZcFanout *fanout,
    ZcPipeline *const *pipeline, const gchar *peer,
    const ZcWsViewerOptions *options, ZcWsViewerClosedFunc closed,
    gpointer data);

/* The bitrate the viewer's init asked for (kbit/s), or 0. */
guint zc_ws_viewer_get_requested_bitrate (ZcWsViewer *self);
/* The size and frame rate its init asked for, 0 where it did not say. */
void zc_ws_viewer_get_requested_size (
    ZcWsViewer *self, guint *width, guint *height);
guint zc_ws_viewer_get_requested_fps (ZcWsViewer *self);
/* Whether this viewer has the right to control the desktop. */
gboolean zc_ws_viewer_may_control (ZcWsViewer *self);

/* Sends an Error message with @reason, then closes with @code. */
void zc_ws_viewer_close (ZcWsViewer *self, gushort code, const gchar *reason);

void zc_ws_viewer_free (ZcWsViewer *self);

G_END_DECLS
