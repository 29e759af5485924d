/* zerocast GPU library: one frame out of a registered buffer into a
 * GstCudaBufferPool buffer, as a plain copy or converted to NV12.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-cuda-private.h"
#include "zc-gpu-error.h"

#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudamemory.h>

GST_DEBUG_CATEGORY_STATIC (zc_cuda_conv_debug);
#define GST_CAT_DEFAULT zc_cuda_conv_debug

#if ZC_HAVE_CUDA_KERNEL
/* zc-convert.cu, compiled by nvcc and embedded by embed-binary.py. */
extern const unsigned char zc_convert_fatbin[];
extern const size_t zc_convert_fatbin_len;
#endif

/* Threads per block of the NV12 kernel; each thread does a 2x2 block. */
#define BLOCK_W 32
#define BLOCK_H 8

struct _ZcCudaConverter
{
  GstCudaContext *ctx;
  GstVideoInfo in_info;
  GstVideoInfo out_info;
  GstCaps *caps;
  GstBufferPool *pool;
  CUstream stream;
  CUevent done; /* recorded when a frame's work runs late */
  /* How long a frame's GPU work took, from launch to done (µs, a running
   * average): the wait sleeps through most of it (wait_for_gpu). */
  gint64 expect_us;

  gboolean to_nv12;
  /* Byte positions of R, G, B and A/x in a pixel of the input format (and
   * of the output, in copy mode).  EGL sources may bring their own. */
  gint r, g, b, a;
  CUmodule module; /* NULL in builds without the kernel */
  CUfunction fn_pitch;
  CUfunction fn_texture;
  CUfunction fn_reorder_pitch;
  CUfunction fn_reorder_texture;
};

typedef struct
{
  GstVideoFormat format;
  gint r, g, b, a;
} ZcRgbLayout;

/* GStreamer names packed formats by memory byte order: BGRx is B, G, R, x. */
static const ZcRgbLayout layouts[] = {
  { .format = GST_VIDEO_FORMAT_BGRx, .r = 2, .g = 1, .b = 0, .a = 3 },
  { .format = GST_VIDEO_FORMAT_BGRA, .r = 2, .g = 1, .b = 0, .a = 3 },
  { .format = GST_VIDEO_FORMAT_RGBx, .r = 0, .g = 1, .b = 2, .a = 3 },
  { .format = GST_VIDEO_FORMAT_RGBA, .r = 0, .g = 1, .b = 2, .a = 3 },
  { .format = GST_VIDEO_FORMAT_xRGB, .r = 1, .g = 2, .b = 3, .a = 0 },
  { .format = GST_VIDEO_FORMAT_ARGB, .r = 1, .g = 2, .b = 3, .a = 0 },
};

static const ZcRgbLayout *
find_layout (GstVideoFormat format)
{
  for (gsize i = 0; i < G_N_ELEMENTS (layouts); i++)
    if (layouts[i].format == format)
      return &layouts[i];
  return NULL;
}

/* GStreamer 1.22's CUDA allocator aborts (g_assert_not_reached) on packed
 * formats it does not know, xRGB among them: copy mode is limited to the
 * ones it lays out. */
static gboolean
cuda_memory_takes (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_NV12:
      return TRUE;
    default:
      return FALSE;
  }
}

gboolean
zc_cuda_have_kernel (void)
{
  return ZC_HAVE_CUDA_KERNEL;
}

gboolean
zc_cuda_converter_supports (GstVideoFormat in_format, GstVideoFormat out_format)
{
  if (find_layout (in_format) == NULL)
    return FALSE;
  if (out_format == in_format)
    return cuda_memory_takes (out_format);
  return out_format == GST_VIDEO_FORMAT_NV12 && ZC_HAVE_CUDA_KERNEL;
}

static gboolean
load_kernel (ZcCudaConverter *conv, GError **error)
{
#if ZC_HAVE_CUDA_KERNEL
  if (!ZC_CUDA_CHECK (
          zc_cuda.ModuleLoadData (&conv->module, zc_convert_fatbin), error)) {
    g_prefix_error (error,
        "cannot load the CUDA kernels (%" G_GSIZE_FORMAT
        " bytes, native code for Volta/Turing..Hopper plus PTX; the driver "
        "may be older than the nvcc that built them): ",
        (gsize) zc_convert_fatbin_len);
    conv->module = NULL;
    return FALSE;
  }
  return ZC_CUDA_CHECK (zc_cuda.ModuleGetFunction (&conv->fn_pitch,
                            conv->module, "zc_rgb_to_nv12_pitch"),
             error)
      && ZC_CUDA_CHECK (zc_cuda.ModuleGetFunction (&conv->fn_texture,
                            conv->module, "zc_rgb_to_nv12_texture"),
          error)
      && ZC_CUDA_CHECK (zc_cuda.ModuleGetFunction (&conv->fn_reorder_pitch,
                            conv->module, "zc_rgb_reorder_pitch"),
          error)
      && ZC_CUDA_CHECK (zc_cuda.ModuleGetFunction (&conv->fn_reorder_texture,
                            conv->module, "zc_rgb_reorder_texture"),
          error);
#else
  if (!conv->to_nv12)
    return TRUE; /* copies work without it, mostly: see process */
  g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
      "this build has no NV12 CUDA kernel (nvcc was not found at build "
      "time): rebuild with -Dnvcc=enabled, or ask for the input format");
  return FALSE;
#endif
}

static gboolean
make_pool (ZcCudaConverter *conv, GError **error)
{
  GstStructure *config;

  conv->pool = gst_cuda_buffer_pool_new (conv->ctx);
  config = gst_buffer_pool_get_config (conv->pool);
  /* Two buffers in flight downstream (encoder + us) plus one being filled. */
  gst_buffer_pool_config_set_params (
      config, conv->caps, (guint) GST_VIDEO_INFO_SIZE (&conv->out_info), 3, 0);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (conv->pool, config)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "the CUDA buffer pool rejected caps %" GST_PTR_FORMAT, conv->caps);
    return FALSE;
  }
  if (!gst_buffer_pool_set_active (conv->pool, TRUE)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "could not allocate CUDA output buffers for %" GST_PTR_FORMAT
        " (out of GPU memory?)",
        conv->caps);
    return FALSE;
  }
  return TRUE;
}

/* What the converter writes: the input's size and rates in out_format;
 * NV12 with the colorimetry the kernel writes (the encoder must be told). */
static void
output_info (
    const GstVideoInfo *in_info, GstVideoFormat out_format, GstVideoInfo *out)
{
  gst_video_info_set_format (out, out_format, GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info));
  GST_VIDEO_INFO_FPS_N (out) = GST_VIDEO_INFO_FPS_N (in_info);
  GST_VIDEO_INFO_FPS_D (out) = GST_VIDEO_INFO_FPS_D (in_info);
  GST_VIDEO_INFO_PAR_N (out) = GST_VIDEO_INFO_PAR_N (in_info);
  GST_VIDEO_INFO_PAR_D (out) = GST_VIDEO_INFO_PAR_D (in_info);
  if (out_format == GST_VIDEO_FORMAT_NV12) {
    out->colorimetry.range = GST_VIDEO_COLOR_RANGE_16_235;
    out->colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_BT709;
    out->colorimetry.transfer = GST_VIDEO_TRANSFER_BT709;
    out->colorimetry.primaries = GST_VIDEO_COLOR_PRIMARIES_BT709;
  }
}

static GstCaps *
output_caps (const GstVideoInfo *out_info)
{
  GstCaps *caps = gst_video_info_to_caps (out_info);

  gst_caps_set_features_simple (
      caps, gst_caps_features_new_single (GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY));
  return caps;
}

GstCaps *
zc_cuda_converter_caps_for (
    const GstVideoInfo *in_info, GstVideoFormat out_format)
{
  GstVideoInfo out;

  g_return_val_if_fail (in_info != NULL, NULL);

  output_info (in_info, out_format, &out);
  return output_caps (&out);
}

ZcCudaConverter *
zc_cuda_converter_new (GstCudaContext *ctx, const GstVideoInfo *in_info,
    GstVideoFormat out_format, GError **error)
{
  ZcCudaConverter *conv;
  const ZcRgbLayout *layout;
  GstVideoFormat in_format;

  g_return_val_if_fail (GST_IS_CUDA_CONTEXT (ctx), NULL);
  g_return_val_if_fail (in_info != NULL, NULL);

  if (!zc_cuda_load (error))
    return NULL;
  GST_DEBUG_CATEGORY_INIT (
      zc_cuda_conv_debug, "zccudaconv", 0, "zerocast CUDA converter");

  in_format = GST_VIDEO_INFO_FORMAT (in_info);
  layout = find_layout (in_format);
  if (layout == NULL
      || (out_format != in_format && out_format != GST_VIDEO_FORMAT_NV12)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "the CUDA converter cannot turn %s into %s: it takes BGRx, BGRA, "
        "RGBx, RGBA, xRGB or ARGB and gives the same format or NV12",
        gst_video_format_to_string (in_format),
        gst_video_format_to_string (out_format));
    return NULL;
  }
  if (!cuda_memory_takes (out_format)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "GStreamer's CUDA memory cannot hold %s: ask for NV12, or for one of "
        "BGRx, BGRA, RGBx, RGBA",
        gst_video_format_to_string (out_format));
    return NULL;
  }

  gst_cuda_memory_init_once ();

  conv = g_new0 (ZcCudaConverter, 1);
  conv->ctx = gst_object_ref (ctx);
  conv->in_info = *in_info;
  conv->to_nv12 = out_format == GST_VIDEO_FORMAT_NV12;
  conv->r = layout->r;
  conv->g = layout->g;
  conv->b = layout->b;
  conv->a = layout->a;

  output_info (in_info, out_format, &conv->out_info);
  conv->caps = output_caps (&conv->out_info);

  if (!gst_cuda_context_push (ctx)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "could not make the CUDA context current on this thread");
    goto failed;
  }
  /* Non-blocking: our stream must not wait on (or stall) the legacy default
   * stream other elements of the pipeline use. */
  if (!ZC_CUDA_CHECK (
          zc_cuda.StreamCreate (&conv->stream, CU_STREAM_NON_BLOCKING), error)
      /* Only for the fallback of wait_for_gpu. Blocking-sync: with the
       * default scheduling cuEventSynchronize would spin a core. */
      || !ZC_CUDA_CHECK (zc_cuda.EventCreate (&conv->done,
                             CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING),
          error)
      || !load_kernel (conv, error)) {
    gst_cuda_context_pop (NULL);
    goto failed;
  }
  gst_cuda_context_pop (NULL);

  if (!make_pool (conv, error))
    goto failed;

  GST_INFO ("converter %s -> %" GST_PTR_FORMAT,
      gst_video_format_to_string (in_format), conv->caps);
  return conv;

failed:
  zc_cuda_converter_free (conv);
  return NULL;
}

GstCaps *
zc_cuda_converter_get_caps (ZcCudaConverter *conv)
{
  g_return_val_if_fail (conv != NULL, NULL);

  return conv->caps;
}

void
zc_cuda_converter_set_flushing (ZcCudaConverter *conv, gboolean flushing)
{
  g_return_if_fail (conv != NULL);

  gst_buffer_pool_set_flushing (conv->pool, flushing);
}

/* The source of one frame, whatever the registration kind. */
typedef struct
{
  CUmemorytype type; /* HOST, DEVICE or ARRAY */
  const guint8 *host;
  CUdeviceptr device; /* for HOST: its device-mapped address */
  CUarray array;
  CUtexObject texture;
  gsize pitch;
  gint r, g, b, a; /* byte positions in a source pixel */
} ZcFrameSource;

static gboolean
frame_source (ZcCudaConverter *conv, ZcCudaReg *src, gsize offset, gint stride,
    ZcFrameSource *fs, GError **error)
{
  guint width = GST_VIDEO_INFO_WIDTH (&conv->in_info);
  guint height = GST_VIDEO_INFO_HEIGHT (&conv->in_info);

  memset (fs, 0, sizeof (*fs));
  if (src->kind == ZC_CUDA_REG_HOST) {
    /* Checked here because a bad chunk offset or stride from the producer
     * would otherwise make the GPU read outside the pinned pages. */
    if (stride < (gint) width * 4 || stride % 4 != 0 || offset % 4 != 0
        || offset + (gsize) stride * (height - 1) + width * 4
            > src->host_size) {
      g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
          "a %ux%u frame at offset %" G_GSIZE_FORMAT " with stride %d does "
          "not fit the %" G_GSIZE_FORMAT "-byte registered buffer (or is "
          "not 4-byte aligned)",
          width, height, offset, stride, src->host_size);
      return FALSE;
    }
    fs->type = CU_MEMORYTYPE_HOST;
    fs->r = conv->r;
    fs->g = conv->g;
    fs->b = conv->b;
    fs->a = conv->a;
    fs->host = src->host_ptr + offset;
    fs->device = src->host_dev_ptr + offset;
    fs->pitch = (gsize) stride;
    return TRUE;
  }

  if (src->frame.width < width || src->frame.height < height) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "the EGLImage is %ux%u, smaller than the negotiated %ux%u",
        src->frame.width, src->frame.height, width, height);
    return FALSE;
  }
  /* CUDA's description of the image wins over the format we were given:
   * it is what EGL made of the fourcc, and reading by it keeps colours
   * right whatever byte order the driver stores textures in. */
  if (src->has_layout) {
    fs->r = src->r;
    fs->g = src->g;
    fs->b = src->b;
    fs->a = src->a;
  } else {
    fs->r = conv->r;
    fs->g = conv->g;
    fs->b = conv->b;
    fs->a = conv->a;
  }
  if (src->frame.frameType == CU_EGL_FRAME_TYPE_ARRAY) {
    fs->type = CU_MEMORYTYPE_ARRAY;
    fs->array = src->frame.frame.pArray[0];
    fs->texture = src->texture;
  } else {
    fs->type = CU_MEMORYTYPE_DEVICE;
    fs->device = (CUdeviceptr) src->frame.frame.pPitch[0];
    fs->pitch = src->frame.pitch;
  }
  return TRUE;
}

/* Copy mode when the source's byte order differs from the output's. */
static gboolean
reorder_frame (ZcCudaConverter *conv, const ZcFrameSource *fs, CUdeviceptr dst,
    gint dst_pitch, GError **error)
{
  gint width = GST_VIDEO_INFO_WIDTH (&conv->in_info);
  gint height = GST_VIDEO_INFO_HEIGHT (&conv->in_info);
  gint src_pitch = (gint) fs->pitch;
  gint perm[4];
  void *pitch_args[] = { (void *) &fs->device, &src_pitch, &dst, &dst_pitch,
    &width, &height, &perm[0], &perm[1], &perm[2], &perm[3] };
  void *texture_args[] = { (void *) &fs->texture, &dst, &dst_pitch, &width,
    &height, &perm[0], &perm[1], &perm[2], &perm[3] };
  gboolean use_texture = fs->type == CU_MEMORYTYPE_ARRAY;

  if (conv->module == NULL) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "the image's channel order differs from %s and this build has no "
        "CUDA kernel to reorder it (nvcc was not found at build time): "
        "rebuild with -Dnvcc=enabled",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&conv->in_info)));
    return FALSE;
  }
  perm[conv->r] = fs->r;
  perm[conv->g] = fs->g;
  perm[conv->b] = fs->b;
  perm[conv->a] = fs->a;
  return ZC_CUDA_CHECK (
      zc_cuda.LaunchKernel (
          use_texture ? conv->fn_reorder_texture : conv->fn_reorder_pitch,
          (width + BLOCK_W - 1) / BLOCK_W, (height + BLOCK_H - 1) / BLOCK_H, 1,
          BLOCK_W, BLOCK_H, 1, 0, conv->stream,
          use_texture ? texture_args : pitch_args, NULL),
      error);
}

static gboolean
copy_frame (ZcCudaConverter *conv, const ZcFrameSource *fs, CUdeviceptr dst,
    gsize dst_pitch, GError **error)
{
  CUDA_MEMCPY2D cp = {
    0,
  };

  if (fs->r != conv->r || fs->g != conv->g || fs->b != conv->b
      || fs->a != conv->a)
    return reorder_frame (conv, fs, dst, (gint) dst_pitch, error);
  /* Out of a CUDA array the texture-reading kernel (identity order) is
   * used for plain copies too: on the H100 it took a steady 0.017 ms per
   * 1080p frame through this function where cuMemcpy2DAsync took 0.019 to
   * 0.032 ms over several runs (bench/gpu/RESULTS.md; both are mostly pool
   * and sync overhead), and it is the same code the reorder path runs. */
  if (fs->type == CU_MEMORYTYPE_ARRAY && conv->module != NULL)
    return reorder_frame (conv, fs, dst, (gint) dst_pitch, error);

  /* From a registered host range this is a DMA; from an EGL array or
   * pitched frame it is a device-to-device copy. */
  cp.srcMemoryType = fs->type;
  cp.srcHost = fs->host;
  cp.srcDevice = fs->type == CU_MEMORYTYPE_DEVICE ? fs->device : 0;
  cp.srcArray = fs->array;
  cp.srcPitch = fs->pitch;
  cp.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  cp.dstDevice = dst;
  cp.dstPitch = dst_pitch;
  cp.WidthInBytes = (gsize) GST_VIDEO_INFO_WIDTH (&conv->in_info) * 4;
  cp.Height = GST_VIDEO_INFO_HEIGHT (&conv->in_info);
  return ZC_CUDA_CHECK (zc_cuda.Memcpy2DAsync (&cp, conv->stream), error);
}

static gboolean
convert_frame (ZcCudaConverter *conv, const ZcFrameSource *fs, CUdeviceptr y,
    gint y_pitch, CUdeviceptr uv, gint uv_pitch, GError **error)
{
  gint width = GST_VIDEO_INFO_WIDTH (&conv->in_info);
  gint height = GST_VIDEO_INFO_HEIGHT (&conv->in_info);
  gint src_pitch = (gint) fs->pitch;
  guint grid_x = ((width + 1) / 2 + BLOCK_W - 1) / BLOCK_W;
  guint grid_y = ((height + 1) / 2 + BLOCK_H - 1) / BLOCK_H;
  void *pitch_args[] = { (void *) &fs->device, &src_pitch, &y, &y_pitch, &uv,
    &uv_pitch, &width, &height, (void *) &fs->r, (void *) &fs->g,
    (void *) &fs->b };
  void *texture_args[] = { (void *) &fs->texture, &y, &y_pitch, &uv, &uv_pitch,
    &width, &height, (void *) &fs->r, (void *) &fs->g, (void *) &fs->b };
  gboolean use_texture = fs->type == CU_MEMORYTYPE_ARRAY;

  return ZC_CUDA_CHECK (
      zc_cuda.LaunchKernel (use_texture ? conv->fn_texture : conv->fn_pitch,
          grid_x, grid_y, 1, BLOCK_W, BLOCK_H, 1, 0, conv->stream,
          use_texture ? texture_args : pitch_args, NULL),
      error);
}

/* Expected GPU time (µs) below which the wait polls from the start: a
 * sleep and its wake-up cost more CPU than polling that long. */
#define WAIT_SPIN_BELOW_US 50
/* Wake this long (µs) before the expected end: Linux wakes a sleeper late
 * by up to its timer slack (50 µs by default), never early. */
#define WAIT_MARGIN_US 20
/* Still running this long (µs) past the expected end: the GPU is busy
 * with other work; sleep in the driver instead of polling on. */
#define WAIT_POLL_LIMIT_US 2000
/* Never sleep longer than this (µs) on the estimate alone: a wrong one
 * costs latency, not CPU. */
#define WAIT_SLEEP_MAX_US 4000

/* Waits until the frame's work, launched at @start (monotonic µs), is done.
 * A frame's GPU time is steady (same size, same source), so the thread
 * sleeps through most of it and then polls the stream: one timer wake-up
 * and a few queries. Two costs are avoided that way (measured on an H200,
 * bench/gpu/RESULTS.md): recording an event per frame, and a blocking-sync
 * event's completion interrupt, which wakes the driver's event thread
 * (cuda-EvtHandlr) every frame, whether or not anyone waits on it. */
static gboolean
wait_for_gpu (ZcCudaConverter *conv, gint64 start, GError **error)
{
  gint64 expect = conv->expect_us, waited;
  gboolean polled = FALSE;
  CUresult res;

  if (expect > WAIT_SPIN_BELOW_US)
    g_usleep ((gulong) MIN (expect - WAIT_MARGIN_US, WAIT_SLEEP_MAX_US));
  while ((res = zc_cuda.StreamQuery (conv->stream)) == CUDA_ERROR_NOT_READY) {
    polled = TRUE;
    if (g_get_monotonic_time () - start > expect + WAIT_POLL_LIMIT_US) {
      res = zc_cuda.EventRecord (conv->done, conv->stream);
      if (res == CUDA_SUCCESS)
        res = zc_cuda.EventSynchronize (conv->done);
      break;
    }
  }
  waited = g_get_monotonic_time () - start;
  if (expect == 0)
    conv->expect_us = waited;
  else if (polled)
    /* Seen finishing: waited is the GPU time, give or take a query. One
     * slow frame (the GPU shared with other work) raises the estimate by
     * an eighth at most, so the frames after it do not oversleep by its
     * length. */
    conv->expect_us = (expect * 7 + MIN (waited, expect * 2)) / 8;
  else
    /* Done before the first look: look a little earlier next time. */
    conv->expect_us = expect - expect / 16 - 1;
  return ZC_CUDA_CHECK (res, error);
}

GstFlowReturn
zc_cuda_converter_process (ZcCudaConverter *conv, ZcCudaReg *src, gsize offset,
    gint stride, GstBuffer **out, GError **error)
{
  GstBuffer *buf = NULL;
  GstMemory *mem;
  GstCudaMemory *cmem;
  GstMapInfo map;
  GstFlowReturn ret;
  ZcFrameSource fs;
  CUdeviceptr dst;
  gboolean ok, synced;
  gint64 start;

  g_return_val_if_fail (conv != NULL, GST_FLOW_ERROR);
  g_return_val_if_fail (src != NULL, GST_FLOW_ERROR);
  g_return_val_if_fail (out != NULL, GST_FLOW_ERROR);

  if (!frame_source (conv, src, offset, stride, &fs, error))
    return GST_FLOW_ERROR;

  ret = gst_buffer_pool_acquire_buffer (conv->pool, &buf, NULL);
  if (ret != GST_FLOW_OK) {
    if (ret != GST_FLOW_FLUSHING)
      g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
          "no CUDA output buffer: %s", gst_flow_get_name (ret));
    return ret;
  }

  mem = gst_buffer_peek_memory (buf, 0);
  if (!gst_is_cuda_memory (mem)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "the CUDA buffer pool handed out non-CUDA memory");
    goto failed;
  }
  cmem = GST_CUDA_MEMORY_CAST (mem);
  /* GST_MAP_CUDA gives the device address and marks the host copy stale,
   * so a later CPU map downloads what we wrote. */
  if (!gst_memory_map (mem, &map, GST_MAP_WRITE | GST_MAP_CUDA)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "could not map the CUDA output buffer");
    goto failed;
  }
  dst = (CUdeviceptr) map.data;

  if (!gst_cuda_context_push (conv->ctx)) {
    gst_memory_unmap (mem, &map);
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "could not make the CUDA context current on this thread");
    goto failed;
  }
  start = g_get_monotonic_time ();
  if (conv->to_nv12)
    ok = convert_frame (conv, &fs,
        dst + GST_VIDEO_INFO_PLANE_OFFSET (&cmem->info, 0),
        GST_VIDEO_INFO_PLANE_STRIDE (&cmem->info, 0),
        dst + GST_VIDEO_INFO_PLANE_OFFSET (&cmem->info, 1),
        GST_VIDEO_INFO_PLANE_STRIDE (&cmem->info, 1), error);
  else
    ok = copy_frame (
        conv, &fs, dst, GST_VIDEO_INFO_PLANE_STRIDE (&cmem->info, 0), error);
  /* Wait even after a failed launch: the source buffer goes back to the
   * compositor when we return, and no GPU read of it may still be queued. */
  synced = wait_for_gpu (conv, start, NULL);
  if (!synced)
    synced = ZC_CUDA_CHECK (
        zc_cuda.StreamSynchronize (conv->stream), ok ? error : NULL);
  ok = synced && ok;
  gst_cuda_context_pop (NULL);
  gst_memory_unmap (mem, &map);
  if (!ok)
    goto failed;

  *out = buf;
  return GST_FLOW_OK;

failed:
  gst_buffer_unref (buf);
  return GST_FLOW_ERROR;
}

void
zc_cuda_converter_free (ZcCudaConverter *conv)
{
  if (conv == NULL)
    return;

  if (conv->pool != NULL) {
    gst_buffer_pool_set_active (conv->pool, FALSE);
    gst_object_unref (conv->pool);
  }
  if ((conv->stream != NULL || conv->module != NULL || conv->done != NULL)
      && gst_cuda_context_push (conv->ctx)) {
    if (conv->done != NULL)
      ZC_CUDA_CHECK (zc_cuda.EventDestroy (conv->done), NULL);
    if (conv->stream != NULL)
      ZC_CUDA_CHECK (zc_cuda.StreamDestroy (conv->stream), NULL);
    if (conv->module != NULL)
      ZC_CUDA_CHECK (zc_cuda.ModuleUnload (conv->module), NULL);
    gst_cuda_context_pop (NULL);
  }
  gst_clear_caps (&conv->caps);
  gst_clear_object (&conv->ctx);
  g_free (conv);
}
