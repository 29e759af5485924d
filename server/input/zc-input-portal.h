/* zerocast server: input through xdg-desktop-portal's RemoteDesktop
 * interface, for a RemoteDesktop session that also captures the stream
 * being served (zc-portal.h with remote_desktop), so absolute pointer and
 * touch positions are in that stream's pixels. Works with any backend
 * that implements the portal (xdg-desktop-portal-gnome on top of Mutter's
 * RemoteDesktop, -kde ...).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "zc-input.h"

G_BEGIN_DECLS

/* @bus: the connection that owns the session (the portal refuses calls on
 * it from any other); @session_handle: the started session; @node_id: its
 * stream's PipeWire node; @devices: the ZC_PORTAL_DEVICE_* bits Start
 * granted, which become the capabilities. Calls are sent in order and
 * not waited for; a failing one is logged (the first few). */
ZcInput *zc_input_portal_new (GDBusConnection *bus, const gchar *session_handle,
    guint32 node_id, guint32 devices);

G_END_DECLS
