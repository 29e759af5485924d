/* zc-colour-client: one fullscreen Wayland window showing four colour
 * quadrants with exact values (top-left 0xff0000 red, top-right 0x00ff00
 * green, bottom-left 0x0000ff blue, bottom-right 0xffffff white), so a
 * capture test can tell a red/blue swap or a mirrored image apart.
 *
 * It prints `MAPPED WxH` once the compositor has taken its first frame,
 * redraws at whatever size the compositor configures, and runs until it
 * is killed or the compositor goes away.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client.h>
#include "xdg-shell-client-protocol.h"

#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 480

typedef struct
{
  struct wl_display *display;
  struct wl_compositor *compositor;
  struct wl_shm *shm;
  struct xdg_wm_base *wm_base;
  struct wl_surface *surface;
  struct xdg_surface *xdg_surface;
  struct xdg_toplevel *toplevel;
  int width, height; /* from the last toplevel configure */
  int drawn_width, drawn_height;
  int mapped;
} Client;

static void
on_buffer_release (void *data, struct wl_buffer *buffer)
{
  /* Every configure draws a new buffer: once the compositor is done with
   * an old one it goes. */
  wl_buffer_destroy (buffer);
}

static const struct wl_buffer_listener buffer_listener = {
  .release = on_buffer_release,
};

static uint32_t
quadrant_xrgb (int x, int y, int width, int height)
{
  int right = x >= width / 2, bottom = y >= height / 2;

  if (!bottom)
    return right ? 0xff00ff00 : 0xffff0000;
  return right ? 0xffffffff : 0xff0000ff;
}

static struct wl_buffer *
draw (Client *c, int width, int height)
{
  int stride = width * 4, size = stride * height;
  struct wl_shm_pool *pool;
  struct wl_buffer *buffer;
  uint32_t *pixels;
  int fd;

  fd = memfd_create ("zc-colour-client", MFD_CLOEXEC);
  if (fd < 0 || ftruncate (fd, size) < 0) {
    fprintf (stderr, "zc-colour-client: cannot allocate %d bytes: %s\n", size,
        strerror (errno));
    exit (1);
  }
  pixels = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (pixels == MAP_FAILED) {
    fprintf (stderr, "zc-colour-client: mmap failed: %s\n", strerror (errno));
    exit (1);
  }
  /* WL_SHM_FORMAT_XRGB8888 is a little-endian 32-bit word 0xXXRRGGBB. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      pixels[y * width + x] = quadrant_xrgb (x, y, width, height);
  munmap (pixels, size);

  pool = wl_shm_create_pool (c->shm, fd, size);
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

static const struct xdg_wm_base_listener wm_base_listener = {
  .ping = on_wm_ping,
};

static void
on_toplevel_configure (void *data, struct xdg_toplevel *toplevel, int32_t width,
    int32_t height, struct wl_array *states)
{
  Client *c = data;

  /* 0x0 means "pick your own size" (before the fullscreen state lands). */
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
  if (c->width == c->drawn_width && c->height == c->drawn_height) {
    wl_surface_commit (c->surface);
    return;
  }
  wl_surface_attach (c->surface, draw (c, c->width, c->height), 0, 0);
  wl_surface_damage (c->surface, 0, 0, c->width, c->height);
  wl_surface_commit (c->surface);
  c->drawn_width = c->width;
  c->drawn_height = c->height;
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

  c.display = wl_display_connect (NULL);
  if (c.display == NULL) {
    fprintf (stderr,
        "zc-colour-client: cannot connect to Wayland display "
        "'%s': start a compositor and set WAYLAND_DISPLAY\n",
        getenv ("WAYLAND_DISPLAY") ? getenv ("WAYLAND_DISPLAY") : "(unset)");
    return 1;
  }
  registry = wl_display_get_registry (c.display);
  wl_registry_add_listener (registry, &registry_listener, &c);
  wl_display_roundtrip (c.display);
  if (!c.compositor || !c.shm || !c.wm_base) {
    fprintf (stderr,
        "zc-colour-client: the compositor lacks wl_compositor, "
        "wl_shm or xdg_wm_base\n");
    return 1;
  }
  xdg_wm_base_add_listener (c.wm_base, &wm_base_listener, &c);

  c.surface = wl_compositor_create_surface (c.compositor);
  c.xdg_surface = xdg_wm_base_get_xdg_surface (c.wm_base, c.surface);
  xdg_surface_add_listener (c.xdg_surface, &surface_listener, &c);
  c.toplevel = xdg_surface_get_toplevel (c.xdg_surface);
  xdg_toplevel_add_listener (c.toplevel, &toplevel_listener, &c);
  xdg_toplevel_set_title (c.toplevel, "zc-colour-client");
  xdg_toplevel_set_fullscreen (c.toplevel, NULL);
  /* An initial commit without a buffer asks for the first configure. */
  wl_surface_commit (c.surface);

  while (wl_display_dispatch (c.display) != -1) {
    if (!c.mapped && c.drawn_width > 0) {
      /* The round trip returns once the compositor has processed the
       * commit carrying our first buffer: the window is mapped. */
      wl_display_roundtrip (c.display);
      c.mapped = 1;
      printf ("MAPPED %dx%d\n", c.drawn_width, c.drawn_height);
      fflush (stdout);
    }
  }
  fprintf (stderr, "zc-colour-client: lost the Wayland display: %s\n",
      strerror (wl_display_get_error (c.display)));
  return 1;
}
