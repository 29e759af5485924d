/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-syncobj.h"

#include "zc-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* The kernel's uapi (libdrm's copy): the ioctls are called directly, so
 * libdrm itself is not linked. */
#include <drm.h>

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (zc_syncobj_debug);
#define GST_CAT_DEFAULT zc_syncobj_debug

struct _ZcSyncobj
{
  gint fd;
  gchar *device;
};

static gint
drm_ioctl (gint fd, unsigned long request, void *arg)
{
  gint ret;

  do
    ret = ioctl (fd, request, arg);
  while (ret == -1 && (errno == EINTR || errno == EAGAIN));
  return ret;
}

static gchar *
first_render_node (void)
{
  for (guint i = 128; i < 192; i++) {
    gchar *path = g_strdup_printf ("/dev/dri/renderD%u", i);

    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return path;
    g_free (path);
  }
  return NULL;
}

ZcSyncobj *
zc_syncobj_open (const gchar *device, GError **error)
{
  struct drm_get_cap cap = { .capability = DRM_CAP_SYNCOBJ_TIMELINE };
  gchar *path = device ? g_strdup (device) : first_render_node ();
  ZcSyncobj *sync;
  gint fd;

  GST_DEBUG_CATEGORY_INIT (
      zc_syncobj_debug, "zcsyncobj", 0, "zerocast explicit sync");
  if (path == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
        "No DRM render node (/dev/dri/renderD*) for explicit sync");
    return NULL;
  }
  fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
        "Cannot open %s for explicit sync: %s", path, g_strerror (errno));
    g_free (path);
    return NULL;
  }
  if (drm_ioctl (fd, DRM_IOCTL_GET_CAP, &cap) != 0 || cap.value == 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
        "The driver of %s has no timeline syncobjs (explicit sync)", path);
    close (fd);
    g_free (path);
    return NULL;
  }
  sync = g_new0 (ZcSyncobj, 1);
  sync->fd = fd;
  sync->device = path;
  GST_INFO ("explicit sync through %s", path);
  return sync;
}

const gchar *
zc_syncobj_device (ZcSyncobj *sync)
{
  return sync->device;
}

/* A handle on this device for the syncobj behind @fd; the caller destroys
 * it. Converting per call keeps no state per buffer: it is one ioctl. */
static gboolean
to_handle (ZcSyncobj *sync, gint fd, guint32 *handle, GError **error)
{
  struct drm_syncobj_handle args = { .fd = fd };

  if (drm_ioctl (sync->fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &args) != 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "fd %d is not a DRM syncobj on %s: %s", fd, sync->device,
        g_strerror (errno));
    return FALSE;
  }
  *handle = args.handle;
  return TRUE;
}

static void
destroy_handle (ZcSyncobj *sync, guint32 handle)
{
  struct drm_syncobj_destroy args = { .handle = handle };

  drm_ioctl (sync->fd, DRM_IOCTL_SYNCOBJ_DESTROY, &args);
}

gboolean
zc_syncobj_wait (
    ZcSyncobj *sync, gint fd, guint64 point, gint64 timeout_ns, GError **error)
{
  struct timespec now;
  struct drm_syncobj_timeline_wait args = { 0 };
  guint32 handle;
  gint ret, err;

  if (!to_handle (sync, fd, &handle, error))
    return FALSE;
  /* The timeout is absolute, on CLOCK_MONOTONIC. */
  clock_gettime (CLOCK_MONOTONIC, &now);
  args.handles = (guint64) (guintptr) &handle;
  args.points = (guint64) (guintptr) &point;
  args.count_handles = 1;
  args.timeout_nsec = (gint64) now.tv_sec * G_GINT64_CONSTANT (1000000000)
      + now.tv_nsec + timeout_ns;
  /* WAIT_FOR_SUBMIT: the producer may attach the fence after it queued
   * the buffer; without it such a point fails at once with EINVAL. */
  args.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
  ret = ioctl (sync->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &args);
  err = errno;
  destroy_handle (sync, handle);
  if (ret != 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "Waiting for point %" G_GUINT64_FORMAT " of syncobj fd %d: %s", point,
        fd, err == ETIME ? "timed out" : g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

gboolean
zc_syncobj_signal (ZcSyncobj *sync, gint fd, guint64 point, GError **error)
{
  struct drm_syncobj_timeline_array args = { 0 };
  guint32 handle;
  gint ret, err;

  if (!to_handle (sync, fd, &handle, error))
    return FALSE;
  args.handles = (guint64) (guintptr) &handle;
  args.points = (guint64) (guintptr) &point;
  args.count_handles = 1;
  ret = drm_ioctl (sync->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &args);
  err = errno;
  destroy_handle (sync, handle);
  if (ret != 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "Signalling point %" G_GUINT64_FORMAT " of syncobj fd %d: %s", point,
        fd, g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

void
zc_syncobj_free (ZcSyncobj *sync)
{
  if (sync == NULL)
    return;
  close (sync->fd);
  g_free (sync->device);
  g_free (sync);
}
