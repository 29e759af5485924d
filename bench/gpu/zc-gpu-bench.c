/* zc-gpu-bench: per-frame cost of each step of the GPU paths, at 1080p and
 * 4K, on the first CUDA device (and the EGL device, for the EGLImage rows).
 *
 *   zc-gpu-bench [--iterations N]
 *
 * Prints a Markdown table.  Every timed step ends with the GPU idle (the
 * converter synchronises its stream; raw copies are synchronous), so the
 * times are what a frame costs the streaming thread.  EGLImages come from GL
 * textures: a headless GPU machine has no DMA-BUF producer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zc-cuda.h"
#include "zc-cuda-loader.h"
#include "zc-cuda-private.h" /* the raw array row reads reg->frame */
#include "zc-egl.h"
#include "gpu-test-util.h"

static gint iterations = 200;
static GstCudaContext *ctx;
static ZcEgl *egl;

typedef void (*StepFunc) (gpointer data);

/* Mean milliseconds per call after a few untimed warm-up calls (first-use
 * costs like pool allocation and module loading are not per-frame costs). */
static gdouble
time_step (StepFunc func, gpointer data)
{
  gint64 start;

  for (gint i = 0; i < 5; i++)
    func (data);
  start = g_get_monotonic_time ();
  for (gint i = 0; i < iterations; i++)
    func (data);
  return (g_get_monotonic_time () - start) / 1000.0 / iterations;
}

/* ms < 0: a step that moves no pixels (no bandwidth column). */
static void
row (gint w, gint h, const gchar *step, gdouble ms)
{
  if (ms < 0)
    g_print ("| %dx%d | %s | %.3f | - |\n", w, h, step, -ms);
  else
    g_print ("| %dx%d | %s | %.3f | %.1f |\n", w, h, step, ms,
        (gdouble) w * h * 4 / (ms / 1000.0) / 1e9);
}

static void
check (gboolean ok, GError *error)
{
  if (!ok) {
    g_printerr ("zc-gpu-bench: %s\n", error ? error->message : "failed");
    exit (1);
  }
}

/* ---- steps ---- */

typedef struct
{
  ZcCudaConverter *conv;
  ZcCudaReg *reg;
  gpointer image; /* for the register-per-frame step */
  gsize offset;
  gint stride;
} ProcessStep;

static void
step_process (gpointer data)
{
  ProcessStep *s = data;
  GstBuffer *out = NULL;
  GError *error = NULL;

  check (zc_cuda_converter_process (
             s->conv, s->reg, s->offset, s->stride, &out, &error)
          == GST_FLOW_OK,
      error);
  gst_buffer_unref (out);
}

static void
step_register_process (gpointer data)
{
  ProcessStep *s = data;
  GError *error = NULL;

  s->reg = zc_cuda_reg_egl_image (ctx, s->image, &error);
  check (s->reg != NULL, error);
  step_process (s);
  zc_cuda_reg_free (s->reg);
  s->reg = NULL;
}

static void
step_register_only (gpointer data)
{
  ProcessStep *s = data;
  GError *error = NULL;
  ZcCudaReg *reg = zc_cuda_reg_egl_image (ctx, s->image, &error);

  check (reg != NULL, error);
  zc_cuda_reg_free (reg);
}

/* The alternative the converter no longer takes for arrays: a plain
 * cuMemCpy2D out of the image's CUDA array (no pool, just the copy). */
typedef struct
{
  ZcCudaReg *reg;
  CUdeviceptr dst;
  gint width, height;
} ArrayCopyStep;

static void
step_array_memcpy (gpointer data)
{
  ArrayCopyStep *a = data;
  CUDA_MEMCPY2D cp = {
    0,
  };
  GError *error = NULL;

  cp.srcMemoryType = CU_MEMORYTYPE_ARRAY;
  cp.srcArray = a->reg->frame.frame.pArray[0];
  cp.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  cp.dstDevice = a->dst;
  cp.dstPitch = (gsize) a->width * 4;
  cp.WidthInBytes = (gsize) a->width * 4;
  cp.Height = a->height;
  check (ZC_CUDA_CHECK (zc_cuda.Memcpy2D (&cp), &error), error);
}

typedef struct
{
  const guint8 *src;
  guint8 *staging; /* for the CPU-copy step */
  CUdeviceptr dst;
  gsize size;
} UploadStep;

static void
step_pageable_upload (gpointer data)
{
  UploadStep *s = data;
  GError *error = NULL;

  check (ZC_CUDA_CHECK (zc_cuda.MemcpyHtoD (s->dst, s->src, s->size), &error),
      error);
}

static void
step_cpu_copy (gpointer data)
{
  UploadStep *s = data;

  memcpy (s->staging, s->src, s->size);
}

static void
step_cpu_copy_upload (gpointer data)
{
  UploadStep *s = data;

  step_cpu_copy (s);
  s->src = s->staging;
  step_pageable_upload (s);
}

/* ---- one resolution ---- */

static ZcCudaConverter *
make_converter (gint w, gint h, GstVideoFormat in, GstVideoFormat out)
{
  GstVideoInfo info;
  GError *error = NULL;
  ZcCudaConverter *conv;

  gst_video_info_set_format (&info, in, w, h);
  conv = zc_cuda_converter_new (ctx, &info, out, &error);
  check (conv != NULL, error);
  return conv;
}

static guint8 *
map_memfd (gsize size, guint8 **rw)
{
  gint fd = memfd_create ("zc-bench", MFD_CLOEXEC);
  guint8 *ro;

  if (fd < 0 || ftruncate (fd, (off_t) size) != 0) {
    g_printerr ("zc-gpu-bench: memfd: %s\n", g_strerror (errno));
    exit (1);
  }
  *rw = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ro = mmap (NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  close (fd); /* the mappings keep the memory */
  if (*rw == MAP_FAILED || ro == MAP_FAILED) {
    g_printerr ("zc-gpu-bench: mmap: %s\n", g_strerror (errno));
    exit (1);
  }
  return ro;
}

static void
bench_egl (gint w, gint h)
{
  guint8 *pixels = g_malloc ((gsize) w * h * 4);
  ZcTestGlImage *img;
  /* A GL_RGBA texture reaches CUDA in RGBA byte order (eglColorFormat
   * ABGR on NVIDIA): asking for RGBx is a plain cuMemcpy2D, as an imported
   * XR24 DMA-BUF asked for as BGRx would be; asking for BGRx takes the
   * reorder kernel. */
  ZcCudaConverter *copy =
      make_converter (w, h, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_RGBx);
  ZcCudaConverter *reorder = zc_cuda_have_kernel ()
      ? make_converter (w, h, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx)
      : NULL;
  ZcCudaConverter *nv12 = zc_cuda_have_kernel ()
      ? make_converter (w, h, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_NV12)
      : NULL;
  ProcessStep s = {
    0,
  };
  GError *error = NULL;

  zc_test_fill_quadrants (pixels, w, h, w * 4, GST_VIDEO_FORMAT_RGBx, 0);
  img = zc_test_gl_image_new (egl, pixels, w, h, &error);
  check (img != NULL, error);
  s.image = zc_test_gl_image_get_image (img);

  s.conv = copy;
  row (w, h, "cuGraphicsEGLRegisterImage + frame query + unregister alone",
      -time_step (step_register_only, &s));
  row (w, h, "EGLImage -> CUDA copy (texture kernel), registered per frame",
      time_step (step_register_process, &s));
  s.reg = zc_cuda_reg_egl_image (ctx, s.image, &error);
  check (s.reg != NULL, error);
  row (w, h, "EGLImage -> CUDA copy (texture kernel), registration cached",
      time_step (step_process, &s));
  if (s.reg->frame.frameType == CU_EGL_FRAME_TYPE_ARRAY) {
    ArrayCopyStep a = { .reg = s.reg, .width = w, .height = h };

    gst_cuda_context_push (ctx);
    check (ZC_CUDA_CHECK (zc_cuda.MemAlloc (&a.dst, (gsize) w * h * 4), &error),
        error);
    row (w, h, "EGLImage -> CUDA, raw cuMemcpy2D from the array (no pool)",
        time_step (step_array_memcpy, &a));
    ZC_CUDA_CHECK (zc_cuda.MemFree (a.dst), NULL);
    gst_cuda_context_pop (NULL);
  }
  if (reorder) {
    s.conv = reorder;
    row (w, h, "EGLImage -> CUDA, RGBA->BGRx reorder kernel, cached",
        time_step (step_process, &s));
  }
  if (nv12) {
    s.conv = nv12;
    row (w, h, "EGLImage -> NV12, fused kernel (texture read)",
        time_step (step_process, &s));
  }
  zc_cuda_reg_free (s.reg);
  zc_cuda_converter_free (nv12);
  zc_cuda_converter_free (reorder);
  zc_cuda_converter_free (copy);
  zc_test_gl_image_free (img);
  g_free (pixels);
}

static void
bench_memfd (gint w, gint h)
{
  gsize size = (gsize) w * h * 4;
  guint8 *rw, *ro = map_memfd (size, &rw);
  guint8 *rw2, *ro2 = map_memfd (size, &rw2);
  ZcCudaConverter *copy =
      make_converter (w, h, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRx);
  ZcCudaConverter *nv12 = zc_cuda_have_kernel ()
      ? make_converter (w, h, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_NV12)
      : NULL;
  ProcessStep s = { .offset = 0, .stride = w * 4 };
  UploadStep u = { .size = size };
  GError *error = NULL;

  zc_test_fill_quadrants (rw, w, h, w * 4, GST_VIDEO_FORMAT_BGRx, 0);
  zc_test_fill_quadrants (rw2, w, h, w * 4, GST_VIDEO_FORMAT_BGRx, 0);

  s.reg = zc_cuda_reg_host (ctx, ro, size, &error);
  check (s.reg != NULL, error);
  s.conv = copy;
  row (w, h, "MemFd -> CUDA, host-registered (DMA)",
      time_step (step_process, &s));
  if (nv12) {
    s.conv = nv12;
    row (w, h, "MemFd -> NV12, fused kernel reading registered host memory",
        time_step (step_process, &s));
  }

  /* The unregistered mapping for the pageable rows: registered pages would
   * take the pinned path and flatter them. */
  gst_cuda_context_push (ctx);
  check (ZC_CUDA_CHECK (zc_cuda.MemAlloc (&u.dst, size), &error), error);
  u.src = ro2;
  row (w, h, "MemFd -> CUDA, pageable cuMemcpyHtoD",
      time_step (step_pageable_upload, &u));
  u.staging = g_malloc (size);
  u.src = ro2;
  row (w, h, "CPU memcpy of the frame alone", time_step (step_cpu_copy, &u));
  /* step_cpu_copy_upload swaps src to the staging copy; reset each call
   * would cost nothing measurable, but keep src the mapping for the memcpy. */
  {
    gint64 start;

    for (gint i = 0; i < 5; i++) {
      u.src = ro2;
      step_cpu_copy_upload (&u);
    }
    start = g_get_monotonic_time ();
    for (gint i = 0; i < iterations; i++) {
      u.src = ro2;
      step_cpu_copy_upload (&u);
    }
    row (w, h, "CPU memcpy + pageable upload (system-memory path)",
        (g_get_monotonic_time () - start) / 1000.0 / iterations);
  }
  ZC_CUDA_CHECK (zc_cuda.MemFree (u.dst), NULL);
  gst_cuda_context_pop (NULL);
  g_free (u.staging);

  zc_cuda_reg_free (s.reg);
  zc_cuda_converter_free (nv12);
  zc_cuda_converter_free (copy);
  munmap (rw, size);
  munmap (ro, size);
  munmap (rw2, size);
  munmap (ro2, size);
}

int
main (int argc, char **argv)
{
  static const gint sizes[][2] = { { 1920, 1080 }, { 3840, 2160 } };
  GOptionEntry entries[] = { { "iterations", 'n', 0, G_OPTION_ARG_INT,
                                 &iterations,
                                 "Timed frames per step (default 200)", "N" },
    { NULL } };
  GOptionContext *opts = g_option_context_new ("- GPU path benchmark");
  GError *error = NULL;
  CUdevice dev;
  gchar name[256] = "";
  gint driver = 0;

  g_option_context_add_main_entries (opts, entries, NULL);
  g_option_context_add_group (opts, gst_init_get_option_group ());
  if (!g_option_context_parse (opts, &argc, &argv, &error) || iterations < 1) {
    g_printerr ("zc-gpu-bench: %s\n",
        error ? error->message : "--iterations must be at least 1");
    return 2;
  }
  g_option_context_free (opts);

  if (!zc_cuda_load (&error)) {
    g_printerr ("zc-gpu-bench: %s\n", error->message);
    return 77;
  }
  ctx = gst_cuda_context_new (0);
  if (ctx == NULL) {
    g_printerr ("zc-gpu-bench: no CUDA context on device 0\n");
    return 1;
  }
  zc_cuda.DeviceGet (&dev, 0);
  zc_cuda.DeviceGetName (name, sizeof (name), dev);
  zc_cuda.DriverGetVersion (&driver);
  egl = zc_egl_new (NULL, &error);
  if (egl == NULL) {
    g_printerr ("zc-gpu-bench: no EGL device (%s): EGLImage rows left out\n",
        error->message);
    g_clear_error (&error);
  }

  g_print ("CUDA device 0: %s, CUDA driver API %d.%d, %d iterations per "
           "step, 32-bit RGB input\n\n",
      name, driver / 1000, (driver % 1000) / 10, iterations);
  g_print ("| size | step | ms/frame | GB/s (frame bytes / time) "
           "|\n|---|---|---|---|\n");
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++) {
    if (egl)
      bench_egl (sizes[i][0], sizes[i][1]);
    bench_memfd (sizes[i][0], sizes[i][1]);
  }

  zc_egl_free (egl);
  gst_object_unref (ctx);
  return 0;
}
