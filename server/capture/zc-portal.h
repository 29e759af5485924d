/* zerocast server: a ScreenCast through xdg-desktop-portal
 * (org.freedesktop.portal.ScreenCast: CreateSession, SelectSources, Start,
 * OpenPipeWireRemote). The user picks the monitor in the portal's dialog
 * (or the backend picks it: xdg-desktop-portal-wlr with chooser_type=none);
 * zerocast gets a PipeWire node and remote fds that can only see it.
 *
 * With @remote_desktop, and where the portal has
 * org.freedesktop.portal.RemoteDesktop, the session is a RemoteDesktop one
 * (CreateSession and SelectDevices there, ScreenCast's SelectSources on
 * the same session, RemoteDesktop's Start), so the devices it grants can
 * be driven on the very stream captured (input/zc-input-portal.h).
 * Without one (xdg-desktop-portal-wlr has none) it is ScreenCast alone and
 * view-only, and zc_portal_session_get_no_input_reason() says why.
 *
 * Where the portal supports it (ScreenCast version 4 and later), the
 * session asks to be remembered (persist_mode 2) and the restore token it
 * gets back is kept in memory and in a file, so the next session of this
 * process, and of the next one, opens without asking again.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ZcPortalSession ZcPortalSession;

typedef struct
{
  guint cursor_mode; /* 0 hidden, 1 embedded, 2 metadata */
  gint64 timeout_us; /* for each portal request (a person may pick) */
  /* Where the restore token lives between runs; NULL means
   * $XDG_STATE_HOME/zerocast/portal-restore-token, "" means nowhere. */
  const gchar *restore_token_path;
  /* Ask for input devices too, where the portal offers RemoteDesktop. A
   * RemoteDesktop failure other than the user's "no" falls back to
   * ScreenCast alone (logged, and given as the no-input reason). */
  gboolean remote_desktop;
} ZcPortalOptions;

/* RemoteDesktop device types (AvailableDeviceTypes, SelectDevices, and
 * Start's "devices"). */
#define ZC_PORTAL_DEVICE_KEYBOARD (1u << 0)
#define ZC_PORTAL_DEVICE_POINTER (1u << 1)
#define ZC_PORTAL_DEVICE_TOUCHSCREEN (1u << 2)
#define ZC_PORTAL_DEVICE_ALL                                                   \
  (ZC_PORTAL_DEVICE_KEYBOARD | ZC_PORTAL_DEVICE_POINTER                        \
      | ZC_PORTAL_DEVICE_TOUCHSCREEN)

/* Called once, in the thread-default main context of the open() call,
 * when the session ends without us closing it: the portal or its backend
 * closed it (Session::Closed), or xdg-desktop-portal left the bus. */
typedef void (*ZcPortalClosedFunc) (
    ZcPortalSession *session, const gchar *why, gpointer user_data);

/* Runs the whole handshake, iterating the thread-default main context for
 * each Request's Response. Fails with a clear message when no portal is on
 * @bus, when no backend implements ScreenCast, when the backend fails, or
 * when the user cancels. */
ZcPortalSession *zc_portal_session_open (
    GDBusConnection *bus, const ZcPortalOptions *options, GError **error);

guint32 zc_portal_session_get_node_id (ZcPortalSession *self);

/* A new PipeWire remote fd for one consumer (OpenPipeWireRemote); the
 * caller owns it. Each PipeWire client needs its own: two clients on one
 * connection read each other's replies. */
gint zc_portal_session_open_remote (ZcPortalSession *self, GError **error);

/* The restore token the portal returned, or NULL. */
const gchar *zc_portal_session_get_restore_token (ZcPortalSession *self);
/* Whether this session was opened with a restore token from earlier. */
gboolean zc_portal_session_was_restored (ZcPortalSession *self);

/* The RemoteDesktop devices granted (ZC_PORTAL_DEVICE_*), 0 for a
 * ScreenCast-only session; then the reason, else NULL. */
guint32 zc_portal_session_get_devices (ZcPortalSession *self);
const gchar *zc_portal_session_get_no_input_reason (ZcPortalSession *self);
/* For the input backend: the session's object path and the connection
 * that owns it (the portal takes calls on a session only from its owner). */
const gchar *zc_portal_session_get_handle (ZcPortalSession *self);
GDBusConnection *zc_portal_session_get_bus (ZcPortalSession *self);

/* Reads Start's results (a{sv}): the first stream's node id, the devices
 * granted (unknown bits dropped; none when absent or mistyped) and the
 * restore token (NULL when absent or not a short printable string: it is
 * written to a file and sent back). Fails without a stream. Exposed for
 * tests. */
gboolean zc_portal_parse_start_results (GVariant *results, guint32 *node_id,
    guint32 *devices, gchar **restore_token, GError **error);

void zc_portal_session_set_closed_func (
    ZcPortalSession *self, ZcPortalClosedFunc func, gpointer user_data);

/* Closes the portal session; NULL is ok. */
void zc_portal_session_free (ZcPortalSession *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPortalSession, zc_portal_session_free)

G_END_DECLS
