/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include "zc-output.h"

#include "zc-error.h"
#include "zc-format.h"

#include <spa/buffer/buffer.h>

#if ZC_HAVE_EGL
#include "zc-egl.h"
#endif
#if ZC_HAVE_CUDA
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudautils.h>
#endif
/* On 1.24+ gst/video/video.h brings GstVideoInfoDmaDrm. */

GST_DEBUG_CATEGORY_STATIC (zc_output_debug);
#define GST_CAT_DEFAULT zc_output_debug

/* Every entry point may be the first (the unit tests call them directly). */
static void
init_debug (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_output_debug, "zcoutput", 0, "zerocast output mode");
    g_once_init_leave (&once, 1);
  }
}

void
zc_output_clear (ZcOutput *out)
{
  g_clear_pointer (&out->cuda, zc_cuda_output_free);
  g_clear_pointer (&out->modifiers, zc_modifiers_free);
#if ZC_HAVE_EGL
  g_clear_pointer (&out->egl, zc_egl_free);
#endif
  gst_clear_caps (&out->peer_caps);
}

const gchar *
zc_output_mode_name (ZcOutputMode mode)
{
  return mode == ZC_OUTPUT_MODE_CUDA  ? "cuda"
      : mode == ZC_OUTPUT_MODE_DMABUF ? "dmabuf"
                                      : "system";
}

/* Does downstream name this memory explicitly? ANY (a fakesink, an appsink
 * without caps) does not count: system memory is what such a sink expects. */
static gboolean
peer_takes_feature (GstCaps *peer, const gchar *feature)
{
  if (peer == NULL || gst_caps_is_any (peer))
    return FALSE;
  for (guint i = 0; i < gst_caps_get_size (peer); i++) {
    GstCapsFeatures *f = gst_caps_get_features (peer, i);
    if (f && gst_caps_features_contains (f, feature))
      return TRUE;
  }
  return FALSE;
}

/* Does downstream take frames in system memory at all? ANY does. */
static gboolean
peer_takes_system (GstCaps *peer)
{
  if (peer == NULL || gst_caps_is_any (peer))
    return TRUE;
  for (guint i = 0; i < gst_caps_get_size (peer); i++) {
    GstCapsFeatures *f = gst_caps_get_features (peer, i);
    if (f == NULL || gst_caps_features_is_any (f)
        || gst_caps_features_contains (
            f, GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY))
      return TRUE;
  }
  return FALSE;
}

/* EGL on render-node, for the modifiers it can import. Its absence (no
 * /dev/dri, no libEGL) only means no DMA-BUF is offered. */
static void
open_egl (ZcOutput *out, const gchar *render_node)
{
#if ZC_HAVE_EGL
  GError *error = NULL;

  out->egl = zc_egl_new (render_node, &error);
  if (out->egl == NULL) {
    GST_INFO ("no DMA-BUF import: %s", error->message);
    g_error_free (error);
  }
#endif
}

/* Fills @out's modifiers for @formats from EGL; with no EGL, the layouts any
 * importer understands (linear, and implicit) when @fallback says so. */
static void
collect_modifiers (ZcOutput *out, const enum spa_video_format *formats,
    guint n_formats, gboolean fallback)
{
  out->modifiers = zc_modifiers_new ();
  for (guint i = 0; i < n_formats; i++) {
    const ZcFormat *fmt = zc_format_from_spa (formats[i]);
    GArray *mods = NULL;

#if ZC_HAVE_EGL
    if (out->egl)
      mods = zc_egl_query_modifiers (out->egl, fmt->drm);
#endif
    if (mods == NULL && fallback) {
      guint64 linear = ZC_DRM_FORMAT_MOD_LINEAR;
      mods = g_array_new (FALSE, FALSE, sizeof (guint64));
      g_array_append_val (mods, linear);
    }
    if (mods) {
      zc_modifiers_add_array (out->modifiers, fmt->drm, mods, TRUE);
      g_array_unref (mods);
    }
  }
  if (GST_LEVEL_DEBUG <= gst_debug_category_get_threshold (GST_CAT_DEFAULT)) {
    gchar *str = zc_modifiers_to_string (out->modifiers);
    GST_DEBUG ("DMA-BUF modifiers to offer: %s", str);
    g_free (str);
  }
}

static gboolean
setup_cuda (ZcOutput *out, GstElement *element, const gchar *render_node,
    gint device_id, gpointer *cuda_ctx, GError **error)
{
#if ZC_HAVE_CUDA
  GstCudaContext *ctx = NULL;

  if (!zc_cuda_output_probe (error))
    return FALSE;
  open_egl (out, render_node);
#if ZC_HAVE_EGL
  if (device_id < 0 && out->egl)
    device_id = zc_egl_get_cuda_device (out->egl);
#endif
  GST_OBJECT_LOCK (element);
  ctx = *cuda_ctx ? gst_object_ref (*cuda_ctx) : NULL;
  GST_OBJECT_UNLOCK (element);
  if (ctx == NULL) {
    /* Asks downstream (nvh264enc) and the application for a context first,
     * so encoder and source share one. What it finds arrives through the
     * element's set_context, which fills *cuda_ctx: so it must be given
     * that very pointer, or it would not see the answer and make a second
     * context (seen on the H100: "Peer access ... is not allowed"). */
    if (!gst_cuda_ensure_element_context (
            element, device_id, (GstCudaContext **) cuda_ctx)) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_UNSUPPORTED,
          "Could not create a CUDA context on device %d", device_id);
      return FALSE;
    }
    GST_OBJECT_LOCK (element);
    ctx = *cuda_ctx ? gst_object_ref (*cuda_ctx) : NULL;
    GST_OBJECT_UNLOCK (element);
    g_return_val_if_fail (ctx != NULL, FALSE);
  }
  out->cuda = zc_cuda_output_new (ctx, out->egl);
  gst_object_unref (ctx);
  return TRUE;
#else
  return zc_cuda_output_probe (error);
#endif
}

/* Decides the output mode from the property, what downstream takes and
 * what works here; auto says what it chose and why. */
gboolean
zc_output_choose (ZcOutput *out, GstElement *element, ZcOutputMode requested,
    const gchar *render_node, gint device_id, gpointer *cuda_ctx,
    GError **error)
{
  GError *why = NULL;
  gboolean ok = TRUE;

  init_debug ();

  out->shm_fallback = FALSE;
  switch (requested) {
    case ZC_OUTPUT_MODE_CUDA:
      out->mode = ZC_OUTPUT_MODE_CUDA;
      ok = setup_cuda (out, element, render_node, device_id, cuda_ctx, error);
      break;
    case ZC_OUTPUT_MODE_DMABUF:
      out->mode = ZC_OUTPUT_MODE_DMABUF;
      open_egl (out, render_node);
      break;
    case ZC_OUTPUT_MODE_SYSTEM:
      out->mode = ZC_OUTPUT_MODE_SYSTEM;
      break;
    case ZC_OUTPUT_MODE_AUTO:
    default:
      if (!peer_takes_feature (out->peer_caps, "memory:CUDAMemory")) {
        why = g_error_new (ZC_ERROR, ZC_ERROR_UNSUPPORTED,
            "downstream does not take CUDA memory");
      } else if (setup_cuda (
                     out, element, render_node, device_id, cuda_ctx, &why)) {
        out->mode = ZC_OUTPUT_MODE_CUDA;
        GST_INFO_OBJECT (element, "output-mode=auto chose CUDA memory");
        break;
      }
      if (peer_takes_feature (out->peer_caps, "memory:DMABuf")) {
        open_egl (out, render_node);
        /* Without EGL only the layouts every importer knows (linear) are
         * offered; still DMA-BUF for a downstream that takes nothing else
         * (a VA-API encoder behind a DMA_DRM capsfilter), so a producer
         * without DMA-BUF is a clear error rather than caps that fail. */
        if (out->egl || !peer_takes_system (out->peer_caps)) {
          out->mode = ZC_OUTPUT_MODE_DMABUF;
          out->shm_fallback = peer_takes_system (out->peer_caps);
          GST_INFO_OBJECT (element,
              "output-mode=auto chose DMA-BUF (no CUDA: "
              "%s%s)",
              why->message,
              out->egl ? (out->shm_fallback
                      ? "; system memory if the producer has no "
                        "DMA-BUF"
                      : "")
                       : "; no EGL, downstream takes only DMA-BUF");
          break;
        }
      }
      out->mode = ZC_OUTPUT_MODE_SYSTEM;
      GST_INFO_OBJECT (element,
          "output-mode=auto chose system memory (no CUDA: "
          "%s; no DMA-BUF downstream or EGL)",
          why->message);
      break;
  }
  g_clear_error (&why);
  return ok;
}

/* Caps for the frames of a newly negotiated format, in the chosen memory. */
GstCaps *
zc_output_caps (
    ZcOutput *out, const GstVideoInfo *info, guint64 modifier, GError **error)
{
  GstCaps *caps;

  if (zc_output_frames_in_system (out, modifier)) {
    GST_INFO ("the producer streams shared memory: system memory out");
    return gst_video_info_to_caps (info);
  }
  switch (out->mode) {
    case ZC_OUTPUT_MODE_CUDA:
      return zc_cuda_output_configure (
          out->cuda, info, modifier, out->peer_caps, error);
    case ZC_OUTPUT_MODE_DMABUF: {
#if ZC_HAVE_GST_1_24
      GstVideoInfoDmaDrm drm;
      const ZcFormat *fmt = zc_format_from_gst (GST_VIDEO_INFO_FORMAT (info));

      gst_video_info_dma_drm_init (&drm);
      drm.vinfo = *info;
      drm.drm_fourcc = fmt->drm;
      drm.drm_modifier = modifier == ZC_DRM_FORMAT_MOD_INVALID
          ? ZC_DRM_FORMAT_MOD_LINEAR
          : modifier;
      caps = gst_video_info_dma_drm_to_caps (&drm);
#else
      /* 1.22 caps cannot name a modifier: only linear or implicit layouts
       * were offered in this mode. */
      caps = gst_video_info_to_caps (info);
      gst_caps_set_features (
          caps, 0, gst_caps_features_new ("memory:DMABuf", NULL));
#endif
      return caps;
    }
    case ZC_OUTPUT_MODE_SYSTEM:
    default:
      return gst_video_info_to_caps (info);
  }
}

gboolean
zc_output_frames_in_system (const ZcOutput *out, guint64 modifier)
{
  return out->mode == ZC_OUTPUT_MODE_DMABUF && out->shm_fallback
      && modifier == ZC_DRM_FORMAT_MOD_INVALID;
}

const gchar *
zc_output_memory_name (const ZcOutput *out, guint64 modifier)
{
  return zc_output_frames_in_system (out, modifier)
      ? zc_output_mode_name (ZC_OUTPUT_MODE_SYSTEM)
      : zc_output_mode_name (out->mode);
}

/* Which of our formats to offer PipeWire in the chosen mode. */
guint
zc_output_formats (
    ZcOutput *out, enum spa_video_format *formats, guint max_formats)
{
  switch (out->mode) {
    case ZC_OUTPUT_MODE_CUDA:
      /* The GPU converts any of them to what downstream takes. */
      return zc_format_filter_caps (NULL, NULL, formats, max_formats);
    case ZC_OUTPUT_MODE_DMABUF:
      /* The same formats go into the shared-memory offers: ones that
       * downstream takes in system memory. */
      if (out->shm_fallback)
        return zc_format_filter_caps (
            out->peer_caps, NULL, formats, max_formats);
#if ZC_HAVE_GST_1_24
      return zc_format_filter_caps (NULL, NULL, formats, max_formats);
#else
      return zc_format_filter_caps (
          out->peer_caps, "memory:DMABuf", formats, max_formats);
#endif
    case ZC_OUTPUT_MODE_SYSTEM:
    default:
      return zc_format_filter_caps (out->peer_caps, NULL, formats, max_formats);
  }
}

guint32
zc_output_data_types (
    ZcOutput *out, const enum spa_video_format *formats, guint n_formats)
{
  guint32 shm = (1 << SPA_DATA_MemFd) | (1 << SPA_DATA_MemPtr);

  init_debug ();
  switch (out->mode) {
    case ZC_OUTPUT_MODE_CUDA:
      /* DMA-BUF when EGL can import it, shared memory always. */
      if (out->egl == NULL)
        return shm;
      collect_modifiers (out, formats, n_formats, FALSE);
      return zc_modifiers_is_empty (out->modifiers)
          ? shm
          : shm | (1 << SPA_DATA_DmaBuf);
    case ZC_OUTPUT_MODE_DMABUF:
#if !ZC_HAVE_GST_1_24 && ZC_HAVE_EGL
      /* 1.22 caps cannot carry a modifier: offer only layouts that need
       * none (linear, implicit). */
      g_clear_pointer (&out->egl, zc_egl_free);
#endif
      collect_modifiers (out, formats, n_formats, TRUE);
      return out->shm_fallback ? shm | (1 << SPA_DATA_DmaBuf)
                               : 1 << SPA_DATA_DmaBuf;
    case ZC_OUTPUT_MODE_SYSTEM:
    default:
      return shm;
  }
}
