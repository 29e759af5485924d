/* zerocast GPU library: EGL on a DRM render node, loaded at run time.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libEGL.so.1 is opened with dlopen() on first use, so the plugin loads on
 * hosts without it.  No EGL type appears here: EGLDisplay and EGLImage
 * travel as gpointer.  A ZcEgl is not thread-safe: use it from one thread
 * at a time (EGL display calls themselves are thread-safe; our cache of
 * function pointers is filled once under a GOnce). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ZcEgl ZcEgl;

/* Opens an EGLDisplay on the EGL device whose EGL_DRM_RENDER_NODE_FILE_EXT
 * (or EGL_DRM_DEVICE_FILE_EXT) is render_node; when no device matches (or
 * render_node is NULL) the first device is used with a warning.  Fails with
 * ZC_ERROR_UNSUPPORTED when libEGL, EGL_EXT_device_enumeration /
 * EGL_EXT_platform_device or EGL_EXT_image_dma_buf_import are missing. */
ZcEgl *zc_egl_new (const gchar *render_node, GError **error);
void zc_egl_free (ZcEgl *egl); /* NULL ok */

/* The EGLDisplay (for tests that make GL textures on the same display). */
gpointer zc_egl_get_display (ZcEgl *egl);

/* The device file the display was opened on ("" when EGL does not say). */
const gchar *zc_egl_get_device_path (ZcEgl *egl);

/* Whether EGL_EXT_image_dma_buf_import_modifiers is there; without it only
 * implicit-modifier imports are possible. */
gboolean zc_egl_has_modifiers (ZcEgl *egl);

/* The drm fourccs EGL can import (guint32 GArray; empty on an EGL error). */
GArray *zc_egl_query_formats (ZcEgl *egl);

/* The modifiers EGL can import for drm_fourcc, external-only ones skipped
 * (we sample the image as a plain 2D array, never through
 * GL_TEXTURE_EXTERNAL_OES).  A guint64 GArray, empty when EGL reports none
 * or fails: an EGL error means "none", never a guess. */
GArray *zc_egl_query_modifiers (ZcEgl *egl, guint32 drm_fourcc);

/* An EGLImage for a DMA-BUF (EGL_LINUX_DMA_BUF_EXT); modifier may be
 * DRM_FORMAT_MOD_INVALID for an implicit one.  The fds stay owned by the
 * caller (EGL dups what it keeps).  NULL and ZC_ERROR_FAILED with the EGL
 * error name on failure: the caller drops the modifier and renegotiates. */
gpointer zc_egl_import_dmabuf (ZcEgl *egl, guint32 drm_fourcc, guint64 modifier,
    gint width, gint height, guint n_planes, const gint *fds,
    const guint32 *offsets, const guint32 *strides, GError **error);
void zc_egl_destroy_image (ZcEgl *egl, gpointer image); /* NULL ok */

/* The CUDA device ordinal behind the EGL device (EGL_NV_device_cuda), or -1
 * when EGL cannot tell (Mesa, or an old driver). */
gint zc_egl_get_cuda_device (ZcEgl *egl);

/* Name of an EGL error code ("EGL_BAD_MATCH"), for messages. */
const gchar *zc_egl_error_name (gint egl_error);

G_END_DECLS
