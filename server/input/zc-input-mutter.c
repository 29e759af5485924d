/* zerocast server: the Mutter RemoteDesktop input backend.
 *
 * Every event is one D-Bus method call on the RemoteDesktop session
 * (org.gnome.Mutter.RemoteDesktop.Session.Notify*). They go out
 * asynchronously and in order on one connection, so Mutter sees them in
 * the order the viewer sent them and the main loop never waits for it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-input-mutter.h"

#include <gst/gst.h>
#include <linux/input-event-codes.h>

GST_DEBUG_CATEGORY_STATIC (zc_input_mutter_debug);
#define GST_CAT_DEFAULT zc_input_mutter_debug

#define RD_NAME "org.gnome.Mutter.RemoteDesktop"
#define RD_PATH "/org/gnome/Mutter/RemoteDesktop"
#define RD_IFACE "org.gnome.Mutter.RemoteDesktop"
#define RD_SESSION_IFACE "org.gnome.Mutter.RemoteDesktop.Session"

/* org.gnome.Mutter.RemoteDesktop: SupportedDeviceTypes bits and
 * NotifyPointerAxis flags. */
#define DEVICE_KEYBOARD (1 << 0)
#define DEVICE_POINTER (1 << 1)
#define DEVICE_TOUCHSCREEN (1 << 2)
#define AXIS_SOURCE_CONTINUOUS (1 << 3)
#define AXIS_VERTICAL 0
#define AXIS_HORIZONTAL 1
#define MAX_LOGGED_ERRORS 5

typedef struct
{
  ZcInput parent;
  GDBusConnection *bus;
  gchar *session_path;
  gchar *stream_path;
} ZcInputMutter;

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  static guint errors;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (
      G_DBUS_CONNECTION (source), result, &error);

  /* A session Mutter closed fails every call: say so a few times, not at
   * the rate of mouse motion. */
  if (reply == NULL && errors++ < MAX_LOGGED_ERRORS) {
    g_dbus_error_strip_remote_error (error);
    g_printerr ("zerocast: input through Mutter RemoteDesktop failed: %s%s\n",
        error->message,
        errors == MAX_LOGGED_ERRORS ? " (further failures not logged)" : "");
  }
}

static void
notify (ZcInputMutter *self, const gchar *method, GVariant *args)
{
  GST_LOG ("%s %" GST_PTR_FORMAT, method, args);
  g_dbus_connection_call (self->bus, RD_NAME, self->session_path,
      RD_SESSION_IFACE, method, args, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
      NULL, on_reply, NULL);
}

static void
pointer_absolute (
    ZcInput *input, gdouble x, gdouble y, guint width, guint height)
{
  ZcInputMutter *self = (ZcInputMutter *) input;

  notify (self, "NotifyPointerMotionAbsolute",
      g_variant_new ("(sdd)", self->stream_path, x, y));
}

static void
pointer_relative (ZcInput *input, gdouble dx, gdouble dy)
{
  notify ((ZcInputMutter *) input, "NotifyPointerMotionRelative",
      g_variant_new ("(dd)", dx, dy));
}

static void
button (ZcInput *input, guint32 evdev_button, gboolean pressed)
{
  notify ((ZcInputMutter *) input, "NotifyPointerButton",
      g_variant_new ("(ib)", (gint32) evdev_button, pressed));
}

static void
axis (ZcInput *input, gdouble dx, gdouble dy)
{
  notify ((ZcInputMutter *) input, "NotifyPointerAxis",
      /* With a continuous source, Mutter hands the values to clients as
       * they are: they are wl_pointer.axis units already (measured with
       * tests/tools/zc-input-client). */
      g_variant_new ("(ddu)", dx, dy, (guint32) AXIS_SOURCE_CONTINUOUS));
}

static void
axis_discrete (ZcInput *input, gint dx, gint dy)
{
  if (dy != 0)
    notify ((ZcInputMutter *) input, "NotifyPointerAxisDiscrete",
        g_variant_new ("(ui)", (guint32) AXIS_VERTICAL, (gint32) dy));
  if (dx != 0)
    notify ((ZcInputMutter *) input, "NotifyPointerAxisDiscrete",
        g_variant_new ("(ui)", (guint32) AXIS_HORIZONTAL, (gint32) dx));
}

static void
key (ZcInput *input, guint32 evdev_keycode, gboolean pressed)
{
  notify ((ZcInputMutter *) input, "NotifyKeyboardKeycode",
      g_variant_new ("(ub)", evdev_keycode, pressed));
}

static void
keysym (ZcInput *input, guint32 keysym, gboolean pressed)
{
  notify ((ZcInputMutter *) input, "NotifyKeyboardKeysym",
      g_variant_new ("(ub)", keysym, pressed));
}

static void
touch_down (ZcInput *input, guint32 slot, gdouble x, gdouble y, guint width,
    guint height)
{
  ZcInputMutter *self = (ZcInputMutter *) input;

  notify (self, "NotifyTouchDown",
      g_variant_new ("(sudd)", self->stream_path, slot, x, y));
}

static void
touch_motion (ZcInput *input, guint32 slot, gdouble x, gdouble y, guint width,
    guint height)
{
  ZcInputMutter *self = (ZcInputMutter *) input;

  notify (self, "NotifyTouchMotion",
      g_variant_new ("(sudd)", self->stream_path, slot, x, y));
}

static void
touch_up (ZcInput *input, guint32 slot)
{
  notify (
      (ZcInputMutter *) input, "NotifyTouchUp", g_variant_new ("(u)", slot));
}

static void
destroy (ZcInput *input)
{
  ZcInputMutter *self = (ZcInputMutter *) input;

  /* Mutter releases what a session held when the session stops, so no
   * release_all here: the per-viewer layer releases viewers that leave
   * while the session lives. */
  g_object_unref (self->bus);
  g_free (self->session_path);
  g_free (self->stream_path);
  g_free (self);
}

static const ZcInputFuncs funcs = {
  .pointer_absolute = pointer_absolute,
  .pointer_relative = pointer_relative,
  .button = button,
  .axis = axis,
  .axis_discrete = axis_discrete,
  .key = key,
  .keysym = keysym,
  .touch_down = touch_down,
  .touch_motion = touch_motion,
  .touch_up = touch_up,
  .destroy = destroy,
};

static ZcInputCaps
supported_caps (GDBusConnection *bus)
{
  g_autoptr (GVariant) reply = NULL, value = NULL;
  ZcInputCaps caps = ZC_INPUT_CAP_NONE;
  guint32 types;

  reply = g_dbus_connection_call_sync (bus, RD_NAME, RD_PATH,
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", RD_IFACE, "SupportedDeviceTypes"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  if (reply == NULL)
    return ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD; /* Mutter < 3.36 */
  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD;
  types = g_variant_get_uint32 (value);
  if (types & DEVICE_KEYBOARD)
    caps |= ZC_INPUT_CAP_KEYBOARD;
  if (types & DEVICE_POINTER)
    caps |= ZC_INPUT_CAP_POINTER;
  if (types & DEVICE_TOUCHSCREEN)
    caps |= ZC_INPUT_CAP_TOUCH;
  return caps;
}

ZcInput *
zc_input_mutter_new (GDBusConnection *bus, const gchar *rd_session_path,
    const gchar *stream_path)
{
  ZcInputMutter *self = g_new0 (ZcInputMutter, 1);

  g_return_val_if_fail (rd_session_path && stream_path, NULL);
  if (zc_input_mutter_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (zc_input_mutter_debug, "zcinputmutter", 0,
        "zerocast Mutter RemoteDesktop input");
  zc_input_init (
      &self->parent, &funcs, supported_caps (bus), "mutter-remote-desktop");
  self->bus = g_object_ref (bus);
  self->session_path = g_strdup (rd_session_path);
  self->stream_path = g_strdup (stream_path);
  /* A new RemoteDesktop session drops its first key event (seen with
   * Mutter and GNOME Shell 43, see RECIPES): spend it on a Shift tap,
   * which no application acts on, so the viewer's first key arrives. */
  key (&self->parent, KEY_LEFTSHIFT, TRUE);
  key (&self->parent, KEY_LEFTSHIFT, FALSE);
  return &self->parent;
}
