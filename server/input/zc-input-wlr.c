/* zerocast server: the wlroots input backend (see zc-input-wlr.h).
 *
 * One Wayland connection to the compositor, read from the main context
 * through a GLib fd source (its only events are the registry's and
 * protocol errors). Every request is flushed at once: input is latency.
 * The compositor sees the virtual devices like real ones, so what is held
 * here is released before the devices go (a key left down would repeat).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "zc-input-wlr.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/input-event-codes.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>

#include "virtual-keyboard-unstable-v1-client-protocol.h"
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"
#include "zc-server-error.h"

GST_DEBUG_CATEGORY_STATIC (zc_input_wlr_debug);
#define GST_CAT_DEFAULT zc_input_wlr_debug

/* Pointer positions go out in 1/256 pixels (wl_fixed's resolution). */
#define SUBPIXEL 256

/* Every evdev key and button code is below this (KEY_MAX + 1). */
#define N_CODES (KEY_MAX + 1)

typedef struct
{
  ZcInput parent;
  struct wl_display *display;
  struct wl_registry *registry;
  struct wl_seat *seat;
  struct zwlr_virtual_pointer_manager_v1 *pointer_manager;
  struct zwp_virtual_keyboard_manager_v1 *keyboard_manager;
  struct zwlr_virtual_pointer_v1 *pointer;
  struct zwp_virtual_keyboard_v1 *keyboard;
  struct xkb_context *xkb;
  struct xkb_keymap *keymap;
  /* The keyboard's state as the keys sent so far make it: wlroots takes
   * a virtual keyboard's modifiers from the modifiers request, not from
   * its keys, so they are computed here and sent along. */
  struct xkb_state *xkb_state;
  xkb_mod_mask_t sent_mods[3];
  xkb_layout_index_t sent_group;
  GSource *fd_source; /* reads the display in the main context */
  gboolean lost;
  /* What is down now, so it can be released: keys and buttons share the
   * evdev code space. keysym_shift: Shift pressed for a keysym's level. */
  guint8 down[N_CODES];
  guint keysym_shift;
} ZcInputWlr;

static guint32
now_ms (void)
{
  /* One clock for every request of a device, as the protocols ask. */
  return (guint32) (g_get_monotonic_time () / 1000);
}

static void
stop_watch (ZcInputWlr *self)
{
  if (self->fd_source) {
    g_source_destroy (self->fd_source);
    g_clear_pointer (&self->fd_source, g_source_unref);
  }
}

static void
lose (ZcInputWlr *self, const gchar *why)
{
  if (self->lost)
    return;
  self->lost = TRUE;
  g_printerr ("zerocast: input: lost the Wayland compositor (%s); input is "
              "dropped until the desktop is back\n",
      why);
  stop_watch (self);
}

static gboolean
ready (ZcInputWlr *self)
{
  return !self->lost && self->display != NULL;
}

static void
flush (ZcInputWlr *self)
{
  /* EAGAIN: the socket is full; what is queued goes with the next flush. */
  if (wl_display_flush (self->display) < 0 && errno != EAGAIN)
    lose (self, g_strerror (errno));
}

static gboolean
on_display_fd (gint fd, GIOCondition cond, gpointer data)
{
  ZcInputWlr *self = data;

  if (cond & (G_IO_HUP | G_IO_ERR)) {
    lose (self, "the connection closed");
    return G_SOURCE_REMOVE;
  }
  if (wl_display_dispatch (self->display) < 0) {
    gint code = wl_display_get_error (self->display);
    lose (self, code ? g_strerror (code) : "a protocol error");
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- pointer ---- */

static void
pointer_absolute (
    ZcInput *input, gdouble x, gdouble y, guint width, guint height)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (!ready (self))
    return;
  /* The extent maps the stream onto the output layout, which for the
   * single output we stream is the stream's size. Positions are in
   * 1/SUBPIXEL pixels (the protocol takes integers over an extent), so a
   * fractional stream position is not truncated to the pixel left of it. */
  zwlr_virtual_pointer_v1_motion_absolute (self->pointer, now_ms (),
      (guint32) lround (x * SUBPIXEL), (guint32) lround (y * SUBPIXEL),
      width * SUBPIXEL, height * SUBPIXEL);
  zwlr_virtual_pointer_v1_frame (self->pointer);
  flush (self);
}

static void
pointer_relative (ZcInput *input, gdouble dx, gdouble dy)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (!ready (self))
    return;
  zwlr_virtual_pointer_v1_motion (self->pointer, now_ms (),
      wl_fixed_from_double (dx), wl_fixed_from_double (dy));
  zwlr_virtual_pointer_v1_frame (self->pointer);
  flush (self);
}

static gboolean
valid_code (guint32 code)
{
  if (code >= N_CODES) {
    GST_DEBUG ("ignoring evdev code %u (beyond KEY_MAX)", code);
    return FALSE;
  }
  return TRUE;
}

static void
send_button (ZcInputWlr *self, guint32 button, gboolean pressed)
{
  zwlr_virtual_pointer_v1_button (self->pointer, now_ms (), button,
      pressed ? WL_POINTER_BUTTON_STATE_PRESSED
              : WL_POINTER_BUTTON_STATE_RELEASED);
  zwlr_virtual_pointer_v1_frame (self->pointer);
}

static void
button (ZcInput *input, guint32 evdev_button, gboolean pressed)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (!ready (self) || !valid_code (evdev_button))
    return;
  self->down[evdev_button] = pressed;
  send_button (self, evdev_button, pressed);
  flush (self);
}

static void
axis (ZcInput *input, gdouble dx, gdouble dy)
{
  ZcInputWlr *self = (ZcInputWlr *) input;
  guint32 t = now_ms ();

  if (!ready (self))
    return;
  zwlr_virtual_pointer_v1_axis_source (
      self->pointer, WL_POINTER_AXIS_SOURCE_CONTINUOUS);
  if (dy != 0)
    zwlr_virtual_pointer_v1_axis (self->pointer, t,
        WL_POINTER_AXIS_VERTICAL_SCROLL, wl_fixed_from_double (dy));
  if (dx != 0)
    zwlr_virtual_pointer_v1_axis (self->pointer, t,
        WL_POINTER_AXIS_HORIZONTAL_SCROLL, wl_fixed_from_double (dx));
  zwlr_virtual_pointer_v1_frame (self->pointer);
  flush (self);
}

static void
axis_discrete (ZcInput *input, gint dx, gint dy)
{
  ZcInputWlr *self = (ZcInputWlr *) input;
  guint32 t = now_ms ();

  if (!ready (self))
    return;
  /* A notch is 15 units of wl_pointer.axis in libinput's convention. */
  zwlr_virtual_pointer_v1_axis_source (
      self->pointer, WL_POINTER_AXIS_SOURCE_WHEEL);
  if (dy != 0)
    zwlr_virtual_pointer_v1_axis_discrete (self->pointer, t,
        WL_POINTER_AXIS_VERTICAL_SCROLL, wl_fixed_from_int (15 * dy), dy);
  if (dx != 0)
    zwlr_virtual_pointer_v1_axis_discrete (self->pointer, t,
        WL_POINTER_AXIS_HORIZONTAL_SCROLL, wl_fixed_from_int (15 * dx), dx);
  zwlr_virtual_pointer_v1_frame (self->pointer);
  flush (self);
}

/* ---- keyboard ---- */

static void
send_key (ZcInputWlr *self, guint32 code, gboolean pressed)
{
  xkb_mod_mask_t mods[3];
  xkb_layout_index_t group;

  zwp_virtual_keyboard_v1_key (self->keyboard, now_ms (), code,
      pressed ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED);
  /* xkb keycodes are evdev codes + 8. */
  xkb_state_update_key (
      self->xkb_state, code + 8, pressed ? XKB_KEY_DOWN : XKB_KEY_UP);
  mods[0] =
      xkb_state_serialize_mods (self->xkb_state, XKB_STATE_MODS_DEPRESSED);
  mods[1] = xkb_state_serialize_mods (self->xkb_state, XKB_STATE_MODS_LATCHED);
  mods[2] = xkb_state_serialize_mods (self->xkb_state, XKB_STATE_MODS_LOCKED);
  group =
      xkb_state_serialize_layout (self->xkb_state, XKB_STATE_LAYOUT_EFFECTIVE);
  if (memcmp (mods, self->sent_mods, sizeof (mods)) != 0
      || group != self->sent_group) {
    memcpy (self->sent_mods, mods, sizeof (mods));
    self->sent_group = group;
    zwp_virtual_keyboard_v1_modifiers (
        self->keyboard, mods[0], mods[1], mods[2], group);
  }
}

static void
key (ZcInput *input, guint32 evdev_keycode, gboolean pressed)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (!ready (self) || !valid_code (evdev_keycode))
    return;
  self->down[evdev_keycode] = pressed;
  send_key (self, evdev_keycode, pressed);
  flush (self);
}

typedef struct
{
  xkb_keysym_t keysym;
  xkb_keycode_t keycode;
  xkb_level_index_t level;
} KeysymSearch;

static void
find_keysym (struct xkb_keymap *keymap, xkb_keycode_t keycode, void *data)
{
  KeysymSearch *s = data;
  xkb_level_index_t levels;

  if (s->keycode != XKB_KEYCODE_INVALID)
    return;
  /* Levels 0 and 1 (plain and Shift) of the first layout: what a viewer
   * types on a "us"-like layout. */
  levels = MIN (xkb_keymap_num_levels_for_key (keymap, keycode, 0), 2);
  for (xkb_level_index_t l = 0; l < levels; l++) {
    const xkb_keysym_t *syms;
    gint n = xkb_keymap_key_get_syms_by_level (keymap, keycode, 0, l, &syms);
    if (n == 1 && syms[0] == s->keysym) {
      s->keycode = keycode;
      s->level = l;
      return;
    }
  }
}

static void
keysym (ZcInput *input, guint32 sym, gboolean pressed)
{
  ZcInputWlr *self = (ZcInputWlr *) input;
  KeysymSearch s = { .keysym = sym, .keycode = XKB_KEYCODE_INVALID };
  guint32 code;

  if (!ready (self))
    return;
  xkb_keymap_key_for_each (self->keymap, find_keysym, &s);
  if (s.keycode == XKB_KEYCODE_INVALID || s.keycode < 8
      || s.keycode - 8 >= N_CODES) {
    GST_DEBUG ("keysym 0x%x is not on the keymap: ignored", sym);
    return;
  }
  code = s.keycode - 8; /* xkb keycodes are evdev codes + 8 */
  if (pressed) {
    if (s.level == 1 && self->keysym_shift++ == 0 && !self->down[KEY_LEFTSHIFT])
      send_key (self, KEY_LEFTSHIFT, TRUE);
    self->down[code] = TRUE;
    send_key (self, code, TRUE);
  } else {
    self->down[code] = FALSE;
    send_key (self, code, FALSE);
    if (s.level == 1 && self->keysym_shift > 0 && --self->keysym_shift == 0
        && !self->down[KEY_LEFTSHIFT])
      send_key (self, KEY_LEFTSHIFT, FALSE);
  }
  flush (self);
}

static void
release_all (ZcInput *input)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (!ready (self))
    return;
  for (guint code = 0; code < N_CODES; code++) {
    if (!self->down[code])
      continue;
    self->down[code] = FALSE;
    /* Buttons start at BTN_MISC; below are keyboard keys. */
    if (code >= BTN_MISC && code < KEY_OK)
      send_button (self, code, FALSE);
    else
      send_key (self, code, FALSE);
  }
  if (self->keysym_shift > 0) {
    self->keysym_shift = 0;
    send_key (self, KEY_LEFTSHIFT, FALSE);
  }
  flush (self);
}

static void
destroy (ZcInput *input)
{
  ZcInputWlr *self = (ZcInputWlr *) input;

  if (self->display && !self->lost) {
    release_all (input);
    /* The compositor must see the releases before the devices go. */
    wl_display_roundtrip (self->display);
  }
  stop_watch (self);
  g_clear_pointer (&self->pointer, zwlr_virtual_pointer_v1_destroy);
  g_clear_pointer (&self->keyboard, zwp_virtual_keyboard_v1_destroy);
  g_clear_pointer (
      &self->pointer_manager, zwlr_virtual_pointer_manager_v1_destroy);
  g_clear_pointer (
      &self->keyboard_manager, zwp_virtual_keyboard_manager_v1_destroy);
  g_clear_pointer (&self->seat, wl_seat_destroy);
  g_clear_pointer (&self->registry, wl_registry_destroy);
  if (self->display) {
    wl_display_flush (self->display);
    wl_display_disconnect (self->display);
  }
  g_clear_pointer (&self->xkb_state, xkb_state_unref);
  g_clear_pointer (&self->keymap, xkb_keymap_unref);
  g_clear_pointer (&self->xkb, xkb_context_unref);
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
  .release_all = release_all,
  .destroy = destroy,
};

/* ---- setup ---- */

static void
on_global (void *data, struct wl_registry *registry, uint32_t name,
    const char *interface, uint32_t version)
{
  ZcInputWlr *self = data;

  if (strcmp (interface, wl_seat_interface.name) == 0 && self->seat == NULL)
    self->seat = wl_registry_bind (registry, name, &wl_seat_interface, 1);
  else if (strcmp (interface, zwlr_virtual_pointer_manager_v1_interface.name)
      == 0)
    self->pointer_manager = wl_registry_bind (
        registry, name, &zwlr_virtual_pointer_manager_v1_interface, 1);
  else if (strcmp (interface, zwp_virtual_keyboard_manager_v1_interface.name)
      == 0)
    self->keyboard_manager = wl_registry_bind (
        registry, name, &zwp_virtual_keyboard_manager_v1_interface, 1);
}

static void
on_global_remove (void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
  .global = on_global,
  .global_remove = on_global_remove,
};

/* Compiles the keymap (XKB_DEFAULT_LAYOUT and friends, else "us") and
 * hands it to the virtual keyboard in a sealed memfd. */
static gboolean
upload_keymap (ZcInputWlr *self, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize size;
  gint fd;
  gpointer map;

  self->xkb = xkb_context_new (XKB_CONTEXT_NO_FLAGS);
  if (self->xkb)
    self->keymap = xkb_keymap_new_from_names (
        self->xkb, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
  if (self->keymap)
    self->xkb_state = xkb_state_new (self->keymap);
  if (self->keymap == NULL || self->xkb_state == NULL) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "cannot compile an xkb keymap (is xkb-data installed? XKB_DEFAULT_"
        "LAYOUT names the layout)");
    return FALSE;
  }
  text = xkb_keymap_get_as_string (self->keymap, XKB_KEYMAP_FORMAT_TEXT_V1);
  size = strlen (text) + 1; /* the compositor parses it as a C string */
  fd = memfd_create ("zerocast-keymap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate (fd, size) < 0
      || (map = mmap (NULL, size, PROT_WRITE, MAP_SHARED, fd, 0))
          == MAP_FAILED) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "cannot share the keymap: %s", g_strerror (errno));
    if (fd >= 0)
      close (fd);
    return FALSE;
  }
  memcpy (map, text, size);
  munmap (map, size);
  fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  zwp_virtual_keyboard_v1_keymap (
      self->keyboard, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, size);
  /* Sent on the flush below; libwayland dups the fd into its queue. */
  wl_display_flush (self->display);
  close (fd);
  return TRUE;
}

ZcInput *
zc_input_wlr_new (const gchar *display, GError **error)
{
  ZcInputWlr *self;
  const gchar *name = display ? display : g_getenv ("WAYLAND_DISPLAY");

  {
    static gsize once;
    if (g_once_init_enter (&once)) {
      GST_DEBUG_CATEGORY_INIT (zc_input_wlr_debug, "zcinputwlr", 0,
          "zerocast input through wlroots' virtual pointer and keyboard");
      g_once_init_leave (&once, 1);
    }
  }

  self = g_new0 (ZcInputWlr, 1);
  zc_input_init (&self->parent, &funcs,
      ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD, "wlroots-virtual-input");
  self->display = wl_display_connect (name);
  if (self->display == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "cannot connect to the Wayland display %s: %s",
        name ? name : "(WAYLAND_DISPLAY unset)", g_strerror (errno));
    goto failed;
  }
  self->registry = wl_display_get_registry (self->display);
  wl_registry_add_listener (self->registry, &registry_listener, self);
  if (wl_display_roundtrip (self->display) < 0) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "the Wayland display %s does not answer", name);
    goto failed;
  }
  if (self->seat == NULL || self->pointer_manager == NULL
      || self->keyboard_manager == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "the compositor on %s lacks %s: remote input needs a wlroots "
        "compositor such as Sway",
        name,
        self->seat ? (self->pointer_manager ? "zwp_virtual_keyboard_manager_v1"
                                            : "zwlr_virtual_pointer_manager_v1")
                   : "a wl_seat");
    goto failed;
  }
  self->pointer = zwlr_virtual_pointer_manager_v1_create_virtual_pointer (
      self->pointer_manager, self->seat);
  self->keyboard = zwp_virtual_keyboard_manager_v1_create_virtual_keyboard (
      self->keyboard_manager, self->seat);
  if (!upload_keymap (self, error))
    goto failed;
  /* A refused device is a protocol error, seen on this roundtrip. */
  if (wl_display_roundtrip (self->display) < 0) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "the compositor on %s refused the virtual input devices (%s)", name,
        g_strerror (wl_display_get_error (self->display)));
    goto failed;
  }
  self->fd_source = g_unix_fd_source_new (
      wl_display_get_fd (self->display), G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (
      self->fd_source, G_SOURCE_FUNC (on_display_fd), self, NULL);
  g_source_attach (self->fd_source, g_main_context_get_thread_default ());
  GST_INFO ("virtual pointer and keyboard on %s", name);
  return &self->parent;

failed:
  self->lost = TRUE; /* nothing to release on the way out */
  destroy (&self->parent);
  return NULL;
}

gboolean
zc_input_wlr_is_connected (ZcInput *input)
{
  return ready ((ZcInputWlr *) input);
}
