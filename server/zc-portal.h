/* zerocast server: a ScreenCast through xdg-desktop-portal
 * (org.freedesktop.portal.ScreenCast: CreateSession, SelectSources, Start,
 * OpenPipeWireRemote). The user picks the monitor in the portal's dialog;
 * zerocast gets a PipeWire node and a remote fd that can only see it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ZcPortalSession ZcPortalSession;

/* Runs the whole handshake, iterating the thread-default main context for
 * each Request's Response. Fails with a clear message when no portal is on
 * @bus, or when the user cancels. */
ZcPortalSession *zc_portal_session_open (
    GDBusConnection *bus, guint cursor_mode, gint64 timeout_us, GError **error);

guint32 zc_portal_session_get_node_id (ZcPortalSession *self);
/* The PipeWire remote fd, owned by @self. */
gint zc_portal_session_get_fd (ZcPortalSession *self);

/* Closes the portal session and the fd; NULL is ok. */
void zc_portal_session_free (ZcPortalSession *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPortalSession, zc_portal_session_free)

G_END_DECLS
