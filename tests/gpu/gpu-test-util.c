/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gpu-test-util.h"
#include "zc-gpu-error.h"

#include <string.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>

typedef struct
{
  guint8 r, g, b;
  /* BT.709 limited range, from the published reference values (not from
   * the kernel's formula): pure red is Y 63, Cb 102, Cr 240. */
  guint8 y, u, v;
} ZcTestColour;

static const ZcTestColour colours[4] = {
  { 255, 0, 0, 63, 102, 240 },      /* red */
  { 0, 255, 0, 173, 42, 26 },       /* green */
  { 0, 0, 255, 32, 240, 118 },      /* blue */
  { 255, 255, 255, 235, 128, 128 }, /* white */
};

static const ZcTestColour *
colour_at (gint x, gint y, gint width, gint height, gint variant)
{
  /* Even split points, see the header. */
  gint half_w = ((width / 2) + 1) & ~1, half_h = ((height / 2) + 1) & ~1;
  gint q = (x >= half_w ? 1 : 0) + (y >= half_h ? 2 : 0);

  return &colours[(q + variant) % 4];
}

void
zc_test_fill_quadrants (guint8 *data, gint width, gint height, gint stride,
    GstVideoFormat fmt, gint variant)
{
  const GstVideoFormatInfo *finfo = gst_video_format_get_info (fmt);
  /* GstVideoFormatInfo gives each component's byte offset in a pixel:
   * a source of truth independent of the converter's own table. */
  gint off_r = (gint) finfo->poffset[0], off_g = (gint) finfo->poffset[1],
       off_b = (gint) finfo->poffset[2];
  /* The padding byte of an x format is the one no component uses. */
  gint off_a = GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo)
      ? (gint) finfo->poffset[3]
      : 6 - off_r - off_g - off_b;

  for (gint y = 0; y < height; y++) {
    guint8 *row = data + (gsize) y * stride;

    for (gint x = 0; x < width; x++) {
      const ZcTestColour *c = colour_at (x, y, width, height, variant);

      row[x * 4 + off_r] = c->r;
      row[x * 4 + off_g] = c->g;
      row[x * 4 + off_b] = c->b;
      row[x * 4 + off_a] = 0xff;
    }
  }
}

static gboolean
near (gint got, gint want)
{
  return ABS (got - want) <= 2;
}

gboolean
zc_test_check_nv12 (GstBuffer *buf, GstCaps *caps, gint variant, gchar **why)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  gboolean ok = TRUE;
  gint w, h;

  if (!gst_video_info_from_caps (&info, caps)
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_NV12) {
    *why = g_strdup_printf ("caps are not NV12: %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (!gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
    *why = g_strdup ("cannot map the NV12 buffer for reading");
    return FALSE;
  }
  w = GST_VIDEO_INFO_WIDTH (&info);
  h = GST_VIDEO_INFO_HEIGHT (&info);

  for (gint y = 0; y < h && ok; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (gint x = 0; x < w && ok; x++) {
      const ZcTestColour *c = colour_at (x, y, w, h, variant);

      if (!near (row[x], c->y)) {
        *why = g_strdup_printf ("Y at (%d,%d) is %d, want %d (colour %d,%d,%d)",
            x, y, row[x], c->y, c->r, c->g, c->b);
        ok = FALSE;
      }
    }
  }
  for (gint y = 0; y < (h + 1) / 2 && ok; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 1)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 1);

    for (gint x = 0; x < (w + 1) / 2 && ok; x++) {
      const ZcTestColour *c = colour_at (x * 2, y * 2, w, h, variant);

      if (!near (row[x * 2], c->u) || !near (row[x * 2 + 1], c->v)) {
        *why = g_strdup_printf ("CbCr at chroma (%d,%d) is %d,%d, want %d,%d "
                                "(colour %d,%d,%d)",
            x, y, row[x * 2], row[x * 2 + 1], c->u, c->v, c->r, c->g, c->b);
        ok = FALSE;
      }
    }
  }
  gst_video_frame_unmap (&frame);
  return ok;
}

gboolean
zc_test_check_copy (GstBuffer *buf, GstCaps *caps, const guint8 *expected,
    gint expected_stride, gchar **why)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  gboolean ok = TRUE;

  if (!gst_video_info_from_caps (&info, caps)
      || !gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
    *why = g_strdup_printf (
        "cannot map the buffer of caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (&info) && ok; y++) {
    const guint8 *got = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    const guint8 *want = expected + (gsize) y * expected_stride;

    for (gint x = 0; x < GST_VIDEO_INFO_WIDTH (&info) * 4 && ok; x++) {
      if (got[x] != want[x]) {
        gint px = x / 4 * 4;

        *why = g_strdup_printf (
            "byte %d of pixel (%d,%d) is 0x%02x, want "
            "0x%02x (pixel %02x %02x %02x %02x, want %02x %02x %02x %02x)",
            x % 4, x / 4, y, got[x], want[x], got[px], got[px + 1], got[px + 2],
            got[px + 3], want[px], want[px + 1], want[px + 2], want[px + 3]);
        ok = FALSE;
      }
    }
  }
  gst_video_frame_unmap (&frame);
  return ok;
}

struct _ZcTestGlImage
{
  EGLDisplay display;
  EGLContext context;
  GLuint texture;
  EGLImageKHR image;
};

ZcTestGlImage *
zc_test_gl_image_new (ZcEgl *egl, const guint8 *rgba_bytes, gint width,
    gint height, GError **error)
{
  static const EGLint ctx_attrs[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
  PFNEGLCREATEIMAGEKHRPROC create_image =
      (PFNEGLCREATEIMAGEKHRPROC) eglGetProcAddress ("eglCreateImageKHR");
  ZcTestGlImage *img = g_new0 (ZcTestGlImage, 1);
  GLenum gl_err;

  img->display = zc_egl_get_display (egl);
  eglBindAPI (EGL_OPENGL_ES_API);
  /* No config and no surface (EGL_KHR_no_config_context,
   * EGL_KHR_surfaceless_context): a device display has no window system. */
  img->context = eglCreateContext (
      img->display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ctx_attrs);
  if (img->context == EGL_NO_CONTEXT
      || !eglMakeCurrent (
          img->display, EGL_NO_SURFACE, EGL_NO_SURFACE, img->context)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "no surfaceless GLES 2 context on the EGL device: %s",
        zc_egl_error_name (eglGetError ()));
    goto failed;
  }

  glGenTextures (1, &img->texture);
  glBindTexture (GL_TEXTURE_2D, img->texture);
  /* A texture without mipmaps must not use a mipmapping filter, or it is
   * incomplete and EGL refuses to make an image of it. */
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexImage2D (GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA,
      GL_UNSIGNED_BYTE, rgba_bytes);

  img->image = create_image (img->display, img->context, EGL_GL_TEXTURE_2D_KHR,
      (EGLClientBuffer) (guintptr) img->texture, NULL);
  if (img->image == EGL_NO_IMAGE_KHR) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "eglCreateImageKHR(EGL_GL_TEXTURE_2D_KHR) failed: %s",
        zc_egl_error_name (eglGetError ()));
    goto failed;
  }

  /* The pixels go in again once the image exists: a driver may move the
   * texture's storage to make it shareable and leave the old content
   * behind (on the H100 the image read back all zeros with one upload
   * made before eglCreateImageKHR). */
  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  glTexSubImage2D (GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RGBA,
      GL_UNSIGNED_BYTE, rgba_bytes);
  gl_err = glGetError ();
  /* CUDA reads the image through another API: GL must be done with it. */
  glFinish ();
  if (gl_err != GL_NO_ERROR) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "uploading the %dx%d test texture failed: GL error 0x%x", width, height,
        gl_err);
    goto failed;
  }
  return img;

failed:
  zc_test_gl_image_free (img);
  return NULL;
}

gpointer
zc_test_gl_image_get_image (ZcTestGlImage *img)
{
  return img->image;
}

void
zc_test_gl_image_free (ZcTestGlImage *img)
{
  if (img == NULL)
    return;
  if (img->image != EGL_NO_IMAGE_KHR) {
    PFNEGLDESTROYIMAGEKHRPROC destroy_image =
        (PFNEGLDESTROYIMAGEKHRPROC) eglGetProcAddress ("eglDestroyImageKHR");

    destroy_image (img->display, img->image);
  }
  if (img->texture != 0)
    glDeleteTextures (1, &img->texture);
  if (img->context != EGL_NO_CONTEXT) {
    eglMakeCurrent (
        img->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext (img->display, img->context);
  }
  g_free (img);
}
