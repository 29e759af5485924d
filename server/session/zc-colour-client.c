/* zc-colour-client: one fullscreen Wayland window showing four colour
 * quadrants with exact values (top-left 0xff0000 red, top-right 0x00ff00
 * green, bottom-left 0x0000ff blue, bottom-right 0xffffff white), so a
 * capture test can tell a red/blue swap or a mirrored image apart.
 *
 * It prints `MAPPED WxH` once the compositor has taken its first frame
 * drawn fullscreen,
 * redraws at whatever size the compositor configures, and runs until it
 * is killed or the compositor goes away.
 *
 * `--repaint-fps N` also repaints N times a second, toggling an 8x8 block
 * in the top-left corner between two reds, so a damage-based ScreenCast
 * sends frames at that rate (the frame-timing benchmark's 10 fps desktop).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "zc-wl-shm.h"

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
  int fullscreen;       /* the last toplevel configure says so */
  int drawn_fullscreen; /* ... and it was acked */
  int mapped;
  int tick; /* toggles the corner block on each repaint */
} Client;

static uint32_t
quadrant_xrgb (int x, int y, int width, int height)
{
  int right = x >= width / 2, bottom = y >= height / 2;

  if (!bottom)
    return right ? 0xff00ff00 : 0xffff0000;
  return right ? 0xffffffff : 0xff0000ff;
}

typedef struct
{
  int tick;
} Paint;

static void
paint_quadrants (uint32_t *pixels, int width, int height, void *data)
{
  const Paint *p = data;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      pixels[y * width + x] = x < 8 && y < 8 && p->tick
          ? 0xfffe0000
          : quadrant_xrgb (x, y, width, height);
}

static struct wl_buffer *
draw (Client *c, int width, int height)
{
  Paint p = { .tick = c->tick };

  return zc_wl_shm_buffer_new (
      c->shm, "zc-colour-client", width, height, paint_quadrants, &p);
}

static void
on_toplevel_configure (void *data, struct xdg_toplevel *toplevel, int32_t width,
    int32_t height, struct wl_array *states)
{
  Client *c = data;
  uint32_t *state;

  /* 0x0 means "pick your own size" (before the fullscreen state lands). */
  c->width = width > 0 ? width : DEFAULT_WIDTH;
  c->height = height > 0 ? height : DEFAULT_HEIGHT;
  /* Fullscreen at a size of the compositor's: Mutter 48 with no monitor
   * says fullscreen at 0x0. */
  c->fullscreen = 0;
  wl_array_for_each (state, states)
  {
    if (*state == XDG_TOPLEVEL_STATE_FULLSCREEN && width > 0 && height > 0)
      c->fullscreen = 1;
  }
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
  c->drawn_fullscreen = c->fullscreen;
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

/* A new picture for --repaint-fps: the corner block changes, and only it
 * is damaged. */
static void
repaint (Client *c)
{
  if (c->drawn_width == 0)
    return;
  c->tick = !c->tick;
  wl_surface_attach (
      c->surface, draw (c, c->drawn_width, c->drawn_height), 0, 0);
  wl_surface_damage (c->surface, 0, 0, 8, 8);
  wl_surface_commit (c->surface);
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
  struct pollfd fds[2];
  int repaint_fps = 0, timer = -1;

  for (int i = 1; i < argc; i++) {
    char *end = NULL;
    if (strcmp (argv[i], "--repaint-fps") == 0 && i + 1 < argc) {
      repaint_fps = (int) strtol (argv[++i], &end, 10);
      if (*end == '\0' && repaint_fps >= 1 && repaint_fps <= 1000)
        continue;
    }
    fprintf (stderr, "usage: zc-colour-client [--repaint-fps 1..1000]\n");
    return 2;
  }

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
  xdg_wm_base_add_listener (c.wm_base, &zc_wl_wm_base_listener, &c);

  c.surface = wl_compositor_create_surface (c.compositor);
  c.xdg_surface = xdg_wm_base_get_xdg_surface (c.wm_base, c.surface);
  xdg_surface_add_listener (c.xdg_surface, &surface_listener, &c);
  c.toplevel = xdg_surface_get_toplevel (c.xdg_surface);
  xdg_toplevel_add_listener (c.toplevel, &toplevel_listener, &c);
  xdg_toplevel_set_title (c.toplevel, "zc-colour-client");
  xdg_toplevel_set_fullscreen (c.toplevel, NULL);
  /* An initial commit without a buffer asks for the first configure. */
  wl_surface_commit (c.surface);

  if (repaint_fps > 0) {
    struct itimerspec period = { .it_interval.tv_nsec =
                                     1000000000L / repaint_fps,
      .it_value.tv_nsec = 1000000000L / repaint_fps };
    if (repaint_fps == 1)
      period.it_interval = period.it_value = (struct timespec){ 1, 0 };
    timer = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (timer < 0 || timerfd_settime (timer, 0, &period, NULL) < 0) {
      fprintf (stderr, "zc-colour-client: timerfd: %s\n", strerror (errno));
      return 1;
    }
  }
  fds[0] =
      (struct pollfd){ .fd = wl_display_get_fd (c.display), .events = POLLIN };
  fds[1] = (struct pollfd){ .fd = timer, .events = POLLIN };

  for (;;) {
    /* wl_display_dispatch() with a timer beside it: read the display
     * only when it has data, repaint when the timer fires. */
    while (wl_display_prepare_read (c.display) != 0)
      if (wl_display_dispatch_pending (c.display) < 0)
        goto lost;
    if (wl_display_flush (c.display) < 0 && errno != EAGAIN) {
      wl_display_cancel_read (c.display);
      goto lost;
    }
    if (poll (fds, timer >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) {
      wl_display_cancel_read (c.display);
      goto lost;
    }
    if (fds[0].revents & POLLIN) {
      if (wl_display_read_events (c.display) < 0)
        goto lost;
    } else {
      wl_display_cancel_read (c.display);
    }
    if (wl_display_dispatch_pending (c.display) < 0
        || (fds[0].revents & (POLLERR | POLLHUP)))
      goto lost;
    if (timer >= 0 && (fds[1].revents & POLLIN)) {
      uint64_t expirations;
      if (read (timer, &expirations, sizeof (expirations)) > 0 && c.mapped)
        repaint (&c);
    }
    if (!c.mapped && c.drawn_width > 0 && c.drawn_fullscreen) {
      /* The round trip returns once the compositor has processed the
       * commit carrying our first buffer: the window is mapped. */
      wl_display_roundtrip (c.display);
      c.mapped = 1;
      printf ("MAPPED %dx%d\n", c.drawn_width, c.drawn_height);
      fflush (stdout);
    }
  }
lost:
  fprintf (stderr, "zc-colour-client: lost the Wayland display: %s\n",
      strerror (wl_display_get_error (c.display)));
  return 1;
}
