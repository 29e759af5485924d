/* GPU test: MemFd buffers (what headless and software desktops send) into
 * CUDA memory through a host registration made once, with the pixels
 * checked.  Exits 77 (skipped) where libcuda or a CUDA device is missing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <gst/gst.h>
#include <gst/video/video.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/cuda/gstcudamemory.h>

#include "zc-cuda.h"
#include "zc-gpu-error.h"
#include "gpu-test-util.h"

/* Odd sizes exercise the converter's edge handling; the stride has padding
 * and the frame an offset, as chunks from PipeWire may. */
#define W 67
#define H 35
#define STRIDE (W * 4 + 64)
#define OFFSET 256
#define SIZE (OFFSET + STRIDE * H)

static GstCudaContext *ctx;

/* A MemFd like a compositor's: written through one mapping, registered
 * through a second, read-only one (how PipeWire maps a consumer's buffers). */
typedef struct
{
  gint fd;
  guint8 *rw;
  guint8 *ro;
} MemFd;

static void
memfd_open (MemFd *m)
{
  m->fd = memfd_create ("zc-test-frame", MFD_CLOEXEC);
  g_assert_cmpint (m->fd, >=, 0);
  g_assert_cmpint (ftruncate (m->fd, SIZE), ==, 0);
  m->rw = mmap (NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  g_assert_true (m->rw != MAP_FAILED);
  m->ro = mmap (NULL, SIZE, PROT_READ, MAP_SHARED, m->fd, 0);
  g_assert_true (m->ro != MAP_FAILED);
}

static void
memfd_close (MemFd *m)
{
  munmap (m->rw, SIZE);
  munmap (m->ro, SIZE);
  close (m->fd);
}

static ZcCudaConverter *
converter (GstVideoFormat in, GstVideoFormat out)
{
  GstVideoInfo info;
  GError *error = NULL;
  ZcCudaConverter *conv;

  gst_video_info_set_format (&info, in, W, H);
  conv = zc_cuda_converter_new (ctx, &info, out, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conv);
  return conv;
}

static void
test_copy_live (void)
{
  MemFd m;
  ZcCudaReg *reg;
  ZcCudaConverter *conv =
      converter (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx);
  GError *error = NULL;
  gchar *why = NULL;

  memfd_open (&m);
  zc_test_fill_quadrants (
      m.rw + OFFSET, W, H, STRIDE, GST_VIDEO_FORMAT_BGRx, 0);
  reg = zc_cuda_reg_host (ctx, m.ro, SIZE, &error);
  g_assert_no_error (error);

  /* The same registration twice, the content changed in between: the
   * second frame must be the new content (a DMA from the live pages, not a
   * copy made at registration). */
  for (gint variant = 0; variant < 2; variant++) {
    GstBuffer *out = NULL;

    zc_test_fill_quadrants (
        m.rw + OFFSET, W, H, STRIDE, GST_VIDEO_FORMAT_BGRx, variant);
    g_assert_cmpint (
        zc_cuda_converter_process (conv, reg, OFFSET, STRIDE, &out, &error), ==,
        GST_FLOW_OK);
    g_assert_no_error (error);
    g_assert_true (gst_is_cuda_memory (gst_buffer_peek_memory (out, 0)));
    if (!zc_test_check_copy (out, zc_cuda_converter_get_caps (conv),
            m.rw + OFFSET, STRIDE, &why))
      g_test_message ("copy, variant %d: %s", variant, why);
    g_assert_null (why);
    gst_buffer_unref (out);
  }

  zc_cuda_reg_free (reg);
  zc_cuda_converter_free (conv);
  memfd_close (&m);
}

static void
test_nv12_every_format (void)
{
  static const GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_xRGB,
    GST_VIDEO_FORMAT_ARGB,
  };

  if (!zc_cuda_have_kernel ()) {
    g_test_skip ("this build has no NV12 kernel (no nvcc)");
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++) {
    MemFd m;
    ZcCudaReg *reg;
    ZcCudaConverter *conv = converter (formats[i], GST_VIDEO_FORMAT_NV12);
    GstBuffer *out = NULL;
    GError *error = NULL;
    gchar *why = NULL;

    memfd_open (&m);
    zc_test_fill_quadrants (m.rw + OFFSET, W, H, STRIDE, formats[i], 1);
    reg = zc_cuda_reg_host (ctx, m.ro, SIZE, &error);
    g_assert_no_error (error);
    g_assert_cmpint (
        zc_cuda_converter_process (conv, reg, OFFSET, STRIDE, &out, &error), ==,
        GST_FLOW_OK);
    g_assert_no_error (error);
    if (!zc_test_check_nv12 (out, zc_cuda_converter_get_caps (conv), 1, &why))
      g_test_message (
          "NV12 from %s: %s", gst_video_format_to_string (formats[i]), why);
    g_assert_null (why);
    g_test_message (
        "NV12 from %s: ok", gst_video_format_to_string (formats[i]));
    gst_buffer_unref (out);
    zc_cuda_reg_free (reg);
    zc_cuda_converter_free (conv);
    memfd_close (&m);
  }
}

/* BGRx pixels declared as RGBx: red and blue trade places, and the check
 * must notice (it is what catches a swapped format table). */
static void
test_swap_detected (void)
{
  MemFd m;
  ZcCudaReg *reg;
  ZcCudaConverter *conv;
  GstBuffer *out = NULL;
  GError *error = NULL;
  gchar *why = NULL;

  if (!zc_cuda_have_kernel ()) {
    g_test_skip ("this build has no NV12 kernel (no nvcc)");
    return;
  }
  conv = converter (GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_NV12);
  memfd_open (&m);
  zc_test_fill_quadrants (
      m.rw + OFFSET, W, H, STRIDE, GST_VIDEO_FORMAT_BGRx, 0);
  reg = zc_cuda_reg_host (ctx, m.ro, SIZE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (
      zc_cuda_converter_process (conv, reg, OFFSET, STRIDE, &out, &error), ==,
      GST_FLOW_OK);
  g_assert_false (
      zc_test_check_nv12 (out, zc_cuda_converter_get_caps (conv), 0, &why));
  g_test_message ("swap seen as expected: %s", why);
  g_free (why);
  gst_buffer_unref (out);
  zc_cuda_reg_free (reg);
  zc_cuda_converter_free (conv);
  memfd_close (&m);
}

static void
test_bad_input (void)
{
  MemFd m;
  ZcCudaReg *reg;
  ZcCudaConverter *conv =
      converter (GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx);
  GstVideoInfo info;
  GstBuffer *out = NULL;
  GError *error = NULL;

  memfd_open (&m);
  reg = zc_cuda_reg_host (ctx, m.ro, SIZE, &error);
  g_assert_no_error (error);

  /* A frame that would run past the registered pages. */
  g_assert_cmpint (
      zc_cuda_converter_process (conv, reg, OFFSET, STRIDE * 2, &out, &error),
      ==, GST_FLOW_ERROR);
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "does not fit"));
  g_assert_null (out);
  g_clear_error (&error);

  /* Registering the same pages twice is a caller bug with a clear error. */
  g_assert_null (zc_cuda_reg_host (ctx, m.ro, SIZE, &error));
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED);
  g_test_message ("double registration: %s", error->message);
  g_clear_error (&error);

  /* Conversions the converter does not do, or GStreamer's CUDA memory
   * cannot hold (it would abort the process, not fail). */
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_BGRx, W, H);
  g_assert_null (
      zc_cuda_converter_new (ctx, &info, GST_VIDEO_FORMAT_I420, &error));
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_xRGB, W, H);
  g_assert_false (zc_cuda_converter_supports (
      GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xRGB));
  g_assert_null (
      zc_cuda_converter_new (ctx, &info, GST_VIDEO_FORMAT_xRGB, &error));
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  zc_cuda_reg_free (reg);
  zc_cuda_reg_free (NULL);
  zc_cuda_converter_free (conv);
  memfd_close (&m);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  gint ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  if (!zc_cuda_load (&error)) {
    g_print ("SKIP: %s\n", error->message);
    g_error_free (error);
    return 77;
  }
  ctx = gst_cuda_context_new (0);
  if (ctx == NULL) {
    g_print ("SKIP: libcuda loaded but no CUDA context on device 0\n");
    return 77;
  }

  g_test_add_func ("/gpu/memfd/copy-live", test_copy_live);
  g_test_add_func ("/gpu/memfd/nv12-every-format", test_nv12_every_format);
  g_test_add_func ("/gpu/memfd/swap-detected", test_swap_detected);
  g_test_add_func ("/gpu/memfd/bad-input", test_bad_input);
  ret = g_test_run ();
  gst_object_unref (ctx);
  return ret;
}
