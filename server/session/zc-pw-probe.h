/* zerocast: a small PipeWire client that answers "is the daemon up, and
 * is a given client connected, is the session manager ready to link?" for
 * zc-headless.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ZcPwProbe ZcPwProbe;

/* Connects to the socket @socket_path (not through the environment, so the
 * caller's own XDG_RUNTIME_DIR is irrelevant). Fails at once when nothing
 * listens there yet: the caller retries until its deadline. */
ZcPwProbe *zc_pw_probe_connect (const gchar *socket_path, GError **error);

/* One core sync round trip: proves the daemon is serving requests. */
gboolean zc_pw_probe_sync (ZcPwProbe *self, gint64 timeout_us, GError **error);

/* Dispatches pending PipeWire events, waiting at most @timeout_ms. */
void zc_pw_probe_iterate (ZcPwProbe *self, gint timeout_ms);

/* Whether a client whose application.name is @name is in the registry. */
gboolean zc_pw_probe_has_client (ZcPwProbe *self, const gchar *name);

/* Whether the session manager is ready to link streams: in the registry,
 * and either announcing a linking policy in session.services (WirePlumber
 * 0.5) or, when it announces no services, with its export connection up
 * (WirePlumber 0.4). @status, if given, gets what was seen (free it). */
gboolean zc_pw_probe_session_manager_ready (ZcPwProbe *self, gchar **status);

void zc_pw_probe_free (ZcPwProbe *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPwProbe, zc_pw_probe_free)

G_END_DECLS
