/* zerocast: a client of org.gnome.Mutter.ScreenCast.
 *
 * CreateSession -> RecordMonitor/RecordVirtual -> (subscribe to the
 * stream's PipeWireStreamAdded) -> Start -> node id. Mutter ties the
 * session to our D-Bus connection: it closes it when the connection goes,
 * so the process that owns the connection owns the session.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-mutter-session.h"

#include "zc-error.h"

#define SC_NAME "org.gnome.Mutter.ScreenCast"
#define SC_PATH "/org/gnome/Mutter/ScreenCast"
#define SC_IFACE "org.gnome.Mutter.ScreenCast"
#define SESSION_IFACE "org.gnome.Mutter.ScreenCast.Session"
#define STREAM_IFACE "org.gnome.Mutter.ScreenCast.Stream"
#define RD_NAME "org.gnome.Mutter.RemoteDesktop"
#define RD_PATH "/org/gnome/Mutter/RemoteDesktop"
#define RD_IFACE "org.gnome.Mutter.RemoteDesktop"
#define RD_SESSION_IFACE "org.gnome.Mutter.RemoteDesktop.Session"
#define CALL_TIMEOUT_MS 10000

struct _ZcMutterSession
{
  GDBusConnection *bus;
  GMainContext *context; /* where our signals are delivered */
  gchar *session_path;
  gchar *stream_path;
  /* The RemoteDesktop session this ScreenCast session is linked to, or
   * NULL: when linked, Start and Stop go to it, and it closing closes
   * both. */
  gchar *rd_session_path;
  guint closed_sub, stream_sub, name_watch, rd_closed_sub;
  gboolean name_seen, started, closed;
  guint32 node_id;
  ZcMutterSessionClosedFunc closed_cb;
  gpointer closed_data;
};

static GVariant *
call (ZcMutterSession *self, const gchar *path, const gchar *iface,
    const gchar *method, GVariant *args, const GVariantType *reply_type,
    GError **error)
{
  GVariant *reply;

  reply = g_dbus_connection_call_sync (self->bus, SC_NAME, path, iface, method,
      args, reply_type, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL) {
    if (error && *error)
      g_dbus_error_strip_remote_error (*error);
    g_prefix_error (error, "Mutter ScreenCast %s failed: ", method);
  }
  return reply;
}

static void
mark_closed (ZcMutterSession *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  if (self->closed_cb)
    self->closed_cb (self, self->closed_data);
}

static void
on_session_closed (GDBusConnection *bus, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params,
    gpointer user_data)
{
  mark_closed (user_data);
}

static void
on_stream_added (GDBusConnection *bus, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params,
    gpointer user_data)
{
  ZcMutterSession *self = user_data;

  if (g_variant_is_of_type (params, G_VARIANT_TYPE ("(u)")))
    g_variant_get (params, "(u)", &self->node_id);
}

static void
on_name_appeared (GDBusConnection *bus, const gchar *name, const gchar *owner,
    gpointer user_data)
{
  ZcMutterSession *self = user_data;

  self->name_seen = TRUE;
}

static void
on_name_vanished (GDBusConnection *bus, const gchar *name, gpointer user_data)
{
  ZcMutterSession *self = user_data;

  /* Mutter quit or crashed: our session went with it. */
  if (self->name_seen || bus == NULL || g_dbus_connection_is_closed (bus))
    mark_closed (self);
}

/* RemoteDesktop.CreateSession, then the new session's SessionId, which
 * ScreenCast.CreateSession takes to link the two. */
static gchar *
create_remote_desktop (ZcMutterSession *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL, prop = NULL, value = NULL;

  reply = g_dbus_connection_call_sync (self->bus, RD_NAME, RD_PATH, RD_IFACE,
      "CreateSession", NULL, G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
      CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL) {
    if (error && *error)
      g_dbus_error_strip_remote_error (*error);
    g_prefix_error (error, "Mutter RemoteDesktop CreateSession failed: ");
    return NULL;
  }
  g_variant_get (reply, "(o)", &self->rd_session_path);
  self->rd_closed_sub = g_dbus_connection_signal_subscribe (self->bus, RD_NAME,
      RD_SESSION_IFACE, "Closed", self->rd_session_path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_session_closed, self, NULL);
  prop = g_dbus_connection_call_sync (self->bus, RD_NAME, self->rd_session_path,
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", RD_SESSION_IFACE, "SessionId"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
      error);
  if (prop == NULL) {
    if (error && *error)
      g_dbus_error_strip_remote_error (*error);
    g_prefix_error (error, "reading the RemoteDesktop SessionId: ");
    return NULL;
  }
  g_variant_get (prop, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the RemoteDesktop SessionId is not a string");
    return NULL;
  }
  return g_variant_dup_string (value, NULL);
}

static ZcMutterSession *
session_new (GDBusConnection *bus, gboolean remote_desktop, GError **error)
{
  ZcMutterSession *self;
  g_autoptr (GVariant) reply = NULL;
  g_autofree gchar *rd_id = NULL;
  GVariantBuilder props;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);

  self = g_new0 (ZcMutterSession, 1);
  self->bus = g_object_ref (bus);
  self->context = g_main_context_ref_thread_default ();
  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  if (remote_desktop) {
    rd_id = create_remote_desktop (self, error);
    if (rd_id == NULL) {
      zc_mutter_session_free (self);
      return NULL;
    }
    g_variant_builder_add (&props, "{sv}", "remote-desktop-session-id",
        g_variant_new_string (rd_id));
  }
  reply = call (self, SC_PATH, SC_IFACE, "CreateSession",
      g_variant_new ("(a{sv})", &props), G_VARIANT_TYPE ("(o)"), error);
  if (reply == NULL) {
    g_prefix_error (error,
        "is Mutter running with its ScreenCast API on "
        "this bus? ");
    zc_mutter_session_free (self);
    return NULL;
  }
  g_variant_get (reply, "(o)", &self->session_path);

  self->closed_sub = g_dbus_connection_signal_subscribe (bus, SC_NAME,
      SESSION_IFACE, "Closed", self->session_path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_session_closed, self, NULL);
  self->name_watch = g_bus_watch_name_on_connection (bus, SC_NAME,
      G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared, on_name_vanished, self,
      NULL);
  return self;
}

ZcMutterSession *
zc_mutter_session_new (GDBusConnection *bus, GError **error)
{
  return session_new (bus, FALSE, error);
}

ZcMutterSession *
zc_mutter_session_new_remote_desktop (GDBusConnection *bus, GError **error)
{
  return session_new (bus, TRUE, error);
}

const gchar *
zc_mutter_session_get_remote_desktop_path (ZcMutterSession *self)
{
  return self->rd_session_path;
}

const gchar *
zc_mutter_session_get_stream_path (ZcMutterSession *self)
{
  return self->stream_path;
}

GDBusConnection *
zc_mutter_session_get_bus (ZcMutterSession *self)
{
  return self->bus;
}

static gboolean
record_done (ZcMutterSession *self, GVariant *reply)
{
  g_variant_get (reply, "(o)", &self->stream_path);
  /* Subscribe before Start(): the signal comes right after it. */
  self->stream_sub = g_dbus_connection_signal_subscribe (self->bus, SC_NAME,
      STREAM_IFACE, "PipeWireStreamAdded", self->stream_path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_stream_added, self, NULL);
  return TRUE;
}

static gboolean
check_can_record (ZcMutterSession *self, GError **error)
{
  if (self->stream_path) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "this ScreenCast session already records a stream: create another "
        "session for a second one");
    return FALSE;
  }
  if (self->closed) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the ScreenCast session was closed by Mutter");
    return FALSE;
  }
  return TRUE;
}

GVariant *
zc_mutter_display_state (GDBusConnection *bus, gint timeout_ms, GError **error)
{
  return g_dbus_connection_call_sync (bus, "org.gnome.Mutter.DisplayConfig",
      "/org/gnome/Mutter/DisplayConfig", "org.gnome.Mutter.DisplayConfig",
      "GetCurrentState", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, timeout_ms, NULL,
      error);
}

/* The connector of the first monitor Mutter reports. */
static gchar *
first_connector (ZcMutterSession *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL, monitors = NULL;
  gchar *connector = NULL;

  reply = zc_mutter_display_state (self->bus, CALL_TIMEOUT_MS, error);
  if (reply == NULL) {
    g_prefix_error (error,
        "cannot list monitors (DisplayConfig."
        "GetCurrentState): ");
    return NULL;
  }
  monitors = g_variant_get_child_value (reply, 1);
  if (g_variant_n_children (monitors) > 0)
    /* monitors: a((ssss)a(siiddada{sv})a{sv}); (ssss) starts with the
     * connector name. */
    g_variant_get_child (monitors, 0, "((ssss)@a(siiddada{sv})@a{sv})",
        &connector, NULL, NULL, NULL, NULL, NULL);
  if (connector == NULL)
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "Mutter reports no monitor to record: start it with "
        "--virtual-monitor WxH when headless");
  return connector;
}

gboolean
zc_mutter_session_record_monitor (ZcMutterSession *self, const gchar *connector,
    guint cursor_mode, GError **error)
{
  g_autofree gchar *first = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariantBuilder props;

  if (!check_can_record (self, error))
    return FALSE;
  if (connector == NULL || connector[0] == '\0') {
    if ((first = first_connector (self, error)) == NULL)
      return FALSE;
    connector = first;
  }
  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &props, "{sv}", "cursor-mode", g_variant_new_uint32 (cursor_mode));
  reply = call (self, self->session_path, SESSION_IFACE, "RecordMonitor",
      g_variant_new ("(sa{sv})", connector, &props), G_VARIANT_TYPE ("(o)"),
      error);
  if (reply == NULL) {
    g_prefix_error (error, "monitor '%s': ", connector);
    return FALSE;
  }
  return record_done (self, reply);
}

gboolean
zc_mutter_session_record_virtual (
    ZcMutterSession *self, guint cursor_mode, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariantBuilder props;

  if (!check_can_record (self, error))
    return FALSE;
  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (
      &props, "{sv}", "cursor-mode", g_variant_new_uint32 (cursor_mode));
  reply = call (self, self->session_path, SESSION_IFACE, "RecordVirtual",
      g_variant_new ("(a{sv})", &props), G_VARIANT_TYPE ("(o)"), error);
  if (reply == NULL)
    return FALSE;
  return record_done (self, reply);
}

gboolean
zc_mutter_session_start (ZcMutterSession *self, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  if (self->stream_path == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "nothing to start: call record_monitor or record_virtual first");
    return FALSE;
  }
  if (self->closed) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the ScreenCast session was closed by Mutter");
    return FALSE;
  }
  if (self->rd_session_path) {
    /* A linked pair starts (and stops) through its RemoteDesktop side. */
    reply = g_dbus_connection_call_sync (self->bus, RD_NAME,
        self->rd_session_path, RD_SESSION_IFACE, "Start", NULL, NULL,
        G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
    if (reply == NULL) {
      if (error && *error)
        g_dbus_error_strip_remote_error (*error);
      g_prefix_error (error, "Mutter RemoteDesktop Start failed: ");
      return FALSE;
    }
  } else {
    reply = call (
        self, self->session_path, SESSION_IFACE, "Start", NULL, NULL, error);
    if (reply == NULL)
      return FALSE;
  }
  self->started = TRUE;
  return TRUE;
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

guint32
zc_mutter_session_wait_node (
    ZcMutterSession *self, gint64 timeout_us, GError **error)
{
  gboolean expired = FALSE;
  GSource *timer;

  if (!self->started) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "the ScreenCast session is not started: call start first");
    return 0;
  }
  timer = g_timeout_source_new (MAX (timeout_us / 1000, 1));
  g_source_set_callback (timer, on_deadline, &expired, NULL);
  g_source_attach (timer, self->context);
  while (self->node_id == 0 && !self->closed && !expired)
    g_main_context_iteration (self->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);

  if (self->node_id != 0)
    return self->node_id;
  if (self->closed)
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_NODE,
        "the ScreenCast session was closed before its PipeWire stream "
        "appeared");
  else
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_NODE,
        "no PipeWireStreamAdded from Mutter within %" G_GINT64_FORMAT
        " ms: is PipeWire running on Mutter's session?",
        timeout_us / 1000);
  return 0;
}

void
zc_mutter_session_set_closed_callback (ZcMutterSession *self,
    ZcMutterSessionClosedFunc callback, gpointer user_data)
{
  self->closed_cb = callback;
  self->closed_data = user_data;
}

gboolean
zc_mutter_session_is_closed (ZcMutterSession *self)
{
  return self->closed;
}

void
zc_mutter_session_free (ZcMutterSession *self)
{
  if (self == NULL)
    return;
  /* Unsubscribe first: our own Stop() must not look like Mutter closing
   * the session to the callback. */
  if (self->closed_sub)
    g_dbus_connection_signal_unsubscribe (self->bus, self->closed_sub);
  if (self->stream_sub)
    g_dbus_connection_signal_unsubscribe (self->bus, self->stream_sub);
  if (self->rd_closed_sub)
    g_dbus_connection_signal_unsubscribe (self->bus, self->rd_closed_sub);
  if (self->name_watch)
    g_bus_unwatch_name (self->name_watch);
  if (self->rd_session_path && !self->closed
      && !g_dbus_connection_is_closed (self->bus)) {
    /* Stopped or not, a RemoteDesktop session exists from CreateSession
     * on: stop it (which stops its ScreenCast session too). */
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) reply = g_dbus_connection_call_sync (self->bus,
        RD_NAME, self->rd_session_path, RD_SESSION_IFACE, "Stop", NULL, NULL,
        G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
    if (reply == NULL)
      g_debug ("RemoteDesktop Stop: %s", error->message);
  } else if (self->started && !self->closed
      && !g_dbus_connection_is_closed (self->bus)) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) reply = call (
        self, self->session_path, SESSION_IFACE, "Stop", NULL, NULL, &error);
    if (reply == NULL)
      g_debug ("%s", error->message);
  }
  g_object_unref (self->bus);
  g_main_context_unref (self->context);
  g_free (self->session_path);
  g_free (self->stream_path);
  g_free (self->rd_session_path);
  g_free (self);
}
