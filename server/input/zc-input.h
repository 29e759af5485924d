/* zerocast server: an input backend, the thing that makes a viewer's
 * pointer, keyboard and touch events happen on the desktop being streamed.
 *
 * A backend is a struct that starts with a ZcInput and fills in a table of
 * functions (a small vtable, in the manner of wlroots' interfaces). The
 * server calls the zc_input_*() wrappers below, never the table directly:
 * they skip what a backend leaves NULL, so a backend implements only what
 * its compositor can do and says so in @caps. Backends are created by their
 * own constructors (zc-input-mutter.h: GNOME's RemoteDesktop; a wlroots
 * virtual-pointer/keyboard backend for Sway) and freed with
 * zc_input_destroy().
 *
 * Units, so that every backend means the same thing:
 * - Absolute positions (pointer and touch) are in stream pixels,
 *   0 <= x < width, 0 <= y < height, where width and height are the
 *   stream's size now (passed along: wlroots' virtual pointer wants the
 *   extent, Mutter wants the stream). The server scales from the client's
 *   reference size before calling; backends never see client sizes.
 * - Relative motion is in pixels of the desktop.
 * - Buttons are evdev codes (BTN_LEFT 0x110, BTN_RIGHT 0x111,
 *   BTN_MIDDLE 0x112, BTN_SIDE, BTN_EXTRA ...), keys are evdev keycodes
 *   (KEY_A 30 ...), both from <linux/input-event-codes.h>.
 * - Keysyms are X11/xkbcommon keysyms (XKB_KEY_a 0x61 ...).
 * - Smooth axis values are in the units of wl_pointer.axis (about 10 per
 *   wheel notch; positive dy scrolls down, positive dx right); discrete
 *   values are wheel notches with the same signs.
 * - Touch slots are small integers the client chose; a slot is down
 *   between touch_down and touch_up.
 *
 * Threading: every call happens on the main context's thread.
 * Held state: the per-viewer layer above this (zc-input-client.h) records
 * what each viewer holds down and releases it through these same calls
 * when the viewer leaves, so a backend need not track viewers. Its
 * release_all is for the backend's own end (its session going away while
 * something is held); leave it NULL if the compositor drops held input with
 * the session anyway.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_INPUT_CAP_NONE = 0,
  ZC_INPUT_CAP_POINTER = 1 << 0,
  ZC_INPUT_CAP_KEYBOARD = 1 << 1,
  ZC_INPUT_CAP_TOUCH = 1 << 2,
} ZcInputCaps;

typedef struct _ZcInput ZcInput;

typedef struct
{
  void (*pointer_absolute) (
      ZcInput *self, gdouble x, gdouble y, guint width, guint height);
  void (*pointer_relative) (ZcInput *self, gdouble dx, gdouble dy);
  void (*button) (ZcInput *self, guint32 evdev_button, gboolean pressed);
  void (*axis) (ZcInput *self, gdouble dx, gdouble dy);
  void (*axis_discrete) (ZcInput *self, gint dx, gint dy);
  void (*key) (ZcInput *self, guint32 evdev_keycode, gboolean pressed);
  void (*keysym) (ZcInput *self, guint32 keysym, gboolean pressed);
  void (*touch_down) (ZcInput *self, guint32 slot, gdouble x, gdouble y,
      guint width, guint height);
  void (*touch_motion) (ZcInput *self, guint32 slot, gdouble x, gdouble y,
      guint width, guint height);
  void (*touch_up) (ZcInput *self, guint32 slot);
  /* Optional, see above. */
  void (*release_all) (ZcInput *self);
  /* Frees the backend (and the ZcInput at its start). */
  void (*destroy) (ZcInput *self);
} ZcInputFuncs;

struct _ZcInput
{
  const ZcInputFuncs *funcs;
  /* What this backend can inject; the viewer's ConnectionComplete
   * capabilities and the log report it. */
  ZcInputCaps caps;
  /* A short name for logs and /metrics, e.g. "mutter-remote-desktop". */
  const gchar *name;
  /* The last absolute position sent and when (monotonic µs; 0: none or
   * the pointer moved relatively since): zc_input_pointer_absolute. */
  gdouble last_x, last_y;
  gint64 last_absolute_us;
};

/* Sets the common fields; a backend's constructor calls it first. */
void zc_input_init (ZcInput *self, const ZcInputFuncs *funcs, ZcInputCaps caps,
    const gchar *name);

void zc_input_pointer_absolute (
    ZcInput *self, gdouble x, gdouble y, guint width, guint height);
void zc_input_pointer_relative (ZcInput *self, gdouble dx, gdouble dy);
void zc_input_button (ZcInput *self, guint32 evdev_button, gboolean pressed);
void zc_input_axis (ZcInput *self, gdouble dx, gdouble dy);
void zc_input_axis_discrete (ZcInput *self, gint dx, gint dy);
void zc_input_key (ZcInput *self, guint32 evdev_keycode, gboolean pressed);
void zc_input_keysym (ZcInput *self, guint32 keysym, gboolean pressed);
void zc_input_touch_down (ZcInput *self, guint32 slot, gdouble x, gdouble y,
    guint width, guint height);
void zc_input_touch_motion (ZcInput *self, guint32 slot, gdouble x, gdouble y,
    guint width, guint height);
void zc_input_touch_up (ZcInput *self, guint32 slot);
void zc_input_release_all (ZcInput *self);

/* "pointer,keyboard,touch", "pointer,keyboard" ... or "none"; static. */
const gchar *zc_input_caps_to_string (ZcInputCaps caps);

/* NULL-safe. */
void zc_input_destroy (ZcInput *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcInput, zc_input_destroy)

G_END_DECLS
