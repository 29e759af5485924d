/* zerocast server: the xdg-desktop-portal ScreenCast handshake.
 *
 * Each portal call returns a Request object path at once and answers later
 * with its Response signal. The path is predictable from our unique name
 * and the handle_token we pass, so we subscribe before calling and cannot
 * miss a fast answer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-portal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "zc-server-error.h"

GST_DEBUG_CATEGORY_STATIC (zc_portal_debug);
#define GST_CAT_DEFAULT zc_portal_debug

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST_IFACE "org.freedesktop.portal.ScreenCast"
#define RD_IFACE "org.freedesktop.portal.RemoteDesktop"
#define SESSION_IFACE "org.freedesktop.portal.Session"
/* SelectSources: remember the choice until the user revokes it. */
#define PERSIST_UNTIL_REVOKED 2
/* Restore tokens and persist_mode came with ScreenCast version 4. */
#define RESTORE_MIN_VERSION 4
/* ... and with RemoteDesktop version 2, on SelectDevices. */
#define RD_RESTORE_MIN_VERSION 2
#define MAX_TOKEN_LEN 256
/* A request's outcome besides the portal's own 0 (success), 1 (cancelled)
 * and 2 (failed): the call itself failed, or no answer came in time. */
#define RESPONSE_CALL_FAILED G_MAXUINT32
#define RESPONSE_TIMED_OUT (G_MAXUINT32 - 1)

struct _ZcPortalSession
{
  GDBusConnection *bus;
  gint64 timeout_us;
  gchar *session_handle;
  guint32 node_id;
  gchar *token_path; /* NULL: not kept between runs */
  gchar *restore_token;
  gchar *rd_token_path; /* the RemoteDesktop session's token */
  gchar *rd_restore_token;
  gboolean restored;
  gboolean rd_token_kept; /* the last RemoteDesktop Start gave a token */
  guint32 devices;        /* ZC_PORTAL_DEVICE_*: granted by RemoteDesktop */
  gchar *no_input_reason; /* why not, when devices is 0 */
  guint32 response;       /* of the last request, or RESPONSE_* */
  guint closed_sub;
  guint name_watch;
  gboolean ended; /* closed by the portal: do not Close again */
  ZcPortalClosedFunc closed;
  gpointer closed_data;
};

typedef struct
{
  gboolean done;
  guint32 response;
  GVariant *results;
} Response;

static void
debug_init (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (zc_portal_debug, "zcportal", 0,
        "zerocast xdg-desktop-portal ScreenCast and RemoteDesktop");
    g_once_init_leave (&once, 1);
  }
}

static void
on_response (GDBusConnection *bus, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params, gpointer data)
{
  Response *r = data;

  if (r->done || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(ua{sv})")))
    return;
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
portal_request (GDBusConnection *bus, const gchar *iface, const gchar *method,
    GVariant *params, const gchar *token, gint64 timeout_us, guint32 *response,
    GError **error)
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

  if (response)
    *response = RESPONSE_CALL_FAILED;
  g_strdelimit (sender, ".", '_');
  path = g_strdup_printf (PORTAL_PATH "/request/%s/%s", sender, token);
  sub = g_dbus_connection_signal_subscribe (bus, PORTAL_NAME,
      "org.freedesktop.portal.Request", "Response", path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_response, &r, NULL);

  reply = g_dbus_connection_call_sync (bus, PORTAL_NAME, PORTAL_PATH, iface,
      method, params, G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
      (gint) (timeout_us / 1000), NULL, error);
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
  if (response)
    *response = r.done ? r.response : RESPONSE_TIMED_OUT;

  if (!r.done) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal did not answer %s within %" G_GINT64_FORMAT " s (is a "
        "dialog waiting for you?)",
        method, timeout_us / G_USEC_PER_SEC);
    return NULL;
  }
  if (r.response != 0) {
    g_clear_pointer (&r.results, g_variant_unref);
    if (r.response == 1)
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
          "the portal refused %s: cancelled by the user", method);
    else
      /* xdg-desktop-portal-wlr before 0.8 ends here on a machine without a
       * GPU: it insists on a DMA-BUF format, which wlroots cannot offer
       * without a DRM device (its upstream issue 289). */
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
          "the portal backend failed %s (see the backend's log: "
          "xdg-desktop-portal-wlr before 0.8 cannot capture without a GPU "
          "that offers DMA-BUF)",
          method);
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
      "ScreenCast (xdg-desktop-portal-gnome, -kde or -wlr), or use --mutter, "
      "--headless or --sway");
  return FALSE;
}

/* Reads a uint32 property of a portal interface. xdg-desktop-portal
 * exports ScreenCast and RemoteDesktop only when a backend implements
 * them, so failing to read one's version is how "no backend" shows. */
static gboolean
portal_property (GDBusConnection *bus, const gchar *iface, const gchar *name,
    guint32 *value, gint64 timeout_us, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) inner = NULL;

  reply = g_dbus_connection_call_sync (bus, PORTAL_NAME, PORTAL_PATH,
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", iface, name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, (gint) (timeout_us / 1000), NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &inner);
  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal's %s %s is a %s, not a uint32", iface, name,
        g_variant_get_type_string (inner));
    return FALSE;
  }
  *value = g_variant_get_uint32 (inner);
  return TRUE;
}

/* ---- restore tokens ---- */

static gchar *
load_token (const gchar *path)
{
  g_autofree gchar *contents = NULL;
  gsize len = 0;

  if (path == NULL || !g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  g_strstrip (contents);
  /* Tokens are short printable strings: anything else is not ours. */
  if (*contents == '\0' || strlen (contents) > MAX_TOKEN_LEN
      || !g_str_is_ascii (contents) || strpbrk (contents, " \t\n") != NULL) {
    GST_WARNING ("ignoring malformed restore token in %s", path);
    return NULL;
  }
  return g_steal_pointer (&contents);
}

static void
save_token (const gchar *path, const gchar *token)
{
  g_autofree gchar *dir = NULL;
  g_autoptr (GError) error = NULL;

  if (path == NULL)
    return;
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_printerr ("zerocast: cannot keep the portal's restore token in %s: %s "
                "(the next run will ask again)\n",
        dir, g_strerror (errno));
    return;
  }
  /* A token lets whoever holds it record the screen: owner only. */
  if (!g_file_set_contents_full (
          path, token, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_printerr ("zerocast: cannot keep the portal's restore token: %s (the "
                "next run will ask again)\n",
        error->message);
}

/* ---- the session ending ---- */

static void
report_closed (ZcPortalSession *self, const gchar *why)
{
  if (self->ended)
    return;
  self->ended = TRUE;
  GST_INFO ("portal session %s ended: %s", self->session_handle, why);
  if (self->closed)
    self->closed (self, why, self->closed_data);
}

static void
on_session_closed (GDBusConnection *bus, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params, gpointer data)
{
  report_closed (data, "the portal closed the session");
}

static void
on_portal_vanished (GDBusConnection *bus, const gchar *name, gpointer data)
{
  report_closed (data, "xdg-desktop-portal left the session bus");
}

static gchar *
new_token (void)
{
  return g_strdup_printf ("zerocast%u", g_random_int ());
}

/* Creates the session on @iface: ScreenCast for a screen alone, or
 * RemoteDesktop, whose session also takes ScreenCast's SelectSources. */
static gboolean
create_session (ZcPortalSession *self, const gchar *iface, GError **error)
{
  g_autofree gchar *token = new_token ();
  g_autoptr (GVariant) results = NULL;
  GVariantBuilder opts;

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (
      &opts, "{sv}", "session_handle_token", g_variant_new_string (token));
  results = portal_request (self->bus, iface, "CreateSession",
      g_variant_new ("(a{sv})", &opts), token, self->timeout_us,
      &self->response, error);
  if (results == NULL)
    return FALSE;
  if (!g_variant_lookup (results, "session_handle", "s", &self->session_handle)
      || !g_variant_is_object_path (self->session_handle)) {
    g_clear_pointer (&self->session_handle, g_free);
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal's CreateSession returned no valid session_handle");
    return FALSE;
  }
  /* Subscribed before anything else can end it. */
  self->closed_sub = g_dbus_connection_signal_subscribe (self->bus, PORTAL_NAME,
      SESSION_IFACE, "Closed", self->session_handle, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_session_closed, self, NULL);
  return TRUE;
}

/* Forgets a session that failed half-way (closing it, unless the portal
 * did), so another can be made on the same connection. */
static void
drop_session (ZcPortalSession *self)
{
  if (self->closed_sub)
    g_dbus_connection_signal_unsubscribe (self->bus, self->closed_sub);
  self->closed_sub = 0;
  if (self->session_handle && !self->ended
      && !g_dbus_connection_is_closed (self->bus))
    g_dbus_connection_call (self->bus, PORTAL_NAME, self->session_handle,
        SESSION_IFACE, "Close", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
        NULL, NULL);
  g_clear_pointer (&self->session_handle, g_free);
  self->ended = FALSE;
  self->restored = FALSE;
  self->devices = 0;
  self->node_id = 0;
}

/* The portal's cursor mode bit for ours (hidden 1, embedded 2, metadata 4),
 * or the nearest the portal offers. */
static guint32
pick_cursor_mode (guint cursor_mode, guint32 available)
{
  guint32 wanted = 1u << MIN (cursor_mode, 2);

  if (available == 0 || (available & wanted))
    return wanted;
  /* Metadata the portal cannot send: drawn in is closer than none. */
  if (wanted == 4 && (available & 2))
    return 2;
  if (available & 2)
    return 2;
  return available & 1 ? 1 : 4;
}

/* @persist: ask ScreenCast to remember the choice (version 4 and later).
 * Never on a RemoteDesktop session: xdg-desktop-portal refuses it there
 * ("Remote desktop sessions cannot persist"); SelectDevices persists
 * both. */
static gboolean
select_sources (
    ZcPortalSession *self, guint cursor_mode, gboolean persist, GError **error)
{
  g_autofree gchar *token = new_token ();
  g_autoptr (GVariant) results = NULL;
  guint32 available = 0;
  guint32 cursor;
  GVariantBuilder opts;

  /* Older portals lack the property: ask for what was wanted. */
  if (!portal_property (self->bus, SCREENCAST_IFACE, "AvailableCursorModes",
          &available, self->timeout_us, NULL))
    available = 0;
  cursor = pick_cursor_mode (cursor_mode, available);
  if (cursor != 1u << MIN (cursor_mode, 2)) {
    /* By name, as --cursor spells them: the portal's bits mean nothing to
     * whoever reads the log. */
    const gchar *names[] = { "hidden", "embedded", "metadata" };
    g_autoptr (GString) offered = g_string_new (NULL);
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (available & (1u << i))
        g_string_append_printf (
            offered, "%s%s", offered->len ? ", " : "", names[i]);
    g_printerr ("zerocast: the portal does not offer cursor mode %s (it "
                "offers %s): using %s\n",
        names[MIN (cursor_mode, 2)], offered->str,
        names[g_bit_nth_lsf (cursor, -1)]);
  }

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&opts, "{sv}", "types", g_variant_new_uint32 (1));
  g_variant_builder_add (
      &opts, "{sv}", "multiple", g_variant_new_boolean (FALSE));
  g_variant_builder_add (
      &opts, "{sv}", "cursor_mode", g_variant_new_uint32 (cursor));
  if (persist) {
    g_variant_builder_add (&opts, "{sv}", "persist_mode",
        g_variant_new_uint32 (PERSIST_UNTIL_REVOKED));
    if (self->restore_token) {
      g_variant_builder_add (&opts, "{sv}", "restore_token",
          g_variant_new_string (self->restore_token));
      self->restored = TRUE;
    }
  }
  results = portal_request (self->bus, SCREENCAST_IFACE, "SelectSources",
      g_variant_new ("(oa{sv})", self->session_handle, &opts), token,
      self->timeout_us, &self->response, error);
  return results != NULL;
}

/* RemoteDesktop.SelectDevices: the devices @types, remembered with the
 * screen (persist_mode, restore_token) from RemoteDesktop version 2. */
static gboolean
select_devices (
    ZcPortalSession *self, guint32 types, guint32 version, GError **error)
{
  g_autofree gchar *token = new_token ();
  g_autoptr (GVariant) results = NULL;
  GVariantBuilder opts;

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&opts, "{sv}", "types", g_variant_new_uint32 (types));
  if (version >= RD_RESTORE_MIN_VERSION) {
    g_variant_builder_add (&opts, "{sv}", "persist_mode",
        g_variant_new_uint32 (PERSIST_UNTIL_REVOKED));
    if (self->rd_restore_token) {
      g_variant_builder_add (&opts, "{sv}", "restore_token",
          g_variant_new_string (self->rd_restore_token));
      self->restored = TRUE;
    }
  }
  results = portal_request (self->bus, RD_IFACE, "SelectDevices",
      g_variant_new ("(oa{sv})", self->session_handle, &opts), token,
      self->timeout_us, &self->response, error);
  return results != NULL;
}

static gboolean
token_is_valid (const gchar *token)
{
  return token != NULL && *token != '\0' && strlen (token) <= MAX_TOKEN_LEN
      && g_str_is_ascii (token) && strpbrk (token, " \t\n\r") == NULL;
}

gboolean
zc_portal_parse_start_results (GVariant *results, guint32 *node_id,
    guint32 *devices, gchar **restore_token, GError **error)
{
  g_autoptr (GVariant) streams = NULL;
  g_autoptr (GVariant) granted = NULL;
  g_autoptr (GVariant) token = NULL;

  *node_id = 0;
  *devices = 0;
  *restore_token = NULL;
  if (results == NULL
      || !g_variant_is_of_type (results, G_VARIANT_TYPE_VARDICT)) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal's Start answered with no results dictionary");
    return FALSE;
  }
  streams =
      g_variant_lookup_value (results, "streams", G_VARIANT_TYPE ("a(ua{sv})"));
  if (streams == NULL || g_variant_n_children (streams) == 0) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal started a session without a stream");
    return FALSE;
  }
  /* One monitor was asked for ("multiple" false): the first is it. */
  g_variant_get_child (streams, 0, "(u@a{sv})", node_id, NULL);
  /* RemoteDesktop's answer says which of the devices asked for were
   * granted; anything else in the mask is not a device we know. A
   * missing or mistyped member grants nothing. */
  granted = g_variant_lookup_value (results, "devices", G_VARIANT_TYPE_UINT32);
  if (granted)
    *devices = g_variant_get_uint32 (granted) & ZC_PORTAL_DEVICE_ALL;
  token =
      g_variant_lookup_value (results, "restore_token", G_VARIANT_TYPE_STRING);
  if (token && token_is_valid (g_variant_get_string (token, NULL)))
    *restore_token = g_variant_dup_string (token, NULL);
  return TRUE;
}

static gboolean
start (ZcPortalSession *self, const gchar *iface, GError **error)
{
  g_autofree gchar *token = new_token ();
  g_autoptr (GVariant) results = NULL;
  g_autofree gchar *restore = NULL;
  gboolean remote_desktop = g_strcmp0 (iface, RD_IFACE) == 0;
  GVariantBuilder opts;

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &opts, "{sv}", "handle_token", g_variant_new_string (token));
  results = portal_request (self->bus, iface, "Start",
      g_variant_new ("(osa{sv})", self->session_handle, "", &opts), token,
      self->timeout_us, &self->response, error);
  if (results == NULL
      || !zc_portal_parse_start_results (
          results, &self->node_id, &self->devices, &restore, error))
    return FALSE;
  if (!remote_desktop)
    self->devices = 0;

  if (remote_desktop)
    self->rd_token_kept = restore != NULL;
  /* A new token replaces the old one: each is good for one restore. */
  if (restore) {
    gchar **slot =
        remote_desktop ? &self->rd_restore_token : &self->restore_token;

    g_free (*slot);
    *slot = g_steal_pointer (&restore);
    save_token (remote_desktop ? self->rd_token_path : self->token_path, *slot);
  }
  return TRUE;
}

static void
set_no_input_reason (ZcPortalSession *self, gchar *reason)
{
  g_free (self->no_input_reason);
  self->no_input_reason = reason;
}

/* RemoteDesktop with the screen on the same session, when the portal
 * offers it. Returns FALSE with @error only when it was tried and
 * failed; TRUE without a session when there is no RemoteDesktop to try
 * (the reason is kept for the log and ConnectionComplete). */
static gboolean
open_remote_desktop (ZcPortalSession *self, guint cursor_mode, GError **error)
{
  g_autoptr (GError) missing = NULL;
  guint32 version = 0, available = 0;

  if (!portal_property (self->bus, RD_IFACE, "version", &version,
          self->timeout_us, &missing)) {
    GST_INFO ("no RemoteDesktop portal: %s", missing->message);
    set_no_input_reason (self, g_strdup ("the portal offers no RemoteDesktop"));
    return TRUE;
  }
  if (!portal_property (self->bus, RD_IFACE, "AvailableDeviceTypes", &available,
          self->timeout_us, NULL))
    available = ZC_PORTAL_DEVICE_ALL; /* ask; Start says what we got */
  available &= ZC_PORTAL_DEVICE_ALL;
  GST_INFO ("RemoteDesktop portal version %u, devices 0x%x, restore token "
            "%s",
      version, available, self->rd_restore_token ? "present" : "none");
  if (available == 0) {
    set_no_input_reason (
        self, g_strdup ("the portal's RemoteDesktop offers no input devices"));
    return TRUE;
  }
  if (!create_session (self, RD_IFACE, error)
      || !select_devices (self, available, version, error)
      || !select_sources (self, cursor_mode, FALSE, error)
      || !start (self, RD_IFACE, error))
    return FALSE;
  if (self->devices == 0) {
    set_no_input_reason (self,
        g_strdup ("the portal's RemoteDesktop granted no input devices "
                  "(remote interaction was not allowed)"));
    /* The portal remembers this choice with the screen, and the next run
     * restores it without a dialog: say how to be asked again, or a
     * person who once left interaction off could never turn it on. */
    if (self->rd_token_path && self->rd_token_kept)
      g_printerr ("zerocast: %s the screen without remote interaction; to "
                  "be asked again, remove %s\n",
          self->restored ? "the portal restored an earlier choice to share"
                         : "the portal keeps this choice to share",
          self->rd_token_path);
  }
  return TRUE;
}

ZcPortalSession *
zc_portal_session_open (
    GDBusConnection *bus, const ZcPortalOptions *options, GError **error)
{
  g_autoptr (ZcPortalSession) self = g_new0 (ZcPortalSession, 1);
  g_autoptr (GError) version_error = NULL;
  guint32 version = 0;

  debug_init ();
  self->bus = g_object_ref (bus);
  self->timeout_us = options->timeout_us;
  if (options->restore_token_path == NULL)
    self->token_path = g_build_filename (
        g_get_user_state_dir (), "zerocast", "portal-restore-token", NULL);
  else if (*options->restore_token_path != '\0')
    self->token_path = g_strdup (options->restore_token_path);
  /* A RemoteDesktop token is kept apart: the portal stores the two kinds
   * in different tables, and either may be the one used next time. */
  if (self->token_path)
    self->rd_token_path =
        g_strconcat (self->token_path, "-remote-desktop", NULL);
  self->restore_token = load_token (self->token_path);
  self->rd_restore_token = load_token (self->rd_token_path);

  if (!portal_present (bus, error))
    return NULL;
  if (!portal_property (bus, SCREENCAST_IFACE, "version", &version,
          self->timeout_us, &version_error)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "xdg-desktop-portal runs but no backend offers ScreenCast (%s): "
        "install and start the one for this desktop "
        "(xdg-desktop-portal-wlr for Sway and other wlroots compositors, "
        "-gnome for GNOME, -kde for KDE) and check that XDG_CURRENT_DESKTOP "
        "names it",
        version_error->message);
    return NULL;
  }
  GST_INFO ("ScreenCast portal version %u, restore token %s", version,
      self->restore_token ? "present" : "none");

  if (options->remote_desktop) {
    g_autoptr (GError) rd_error = NULL;

    if (!open_remote_desktop (self, options->cursor_mode, &rd_error)) {
      /* The person said no, or a dialog is still waiting for them:
       * asking again for the screen alone would put a second dialog in
       * front of them. A backend that failed or refused the call falls
       * back. */
      if (self->response != 2 && self->response != RESPONSE_CALL_FAILED) {
        g_propagate_error (error, g_steal_pointer (&rd_error));
        return NULL;
      }
      g_dbus_error_strip_remote_error (rd_error);
      set_no_input_reason (self,
          g_strdup_printf (
              "the portal's RemoteDesktop failed: %s", rd_error->message));
      g_printerr ("zerocast: %s; asking for the screen alone (view-only)\n",
          self->no_input_reason);
      drop_session (self);
    }
  } else {
    set_no_input_reason (self, g_strdup ("input was not asked for"));
  }

  if (self->session_handle == NULL
      && (!create_session (self, SCREENCAST_IFACE, error)
          || !select_sources (
              self, options->cursor_mode, version >= RESTORE_MIN_VERSION, error)
          || !start (self, SCREENCAST_IFACE, error)))
    return NULL;
  if (self->devices != 0)
    g_clear_pointer (&self->no_input_reason, g_free);
  self->name_watch = g_bus_watch_name_on_connection (bus, PORTAL_NAME,
      G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_portal_vanished, self, NULL);
  return g_steal_pointer (&self);
}

gint
zc_portal_session_open_remote (ZcPortalSession *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  GVariantBuilder opts;
  gint32 fd_index = -1;

  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (self->bus, PORTAL_NAME,
      PORTAL_PATH, SCREENCAST_IFACE, "OpenPipeWireRemote",
      g_variant_new ("(oa{sv})", self->session_handle, &opts),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE,
      (gint) (self->timeout_us / 1000), NULL, &fds, NULL, error);
  if (reply == NULL) {
    g_prefix_error (error, "portal OpenPipeWireRemote failed: ");
    return -1;
  }
  g_variant_get (reply, "(h)", &fd_index);
  if (fds == NULL || fd_index < 0
      || fd_index >= g_unix_fd_list_get_length (fds)) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the portal's OpenPipeWireRemote returned no fd");
    return -1;
  }
  return g_unix_fd_list_get (fds, fd_index, error);
}

guint32
zc_portal_session_get_node_id (ZcPortalSession *self)
{
  return self->node_id;
}

const gchar *
zc_portal_session_get_restore_token (ZcPortalSession *self)
{
  return self->restore_token;
}

gboolean
zc_portal_session_was_restored (ZcPortalSession *self)
{
  return self->restored;
}

guint32
zc_portal_session_get_devices (ZcPortalSession *self)
{
  return self->devices;
}

const gchar *
zc_portal_session_get_no_input_reason (ZcPortalSession *self)
{
  return self->devices ? NULL : self->no_input_reason;
}

const gchar *
zc_portal_session_get_handle (ZcPortalSession *self)
{
  return self->session_handle;
}

GDBusConnection *
zc_portal_session_get_bus (ZcPortalSession *self)
{
  return self->bus;
}

void
zc_portal_session_set_closed_func (
    ZcPortalSession *self, ZcPortalClosedFunc func, gpointer user_data)
{
  self->closed = func;
  self->closed_data = user_data;
}

void
zc_portal_session_free (ZcPortalSession *self)
{
  if (self == NULL)
    return;
  if (self->name_watch)
    g_bus_unwatch_name (self->name_watch);
  if (self->closed_sub)
    g_dbus_connection_signal_unsubscribe (self->bus, self->closed_sub);
  if (self->session_handle && !self->ended
      && !g_dbus_connection_is_closed (self->bus))
    g_dbus_connection_call (self->bus, PORTAL_NAME, self->session_handle,
        SESSION_IFACE, "Close", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
        NULL, NULL);
  g_free (self->session_handle);
  g_free (self->token_path);
  g_free (self->restore_token);
  g_free (self->rd_token_path);
  g_free (self->rd_restore_token);
  g_free (self->no_input_reason);
  g_object_unref (self->bus);
  g_free (self);
}
