/* zerocast GPU library: frames from PipeWire buffers into CUDA memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built only when gstreamer-cuda-1.0 and the CUDA headers are found
 * (zcgpu_dep then defines ZC_HAVE_CUDA=1; guard includes with
 * "#if ZC_HAVE_CUDA").  libcuda.so.1 itself is opened at run time by
 * zc_cuda_load(), so the plugin still loads on hosts without NVIDIA.
 *
 * The flow, per PipeWire buffer:
 *   add_buffer:    reg = zc_cuda_reg_host (ctx, mapped_ptr, size)      (MemFd)
 *               or reg = zc_cuda_reg_egl_image (ctx, egl_image) (DMA-BUF) each
 * frame:    zc_cuda_converter_process (conv, reg, offset, stride, &outbuf)
 *   remove_buffer: zc_cuda_reg_free (reg)
 * Registration costs a fraction of a millisecond on a good day and tens of
 * milliseconds on a busy desktop: it is made once per buffer, never per frame.
 *
 * Threads: every function pushes the GstCudaContext it was given and pops it
 * before returning, so any thread may call them; one ZcCudaConverter must not
 * be used by two threads at once. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/cuda/gstcudacontext.h>

G_BEGIN_DECLS

/* Opens libcuda.so.1, resolves the driver API we use and runs cuInit().
 * Safe to call often: the work is done once and its result remembered.
 * Fails with ZC_ERROR_UNSUPPORTED and a message saying what to do when the
 * library, a symbol or a CUDA device is missing. */
gboolean zc_cuda_load (GError **error);

/* Number of CUDA devices (0 when zc_cuda_load() fails). */
gint zc_cuda_get_device_count (void);

/* Whether this build embeds the RGB -> NV12 kernel (nvcc was found). */
gboolean zc_cuda_have_kernel (void);

/* ---- registrations: made once per PipeWire buffer ---- */

typedef struct _ZcCudaReg ZcCudaReg;

/* Page-locks the pages around [ptr, ptr + size) (a mapped MemFd buffer) with
 * cuMemHostRegister, so the GPU reads them by DMA.  A read-only mapping is
 * fine where the device supports read-only registration (Turing and newer).
 * The mapping must outlive the registration. */
ZcCudaReg *zc_cuda_reg_host (
    GstCudaContext *ctx, gpointer ptr, gsize size, GError **error);

/* Registers an EGLImage (from zc_egl_import_dmabuf(), or from a GL texture in
 * tests) with cuGraphicsEGLRegisterImage, read-only.  The image must outlive
 * the registration. */
ZcCudaReg *zc_cuda_reg_egl_image (
    GstCudaContext *ctx, gpointer egl_image, GError **error);

void zc_cuda_reg_free (ZcCudaReg *reg); /* NULL ok */

/* ---- converter: registered source -> GstCudaBufferPool buffer ---- */

typedef struct _ZcCudaConverter ZcCudaConverter;

/* Whether zc_cuda_converter_new() takes this pair: out_format is NV12 (needs
 * the kernel) or in_format itself (a plain 2D copy; BGRx BGRA RGBx RGBA
 * only, the packed formats GStreamer 1.22's CUDA memory can hold); in_format
 * is one of BGRx BGRA RGBx RGBA xRGB ARGB. */
gboolean zc_cuda_converter_supports (
    GstVideoFormat in_format, GstVideoFormat out_format);

/* in_info: the PipeWire buffer's format and size (its stride is ignored: the
 * stride comes with each frame).  Owns a GstCudaBufferPool with caps
 * video/x-raw(memory:CUDAMemory) of out_format at the input's size and
 * framerate.  NV12 is BT.709 limited range, chroma averaged over 2x2.
 * For an EGL image, the byte order CUDA reports for it (eglColorFormat,
 * which follows the fourcc EGL imported) decides how its colours are read;
 * in_info's format is used where CUDA does not say, and is always the
 * output's byte order in copy mode (reordered on the GPU if they differ). */
ZcCudaConverter *zc_cuda_converter_new (GstCudaContext *ctx,
    const GstVideoInfo *in_info, GstVideoFormat out_format, GError **error);

/* The output caps (transfer none). */
GstCaps *zc_cuda_converter_get_caps (ZcCudaConverter *conv);

/* The caps a converter for in_info and out_format would output (transfer
 * full), without making one: needs no GPU, so tests can hold them against
 * pad templates (the element's, the encoders'). */
GstCaps *zc_cuda_converter_caps_for (
    const GstVideoInfo *in_info, GstVideoFormat out_format);

/* Copies/converts one frame out of src into a new pool buffer (*out, owned
 * by the caller, no timestamps set).  For a host registration, offset and
 * stride place the frame inside the registered range; for an EGL image they
 * are ignored (the image knows its layout).  Every GPU read of src is
 * finished when this returns, so the PipeWire buffer may go back to the
 * compositor at once.  GST_FLOW_ERROR with *error set on failure; the
 * pool's flushing state comes back as GST_FLOW_FLUSHING without error. */
GstFlowReturn zc_cuda_converter_process (ZcCudaConverter *conv, ZcCudaReg *src,
    gsize offset, gint stride, GstBuffer **out, GError **error);

/* Stops handing out buffers (unblocks a waiting process) or starts again. */
void zc_cuda_converter_set_flushing (ZcCudaConverter *conv, gboolean flushing);

void zc_cuda_converter_free (ZcCudaConverter *conv); /* NULL ok */

G_END_DECLS
