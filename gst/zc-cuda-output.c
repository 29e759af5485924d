/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include "zc-cuda-output.h"

#include "zc-error.h"
#include "zc-stream.h"

#if ZC_HAVE_CUDA
#include "zc-cuda.h"
#include "zc-egl.h"
#endif

#if ZC_HAVE_CUDA

GST_DEBUG_CATEGORY_STATIC (zc_cuda_output_debug);
#define GST_CAT_DEFAULT zc_cuda_output_debug

struct _ZcCudaOutput
{
  GstCudaContext *ctx;
  ZcEgl *egl;
  ZcCudaConverter *conv;
  GstVideoInfo in_info;
  guint64 modifier;
};

/* What one PipeWire buffer became on the GPU; lives as long as the buffer
 * (zc_stream_frame_set_data), freed on whatever thread drops it last. */
typedef struct
{
  ZcEgl *egl;
  gpointer image;
  ZcCudaReg *reg;
} ZcImport;

static void
import_free (gpointer data)
{
  ZcImport *imp = data;

  zc_cuda_reg_free (imp->reg);
  if (imp->image)
    zc_egl_destroy_image (imp->egl, imp->image);
  g_free (imp);
}

gboolean
zc_cuda_output_probe (GError **error)
{
  GST_DEBUG_CATEGORY_INIT (
      zc_cuda_output_debug, "zccudaoutput", 0, "zerocast CUDA output");
  return zc_cuda_load (error);
}

ZcCudaOutput *
zc_cuda_output_new (gpointer cuda_context, gpointer egl)
{
  ZcCudaOutput *out = g_new0 (ZcCudaOutput, 1);

  out->ctx = gst_object_ref (GST_CUDA_CONTEXT (cuda_context));
  out->egl = egl;
  return out;
}

static gboolean
allowed_has (GstCaps *allowed, GstVideoFormat format)
{
  GstCaps *probe = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
      gst_video_format_to_string (format), NULL);
  gboolean ok;

  gst_caps_set_features (
      probe, 0, gst_caps_features_new ("memory:CUDAMemory", NULL));
  ok = allowed == NULL || gst_caps_can_intersect (probe, allowed);
  gst_caps_unref (probe);
  return ok;
}

GstCaps *
zc_cuda_output_configure (ZcCudaOutput *out, const GstVideoInfo *in,
    guint64 modifier, GstCaps *allowed, GError **error)
{
  GstVideoFormat in_format = GST_VIDEO_INFO_FORMAT (in), out_format;

  /* NV12 is what NVENC eats: one GPU pass instead of a copy plus a
   * conversion downstream. */
  if (zc_cuda_have_kernel ()
      && zc_cuda_converter_supports (in_format, GST_VIDEO_FORMAT_NV12)
      && allowed_has (allowed, GST_VIDEO_FORMAT_NV12))
    out_format = GST_VIDEO_FORMAT_NV12;
  else if (allowed_has (allowed, in_format))
    out_format = in_format;
  else {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "Downstream takes neither NV12 nor %s in CUDA memory%s",
        gst_video_format_to_string (in_format),
        zc_cuda_have_kernel ()
            ? ""
            : " (this build has no NV12 kernel: nvcc was not found)");
    return NULL;
  }

  zc_cuda_converter_free (g_steal_pointer (&out->conv));
  out->conv = zc_cuda_converter_new (out->ctx, in, out_format, error);
  if (out->conv == NULL)
    return NULL;
  out->in_info = *in;
  out->modifier = modifier;
  GST_INFO ("CUDA output: %s %dx%d -> %s",
      gst_video_format_to_string (in_format), GST_VIDEO_INFO_WIDTH (in),
      GST_VIDEO_INFO_HEIGHT (in), gst_video_format_to_string (out_format));
  return gst_caps_ref (zc_cuda_converter_get_caps (out->conv));
}

static ZcImport *
import_frame (ZcCudaOutput *out, const ZcFrameSource *src,
    gboolean *import_failed, GError **error)
{
  ZcImport *imp = g_new0 (ZcImport, 1);

  imp->egl = out->egl;
  if (src->type == SPA_DATA_DmaBuf) {
    const ZcFormat *fmt =
        zc_format_from_gst (GST_VIDEO_INFO_FORMAT (&out->in_info));

    if (out->egl == NULL) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
          "Got a DMA-BUF but have no EGL display to import it");
      goto failed;
    }
    imp->image = zc_egl_import_dmabuf (out->egl, fmt->drm, out->modifier,
        GST_VIDEO_INFO_WIDTH (&out->in_info),
        GST_VIDEO_INFO_HEIGHT (&out->in_info), src->n_planes, src->fds,
        src->offsets, src->strides, error);
    if (imp->image == NULL) {
      *import_failed = TRUE;
      goto failed;
    }
    imp->reg = zc_cuda_reg_egl_image (out->ctx, imp->image, error);
  } else {
    imp->reg =
        zc_cuda_reg_host (out->ctx, (gpointer) src->base, src->size, error);
  }
  if (imp->reg == NULL)
    goto failed;
  GST_DEBUG ("registered a PipeWire buffer (%s) with CUDA",
      src->type == SPA_DATA_DmaBuf ? "DMA-BUF" : "shared memory");
  return imp;

failed:
  import_free (imp);
  return NULL;
}

GstFlowReturn
zc_cuda_output_process (ZcCudaOutput *out, GstBuffer *frame,
    GstBuffer **cuda_buffer, gboolean *import_failed, GError **error)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (frame);
  ZcFrameSource src;
  ZcImport *imp;
  gsize offset = 0;
  gint stride = meta ? meta->stride[0] : 0;

  *import_failed = FALSE;
  *cuda_buffer = NULL;
  g_return_val_if_fail (out->conv != NULL, GST_FLOW_NOT_NEGOTIATED);
  if (!zc_stream_frame_get_source (frame, &src)) {
    /* A frame the stream had to copy has no PipeWire buffer to register;
     * registering it per frame is what we never do. Skip it. */
    GST_DEBUG ("skipping a copied frame");
    return GST_FLOW_OK;
  }
  imp = zc_stream_frame_get_data (frame);
  if (imp == NULL) {
    imp = import_frame (out, &src, import_failed, error);
    if (imp == NULL)
      return GST_FLOW_ERROR;
    zc_stream_frame_set_data (frame, imp, import_free);
  }
  if (src.type != SPA_DATA_DmaBuf) {
    /* The frame's memory is a window on the registered buffer. */
    GstMemory *mem = gst_buffer_peek_memory (frame, 0);
    offset = mem->offset;
  }
  return zc_cuda_converter_process (
      out->conv, imp->reg, offset, stride, cuda_buffer, error);
}

void
zc_cuda_output_set_flushing (ZcCudaOutput *out, gboolean flushing)
{
  if (out && out->conv)
    zc_cuda_converter_set_flushing (out->conv, flushing);
}

void
zc_cuda_output_free (ZcCudaOutput *out)
{
  if (out == NULL)
    return;
  zc_cuda_converter_free (out->conv);
  gst_object_unref (out->ctx);
  g_free (out);
}

#else /* !ZC_HAVE_CUDA */

gboolean
zc_cuda_output_probe (GError **error)
{
  g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
      "CUDA is not available: this build of pipewirezerocopysrc has no CUDA "
      "support (it needs gstreamer-cuda-1.0 and the CUDA headers at build "
      "time). Use output-mode=system");
  return FALSE;
}

ZcCudaOutput *
zc_cuda_output_new (gpointer cuda_context, gpointer egl)
{
  return NULL;
}

GstCaps *
zc_cuda_output_configure (ZcCudaOutput *out, const GstVideoInfo *in,
    guint64 modifier, GstCaps *allowed, GError **error)
{
  return zc_cuda_output_probe (error), NULL;
}

GstFlowReturn
zc_cuda_output_process (ZcCudaOutput *out, GstBuffer *frame,
    GstBuffer **cuda_buffer, gboolean *import_failed, GError **error)
{
  zc_cuda_output_probe (error);
  return GST_FLOW_ERROR;
}

void
zc_cuda_output_set_flushing (ZcCudaOutput *out, gboolean flushing)
{
}

void
zc_cuda_output_free (ZcCudaOutput *out)
{
}

#endif
