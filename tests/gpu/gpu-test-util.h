/* Helpers of the GPU tests and benchmark: frames of known colours, their
 * NV12 reference values, checks of what came back from the GPU, and
 * EGLImages made from GL textures (the stand-in for imported DMA-BUFs on a
 * machine without a DRM device).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include "zc-egl.h"

G_BEGIN_DECLS

/* Fills a packed 32-bit RGB frame of format fmt with four quadrants (red,
 * green / blue, white); the quadrant edges fall on even coordinates so
 * every 2x2 chroma block is one colour.  variant 1 rotates the colours, to
 * tell a fresh frame from a stale one. */
void zc_test_fill_quadrants (guint8 *data, gint width, gint height, gint stride,
    GstVideoFormat fmt, gint variant);

/* Checks an NV12 buffer (any memory, mapped for reading here) against the
 * BT.709 limited-range values of those quadrants, within +-2.  FALSE and a
 * description of the first wrong sample in *why. */
gboolean zc_test_check_nv12 (
    GstBuffer *buf, GstCaps *caps, gint variant, gchar **why);

/* Checks a packed RGB buffer is byte for byte the frame at expected. */
gboolean zc_test_check_copy (GstBuffer *buf, GstCaps *caps,
    const guint8 *expected, gint expected_stride, gchar **why);

/* A GLES context on the display of egl, a texture holding rgba_bytes
 * (width x height x 4 bytes, tightly packed, uploaded as GL_RGBA so the
 * bytes land in the image unchanged) and an EGLImage of it. */
typedef struct _ZcTestGlImage ZcTestGlImage;

ZcTestGlImage *zc_test_gl_image_new (ZcEgl *egl, const guint8 *rgba_bytes,
    gint width, gint height, GError **error);
gpointer zc_test_gl_image_get_image (ZcTestGlImage *img);
void zc_test_gl_image_free (ZcTestGlImage *img);

G_END_DECLS
