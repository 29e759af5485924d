/* zc-input-client: a fullscreen Wayland window that records every input
 * event it receives, one line each, and repaints in the next known colour
 * on each button press or touch down, so tests can check that input a
 * viewer sent reached an application, where, and how fast.
 *
 * Usage: zc-input-client [-o FILE]   (default: standard output)
 *
 * The window is one solid colour: first #404040, then on the Nth press
 * (any button) or touch down the Nth of #ff0000, #00ff00, #0000ff,
 * #ffffff, round and round. Lines (coordinates are surface-local, in
 * pixels, with two decimals; the surface covers the monitor):
 *   MAPPED WxH                    first buffer taken by the compositor
 *   SEAT pointer,keyboard,touch   the seat's capabilities (again on change)
 *   PAINTED #rrggbb N             committed the colour after N presses
 *   ENTER x y | LEAVE             pointer focus
 *   MOTION x y
 *   BUTTON code PRESSED|RELEASED  evdev code (272 = BTN_LEFT)
 *   AXIS v|h value                smooth scroll (wl_pointer.axis)
 *   AXIS_DISCRETE v|h steps       wheel notches (seat v5-v7)
 *   AXIS_VALUE120 v|h value       wheel, 120 per notch (seat v8)
 *   AXIS_SOURCE n | AXIS_STOP v|h
 *   KEYBOARD_ENTER | KEYBOARD_LEAVE
 *   KEY code keysym name PRESSED|RELEASED  evdev code, keysym in hex and
 *                                 its xkbcommon name, through the keymap
 *                                 the compositor sent
 *   MODIFIERS depressed latched locked group
 *   TOUCH_DOWN id x y | TOUCH_MOTION id x y | TOUCH_UP id | TOUCH_CANCEL
 * Every line is flushed at once, so a reader sees it as it happens.
 * It runs until killed or the compositor goes away.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>
#include "zc-wl-shm.h"

#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 480

static const uint32_t start_colour = 0x404040;
static const uint32_t click_colours[] = { 0xff0000, 0x00ff00, 0x0000ff,
  0xffffff };

typedef struct
{
  struct wl_display *display;
  struct wl_compositor *compositor;
  struct wl_shm *shm;
  struct xdg_wm_base *wm_base;
  struct wl_seat *seat;
  uint32_t seat_version;
  struct wl_pointer *pointer;
  struct wl_keyboard *keyboard;
  struct wl_touch *touch;
  struct xkb_context *xkb;
  struct xkb_keymap *keymap;
  struct xkb_state *xkb_state;
  struct wl_surface *surface;
  struct xdg_surface *xdg_surface;
  struct xdg_toplevel *toplevel;
  int width, height; /* from the last toplevel configure */
  int drawn_width, drawn_height;
  unsigned presses, drawn_presses;
  int configured, mapped;
  FILE *out;
} Client;

static void
record (Client *c, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vfprintf (c->out, format, args);
  va_end (args);
  fputc ('\n', c->out);
  fflush (c->out);
}

static uint32_t
current_colour (Client *c)
{
  if (c->presses == 0)
    return start_colour;
  return click_colours[(c->presses - 1)
      % (sizeof (click_colours) / sizeof (click_colours[0]))];
}

static void
paint_solid (uint32_t *pixels, int width, int height, void *data)
{
  uint32_t rgb = *(const uint32_t *) data;

  for (int i = 0; i < width * height; i++)
    pixels[i] = 0xff000000 | rgb;
}

static struct wl_buffer *
draw (Client *c, int width, int height, uint32_t rgb)
{
  return zc_wl_shm_buffer_new (
      c->shm, "zc-input-client", width, height, paint_solid, &rgb);
}

/* Draws when the size or the colour changed since the last buffer. */
static void
repaint (Client *c)
{
  uint32_t rgb = current_colour (c);

  if (!c->configured)
    return;
  if (c->width == c->drawn_width && c->height == c->drawn_height
      && c->presses == c->drawn_presses)
    return;
  wl_surface_attach (c->surface, draw (c, c->width, c->height, rgb), 0, 0);
  wl_surface_damage (c->surface, 0, 0, c->width, c->height);
  wl_surface_commit (c->surface);
  wl_display_flush (c->display);
  c->drawn_width = c->width;
  c->drawn_height = c->height;
  if (c->presses != c->drawn_presses || !c->mapped)
    record (c, "PAINTED #%06x %u", rgb, c->presses);
  c->drawn_presses = c->presses;
}

/* --- pointer --- */

static void
on_pointer_enter (void *data, struct wl_pointer *pointer, uint32_t serial,
    struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
  record (
      data, "ENTER %.2f %.2f", wl_fixed_to_double (x), wl_fixed_to_double (y));
}

static void
on_pointer_leave (void *data, struct wl_pointer *pointer, uint32_t serial,
    struct wl_surface *surface)
{
  record (data, "LEAVE");
}

static void
on_pointer_motion (void *data, struct wl_pointer *pointer, uint32_t time,
    wl_fixed_t x, wl_fixed_t y)
{
  record (
      data, "MOTION %.2f %.2f", wl_fixed_to_double (x), wl_fixed_to_double (y));
}

static void
on_pointer_button (void *data, struct wl_pointer *pointer, uint32_t serial,
    uint32_t time, uint32_t button, uint32_t state)
{
  Client *c = data;
  int pressed = state == WL_POINTER_BUTTON_STATE_PRESSED;

  record (c, "BUTTON %u %s", button, pressed ? "PRESSED" : "RELEASED");
  if (pressed) {
    c->presses++;
    repaint (c);
  }
}

static const char *
axis_name (uint32_t axis)
{
  return axis == WL_POINTER_AXIS_HORIZONTAL_SCROLL ? "h" : "v";
}

static void
on_pointer_axis (void *data, struct wl_pointer *pointer, uint32_t time,
    uint32_t axis, wl_fixed_t value)
{
  record (data, "AXIS %s %.2f", axis_name (axis), wl_fixed_to_double (value));
}

static void
on_pointer_frame (void *data, struct wl_pointer *pointer)
{
}

static void
on_pointer_axis_source (void *data, struct wl_pointer *pointer, uint32_t source)
{
  record (data, "AXIS_SOURCE %u", source);
}

static void
on_pointer_axis_stop (
    void *data, struct wl_pointer *pointer, uint32_t time, uint32_t axis)
{
  record (data, "AXIS_STOP %s", axis_name (axis));
}

static void
on_pointer_axis_discrete (
    void *data, struct wl_pointer *pointer, uint32_t axis, int32_t discrete)
{
  record (data, "AXIS_DISCRETE %s %d", axis_name (axis), discrete);
}

static void
on_pointer_axis_value120 (
    void *data, struct wl_pointer *pointer, uint32_t axis, int32_t value120)
{
  record (data, "AXIS_VALUE120 %s %d", axis_name (axis), value120);
}

static const struct wl_pointer_listener pointer_listener = {
  .enter = on_pointer_enter,
  .leave = on_pointer_leave,
  .motion = on_pointer_motion,
  .button = on_pointer_button,
  .axis = on_pointer_axis,
  .frame = on_pointer_frame,
  .axis_source = on_pointer_axis_source,
  .axis_stop = on_pointer_axis_stop,
  .axis_discrete = on_pointer_axis_discrete,
  .axis_value120 = on_pointer_axis_value120,
};

/* --- keyboard --- */

static void
on_keymap (void *data, struct wl_keyboard *keyboard, uint32_t format, int fd,
    uint32_t size)
{
  Client *c = data;
  char *text;

  if (format != WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1) {
    close (fd);
    return;
  }
  text = mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close (fd);
  if (text == MAP_FAILED) {
    fprintf (stderr, "zc-input-client: cannot map the keymap: %s\n",
        strerror (errno));
    return;
  }
  xkb_state_unref (c->xkb_state);
  xkb_keymap_unref (c->keymap);
  /* The keymap is NUL-terminated within @size. */
  c->keymap = xkb_keymap_new_from_string (
      c->xkb, text, XKB_KEYMAP_FORMAT_TEXT_V1, XKB_KEYMAP_COMPILE_NO_FLAGS);
  munmap (text, size);
  c->xkb_state = c->keymap ? xkb_state_new (c->keymap) : NULL;
}

static void
on_keyboard_enter (void *data, struct wl_keyboard *keyboard, uint32_t serial,
    struct wl_surface *surface, struct wl_array *keys)
{
  record (data, "KEYBOARD_ENTER");
}

static void
on_keyboard_leave (void *data, struct wl_keyboard *keyboard, uint32_t serial,
    struct wl_surface *surface)
{
  record (data, "KEYBOARD_LEAVE");
}

static void
on_key (void *data, struct wl_keyboard *keyboard, uint32_t serial,
    uint32_t time, uint32_t key, uint32_t state)
{
  Client *c = data;
  xkb_keysym_t sym = XKB_KEY_NoSymbol;
  char name[64] = "NoSymbol";

  /* Wayland sends evdev codes; XKB's are 8 higher. */
  if (c->xkb_state) {
    sym = xkb_state_key_get_one_sym (c->xkb_state, key + 8);
    xkb_keysym_get_name (sym, name, sizeof (name));
  }
  record (c, "KEY %u 0x%x %s %s", key, sym, name,
      state == WL_KEYBOARD_KEY_STATE_PRESSED ? "PRESSED" : "RELEASED");
}

static void
on_modifiers (void *data, struct wl_keyboard *keyboard, uint32_t serial,
    uint32_t depressed, uint32_t latched, uint32_t locked, uint32_t group)
{
  Client *c = data;

  if (c->xkb_state)
    xkb_state_update_mask (
        c->xkb_state, depressed, latched, locked, 0, 0, group);
  record (c, "MODIFIERS %u %u %u %u", depressed, latched, locked, group);
}

static void
on_repeat_info (
    void *data, struct wl_keyboard *keyboard, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
  .keymap = on_keymap,
  .enter = on_keyboard_enter,
  .leave = on_keyboard_leave,
  .key = on_key,
  .modifiers = on_modifiers,
  .repeat_info = on_repeat_info,
};

/* --- touch --- */

static void
on_touch_down (void *data, struct wl_touch *touch, uint32_t serial,
    uint32_t time, struct wl_surface *surface, int32_t id, wl_fixed_t x,
    wl_fixed_t y)
{
  Client *c = data;

  record (c, "TOUCH_DOWN %d %.2f %.2f", id, wl_fixed_to_double (x),
      wl_fixed_to_double (y));
  c->presses++;
  repaint (c);
}

static void
on_touch_up (void *data, struct wl_touch *touch, uint32_t serial, uint32_t time,
    int32_t id)
{
  record (data, "TOUCH_UP %d", id);
}

static void
on_touch_motion (void *data, struct wl_touch *touch, uint32_t time, int32_t id,
    wl_fixed_t x, wl_fixed_t y)
{
  record (data, "TOUCH_MOTION %d %.2f %.2f", id, wl_fixed_to_double (x),
      wl_fixed_to_double (y));
}

static void
on_touch_frame (void *data, struct wl_touch *touch)
{
}

static void
on_touch_cancel (void *data, struct wl_touch *touch)
{
  record (data, "TOUCH_CANCEL");
}

static void
on_touch_shape (void *data, struct wl_touch *touch, int32_t id,
    wl_fixed_t major, wl_fixed_t minor)
{
}

static void
on_touch_orientation (
    void *data, struct wl_touch *touch, int32_t id, wl_fixed_t orientation)
{
}

static const struct wl_touch_listener touch_listener = {
  .down = on_touch_down,
  .up = on_touch_up,
  .motion = on_touch_motion,
  .frame = on_touch_frame,
  .cancel = on_touch_cancel,
  .shape = on_touch_shape,
  .orientation = on_touch_orientation,
};

/* --- seat --- */

static void
on_seat_capabilities (void *data, struct wl_seat *seat, uint32_t caps)
{
  Client *c = data;
  int has_pointer = caps & WL_SEAT_CAPABILITY_POINTER;
  int has_keyboard = caps & WL_SEAT_CAPABILITY_KEYBOARD;
  int has_touch = caps & WL_SEAT_CAPABILITY_TOUCH;

  /* Capabilities come and go (Mutter adds touch when a virtual touch
   * screen appears): bind what arrived, release what went. */
  if (has_pointer && !c->pointer) {
    c->pointer = wl_seat_get_pointer (seat);
    wl_pointer_add_listener (c->pointer, &pointer_listener, c);
  } else if (!has_pointer && c->pointer) {
    wl_pointer_destroy (c->pointer);
    c->pointer = NULL;
  }
  if (has_keyboard && !c->keyboard) {
    c->keyboard = wl_seat_get_keyboard (seat);
    wl_keyboard_add_listener (c->keyboard, &keyboard_listener, c);
  } else if (!has_keyboard && c->keyboard) {
    wl_keyboard_destroy (c->keyboard);
    c->keyboard = NULL;
  }
  if (has_touch && !c->touch) {
    c->touch = wl_seat_get_touch (seat);
    wl_touch_add_listener (c->touch, &touch_listener, c);
  } else if (!has_touch && c->touch) {
    wl_touch_destroy (c->touch);
    c->touch = NULL;
  }
  record (c, "SEAT %s%s%s%s", has_pointer ? "pointer," : "",
      has_keyboard ? "keyboard," : "", has_touch ? "touch," : "",
      caps ? "" : "none");
}

static void
on_seat_name (void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
  .capabilities = on_seat_capabilities,
  .name = on_seat_name,
};

/* --- shell --- */

static void
on_toplevel_configure (void *data, struct xdg_toplevel *toplevel, int32_t width,
    int32_t height, struct wl_array *states)
{
  Client *c = data;

  c->width = width > 0 ? width : DEFAULT_WIDTH;
  c->height = height > 0 ? height : DEFAULT_HEIGHT;
}

static void
on_toplevel_close (void *data, struct xdg_toplevel *toplevel)
{
  exit (0);
}

static const struct xdg_toplevel_listener toplevel_listener = {
  .configure = on_toplevel_configure,
  .close = on_toplevel_close,
};

static void
on_surface_configure (
    void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
  Client *c = data;

  xdg_surface_ack_configure (xdg_surface, serial);
  c->configured = 1;
  if (c->width == c->drawn_width && c->height == c->drawn_height)
    wl_surface_commit (c->surface);
  else
    repaint (c);
}

static const struct xdg_surface_listener surface_listener = {
  .configure = on_surface_configure,
};

static void
on_global (void *data, struct wl_registry *registry, uint32_t name,
    const char *iface, uint32_t version)
{
  Client *c = data;

  if (strcmp (iface, wl_compositor_interface.name) == 0)
    c->compositor =
        wl_registry_bind (registry, name, &wl_compositor_interface, 4);
  else if (strcmp (iface, wl_shm_interface.name) == 0)
    c->shm = wl_registry_bind (registry, name, &wl_shm_interface, 1);
  else if (strcmp (iface, xdg_wm_base_interface.name) == 0)
    c->wm_base = wl_registry_bind (registry, name, &xdg_wm_base_interface, 1);
  else if (strcmp (iface, wl_seat_interface.name) == 0 && c->seat == NULL) {
    /* v8 brings axis_value120; v5-v7 axis_discrete; both are recorded. */
    c->seat_version = version < 8 ? version : 8;
    c->seat =
        wl_registry_bind (registry, name, &wl_seat_interface, c->seat_version);
  }
}

static void
on_global_remove (void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
  .global = on_global,
  .global_remove = on_global_remove,
};

int
main (int argc, char *argv[])
{
  Client c = {
    0,
  };
  struct wl_registry *registry;

  c.out = stdout;
  if (argc == 3 && strcmp (argv[1], "-o") == 0) {
    c.out = fopen (argv[2], "w");
    if (c.out == NULL) {
      fprintf (stderr, "zc-input-client: cannot write %s: %s\n", argv[2],
          strerror (errno));
      return 1;
    }
  } else if (argc != 1) {
    fprintf (stderr, "usage: zc-input-client [-o FILE]\n");
    return 2;
  }

  c.display = wl_display_connect (NULL);
  if (c.display == NULL) {
    fprintf (stderr,
        "zc-input-client: cannot connect to Wayland display "
        "'%s': start a compositor and set WAYLAND_DISPLAY\n",
        getenv ("WAYLAND_DISPLAY") ? getenv ("WAYLAND_DISPLAY") : "(unset)");
    return 1;
  }
  c.xkb = xkb_context_new (XKB_CONTEXT_NO_FLAGS);
  registry = wl_display_get_registry (c.display);
  wl_registry_add_listener (registry, &registry_listener, &c);
  wl_display_roundtrip (c.display);
  if (!c.compositor || !c.shm || !c.wm_base || !c.xkb) {
    fprintf (stderr,
        "zc-input-client: the compositor lacks wl_compositor, "
        "wl_shm or xdg_wm_base (or xkbcommon failed)\n");
    return 1;
  }
  xdg_wm_base_add_listener (c.wm_base, &zc_wl_wm_base_listener, &c);
  if (c.seat)
    wl_seat_add_listener (c.seat, &seat_listener, &c);
  else
    record (&c, "SEAT none");

  c.surface = wl_compositor_create_surface (c.compositor);
  c.xdg_surface = xdg_wm_base_get_xdg_surface (c.wm_base, c.surface);
  xdg_surface_add_listener (c.xdg_surface, &surface_listener, &c);
  c.toplevel = xdg_surface_get_toplevel (c.xdg_surface);
  xdg_toplevel_add_listener (c.toplevel, &toplevel_listener, &c);
  xdg_toplevel_set_title (c.toplevel, "zc-input-client");
  xdg_toplevel_set_fullscreen (c.toplevel, NULL);
  wl_surface_commit (c.surface);

  while (wl_display_dispatch (c.display) != -1) {
    if (!c.mapped && c.drawn_width > 0) {
      /* Returns once the compositor processed the commit carrying the
       * first buffer: the window is mapped. */
      wl_display_roundtrip (c.display);
      c.mapped = 1;
      record (&c, "MAPPED %dx%d", c.drawn_width, c.drawn_height);
    }
  }
  fprintf (stderr, "zc-input-client: lost the Wayland display: %s\n",
      strerror (wl_display_get_error (c.display)));
  return 1;
}
