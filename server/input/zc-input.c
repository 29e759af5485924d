/* zerocast server: the input backend wrappers (see zc-input.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-input.h"

/* Every wrapper accepts a NULL backend (view-only: nothing to inject) and a
 * backend that left the function out (it cannot do that kind of input). */
#define CALL(self, fn, ...)                                                    \
  G_STMT_START                                                                 \
  {                                                                            \
    if ((self) != NULL && (self)->funcs->fn != NULL)                           \
      (self)->funcs->fn ((self), ##__VA_ARGS__);                               \
  }                                                                            \
  G_STMT_END

void
zc_input_init (ZcInput *self, const ZcInputFuncs *funcs, ZcInputCaps caps,
    const gchar *name)
{
  g_return_if_fail (funcs != NULL && funcs->destroy != NULL);
  self->funcs = funcs;
  self->caps = caps;
  self->name = name;
}

/* A motion to where the pointer already is, this soon after the last one,
 * is not sent. Viewers send the position again with each press and
 * release; each such motion made Mutter 43 record a cursor-only frame,
 * and one recorded while the app's repaint for the click waited out the
 * frame-rate limit cancelled that repaint's frame: the picture stayed
 * stale (e2e-input, about 1 run in 12 on Debian 12). A second is short
 * enough that a pointer moved meanwhile by someone else is still put
 * back by the next motion of the viewer's. */
#define SAME_POSITION_WINDOW_US G_USEC_PER_SEC

void
zc_input_pointer_absolute (
    ZcInput *self, gdouble x, gdouble y, guint width, guint height)
{
  gint64 now = g_get_monotonic_time ();

  /* No backend (view-only), or no stream size yet: nowhere to point. */
  if (self == NULL || width == 0 || height == 0)
    return;
  x = CLAMP (x, 0, width - 1);
  y = CLAMP (y, 0, height - 1);
  if (self->last_absolute_us != 0
      && now - self->last_absolute_us < SAME_POSITION_WINDOW_US
      && x == self->last_x && y == self->last_y)
    return;
  self->last_x = x;
  self->last_y = y;
  self->last_absolute_us = now;
  CALL (self, pointer_absolute, x, y, width, height);
}

void
zc_input_pointer_relative (ZcInput *self, gdouble dx, gdouble dy)
{
  if (self != NULL)
    self->last_absolute_us = 0;
  CALL (self, pointer_relative, dx, dy);
}

void
zc_input_button (ZcInput *self, guint32 evdev_button, gboolean pressed)
{
  CALL (self, button, evdev_button, pressed);
}

void
zc_input_axis (ZcInput *self, gdouble dx, gdouble dy)
{
  CALL (self, axis, dx, dy);
}

void
zc_input_axis_discrete (ZcInput *self, gint dx, gint dy)
{
  CALL (self, axis_discrete, dx, dy);
}

void
zc_input_key (ZcInput *self, guint32 evdev_keycode, gboolean pressed)
{
  CALL (self, key, evdev_keycode, pressed);
}

void
zc_input_keysym (ZcInput *self, guint32 keysym, gboolean pressed)
{
  CALL (self, keysym, keysym, pressed);
}

void
zc_input_touch_down (ZcInput *self, guint32 slot, gdouble x, gdouble y,
    guint width, guint height)
{
  if (width == 0 || height == 0)
    return;
  CALL (self, touch_down, slot, CLAMP (x, 0, width - 1),
      CLAMP (y, 0, height - 1), width, height);
}

void
zc_input_touch_motion (ZcInput *self, guint32 slot, gdouble x, gdouble y,
    guint width, guint height)
{
  if (width == 0 || height == 0)
    return;
  CALL (self, touch_motion, slot, CLAMP (x, 0, width - 1),
      CLAMP (y, 0, height - 1), width, height);
}

void
zc_input_touch_up (ZcInput *self, guint32 slot)
{
  CALL (self, touch_up, slot);
}

void
zc_input_release_all (ZcInput *self)
{
  CALL (self, release_all);
}

const gchar *
zc_input_caps_to_string (ZcInputCaps caps)
{
  static const gchar *const names[] = {
    [0] = "none",
    [ZC_INPUT_CAP_POINTER] = "pointer",
    [ZC_INPUT_CAP_KEYBOARD] = "keyboard",
    [ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD] = "pointer,keyboard",
    [ZC_INPUT_CAP_TOUCH] = "touch",
    [ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_TOUCH] = "pointer,touch",
    [ZC_INPUT_CAP_KEYBOARD | ZC_INPUT_CAP_TOUCH] = "keyboard,touch",
    [ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD | ZC_INPUT_CAP_TOUCH] =
        "pointer,keyboard,touch",
  };

  return names[caps & 7];
}

void
zc_input_destroy (ZcInput *self)
{
  if (self == NULL)
    return;
  self->funcs->destroy (self);
}
