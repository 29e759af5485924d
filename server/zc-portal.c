/* zerocast server: the xdg-desktop-portal ScreenCast handshake.
 *
 * Each portal call returns a Request object path at once and answers later
 * with its Response signal. The path is predictable from our unique name
 * and the handle_token we pass, so we subscribe before calling and cannot
 * miss a fast answer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-portal.h"

#include <unistd.h>
#include <gio/gunixfdlist.h>

#include "zc-server-error.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST_IFACE "org.freedesktop.portal.ScreenCast"

struct _ZcPortalSession
{
  GDBusConnection *bus;
  gchar *session_handle;
  guint32 node_id;
  gint fd;
};

typedef struct
{
  gboolean done;
  guint32 response;
  GVariant *results;
} Response;

static void
on_response (GDBusConnection *bus, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params, gpointer data)
{
  Response *r = data;

  g_variant_get (params, "(u@a{sv})", &r->response, &r->results);
  r->done = TRUE;
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Calls @method with @params (whose options dict must carry @token as
 * handle_token) and waits for its Response. Returns the results. */
static GVariant *
portal_request (GDBusConnection *bus, const gchar *method, GVariant *params,
    const gchar *token, gint64 timeout_us, GError **error)
{
  g_autofree gchar *sender =
      g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_autofree gchar *path = NULL;
  g_autoptr (GVariant) reply = NULL;
  GMainContext *ctx = g_main_context_get_thread_default ();
  Response r = { 0 };
  g_autoptr (GSource) timeout = NULL;
  gboolean timed_out = FALSE;
  guint sub;

  g_strdelimit (sender, ".", '_');
  path = g_strdup_printf (PORTAL_PATH "/request/%s/%s", sender, token);
  sub = g_dbus_connection_signal_subscribe (bus, PORTAL_NAME,
      "org.freedesktop.portal.Request", "Response", path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_response, &r, NULL);

  reply = g_dbus_connection_call_sync (bus, PORTAL_NAME, PORTAL_PATH,
      SCREENCAST_IFACE, method, params, G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NONE, (gint) (timeout_us / 1000), NULL, error);
  if (reply == NULL) {
    g_dbus_connection_signal_unsubscribe (bus, sub);
    g_prefix_error (error, "portal %s failed: ", method);
    return NULL;
  }
  timeout = g_timeout_source_new ((guint) (timeout_us / 1000));
  g_source_set_callback (timeout, set_flag, &timed_out, NULL);
  g_source_attach (timeout, ctx);
  while (!r.done && !timed_out)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timeout);
  g_dbus_connection_signal_unsubscribe (bus, sub);

  if (!r.done) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal did not answer %s within %" G_GINT64_FORMAT " s (is a "
        "dialog waiting for you?)",
        method, timeout_us / G_USEC_PER_SEC);
    return NULL;
  }
  if (r.response != 0) {
    g_clear_pointer (&r.results, g_variant_unref);
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal refused %s (%s)", method,
        r.response == 1 ? "cancelled by the user"
                        : "failed in the portal backend");
    return NULL;
  }
  return r.results;
}

static gboolean
portal_present (GDBusConnection *bus, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", PORTAL_NAME), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(b)", &has_owner);
  if (has_owner)
    return TRUE;
  /* The portal is normally D-Bus activated: ask for it before giving up. */
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "StartServiceByName",
      g_variant_new ("(su)", PORTAL_NAME, 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
  if (reply != NULL)
    return TRUE;
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
      "xdg-desktop-portal is not running on the session bus and cannot be "
      "started: install xdg-desktop-portal with a backend that implements "
      "ScreenCast (xdg-desktop-portal-gnome, -kde or -wlr), or use --mutter "
      "or --headless");
  return FALSE;
}

ZcPortalSession *
zc_portal_session_open (
    GDBusConnection *bus, guint cursor_mode, gint64 timeout_us, GError **error)
{
  g_autoptr (ZcPortalSession) self = g_new0 (ZcPortalSession, 1);
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GVariant) streams = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autofree gchar *token = NULL;
  GVariantBuilder opts;
  GVariantIter iter;
  gint32 fd_index = -1;

  self->fd = -1;
  self->bus = g_object_ref (bus);
  if (!portal_present (bus, error))
    return NULL;

  token = g_strdup_printf ("zerocast%u", g_random_int ());
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (
      &opts, "{sv}", "session_handle_token", g_variant_new_string (token));
  results = portal_request (bus, "CreateSession",
      g_variant_new ("(a{sv})", &opts), token, timeout_us, error);
  if (results == NULL
      || !g_variant_lookup (
          results, "session_handle", "s", &self->session_handle)) {
    if (results != NULL)
      g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
          "the portal's CreateSession returned no session_handle");
    return NULL;
  }
  g_clear_pointer (&results, g_variant_unref);

  g_free (token);
  token = g_strdup_printf ("zerocast%u", g_random_int ());
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&opts, "{sv}", "types", g_variant_new_uint32 (1));
  g_variant_builder_add (
      &opts, "{sv}", "multiple", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&opts, "{sv}", "cursor_mode",
      g_variant_new_uint32 (1u << MIN (cursor_mode, 2)));
  results = portal_request (bus, "SelectSources",
      g_variant_new ("(oa{sv})", self->session_handle, &opts), token,
      timeout_us, error);
  if (results == NULL)
    return NULL;
  g_clear_pointer (&results, g_variant_unref);

  g_free (token);
  token = g_strdup_printf ("zerocast%u", g_random_int ());
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  results = portal_request (bus, "Start",
      g_variant_new ("(osa{sv})", self->session_handle, "", &opts), token,
      timeout_us, error);
  if (results == NULL)
    return NULL;
  streams =
      g_variant_lookup_value (results, "streams", G_VARIANT_TYPE ("a(ua{sv})"));
  if (streams == NULL || g_variant_n_children (streams) == 0) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal started a session without a stream");
    return NULL;
  }
  g_variant_iter_init (&iter, streams);
  g_variant_iter_next (&iter, "(u@a{sv})", &self->node_id, NULL);

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (bus, PORTAL_NAME,
      PORTAL_PATH, SCREENCAST_IFACE, "OpenPipeWireRemote",
      g_variant_new ("(oa{sv})", self->session_handle, &opts),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE,
      (gint) (timeout_us / 1000), NULL, &fds, NULL, error);
  if (reply == NULL) {
    g_prefix_error (error, "portal OpenPipeWireRemote failed: ");
    return NULL;
  }
  g_variant_get (reply, "(h)", &fd_index);
  self->fd = g_unix_fd_list_get (fds, fd_index, error);
  if (self->fd < 0)
    return NULL;
  return g_steal_pointer (&self);
}

guint32
zc_portal_session_get_node_id (ZcPortalSession *self)
{
  return self->node_id;
}

gint
zc_portal_session_get_fd (ZcPortalSession *self)
{
  return self->fd;
}

void
zc_portal_session_free (ZcPortalSession *self)
{
  if (self == NULL)
    return;
  if (self->session_handle)
    g_dbus_connection_call (self->bus, PORTAL_NAME, self->session_handle,
        "org.freedesktop.portal.Session", "Close", NULL, NULL,
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  if (self->fd >= 0)
    close (self->fd);
  g_free (self->session_handle);
  g_object_unref (self->bus);
  g_free (self);
}
