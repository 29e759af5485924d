/* The explicit-sync ioctls (zc-syncobj.c) on a real DRM device: a
 * timeline syncobj made here, exported as the fd a producer would send;
 * waiting on an unsignalled point times out, signalling it from the CPU
 * (what the element does for the release point) lets the wait (what it
 * does for the acquire point) return, and the timeline shows the point.
 * Exits 77 when the host has no DRM render node or its driver no timeline
 * syncobjs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "zc-syncobj.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm.h>

static int
fail (const gchar *what, GError *error)
{
  fprintf (stderr, "FAIL: %s%s%s\n", what, error ? ": " : "",
      error ? error->message : "");
  g_clear_error (&error);
  return 1;
}

int
main (void)
{
  GError *error = NULL;
  ZcSyncobj *sync = zc_syncobj_open (NULL, &error);
  struct drm_syncobj_create create = { 0 };
  struct drm_syncobj_handle export = { 0 };
  struct drm_syncobj_timeline_array query = { 0 };
  struct drm_syncobj_destroy destroy = { 0 };
  guint64 point = 0;
  gint fd, dev;
  gint64 start;

  if (sync == NULL) {
    printf (
        "SKIP: explicit sync cannot run on this host: %s\n", error->message);
    g_error_free (error);
    return 77;
  }
  printf ("explicit sync through %s\n", zc_syncobj_device (sync));

  /* The producer's side, on a device of its own: make a syncobj and
   * export it as an fd. */
  dev = open (zc_syncobj_device (sync), O_RDWR | O_CLOEXEC);
  if (dev < 0)
    return fail ("open the device a second time", NULL);
  if (ioctl (dev, DRM_IOCTL_SYNCOBJ_CREATE, &create) != 0)
    return fail ("DRM_IOCTL_SYNCOBJ_CREATE", NULL);
  export.handle = create.handle;
  if (ioctl (dev, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &export) != 0)
    return fail ("DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD", NULL);
  fd = export.fd;

  /* Point 1 is not signalled: the wait gives up after its timeout. */
  start = g_get_monotonic_time ();
  if (zc_syncobj_wait (sync, fd, 1, 20 * 1000 * 1000, &error))
    return fail ("waiting on an unsignalled point returned", NULL);
  printf ("unsignalled point: %s (after %" G_GINT64_FORMAT " us)\n",
      error->message, g_get_monotonic_time () - start);
  g_clear_error (&error);
  if (g_get_monotonic_time () - start < 15 * 1000)
    return fail ("the wait did not wait for its timeout", NULL);

  /* Signalled (the release step), the wait (the acquire step) returns. */
  if (!zc_syncobj_signal (sync, fd, 1, &error))
    return fail ("signal point 1", error);
  if (!zc_syncobj_wait (sync, fd, 1, 1000 * 1000 * 1000, &error))
    return fail ("wait on signalled point 1", error);
  query.handles = (guint64) (guintptr) &create.handle;
  query.points = (guint64) (guintptr) &point;
  query.count_handles = 1;
  if (ioctl (dev, DRM_IOCTL_SYNCOBJ_QUERY, &query) != 0)
    return fail ("DRM_IOCTL_SYNCOBJ_QUERY", NULL);
  if (point != 1) {
    fprintf (stderr, "FAIL: the timeline is at %" G_GUINT64_FORMAT ", not 1\n",
        point);
    return 1;
  }
  /* Point 2 is still ahead. */
  if (zc_syncobj_wait (sync, fd, 2, 5 * 1000 * 1000, NULL))
    return fail ("point 2 was reached without a signal", NULL);
  /* Not a syncobj: a clear error, not a crash. */
  if (zc_syncobj_signal (sync, 0, 1, &error))
    return fail ("signalling fd 0 succeeded", NULL);
  printf ("bad fd: %s\n", error->message);
  g_clear_error (&error);

  close (fd);
  destroy.handle = create.handle;
  ioctl (dev, DRM_IOCTL_SYNCOBJ_DESTROY, &destroy);
  close (dev);
  zc_syncobj_free (sync);
  printf ("PASS: wait, signal and timeline point\n");
  return 0;
}
