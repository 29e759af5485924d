/* zerocast GPU library: libcuda.so.1 opened at run time (internal header).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * We never link libcuda: the stub library CUDA ships for linking lacks the
 * EGL interop entry points, and hosts without NVIDIA must still load the
 * plugin.  Only the symbols listed in ZcCudaFuncs are looked up; each one
 * under its versioned name (cuMemcpy2D_v2 ...), the ABI cuda.h's macros
 * point at. */
#pragma once

#include <glib.h>
#include <cuda.h>
#include <cudaEGL.h>

G_BEGIN_DECLS

typedef struct
{
  CUresult (CUDAAPI *Init) (unsigned int flags);
  CUresult (CUDAAPI *GetErrorName) (CUresult error, const char **str);
  CUresult (CUDAAPI *GetErrorString) (CUresult error, const char **str);
  CUresult (CUDAAPI *DriverGetVersion) (int *version);
  CUresult (CUDAAPI *DeviceGetCount) (int *count);
  CUresult (CUDAAPI *DeviceGet) (CUdevice *device, int ordinal);
  CUresult (CUDAAPI *DeviceGetName) (char *name, int len, CUdevice dev);
  CUresult (CUDAAPI *DeviceGetAttribute) (
      int *pi, CUdevice_attribute attrib, CUdevice dev);
  CUresult (CUDAAPI *CtxPushCurrent) (CUcontext ctx);
  CUresult (CUDAAPI *CtxPopCurrent) (CUcontext *ctx);
  CUresult (CUDAAPI *CtxGetDevice) (CUdevice *device);
  CUresult (CUDAAPI *CtxSynchronize) (void);
  CUresult (CUDAAPI *MemAlloc) (CUdeviceptr *dptr, size_t size);
  CUresult (CUDAAPI *MemAllocPitch) (CUdeviceptr *dptr, size_t *pitch,
      size_t width_bytes, size_t height, unsigned int element_size);
  CUresult (CUDAAPI *MemFree) (CUdeviceptr dptr);
  CUresult (CUDAAPI *MemAllocHost) (void **pp, size_t size);
  CUresult (CUDAAPI *MemFreeHost) (void *p);
  CUresult (CUDAAPI *MemHostRegister) (
      void *p, size_t size, unsigned int flags);
  CUresult (CUDAAPI *MemHostUnregister) (void *p);
  CUresult (CUDAAPI *MemHostGetDevicePointer) (
      CUdeviceptr *dptr, void *p, unsigned int flags);
  CUresult (CUDAAPI *Memcpy2D) (const CUDA_MEMCPY2D *copy);
  CUresult (CUDAAPI *Memcpy2DAsync) (
      const CUDA_MEMCPY2D *copy, CUstream stream);
  CUresult (CUDAAPI *MemcpyHtoD) (
      CUdeviceptr dst, const void *src, size_t size);
  CUresult (CUDAAPI *MemcpyHtoDAsync) (
      CUdeviceptr dst, const void *src, size_t size, CUstream stream);
  CUresult (CUDAAPI *StreamCreate) (CUstream *stream, unsigned int flags);
  CUresult (CUDAAPI *StreamDestroy) (CUstream stream);
  CUresult (CUDAAPI *StreamSynchronize) (CUstream stream);
  CUresult (CUDAAPI *StreamQuery) (CUstream stream);
  CUresult (CUDAAPI *EventCreate) (CUevent *event, unsigned int flags);
  CUresult (CUDAAPI *EventRecord) (CUevent event, CUstream stream);
  CUresult (CUDAAPI *EventSynchronize) (CUevent event);
  CUresult (CUDAAPI *EventQuery) (CUevent event);
  CUresult (CUDAAPI *EventDestroy) (CUevent event);
  CUresult (CUDAAPI *GraphicsEGLRegisterImage) (
      CUgraphicsResource *res, EGLImageKHR image, unsigned int flags);
  CUresult (CUDAAPI *GraphicsResourceGetMappedEglFrame) (CUeglFrame *frame,
      CUgraphicsResource res, unsigned int index, unsigned int mip_level);
  CUresult (CUDAAPI *GraphicsMapResources) (
      unsigned int count, CUgraphicsResource *res, CUstream stream);
  CUresult (CUDAAPI *GraphicsUnmapResources) (
      unsigned int count, CUgraphicsResource *res, CUstream stream);
  CUresult (CUDAAPI *GraphicsUnregisterResource) (CUgraphicsResource res);
  CUresult (CUDAAPI *ModuleLoadData) (CUmodule *module, const void *image);
  CUresult (CUDAAPI *ModuleUnload) (CUmodule module);
  CUresult (CUDAAPI *ModuleGetFunction) (
      CUfunction *func, CUmodule module, const char *name);
  CUresult (CUDAAPI *LaunchKernel) (CUfunction f, unsigned int grid_x,
      unsigned int grid_y, unsigned int grid_z, unsigned int block_x,
      unsigned int block_y, unsigned int block_z, unsigned int shared_bytes,
      CUstream stream, void **params, void **extra);
  CUresult (CUDAAPI *TexObjectCreate) (CUtexObject *tex,
      const CUDA_RESOURCE_DESC *res, const CUDA_TEXTURE_DESC *tex_desc,
      const CUDA_RESOURCE_VIEW_DESC *view);
  CUresult (CUDAAPI *TexObjectDestroy) (CUtexObject tex);
} ZcCudaFuncs;

/* The table; only valid after zc_cuda_load() returned TRUE. */
extern ZcCudaFuncs zc_cuda;

/* Checks a CUresult: on failure logs the error's name and text with the
 * call, file and line at ERROR level and, when error is not NULL, sets it
 * (ZC_ERROR_FAILED) unless it is set already.  Evaluates to TRUE on success. */
#define ZC_CUDA_CHECK(call, error)                                             \
  zc_cuda_check_result ((call), #call, (error), __FILE__, __LINE__, G_STRFUNC)

gboolean zc_cuda_check_result (CUresult result, const gchar *call,
    GError **error, const gchar *file, gint line, const gchar *func);

G_END_DECLS
