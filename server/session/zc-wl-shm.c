/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* memfd_create */
#include "zc-wl-shm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void
on_buffer_release (void *data, struct wl_buffer *buffer)
{
  /* Every repaint draws a new buffer: once the compositor is done with an
   * old one it goes. */
  wl_buffer_destroy (buffer);
}

static const struct wl_buffer_listener buffer_listener = {
  .release = on_buffer_release,
};

struct wl_buffer *
zc_wl_shm_buffer_new (struct wl_shm *shm, const char *who, int width,
    int height, ZcWlPaint paint, void *data)
{
  int stride = width * 4, size = stride * height;
  struct wl_shm_pool *pool;
  struct wl_buffer *buffer;
  uint32_t *pixels;
  int fd;

  fd = memfd_create (who, MFD_CLOEXEC);
  if (fd < 0 || ftruncate (fd, size) < 0) {
    fprintf (stderr, "%s: cannot allocate %d bytes: %s\n", who, size,
        strerror (errno));
    exit (1);
  }
  pixels = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (pixels == MAP_FAILED) {
    fprintf (stderr, "%s: mmap failed: %s\n", who, strerror (errno));
    exit (1);
  }
  paint (pixels, width, height, data);
  munmap (pixels, size);

  pool = wl_shm_create_pool (shm, fd, size);
  buffer = wl_shm_pool_create_buffer (
      pool, 0, width, height, stride, WL_SHM_FORMAT_XRGB8888);
  wl_shm_pool_destroy (pool);
  close (fd);
  wl_buffer_add_listener (buffer, &buffer_listener, NULL);
  return buffer;
}

static void
on_wm_ping (void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
  xdg_wm_base_pong (wm_base, serial);
}

const struct xdg_wm_base_listener zc_wl_wm_base_listener = {
  .ping = on_wm_ping,
};
