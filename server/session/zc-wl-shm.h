/* What zerocast's own Wayland windows share (the headless desktop's colour
 * window, the tests' input recorder): a shared-memory buffer painted by
 * the caller, and the answer to the shell's ping.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include <wayland-client.h>
#include "xdg-shell-client-protocol.h"

/* Fills @pixels: @width x @height XRGB8888 words, row after row, each a
 * little-endian 0xXXRRGGBB. */
typedef void (*ZcWlPaint) (uint32_t *pixels, int width, int height, void *data);

/* A new WL_SHM_FORMAT_XRGB8888 buffer that destroys itself once the
 * compositor releases it. Exits the program, naming @who, when memory for
 * it cannot be had (these are one-window programs). */
struct wl_buffer *zc_wl_shm_buffer_new (struct wl_shm *shm, const char *who,
    int width, int height, ZcWlPaint paint, void *data);

/* Answers xdg_wm_base.ping (a window that does not is "not responding"). */
extern const struct xdg_wm_base_listener zc_wl_wm_base_listener;
