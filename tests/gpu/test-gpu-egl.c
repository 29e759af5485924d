/* GPU test: EGLImages (made from GL textures of known pixels, the stand-in
 * for imported DMA-BUFs) registered with CUDA once and copied/converted into
 * CUDA memory, pixels checked.  Exits 77 (skipped) without libcuda or an
 * EGL device with GLES.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>
#include <gst/video/video.h>

#include <gst/cuda/gstcudamemory.h>

#include "zc-cuda.h"
#include "zc-egl.h"
#include "zc-gpu-error.h"
#include "gpu-test-util.h"

#define W 67
#define H 35

static GstCudaContext *ctx;
static ZcEgl *egl;

/* One frame through image -> registration -> converter, checked.  The
 * texture holds the quadrants as GL_RGBA (R first), which is what they
 * mean to GL; how the driver stores them and CUDA reads them back is
 * CUDA's business (eglColorFormat), so the output must be right in any
 * declared format.  swap_rb uploads them with red and blue traded, which
 * the checks must catch. */
static void
run_frame (GstVideoFormat declared, GstVideoFormat out_fmt, gboolean swap_rb)
{
  guint8 *pixels = g_malloc (W * H * 4);
  guint8 *expected = g_malloc (W * H * 4);
  ZcTestGlImage *img;
  ZcCudaReg *reg;
  ZcCudaConverter *conv;
  GstVideoInfo info;
  GstBuffer *out = NULL;
  GError *error = NULL;
  gchar *why = NULL;
  gboolean ok;

  zc_test_fill_quadrants (pixels, W, H, W * 4,
      swap_rb ? GST_VIDEO_FORMAT_BGRA : GST_VIDEO_FORMAT_RGBA, 0);
  zc_test_fill_quadrants (expected, W, H, W * 4, declared, 0);
  img = zc_test_gl_image_new (egl, pixels, W, H, &error);
  g_assert_no_error (error);
  reg = zc_cuda_reg_egl_image (ctx, zc_test_gl_image_get_image (img), &error);
  g_assert_no_error (error);

  gst_video_info_set_format (&info, declared, W, H);
  conv = zc_cuda_converter_new (ctx, &info, out_fmt, &error);
  g_assert_no_error (error);

  /* Twice through the same registration: the cached frame stays valid. */
  for (gint i = 0; i < 2; i++) {
    g_assert_cmpint (zc_cuda_converter_process (conv, reg, 0, 0, &out, &error),
        ==, GST_FLOW_OK);
    g_assert_no_error (error);
    g_assert_true (gst_is_cuda_memory (gst_buffer_peek_memory (out, 0)));
    if (out_fmt == GST_VIDEO_FORMAT_NV12)
      ok = zc_test_check_nv12 (out, zc_cuda_converter_get_caps (conv), 0, &why);
    else
      ok = zc_test_check_copy (
          out, zc_cuda_converter_get_caps (conv), expected, W * 4, &why);
    if (ok == swap_rb)
      g_test_message ("%s -> %s%s, pass %d: %s",
          gst_video_format_to_string (declared),
          gst_video_format_to_string (out_fmt),
          swap_rb ? " (red/blue swapped)" : "", i,
          why ? why : "the check passed but must not");
    else if (why)
      g_test_message ("expected mismatch: %s", why);
    g_assert_cmpint (ok, !=, swap_rb);
    g_clear_pointer (&why, g_free);
    gst_clear_buffer (&out);
  }

  zc_cuda_converter_free (conv);
  zc_cuda_reg_free (reg);
  zc_test_gl_image_free (img);
  g_free (expected);
  g_free (pixels);
}

static void
test_copy (void)
{
  run_frame (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx, FALSE);
  run_frame (GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_RGBA, FALSE);
  run_frame (GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_RGBx, FALSE);
  run_frame (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx, TRUE);
}

static void
test_nv12 (void)
{
  if (!zc_cuda_have_kernel ()) {
    g_test_skip ("this build has no NV12 kernel (no nvcc)");
    return;
  }
  run_frame (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_NV12, FALSE);
  run_frame (GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_NV12, FALSE);
  run_frame (GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_NV12, FALSE);
  run_frame (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_NV12, TRUE);
}

/* There is no DMA-BUF producer on a headless GPU machine (no DRM device):
 * the import is covered by its failure path, which the element relies on
 * to drop a modifier and renegotiate. */
static void
test_import_failure (void)
{
  gint fds[1] = { -1 };
  guint32 offsets[1] = { 0 }, strides[1] = { W * 4 };
  GError *error = NULL;
  GArray *mods;

  g_assert_null (zc_egl_import_dmabuf (egl, 0x34325258 /* XR24 */,
      0x00ffffffffffffffull, W, H, 1, fds, offsets, strides, &error));
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED);
  g_test_message ("bad fd: %s", error->message);
  g_assert_nonnull (strstr (error->message, "EGL_BAD"));
  g_clear_error (&error);

  g_assert_null (zc_egl_import_dmabuf (
      egl, 0x34325258, 0, W, H, 0, fds, offsets, strides, &error));
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED);
  g_clear_error (&error);

  /* Whatever EGL reports, "implicit" is never one of its modifiers. */
  mods = zc_egl_query_modifiers (egl, 0x34325258);
  for (guint i = 0; i < mods->len; i++)
    g_assert_cmphex (
        g_array_index (mods, guint64, i), !=, 0x00ffffffffffffffull);
  g_test_message ("EGL reports %u importable modifier(s) for XR24", mods->len);
  g_array_unref (mods);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  gint ret, dev;
  ZcTestGlImage *probe;
  guint8 px[4] = {
    0,
  };

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  if (!zc_cuda_load (&error)) {
    g_print ("SKIP: %s\n", error->message);
    g_error_free (error);
    return 77;
  }
  egl = zc_egl_new ("/dev/dri/renderD128", &error);
  if (egl == NULL) {
    g_print ("SKIP: no EGL device: %s\n", error->message);
    g_error_free (error);
    return 77;
  }
  probe = zc_test_gl_image_new (egl, px, 1, 1, &error);
  if (probe == NULL) {
    g_print ("SKIP: cannot make GL textures on the EGL device: %s\n",
        error->message);
    g_error_free (error);
    zc_egl_free (egl);
    return 77;
  }
  zc_test_gl_image_free (probe);

  dev = zc_egl_get_cuda_device (egl);
  g_print ("# EGL device '%s', CUDA device behind it: %d\n",
      zc_egl_get_device_path (egl), dev);
  ctx = gst_cuda_context_new (dev >= 0 ? (guint) dev : 0);
  if (ctx == NULL) {
    g_print ("SKIP: libcuda loaded but no CUDA context could be made\n");
    zc_egl_free (egl);
    return 77;
  }

  g_test_add_func ("/gpu/egl/copy", test_copy);
  g_test_add_func ("/gpu/egl/nv12", test_nv12);
  g_test_add_func ("/gpu/egl/import-failure", test_import_failure);
  ret = g_test_run ();
  gst_object_unref (ctx);
  zc_egl_free (egl);
  return ret;
}
