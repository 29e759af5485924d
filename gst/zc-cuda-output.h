/* zerocast: the element's CUDA output. Frames from PipeWire buffers become
 * video/x-raw(memory:CUDAMemory) through the GPU library in gst/gpu/, with
 * each PipeWire buffer imported and registered once.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

typedef struct _ZcCudaOutput ZcCudaOutput;

/* Whether this build and this host can output CUDA memory; @error says why
 * not and what to do. */
gboolean zc_cuda_output_probe (GError **error);

/* @cuda_context: a GstCudaContext (gpointer so this header needs no CUDA
 * headers), ref'd. @egl: a ZcEgl for DMA-BUF imports, or NULL; not owned,
 * must outlive the output. */
ZcCudaOutput *zc_cuda_output_new (gpointer cuda_context, gpointer egl);

/* Picks the output format for @in: NV12 from the fused kernel when
 * downstream (@allowed) takes it, else the input's own format, and makes
 * the converter. Returns the caps to set, or NULL with @error. */
GstCaps *zc_cuda_output_configure (ZcCudaOutput *out, const GstVideoInfo *in,
    guint64 modifier, GstCaps *allowed, GError **error);

/* One frame into a CUDA buffer; the frame may be freed (its PipeWire buffer
 * requeued) as soon as this returns. *@import_failed tells the caller that
 * the DMA-BUF could not be imported, so it can drop that modifier. */
GstFlowReturn zc_cuda_output_process (ZcCudaOutput *out, GstBuffer *frame,
    GstBuffer **cuda_buffer, gboolean *import_failed, GError **error);

void zc_cuda_output_set_flushing (ZcCudaOutput *out, gboolean flushing);
void zc_cuda_output_free (ZcCudaOutput *out); /* NULL ok */

G_END_DECLS
