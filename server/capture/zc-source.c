/* zerocast server: opening the desktop source.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-source.h"

#include <gio/gio.h>

#include "zc-headless.h"
#include "zc-input-mutter.h"
#include "zc-input-portal.h"
#include "zc-input-wlr.h"
#include "zc-mutter-session.h"
#include "zc-portal.h"
#include "zc-server-error.h"

struct _ZcSource
{
  ZcSourceOptions options;
  ZcHeadless *headless;
  GDBusConnection *bus;
  ZcMutterSession *mutter;
  ZcPortalSession *portal;
  guint32 node_id;
  gchar *monitor; /* --monitor, kept to record it again */
  gchar *description;
  ZcSourceClosedFunc closed;
  gpointer closed_data;
};

static void
on_mutter_closed (ZcMutterSession *session, gpointer user_data)
{
  ZcSource *self = user_data;

  g_printerr ("zerocast: the Mutter ScreenCast session was closed\n");
  if (self->closed)
    self->closed (self, self->closed_data);
}

/* Creates the ScreenCast session on @bus and waits for its node. The
 * session lives as long as this process keeps @bus open. */
static gboolean
open_mutter (ZcSource *self, GError **error)
{
  const ZcSourceOptions *o = &self->options;
  gboolean ok;

  if (!o->view_only) {
    g_autoptr (GError) rd_error = NULL;

    /* Linked to a RemoteDesktop session, so viewers' input lands on the
     * very stream they watch; a Mutter without the API still streams. */
    self->mutter = zc_mutter_session_new_remote_desktop (self->bus, &rd_error);
    if (self->mutter == NULL)
      g_printerr (
          "zerocast: no input: %s; streaming view-only\n", rd_error->message);
  }
  if (self->mutter == NULL)
    self->mutter = zc_mutter_session_new (self->bus, error);
  if (self->mutter == NULL)
    goto failed;
  if (o->virtual_monitor)
    ok = zc_mutter_session_record_virtual (self->mutter, o->cursor_mode, error);
  else
    ok = zc_mutter_session_record_monitor (
        self->mutter, o->monitor, o->cursor_mode, error);
  if (!ok || !zc_mutter_session_start (self->mutter, error))
    goto failed;
  self->node_id =
      zc_mutter_session_wait_node (self->mutter, o->timeout_us, error);
  if (self->node_id == 0)
    goto failed;
  zc_mutter_session_set_closed_callback (self->mutter, on_mutter_closed, self);
  return TRUE;

failed:
  g_prefix_error (error, "Mutter ScreenCast: ");
  return FALSE;
}

static gboolean
connect_headless_bus (ZcSource *self, GError **error)
{
  const gchar *address =
      zc_headless_get_env (self->headless, "DBUS_SESSION_BUS_ADDRESS");

  self->bus = g_dbus_connection_new_for_address_sync (address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, error);
  if (self->bus == NULL) {
    g_prefix_error (error, "connecting to the headless desktop's bus: ");
    return FALSE;
  }
  /* Mutter dying must not take this process with it. */
  g_dbus_connection_set_exit_on_close (self->bus, FALSE);
  return TRUE;
}

/* pipewiresrc connects to the PipeWire these variables point at. */
static void
export_headless_env (ZcSource *self)
{
  const gchar *vars[] = { "XDG_RUNTIME_DIR", "PIPEWIRE_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY" };

  for (guint i = 0; i < G_N_ELEMENTS (vars); i++) {
    const gchar *v = zc_headless_get_env (self->headless, vars[i]);
    if (v)
      g_setenv (vars[i], v, TRUE);
  }
}

static gboolean
open_headless (ZcSource *self, GError **error)
{
  const ZcSourceOptions *o = &self->options;
  ZcHeadlessOptions hopts = {
    .mutter = TRUE,
    .width = o->width,
    .height = o->height,
    .colour_client = !o->shell,
    .shell = o->shell,
    /* Its only monitor is the ScreenCast's virtual one, so the desktop
     * takes the size the pipeline asks (a lone viewer's). */
    .virtual_only = TRUE,
    .timeout_us = o->timeout_us,
  };

  self->headless = zc_headless_start (&hopts, error);
  if (self->headless == NULL) {
    g_prefix_error (error, "starting the headless desktop: ");
    return FALSE;
  }
  export_headless_env (self);
  return connect_headless_bus (self, error) && open_mutter (self, error);
}

/* ---- the portal (--portal, --sway) ---- */

static void
on_portal_closed (ZcPortalSession *session, const gchar *why, gpointer data)
{
  ZcSource *self = data;

  g_printerr ("zerocast: %s\n", why);
  if (self->closed)
    self->closed (self, self->closed_data);
}

static gboolean
open_portal (ZcSource *self, GError **error)
{
  ZcPortalOptions popts = {
    .cursor_mode = self->options.cursor_mode,
    .timeout_us = self->options.timeout_us,
    /* --sway injects through wlroots' virtual devices instead. */
    .remote_desktop =
        self->options.kind == ZC_SOURCE_PORTAL && !self->options.view_only,
  };

  self->portal = zc_portal_session_open (self->bus, &popts, error);
  if (self->portal == NULL)
    return FALSE;
  self->node_id = zc_portal_session_get_node_id (self->portal);
  zc_portal_session_set_closed_func (self->portal, on_portal_closed, self);
  return TRUE;
}

static gboolean
open_sway (ZcSource *self, GError **error)
{
  const ZcSourceOptions *o = &self->options;
  ZcHeadlessOptions hopts = {
    .sway = TRUE,
    .terminal = TRUE,
    .width = o->width,
    .height = o->height,
    .timeout_us = o->timeout_us,
  };

  self->headless = zc_headless_start (&hopts, error);
  if (self->headless == NULL) {
    g_prefix_error (error, "starting the headless Sway desktop: ");
    return FALSE;
  }
  export_headless_env (self);
  if (!connect_headless_bus (self, error))
    return FALSE;
  if (!open_portal (self, error)) {
    g_prefix_error (error, "the headless Sway's ScreenCast portal: ");
    return FALSE;
  }
  return TRUE;
}

static void
describe (ZcSource *self)
{
  const ZcSourceOptions *o = &self->options;

  g_free (self->description);
  if (o->kind == ZC_SOURCE_SWAY)
    self->description = g_strdup_printf ("headless Sway %ux%u through the "
                                         "ScreenCast portal, node %u",
        o->width, o->height, self->node_id);
  else if (o->kind == ZC_SOURCE_PORTAL)
    self->description =
        g_strdup_printf ("xdg-desktop-portal ScreenCast%s, node %u",
            zc_portal_session_was_restored (self->portal) ? " (restored)" : "",
            self->node_id);
  else if (o->kind == ZC_SOURCE_HEADLESS)
    self->description = g_strdup_printf ("headless %s %ux%u, node %u",
        o->shell ? "GNOME Shell" : "Mutter", o->width, o->height,
        self->node_id);
  else
    self->description = g_strdup_printf ("Mutter ScreenCast (%s), node %u",
        o->virtual_monitor  ? "virtual monitor"
            : self->monitor ? self->monitor
                            : "first monitor",
        self->node_id);
}

gboolean
zc_source_can_restart (ZcSource *self)
{
  return self->options.kind == ZC_SOURCE_HEADLESS
      || self->options.kind == ZC_SOURCE_MUTTER
      || self->options.kind == ZC_SOURCE_PORTAL
      || self->options.kind == ZC_SOURCE_SWAY;
}

/* --portal: a new session, restored from the token where the portal gave
 * one (so nobody is asked again); --sway: the same on its private desktop
 * while Sway and its bus live, else the whole desktop again. */
static gboolean
restart_portal (ZcSource *self, GError **error)
{
  g_clear_pointer (&self->portal, zc_portal_session_free);
  self->node_id = 0;
  if (self->options.kind == ZC_SOURCE_SWAY) {
    g_autoptr (GError) session_error = NULL;

    if (zc_headless_is_running (self->headless) && self->bus
        && !g_dbus_connection_is_closed (self->bus)) {
      if (open_portal (self, &session_error)) {
        describe (self);
        return TRUE;
      }
      g_printerr ("zerocast: a new portal session on the running Sway "
                  "failed (%s); restarting the desktop\n",
          session_error->message);
      g_clear_pointer (&self->portal, zc_portal_session_free);
    }
    g_clear_object (&self->bus);
    if (!zc_headless_restart (self->headless, error)) {
      g_prefix_error (error, "restarting the headless Sway desktop: ");
      return FALSE;
    }
    /* Sway may have picked another socket name. */
    export_headless_env (self);
    if (!connect_headless_bus (self, error))
      return FALSE;
    if (!open_portal (self, error))
      return FALSE;
  } else {
    if (self->bus == NULL || g_dbus_connection_is_closed (self->bus)) {
      g_clear_object (&self->bus);
      self->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
      if (self->bus == NULL) {
        g_prefix_error (error, "--portal needs the desktop's session bus: ");
        return FALSE;
      }
      g_dbus_connection_set_exit_on_close (self->bus, FALSE);
    }
    if (!open_portal (self, error))
      return FALSE;
  }
  describe (self);
  return TRUE;
}

gboolean
zc_source_restart (ZcSource *self, GError **error)
{
  g_return_val_if_fail (zc_source_can_restart (self), FALSE);

  if (self->options.kind == ZC_SOURCE_PORTAL
      || self->options.kind == ZC_SOURCE_SWAY)
    return restart_portal (self, error);

  /* The old session first: freeing it unsubscribes its signals, so its
   * end is not reported again. */
  g_clear_pointer (&self->mutter, zc_mutter_session_free);
  self->node_id = 0;
  if (self->options.kind == ZC_SOURCE_HEADLESS) {
    g_autoptr (GError) session_error = NULL;

    /* Only the session ended (its node was destroyed, the monitor
     * changed): a new one on the same desktop keeps the desktop's state,
     * its new size included. */
    if (zc_headless_is_running (self->headless) && self->bus
        && !g_dbus_connection_is_closed (self->bus)) {
      if (open_mutter (self, &session_error)) {
        describe (self);
        return TRUE;
      }
      g_printerr ("zerocast: a new ScreenCast session on the running "
                  "desktop failed (%s); restarting the desktop\n",
          session_error->message);
      g_clear_pointer (&self->mutter, zc_mutter_session_free);
    }
    g_clear_object (&self->bus);
    if (!zc_headless_restart (self->headless, error)) {
      g_prefix_error (error, "restarting the headless desktop: ");
      return FALSE;
    }
    if (!connect_headless_bus (self, error))
      return FALSE;
  } else if (self->bus == NULL || g_dbus_connection_is_closed (self->bus)) {
    /* The session bus itself went away (the user's session restarted). */
    g_clear_object (&self->bus);
    self->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
    if (self->bus == NULL) {
      g_prefix_error (error, "--mutter needs the desktop's session bus: ");
      return FALSE;
    }
    g_dbus_connection_set_exit_on_close (self->bus, FALSE);
  }
  if (!open_mutter (self, error))
    return FALSE;
  describe (self);
  return TRUE;
}

ZcSource *
zc_source_open (const ZcSourceOptions *options, GError **error)
{
  g_autoptr (ZcSource) self = g_new0 (ZcSource, 1);

  self->options = *options;
  /* The connector string belongs to the caller: --mutter keeps a copy. */
  self->options.monitor = NULL;

  switch (options->kind) {
    case ZC_SOURCE_NODE:
      if (options->node_id == 0) {
        g_set_error_literal (error, ZC_SERVER_ERROR,
            ZC_SERVER_ERROR_INVALID_ARGS,
            "--node-id needs a PipeWire node "
            "id above 0 (see pw-dump or pw-cli ls Node)");
        return NULL;
      }
      self->node_id = options->node_id;
      self->description = g_strdup_printf ("PipeWire node %u", self->node_id);
      break;
    case ZC_SOURCE_MUTTER:
      self->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
      if (self->bus == NULL) {
        g_prefix_error (error, "--mutter needs the desktop's session bus: ");
        return NULL;
      }
      g_dbus_connection_set_exit_on_close (self->bus, FALSE);
      self->monitor = g_strdup (options->monitor);
      self->options.monitor = self->monitor;
      if (!open_mutter (self, error))
        return NULL;
      describe (self);
      break;
    case ZC_SOURCE_PORTAL:
      self->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
      if (self->bus == NULL) {
        g_prefix_error (error, "--portal needs the desktop's session bus: ");
        return NULL;
      }
      g_dbus_connection_set_exit_on_close (self->bus, FALSE);
      if (!open_portal (self, error))
        return NULL;
      describe (self);
      break;
    case ZC_SOURCE_SWAY:
      if (!open_sway (self, error))
        return NULL;
      describe (self);
      break;
    case ZC_SOURCE_HEADLESS:
      self->options.virtual_monitor = TRUE;
      if (!open_headless (self, error))
        return NULL;
      describe (self);
      break;
    case ZC_SOURCE_TEST_PATTERN:
      self->description = g_strdup_printf (
          "test pattern %ux%u", options->width, options->height);
      break;
  }
  return g_steal_pointer (&self);
}

guint32
zc_source_get_node_id (ZcSource *self)
{
  return self->node_id;
}

gboolean
zc_source_open_pipewire_fd (ZcSource *self, gint *fd, GError **error)
{
  *fd = -1;
  if (self->portal == NULL)
    return TRUE;
  *fd = zc_portal_session_open_remote (self->portal, error);
  return *fd >= 0;
}

gboolean
zc_source_is_resizable (ZcSource *self)
{
  return self->options.kind == ZC_SOURCE_TEST_PATTERN
      || ((self->options.kind == ZC_SOURCE_MUTTER
              || self->options.kind == ZC_SOURCE_HEADLESS)
          && self->options.virtual_monitor);
}

void
zc_source_get_size (ZcSource *self, guint *width, guint *height)
{
  gboolean sized = zc_source_is_resizable (self);

  *width = sized ? self->options.width : 0;
  *height = sized ? self->options.height : 0;
}

gboolean
zc_source_finish (ZcSource *self, GError **error)
{
  if (self->headless == NULL || zc_headless_finish (self->headless, error))
    return TRUE;
  g_prefix_error (error, "finishing the headless desktop: ");
  return FALSE;
}

/* Sway's input through its virtual devices. */
static ZcInput *
create_sway_input (ZcSource *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *display = NULL;
  ZcInput *input;

  if (self->headless == NULL)
    return NULL;
  /* An absolute path: the socket is in the desktop's runtime directory,
   * whatever this process's XDG_RUNTIME_DIR says. A compositor without
   * the virtual devices still streams: input is refused, not the desktop. */
  display =
      g_build_filename (zc_headless_get_env (self->headless, "XDG_RUNTIME_DIR"),
          zc_headless_get_env (self->headless, "WAYLAND_DISPLAY"), NULL);
  input = zc_input_wlr_new (display, &error);
  if (input == NULL)
    g_printerr (
        "zerocast: no remote input on this desktop: %s\n", error->message);
  return input;
}

ZcInput *
zc_source_create_input (ZcSource *self)
{
  const gchar *rd, *stream;

  if (self->options.kind == ZC_SOURCE_SWAY)
    return create_sway_input (self);
  if (self->portal != NULL) {
    guint32 devices = zc_portal_session_get_devices (self->portal);

    if (devices == 0)
      return NULL; /* ScreenCast only: see zc_source_no_input_reason */
    return zc_input_portal_new (zc_portal_session_get_bus (self->portal),
        zc_portal_session_get_handle (self->portal), self->node_id, devices);
  }
  if (self->mutter == NULL)
    return NULL; /* --node-id, test pattern */
  rd = zc_mutter_session_get_remote_desktop_path (self->mutter);
  stream = zc_mutter_session_get_stream_path (self->mutter);
  if (rd == NULL || stream == NULL)
    return NULL;
  return zc_input_mutter_new (
      zc_mutter_session_get_bus (self->mutter), rd, stream);
}

const gchar *
zc_source_no_input_reason (ZcSource *self)
{
  if (self->options.view_only)
    return "--view-only";
  switch (self->options.kind) {
    case ZC_SOURCE_NODE:
      return "--node-id streams a node zerocast did not open, with nothing "
             "to inject into";
    case ZC_SOURCE_PORTAL:
      if (self->portal && zc_portal_session_get_no_input_reason (self->portal))
        return zc_portal_session_get_no_input_reason (self->portal);
      return "the portal session has no input devices";
    case ZC_SOURCE_TEST_PATTERN:
      return "a test pattern has no desktop";
    default:
      return "Mutter offers no RemoteDesktop session";
  }
}

const gchar *
zc_source_describe (ZcSource *self)
{
  return self->description;
}

void
zc_source_set_closed_func (
    ZcSource *self, ZcSourceClosedFunc func, gpointer user_data)
{
  self->closed = func;
  self->closed_data = user_data;
}

void
zc_source_close (ZcSource *self)
{
  if (self == NULL)
    return;
  /* Session first (it needs the bus), then the bus, then the processes. */
  g_clear_pointer (&self->mutter, zc_mutter_session_free);
  g_clear_pointer (&self->portal, zc_portal_session_free);
  if (self->bus)
    g_dbus_connection_flush_sync (self->bus, NULL, NULL);
  g_clear_object (&self->bus);
  g_clear_pointer (&self->headless, zc_headless_stop);
  g_free (self->monitor);
  g_free (self->description);
  g_free (self);
}
