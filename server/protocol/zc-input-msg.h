/* zerocast server: the input messages a viewer sends (types 0x10-0x14),
 * in the byte layouts of Helix's client (helixml/helix,
 * frontend/src/lib/helix-stream/stream/websocket-stream.ts; the server
 * side in api/pkg/desktop/ws_input.go). Pure functions, no I/O.
 *
 * Layouts, the type byte first; BE = big-endian, LE = little-endian:
 *   0x10 0x00 down:u8 mods:u8 keycode:u16 BE     evdev key down/up (6)
 *   0x10 0x02 down:u8 mods:u8 keysym:u32 BE      keysym down/up (8)
 *   0x10 0x03 mods:u8 keysym:u32 BE              keysym tap (7)
 *   0x11 0x02 down:u8 button:u8                  1 left, 2 middle,
 *                                                3 right, 4 side, 5 extra.. (4)
 *   0x11 0x03 dx:f32 LE dy:f32 LE                smooth wheel, browser
 *                                                pixels, +y = down (10)
 *   0x11 0x04 dx:i8 dy:i8                        wheel notches (4)
 *   0x12 0x01 x y ref_w ref_h: i16 BE            absolute, in a reference
 *                                                size the client measured (10)
 *   0x13 0x00 dx dy: i16 BE                      relative motion (6)
 *   0x14 phase:u8 slot:u8 x:f32 LE y:f32 LE      touch; phase 0 down,
 *                                                1 motion, 2 up; x, y in 0..1
 * (11) A message may be longer than its layout (Helix's server ignores the
 * rest, so a newer client may append fields); shorter, an unknown
 * sub-type, a non-finite float, a reference size <= 0, a button or key
 * code out of range is refused with a reason.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_INPUT_MSG_KEY,            /* code: evdev keycode; pressed */
  ZC_INPUT_MSG_KEYSYM,         /* code: keysym; pressed */
  ZC_INPUT_MSG_KEYSYM_TAP,     /* code: keysym; modifiers */
  ZC_INPUT_MSG_BUTTON,         /* code: evdev BTN_*; pressed */
  ZC_INPUT_MSG_WHEEL_SMOOTH,   /* fx, fy */
  ZC_INPUT_MSG_WHEEL_DISCRETE, /* x, y */
  ZC_INPUT_MSG_ABSOLUTE,       /* x, y, ref_width, ref_height */
  ZC_INPUT_MSG_RELATIVE,       /* x, y: the motion */
  ZC_INPUT_MSG_TOUCH,          /* touch_phase, slot, fx, fy in 0..1 */
} ZcInputMsgKind;

typedef enum
{
  ZC_TOUCH_DOWN = 0,
  ZC_TOUCH_MOTION = 1,
  ZC_TOUCH_UP = 2,
} ZcTouchPhase;

/* The modifier bits of keysym taps (Helix's EvdevModifiers). */
#define ZC_INPUT_MOD_SHIFT (1 << 0)
#define ZC_INPUT_MOD_CTRL (1 << 1)
#define ZC_INPUT_MOD_ALT (1 << 2)
#define ZC_INPUT_MOD_META (1 << 3)

typedef struct
{
  ZcInputMsgKind kind;
  gboolean pressed;
  guint8 modifiers;
  /* Keycode or keysym (0 means "no key": the client had no code for it;
   * nothing is injected), or an evdev button code. */
  guint32 code;
  gint x, y;
  gint ref_width, ref_height;
  gfloat fx, fy;
  ZcTouchPhase touch_phase;
  guint8 slot;
} ZcInputMsg;

/* Parses one input message (types 0x10-0x14). Returns FALSE with a reason
 * in @error for anything malformed. */
gboolean zc_input_msg_parse (
    const guint8 *data, gsize size, ZcInputMsg *msg, GError **error);

/* The evdev code for a client button number (1 left, 2 middle, 3 right,
 * 4 side, 5 extra, 6 forward, 7 back, 8 task), or 0 for none. */
guint32 zc_input_msg_button_to_evdev (guint button);

/* The message for @msg (a builder, for tests and tools): the exact layout
 * above. */
GBytes *zc_input_msg_build (const ZcInputMsg *msg);

G_END_DECLS
