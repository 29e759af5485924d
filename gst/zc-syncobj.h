/* zerocast: explicit sync with a DRM timeline syncobj (PipeWire's
 * SPA_META_SyncTimeline): wait until a producer's acquire point is
 * signalled before the pixels are read, signal the release point before
 * the buffer goes back. The syncobjs arrive as fds; the ioctls need any
 * DRM device, opened here once.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ZcSyncobj ZcSyncobj;

/* Opens @device (NULL: the first /dev/dri/renderD* there is) for timeline
 * syncobj ioctls. Fails, saying why, when there is no DRM device or its
 * driver has no timeline syncobjs. */
ZcSyncobj *zc_syncobj_open (const gchar *device, GError **error);

/* The device opened, for messages. */
const gchar *zc_syncobj_device (ZcSyncobj *sync);

/* Waits until @point of the timeline syncobj @fd is signalled (also when
 * the work behind it is not submitted yet), at most @timeout_ns. */
gboolean zc_syncobj_wait (
    ZcSyncobj *sync, gint fd, guint64 point, gint64 timeout_ns, GError **error);

/* Signals @point of the timeline syncobj @fd from the CPU. */
gboolean zc_syncobj_signal (
    ZcSyncobj *sync, gint fd, guint64 point, GError **error);

/* NULL is fine. */
void zc_syncobj_free (ZcSyncobj *sync);

G_END_DECLS
