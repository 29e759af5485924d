/* zerocast server: parsing (and building) viewer input messages.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-input-msg.h"

#include <math.h>
#include <string.h>
#include <linux/input-event-codes.h>

#include "zc-server-error.h"
#include "zc-wire.h"

static gint16
get_i16_be (const guint8 *p)
{
  return (gint16) (guint16) (p[0] << 8 | p[1]);
}

static guint32
get_u32_be (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8
      | p[3];
}

static gfloat
get_f32_le (const guint8 *p)
{
  guint32 bits =
      (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
  gfloat f;

  memcpy (&f, &bits, sizeof (f));
  return f;
}

static void
put_i16_be (guint8 *p, gint v)
{
  p[0] = (guint16) v >> 8;
  p[1] = (guint16) v;
}

static void
put_u32_be (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
put_f32_le (guint8 *p, gfloat f)
{
  guint32 bits;

  memcpy (&bits, &f, sizeof (bits));
  p[0] = bits;
  p[1] = bits >> 8;
  p[2] = bits >> 16;
  p[3] = bits >> 24;
}

guint32
zc_input_msg_button_to_evdev (guint button)
{
  /* Helix's numbering is the X11 one for the first three (2 is the
   * middle button); evdev puts BTN_RIGHT before BTN_MIDDLE. */
  switch (button) {
    case 1:
      return BTN_LEFT;
    case 2:
      return BTN_MIDDLE;
    case 3:
      return BTN_RIGHT;
    case 4:
      return BTN_SIDE;
    case 5:
      return BTN_EXTRA;
    case 6:
      return BTN_FORWARD;
    case 7:
      return BTN_BACK;
    case 8:
      return BTN_TASK;
    default:
      return 0;
  }
}

static gboolean
need (gsize size, gsize want, const gchar *what, GError **error)
{
  if (size >= want)
    return TRUE;
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
      "%s message too short: %" G_GSIZE_FORMAT " bytes, want %" G_GSIZE_FORMAT,
      what, size, want);
  return FALSE;
}

static gboolean
finite_pair (gfloat a, gfloat b, const gchar *what, GError **error)
{
  if (isfinite (a) && isfinite (b))
    return TRUE;
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
      "%s message carries a value that is not a finite number", what);
  return FALSE;
}

static gboolean
parse_keyboard (const guint8 *d, gsize size, ZcInputMsg *msg, GError **error)
{
  if (!need (size, 2, "keyboard", error))
    return FALSE;
  switch (d[1]) {
    case 0:
      if (!need (size, 6, "keyboard", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_KEY;
      msg->pressed = d[2] != 0;
      msg->modifiers = d[3];
      msg->code = (guint16) get_i16_be (d + 4);
      if (msg->code > KEY_MAX) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "keyboard message: keycode %u is not an evdev key (max %u)",
            msg->code, KEY_MAX);
        return FALSE;
      }
      return TRUE;
    case 2:
      if (!need (size, 8, "keyboard", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_KEYSYM;
      msg->pressed = d[2] != 0;
      msg->modifiers = d[3];
      msg->code = get_u32_be (d + 4);
      break;
    case 3:
      if (!need (size, 7, "keyboard", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_KEYSYM_TAP;
      msg->pressed = TRUE;
      msg->modifiers = d[2];
      msg->code = get_u32_be (d + 3);
      break;
    default:
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
          "keyboard message with unknown sub-type %u", d[1]);
      return FALSE;
  }
  /* Keysyms are 29 bits (xkbcommon: 0x1fffffff at most). */
  if (msg->code > 0x1fffffff) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "keyboard message: 0x%x is not a keysym", msg->code);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_mouse (const guint8 *d, gsize size, ZcInputMsg *msg, GError **error)
{
  if (!need (size, 2, "mouse", error))
    return FALSE;
  switch (d[1]) {
    case 2:
      if (!need (size, 4, "mouse button", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_BUTTON;
      msg->pressed = d[2] != 0;
      msg->code = zc_input_msg_button_to_evdev (d[3]);
      if (msg->code == 0) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "mouse button message: no button %u (1 to 8)", d[3]);
        return FALSE;
      }
      return TRUE;
    case 3:
      if (!need (size, 10, "smooth wheel", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_WHEEL_SMOOTH;
      msg->fx = get_f32_le (d + 2);
      msg->fy = get_f32_le (d + 6);
      return finite_pair (msg->fx, msg->fy, "smooth wheel", error);
    case 4:
      if (!need (size, 4, "wheel", error))
        return FALSE;
      msg->kind = ZC_INPUT_MSG_WHEEL_DISCRETE;
      msg->x = (gint8) d[2];
      msg->y = (gint8) d[3];
      return TRUE;
    default:
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
          "mouse message with unknown sub-type %u", d[1]);
      return FALSE;
  }
}

gboolean
zc_input_msg_parse (
    const guint8 *data, gsize size, ZcInputMsg *msg, GError **error)
{
  memset (msg, 0, sizeof (*msg));
  if (size == 0) {
    g_set_error_literal (
        error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL, "empty message");
    return FALSE;
  }
  switch (data[0]) {
    case ZC_WIRE_KEYBOARD:
      return parse_keyboard (data, size, msg, error);
    case ZC_WIRE_MOUSE_BUTTON:
      return parse_mouse (data, size, msg, error);
    case ZC_WIRE_MOUSE_ABSOLUTE:
      if (!need (size, 10, "absolute pointer", error))
        return FALSE;
      if (data[1] != 1) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "absolute pointer message with unknown sub-type %u", data[1]);
        return FALSE;
      }
      msg->kind = ZC_INPUT_MSG_ABSOLUTE;
      msg->x = get_i16_be (data + 2);
      msg->y = get_i16_be (data + 4);
      msg->ref_width = get_i16_be (data + 6);
      msg->ref_height = get_i16_be (data + 8);
      if (msg->ref_width <= 0 || msg->ref_height <= 0) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "absolute pointer message with reference size %dx%d (must be "
            "positive)",
            msg->ref_width, msg->ref_height);
        return FALSE;
      }
      return TRUE;
    case ZC_WIRE_MOUSE_RELATIVE:
      if (!need (size, 6, "relative pointer", error))
        return FALSE;
      if (data[1] != 0) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "relative pointer message with unknown sub-type %u", data[1]);
        return FALSE;
      }
      msg->kind = ZC_INPUT_MSG_RELATIVE;
      msg->x = get_i16_be (data + 2);
      msg->y = get_i16_be (data + 4);
      return TRUE;
    case ZC_WIRE_TOUCH:
      if (!need (size, 11, "touch", error))
        return FALSE;
      if (data[1] > ZC_TOUCH_UP) {
        g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "touch message with unknown event type %u", data[1]);
        return FALSE;
      }
      msg->kind = ZC_INPUT_MSG_TOUCH;
      msg->touch_phase = data[1];
      msg->slot = data[2];
      msg->fx = get_f32_le (data + 3);
      msg->fy = get_f32_le (data + 7);
      return finite_pair (msg->fx, msg->fy, "touch", error);
    default:
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
          "message type 0x%02x is not input", data[0]);
      return FALSE;
  }
}

static guint8
evdev_to_button (guint32 code)
{
  for (guint b = 1; b <= 8; b++)
    if (zc_input_msg_button_to_evdev (b) == code)
      return b;
  return 0;
}

GBytes *
zc_input_msg_build (const ZcInputMsg *msg)
{
  guint8 m[11] = { 0 };
  gsize n = 0;

  switch (msg->kind) {
    case ZC_INPUT_MSG_KEY:
      m[0] = ZC_WIRE_KEYBOARD, m[1] = 0, m[2] = msg->pressed;
      m[3] = msg->modifiers;
      put_i16_be (m + 4, (gint) msg->code);
      n = 6;
      break;
    case ZC_INPUT_MSG_KEYSYM:
      m[0] = ZC_WIRE_KEYBOARD, m[1] = 2, m[2] = msg->pressed;
      m[3] = msg->modifiers;
      put_u32_be (m + 4, msg->code);
      n = 8;
      break;
    case ZC_INPUT_MSG_KEYSYM_TAP:
      m[0] = ZC_WIRE_KEYBOARD, m[1] = 3, m[2] = msg->modifiers;
      put_u32_be (m + 3, msg->code);
      n = 7;
      break;
    case ZC_INPUT_MSG_BUTTON:
      m[0] = ZC_WIRE_MOUSE_BUTTON, m[1] = 2, m[2] = msg->pressed;
      m[3] = evdev_to_button (msg->code);
      n = 4;
      break;
    case ZC_INPUT_MSG_WHEEL_SMOOTH:
      m[0] = ZC_WIRE_MOUSE_BUTTON, m[1] = 3;
      put_f32_le (m + 2, msg->fx);
      put_f32_le (m + 6, msg->fy);
      n = 10;
      break;
    case ZC_INPUT_MSG_WHEEL_DISCRETE:
      m[0] = ZC_WIRE_MOUSE_BUTTON, m[1] = 4;
      m[2] = (guint8) (gint8) msg->x, m[3] = (guint8) (gint8) msg->y;
      n = 4;
      break;
    case ZC_INPUT_MSG_ABSOLUTE:
      m[0] = ZC_WIRE_MOUSE_ABSOLUTE, m[1] = 1;
      put_i16_be (m + 2, msg->x);
      put_i16_be (m + 4, msg->y);
      put_i16_be (m + 6, msg->ref_width);
      put_i16_be (m + 8, msg->ref_height);
      n = 10;
      break;
    case ZC_INPUT_MSG_RELATIVE:
      m[0] = ZC_WIRE_MOUSE_RELATIVE, m[1] = 0;
      put_i16_be (m + 2, msg->x);
      put_i16_be (m + 4, msg->y);
      n = 6;
      break;
    case ZC_INPUT_MSG_TOUCH:
      m[0] = ZC_WIRE_TOUCH, m[1] = msg->touch_phase, m[2] = msg->slot;
      put_f32_le (m + 3, msg->fx);
      put_f32_le (m + 7, msg->fy);
      n = 11;
      break;
  }
  return g_bytes_new (m, n);
}
