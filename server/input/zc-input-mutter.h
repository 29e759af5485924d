/* zerocast server: input through GNOME's org.gnome.Mutter.RemoteDesktop,
 * for a RemoteDesktop session linked to the ScreenCast session being
 * streamed (zc_mutter_session_new_remote_desktop()), so absolute pointer
 * and touch positions are in that stream's pixels.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "zc-input.h"

G_BEGIN_DECLS

/* @rd_session_path: the started RemoteDesktop session; @stream_path: the
 * ScreenCast stream it is linked to. Calls are sent in order and not
 * waited for; a failing one is logged (the first few). The capabilities
 * come from Mutter's SupportedDeviceTypes. */
ZcInput *zc_input_mutter_new (GDBusConnection *bus,
    const gchar *rd_session_path, const gchar *stream_path);

G_END_DECLS
