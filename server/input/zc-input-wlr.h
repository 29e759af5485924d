/* zerocast server: input for wlroots compositors (Sway), as a Wayland
 * client of the compositor through its virtual pointer
 * (zwlr_virtual_pointer_v1) and virtual keyboard (zwp_virtual_keyboard_v1)
 * protocols. The keyboard gets an xkb keymap compiled here (RMLVO from
 * XKB_DEFAULT_* or the "us" layout); keysym input is typed through the key
 * that produces it in that keymap. Touch is not offered (wlroots has no
 * virtual touch protocol).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "zc-input.h"

G_BEGIN_DECLS

/* Connects to @display (a socket name in XDG_RUNTIME_DIR or an absolute
 * path; NULL means $WAYLAND_DISPLAY), creates a virtual pointer and a
 * virtual keyboard and uploads the keymap. Its events are read in the
 * thread-default main context. Fails with a clear message when the
 * compositor is gone or lacks the protocols. */
ZcInput *zc_input_wlr_new (const gchar *display, GError **error);

/* FALSE once the compositor connection broke (input is then dropped). */
gboolean zc_input_wlr_is_connected (ZcInput *input);

G_END_DECLS
