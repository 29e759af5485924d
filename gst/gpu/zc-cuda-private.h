/* zerocast GPU library: what a registration holds (internal header).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "zc-cuda.h"
#include "zc-cuda-loader.h"

G_BEGIN_DECLS

typedef enum
{
  ZC_CUDA_REG_HOST,
  ZC_CUDA_REG_EGL,
} ZcCudaRegKind;

struct _ZcCudaReg
{
  ZcCudaRegKind kind;
  GstCudaContext *ctx; /* ref held: unregistering needs it */

  /* ZC_CUDA_REG_HOST: the caller's range and the page-aligned range we
   * registered around it (cuMemHostRegister wants whole pages). */
  guint8 *host_ptr;
  gsize host_size;
  guint8 *pinned_base;
  gsize pinned_size;
  CUdeviceptr host_dev_ptr; /* device address of host_ptr */

  /* ZC_CUDA_REG_EGL: the frame stays valid while registered.  An array
   * frame gets a texture object, made once here, for the NV12 kernel. */
  CUgraphicsResource resource;
  CUeglFrame frame;
  CUtexObject texture;
  /* Byte positions of R, G, B, A in a texel, from frame.eglColorFormat;
   * has_layout is FALSE when CUDA's colour format is not a 4-channel RGB
   * one we know (then the converter's input format is trusted). */
  gboolean has_layout;
  gint r, g, b, a;
};

G_END_DECLS
