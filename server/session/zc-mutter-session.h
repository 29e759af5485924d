/* zerocast: a client of Mutter's org.gnome.Mutter.ScreenCast D-Bus API.
 * The ScreenCast session lives as long as the GDBusConnection that created
 * it, so the process owning that connection owns the session.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ZcMutterSession ZcMutterSession;

/* Values of the "cursor-mode" option. */
typedef enum
{
  ZC_CURSOR_MODE_HIDDEN = 0,
  ZC_CURSOR_MODE_EMBEDDED = 1,
  ZC_CURSOR_MODE_METADATA = 2,
} ZcCursorMode;

typedef void (*ZcMutterSessionClosedFunc) (
    ZcMutterSession *session, gpointer user_data);

/* Calls ScreenCast.CreateSession({}). Signals are delivered in the
 * thread-default main context of the caller. */
ZcMutterSession *zc_mutter_session_new (GDBusConnection *bus, GError **error);

/* A ScreenCast session linked to a new RemoteDesktop session
 * (RemoteDesktop.CreateSession, then ScreenCast.CreateSession with its
 * "remote-desktop-session-id"), so input can be injected against the
 * recorded stream. Start and Stop go to the RemoteDesktop session. Fails
 * where Mutter has no RemoteDesktop API: fall back to _new(). */
ZcMutterSession *zc_mutter_session_new_remote_desktop (
    GDBusConnection *bus, GError **error);

/* The RemoteDesktop session's object path (NULL when not linked), the
 * recorded stream's path (NULL before record_*) and the bus: what an input
 * backend needs (zc-input-mutter.h). Owned by @self. */
const gchar *zc_mutter_session_get_remote_desktop_path (ZcMutterSession *self);
const gchar *zc_mutter_session_get_stream_path (ZcMutterSession *self);
GDBusConnection *zc_mutter_session_get_bus (ZcMutterSession *self);

/* org.gnome.Mutter.DisplayConfig.GetCurrentState on @bus: (serial,
 * monitors, logical monitors, properties), or NULL with @error. */
GVariant *zc_mutter_display_state (
    GDBusConnection *bus, gint timeout_ms, GError **error);

/* @connector NULL or "" records the first monitor of
 * org.gnome.Mutter.DisplayConfig.GetCurrentState. One stream per session. */
gboolean zc_mutter_session_record_monitor (ZcMutterSession *self,
    const gchar *connector, guint cursor_mode, GError **error);
gboolean zc_mutter_session_record_virtual (
    ZcMutterSession *self, guint cursor_mode, GError **error);

gboolean zc_mutter_session_start (ZcMutterSession *self, GError **error);

/* Iterates the thread-default main context until PipeWireStreamAdded has
 * arrived (returns at once if it already has) or the deadline passes.
 * Returns the node id, or 0 with @error set. */
guint32 zc_mutter_session_wait_node (
    ZcMutterSession *self, gint64 timeout_us, GError **error);

/* Called once, in the caller's main context, when Mutter closes the session
 * or its bus name vanishes. */
void zc_mutter_session_set_closed_callback (ZcMutterSession *self,
    ZcMutterSessionClosedFunc callback, gpointer user_data);

gboolean zc_mutter_session_is_closed (ZcMutterSession *self);

/* Stops the session if it was started; NULL is ok. */
void zc_mutter_session_free (ZcMutterSession *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcMutterSession, zc_mutter_session_free)

G_END_DECLS
