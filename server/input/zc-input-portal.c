/* zerocast server: the xdg-desktop-portal RemoteDesktop input backend.
 *
 * Every event is one call of org.freedesktop.portal.RemoteDesktop.Notify*
 * with the session handle first and an (empty) options dictionary, on the
 * connection that owns the session. The main loop never waits for the
 * portal, but the calls go out one at a time: xdg-desktop-portal runs each
 * method call in a thread of its own
 * (G_DBUS_INTERFACE_SKELETON_FLAGS_HANDLE_METHOD_INVOCATIONS_IN_THREAD) and
 * forwards it to the backend from there, so two calls in flight at once
 * can reach the compositor in either order: a key's release before its
 * press (the key then stays down in the app, which repeats it; once in
 * seven runs on sid, a keysym released right after its press), a button
 * before the motion that brought the pointer to where the viewer clicked.
 * The next call goes out when the portal has answered the last, by which
 * time it has queued the forwarded call on its own connection to the
 * backend, which keeps their order.
 *
 * Calls waiting meanwhile are bounded: absolute pointer motion coalesces to
 * its latest position; past MAX_PENDING, presses and other motion are
 * dropped (said once in the log); releases, which the per-viewer layer
 * sends only for what it saw held, get twice the room.
 *
 * The portal checks each call against the devices the person granted; a
 * call for a device not granted fails, so the capabilities are exactly
 * what Start granted.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-input-portal.h"

#include <gst/gst.h>
#include <linux/input-event-codes.h>

#include "zc-portal.h"

GST_DEBUG_CATEGORY_STATIC (zc_input_portal_debug);
#define GST_CAT_DEFAULT zc_input_portal_debug

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define RD_IFACE "org.freedesktop.portal.RemoteDesktop"

/* NotifyPointerButton / NotifyKeyboard* states, NotifyPointerAxisDiscrete
 * axes. */
#define STATE_RELEASED 0
#define STATE_PRESSED 1
#define AXIS_VERTICAL 0
#define AXIS_HORIZONTAL 1
#define MAX_LOGGED_ERRORS 5
/* About four seconds of one viewer's input at its rate limit. */
#define MAX_PENDING 2048
/* A portal that stops answering must not hold the queue for ever. */
#define CALL_TIMEOUT_MS 5000

/* What a queued call may become when the portal is slow. */
typedef enum
{
  CALL_PRESS = 0,  /* dropped past MAX_PENDING (relative and touch motion
                    * too: they add up, or belong to a slot) */
  CALL_MOTION = 1, /* absolute pointer motion: replaced by the next */
  CALL_RELEASE = 2 /* kept up to twice MAX_PENDING: a dropped release
                    * leaves a key down */
} CallKind;

typedef struct
{
  const gchar *method; /* static */
  GVariant *args;
  CallKind kind;
} Call;

typedef struct
{
  ZcInput parent;
  /* Filled from what was granted, so it lives with the backend. */
  ZcInputFuncs funcs;
  GDBusConnection *bus;
  gchar *session_handle;
  guint32 node_id;
  GQueue pending; /* Call *, not yet sent */
  gboolean in_flight;
  GCancellable *cancellable; /* cancelled by destroy */
  guint64 dropped;
} ZcInputPortal;

static void send_next (ZcInputPortal *self);

static void
call_free (Call *call)
{
  g_variant_unref (call->args);
  g_free (call);
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  static guint errors;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (
      G_DBUS_CONNECTION (source), result, &error);
  ZcInputPortal *self = data;

  /* Cancelled: the backend is gone, and @self with it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* A closed session fails every call: say so a few times, not at the
   * rate of mouse motion. */
  if (reply == NULL && errors++ < MAX_LOGGED_ERRORS) {
    g_dbus_error_strip_remote_error (error);
    g_printerr ("zerocast: input through the RemoteDesktop portal failed: "
                "%s%s\n",
        error->message,
        errors == MAX_LOGGED_ERRORS ? " (further failures not logged)" : "");
  }
  self->in_flight = FALSE;
  send_next (self);
}

static void
send_next (ZcInputPortal *self)
{
  Call *call = g_queue_pop_head (&self->pending);

  if (call == NULL)
    return;
  self->in_flight = TRUE;
  GST_LOG ("%s %" GST_PTR_FORMAT, call->method, call->args);
  g_dbus_connection_call (self->bus, PORTAL_NAME, PORTAL_PATH, RD_IFACE,
      call->method, call->args, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
      CALL_TIMEOUT_MS, self->cancellable, on_reply, self);
  call_free (call);
}

static void
enqueue (
    ZcInputPortal *self, CallKind kind, const gchar *method, GVariant *args)
{
  Call *tail = g_queue_peek_tail (&self->pending);
  Call *call;
  guint limit = kind == CALL_RELEASE ? 2 * MAX_PENDING : MAX_PENDING;

  g_variant_ref_sink (args);
  /* Only where the pointer ends up matters for motion not sent yet. */
  if (kind == CALL_MOTION && tail && tail->kind == CALL_MOTION) {
    g_variant_unref (tail->args);
    tail->args = args;
    return;
  }
  if (self->pending.length >= limit) {
    if (self->dropped++ == 0)
      g_printerr ("zerocast: the RemoteDesktop portal answers more slowly "
                  "than input comes: dropping input events until it "
                  "catches up\n");
    g_variant_unref (args);
    return;
  }
  call = g_new (Call, 1);
  call->method = method;
  call->args = args;
  call->kind = kind;
  g_queue_push_tail (&self->pending, call);
  if (!self->in_flight)
    send_next (self);
}

/* @format: the arguments after the session handle and options. */
static void
notify (ZcInputPortal *self, CallKind kind, const gchar *method,
    const gchar *format, ...)
{
  GVariantBuilder builder;
  GVariant *args;
  va_list ap;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_TUPLE);
  g_variant_builder_add (&builder, "o", self->session_handle);
  g_variant_builder_add_value (
      &builder, g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  va_start (ap, format);
  for (const gchar *f = format; *f; f++) {
    const gchar type[2] = { *f, '\0' };

    /* Only fixed-size basic types occur: one character each. */
    g_variant_builder_add_value (&builder, g_variant_new_va (type, NULL, &ap));
  }
  va_end (ap);
  args = g_variant_builder_end (&builder);
  enqueue (self, kind, method, args);
}

static void
pointer_absolute (
    ZcInput *input, gdouble x, gdouble y, guint width, guint height)
{
  ZcInputPortal *self = (ZcInputPortal *) input;

  notify (self, CALL_MOTION, "NotifyPointerMotionAbsolute", "udd",
      self->node_id, x, y);
}

static void
pointer_relative (ZcInput *input, gdouble dx, gdouble dy)
{
  notify (
      (ZcInputPortal *) input, CALL_PRESS, "NotifyPointerMotion", "dd", dx, dy);
}

static void
button (ZcInput *input, guint32 evdev_button, gboolean pressed)
{
  notify ((ZcInputPortal *) input, pressed ? CALL_PRESS : CALL_RELEASE,
      "NotifyPointerButton", "iu", (gint32) evdev_button,
      pressed ? STATE_PRESSED : STATE_RELEASED);
}

static void
axis (ZcInput *input, gdouble dx, gdouble dy)
{
  /* The portal's smooth axis is in the units of pointer motion, which is
   * what wl_pointer.axis units are too. */
  notify (
      (ZcInputPortal *) input, CALL_PRESS, "NotifyPointerAxis", "dd", dx, dy);
}

static void
axis_discrete (ZcInput *input, gint dx, gint dy)
{
  if (dy != 0)
    notify ((ZcInputPortal *) input, CALL_PRESS, "NotifyPointerAxisDiscrete",
        "ui", (guint32) AXIS_VERTICAL, (gint32) dy);
  if (dx != 0)
    notify ((ZcInputPortal *) input, CALL_PRESS, "NotifyPointerAxisDiscrete",
        "ui", (guint32) AXIS_HORIZONTAL, (gint32) dx);
}

static void
key (ZcInput *input, guint32 evdev_keycode, gboolean pressed)
{
  notify ((ZcInputPortal *) input, pressed ? CALL_PRESS : CALL_RELEASE,
      "NotifyKeyboardKeycode", "iu", (gint32) evdev_keycode,
      pressed ? STATE_PRESSED : STATE_RELEASED);
}

static void
keysym (ZcInput *input, guint32 keysym, gboolean pressed)
{
  notify ((ZcInputPortal *) input, pressed ? CALL_PRESS : CALL_RELEASE,
      "NotifyKeyboardKeysym", "iu", (gint32) keysym,
      pressed ? STATE_PRESSED : STATE_RELEASED);
}

static void
touch_down (ZcInput *input, guint32 slot, gdouble x, gdouble y, guint width,
    guint height)
{
  ZcInputPortal *self = (ZcInputPortal *) input;

  notify (
      self, CALL_PRESS, "NotifyTouchDown", "uudd", self->node_id, slot, x, y);
}

static void
touch_motion (ZcInput *input, guint32 slot, gdouble x, gdouble y, guint width,
    guint height)
{
  ZcInputPortal *self = (ZcInputPortal *) input;

  notify (
      self, CALL_PRESS, "NotifyTouchMotion", "uudd", self->node_id, slot, x, y);
}

static void
touch_up (ZcInput *input, guint32 slot)
{
  notify ((ZcInputPortal *) input, CALL_RELEASE, "NotifyTouchUp", "u", slot);
}

static void
destroy (ZcInput *input)
{
  ZcInputPortal *self = (ZcInputPortal *) input;

  /* The backend releases what a session held when the session closes, so
   * no release_all here: the per-viewer layer releases viewers that leave
   * while the session lives. */
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  g_queue_clear_full (&self->pending, (GDestroyNotify) call_free);
  g_object_unref (self->bus);
  g_free (self->session_handle);
  g_free (self);
}

/* Only what was granted: the wrappers skip a NULL entry, so a viewer's
 * input for a device the portal refused never becomes a failing call. */
static const ZcInputFuncs pointer_funcs = {
  .pointer_absolute = pointer_absolute,
  .pointer_relative = pointer_relative,
  .button = button,
  .axis = axis,
  .axis_discrete = axis_discrete,
};

ZcInput *
zc_input_portal_new (GDBusConnection *bus, const gchar *session_handle,
    guint32 node_id, guint32 devices)
{
  ZcInputPortal *self;
  ZcInputCaps caps = ZC_INPUT_CAP_NONE;

  g_return_val_if_fail (session_handle != NULL, NULL);
  if (zc_input_portal_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (zc_input_portal_debug, "zcinputportal", 0,
        "zerocast xdg-desktop-portal RemoteDesktop input");
  self = g_new0 (ZcInputPortal, 1);
  if (devices & ZC_PORTAL_DEVICE_POINTER) {
    self->funcs = pointer_funcs;
    caps |= ZC_INPUT_CAP_POINTER;
  }
  if (devices & ZC_PORTAL_DEVICE_KEYBOARD) {
    self->funcs.key = key;
    self->funcs.keysym = keysym;
    caps |= ZC_INPUT_CAP_KEYBOARD;
  }
  if (devices & ZC_PORTAL_DEVICE_TOUCHSCREEN) {
    self->funcs.touch_down = touch_down;
    self->funcs.touch_motion = touch_motion;
    self->funcs.touch_up = touch_up;
    caps |= ZC_INPUT_CAP_TOUCH;
  }
  self->funcs.destroy = destroy;
  zc_input_init (&self->parent, &self->funcs, caps, "portal-remote-desktop");
  self->bus = g_object_ref (bus);
  self->session_handle = g_strdup (session_handle);
  self->node_id = node_id;
  g_queue_init (&self->pending);
  self->cancellable = g_cancellable_new ();
  /* xdg-desktop-portal-gnome drives a Mutter RemoteDesktop session, whose
   * first key event is dropped (see zc-input-mutter.c): spend it on a
   * Shift tap, which no application acts on. */
  if (devices & ZC_PORTAL_DEVICE_KEYBOARD) {
    key (&self->parent, KEY_LEFTSHIFT, TRUE);
    key (&self->parent, KEY_LEFTSHIFT, FALSE);
  }
  return &self->parent;
}
