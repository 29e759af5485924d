/* zerocast GPU library: registering PipeWire buffers with CUDA, once each.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-cuda-private.h"
#include "zc-gpu-error.h"

#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (zc_cuda_reg_debug);
#define GST_CAT_DEFAULT zc_cuda_reg_debug

static void
init_debug (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_cuda_reg_debug, "zccudareg", 0, "zerocast CUDA registrations");
    g_once_init_leave (&once, 1);
  }
}

static gboolean
push_context (GstCudaContext *ctx, GError **error)
{
  if (!gst_cuda_context_push (ctx)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "could not make the CUDA context current on this thread");
    return FALSE;
  }
  return TRUE;
}

static gint
device_attribute (GstCudaContext *ctx, CUdevice_attribute attr)
{
  CUdevice dev;
  gint value = 0;

  /* Called with ctx current. */
  if (zc_cuda.CtxGetDevice (&dev) != CUDA_SUCCESS
      || zc_cuda.DeviceGetAttribute (&value, attr, dev) != CUDA_SUCCESS)
    return 0;
  return value;
}

ZcCudaReg *
zc_cuda_reg_host (GstCudaContext *ctx, gpointer ptr, gsize size, GError **error)
{
  ZcCudaReg *reg;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guintptr start, end;
  guint flags = CU_MEMHOSTREGISTER_DEVICEMAP;
  CUresult res;

  g_return_val_if_fail (GST_IS_CUDA_CONTEXT (ctx), NULL);
  g_return_val_if_fail (ptr != NULL && size > 0, NULL);

  if (!zc_cuda_load (error))
    return NULL;
  init_debug ();

  start = GPOINTER_TO_SIZE (ptr) & ~(page - 1);
  end = (GPOINTER_TO_SIZE (ptr) + size + page - 1) & ~(page - 1);

  reg = g_new0 (ZcCudaReg, 1);
  reg->kind = ZC_CUDA_REG_HOST;
  reg->ctx = gst_object_ref (ctx);
  reg->host_ptr = ptr;
  reg->host_size = size;

  if (!push_context (ctx, error))
    goto failed;

  /* PipeWire maps a consumer's MemFd buffers read-only; pinning pages
   * without CU_MEMHOSTREGISTER_READ_ONLY would ask for write access and
   * fail on them.  Devices before Turing lack read-only registration. */
  if (device_attribute (
          ctx, CU_DEVICE_ATTRIBUTE_READ_ONLY_HOST_REGISTER_SUPPORTED))
    flags |= CU_MEMHOSTREGISTER_READ_ONLY;

  res = zc_cuda.MemHostRegister ((void *) start, end - start, flags);
  if (res == CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED) {
    gst_cuda_context_pop (NULL);
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "cuMemHostRegister: the pages of buffer %p (+%" G_GSIZE_FORMAT
        ") are registered already; register each mapping once",
        ptr, size);
    goto failed;
  }
  if (!ZC_CUDA_CHECK (res, error)) {
    gst_cuda_context_pop (NULL);
    g_prefix_error (error,
        "cannot page-lock the %" G_GSIZE_FORMAT "-byte buffer for DMA: ", size);
    goto failed;
  }
  reg->pinned_base = (guint8 *) start;
  reg->pinned_size = end - start;

  if (!ZC_CUDA_CHECK (
          zc_cuda.MemHostGetDevicePointer (&reg->host_dev_ptr, ptr, 0),
          error)) {
    gst_cuda_context_pop (NULL);
    goto failed;
  }
  gst_cuda_context_pop (NULL);

  GST_DEBUG ("registered host range %p+%" G_GSIZE_FORMAT
             " (pages %p+%" G_GSIZE_FORMAT ", flags 0x%x)",
      ptr, size, reg->pinned_base, reg->pinned_size, flags);
  return reg;

failed:
  zc_cuda_reg_free (reg);
  return NULL;
}

static gboolean
make_texture (ZcCudaReg *reg, GError **error)
{
  CUDA_RESOURCE_DESC res = {
    0,
  };
  CUDA_TEXTURE_DESC tex = {
    0,
  };

  res.resType = CU_RESOURCE_TYPE_ARRAY;
  res.res.array.hArray = reg->frame.frame.pArray[0];
  tex.addressMode[0] = CU_TR_ADDRESS_MODE_CLAMP;
  tex.addressMode[1] = CU_TR_ADDRESS_MODE_CLAMP;
  tex.filterMode = CU_TR_FILTER_MODE_POINT;
  /* Integer reads: the kernel gets the stored bytes, not normalised floats. */
  tex.flags = CU_TRSF_READ_AS_INTEGER;
  return ZC_CUDA_CHECK (
      zc_cuda.TexObjectCreate (&reg->texture, &res, &tex, NULL), error);
}

/* cudaEGL.h names these colour formats by channel order in a 32-bit word
 * and documents their byte order, which is the reverse: ARGB is B, G, R, A
 * in memory.  It follows the fourcc EGL imported the DMA-BUF with. */
static void
set_layout (ZcCudaReg *reg)
{
  static const struct
  {
    CUeglColorFormat format;
    gint r, g, b, a;
  } layouts[] = {
    { .format = CU_EGL_COLOR_FORMAT_ARGB, .r = 2, .g = 1, .b = 0, .a = 3 },
    { .format = CU_EGL_COLOR_FORMAT_RGBA, .r = 3, .g = 2, .b = 1, .a = 0 },
    { .format = CU_EGL_COLOR_FORMAT_ABGR, .r = 0, .g = 1, .b = 2, .a = 3 },
    { .format = CU_EGL_COLOR_FORMAT_BGRA, .r = 1, .g = 2, .b = 3, .a = 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (layouts); i++) {
    if (layouts[i].format == reg->frame.eglColorFormat) {
      reg->has_layout = TRUE;
      reg->r = layouts[i].r;
      reg->g = layouts[i].g;
      reg->b = layouts[i].b;
      reg->a = layouts[i].a;
      return;
    }
  }
}

ZcCudaReg *
zc_cuda_reg_egl_image (GstCudaContext *ctx, gpointer egl_image, GError **error)
{
  ZcCudaReg *reg;

  g_return_val_if_fail (GST_IS_CUDA_CONTEXT (ctx), NULL);
  g_return_val_if_fail (egl_image != NULL, NULL);

  if (!zc_cuda_load (error))
    return NULL;
  init_debug ();

  reg = g_new0 (ZcCudaReg, 1);
  reg->kind = ZC_CUDA_REG_EGL;
  reg->ctx = gst_object_ref (ctx);

  if (!push_context (ctx, error))
    goto failed;

  if (!ZC_CUDA_CHECK (zc_cuda.GraphicsEGLRegisterImage (&reg->resource,
                          egl_image, CU_GRAPHICS_REGISTER_FLAGS_READ_ONLY),
          error)) {
    g_prefix_error (error, "cannot register the EGLImage with CUDA: ");
    reg->resource = NULL;
    goto failed_pop;
  }

  /* An EGL resource needs no map/unmap: its frame is valid from now until
   * it is unregistered, so we ask for it once instead of per frame. */
  if (!ZC_CUDA_CHECK (zc_cuda.GraphicsResourceGetMappedEglFrame (
                          &reg->frame, reg->resource, 0, 0),
          error))
    goto failed_pop;

  if (reg->frame.planeCount < 1 || reg->frame.numChannels != 4
      || reg->frame.cuFormat != CU_AD_FORMAT_UNSIGNED_INT8) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "the EGLImage maps to %u plane(s) of %u channel(s) of CUDA format "
        "0x%x; only one plane of 4 x 8-bit channels (packed RGB) is "
        "supported",
        reg->frame.planeCount, reg->frame.numChannels,
        (guint) reg->frame.cuFormat);
    goto failed_pop;
  }
  if (reg->frame.frameType == CU_EGL_FRAME_TYPE_ARRAY
      && !make_texture (reg, error))
    goto failed_pop;
  gst_cuda_context_pop (NULL);
  set_layout (reg);

  GST_DEBUG ("registered EGLImage %p: %s frame %ux%u, pitch %u, EGL colour "
             "format 0x%x (bytes R %d G %d B %d%s)",
      egl_image,
      reg->frame.frameType == CU_EGL_FRAME_TYPE_ARRAY ? "array" : "pitch",
      reg->frame.width, reg->frame.height, reg->frame.pitch,
      (guint) reg->frame.eglColorFormat, reg->r, reg->g, reg->b,
      reg->has_layout ? "" : ": unknown, the input format decides");
  return reg;

failed_pop:
  gst_cuda_context_pop (NULL);
failed:
  zc_cuda_reg_free (reg);
  return NULL;
}

void
zc_cuda_reg_free (ZcCudaReg *reg)
{
  if (reg == NULL)
    return;

  if ((reg->pinned_base != NULL || reg->resource != NULL || reg->texture)
      && gst_cuda_context_push (reg->ctx)) {
    if (reg->texture)
      ZC_CUDA_CHECK (zc_cuda.TexObjectDestroy (reg->texture), NULL);
    if (reg->resource != NULL)
      ZC_CUDA_CHECK (zc_cuda.GraphicsUnregisterResource (reg->resource), NULL);
    if (reg->pinned_base != NULL)
      ZC_CUDA_CHECK (zc_cuda.MemHostUnregister (reg->pinned_base), NULL);
    gst_cuda_context_pop (NULL);
  }
  gst_clear_object (&reg->ctx);
  g_free (reg);
}
