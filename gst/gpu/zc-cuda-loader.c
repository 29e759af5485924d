/* zerocast GPU library: libcuda.so.1 opened at run time.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-cuda-loader.h"
#include "zc-cuda.h"
#include "zc-gpu-error.h"

#include <dlfcn.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/cuda/gstcudaloader.h>

GST_DEBUG_CATEGORY_STATIC (zc_cuda_loader_debug);
#define GST_CAT_DEFAULT zc_cuda_loader_debug

ZcCudaFuncs zc_cuda;

/* Filled once by load_once(): TRUE or the error every caller gets a copy of. */
static gboolean load_ok;
static GError *load_error;
static gint device_count;

typedef struct
{
  const gchar *name;
  gsize offset;
} ZcCudaSymbol;

#define SYM(field, name)                                                       \
  {                                                                            \
    name, G_STRUCT_OFFSET (ZcCudaFuncs, field)                                 \
  }

/* The versioned names are the ones cuda.h's macros select for the default
 * (legacy) stream; the unversioned ones are old ABIs kept for compatibility. */
static const ZcCudaSymbol symbols[] = {
  SYM (Init, "cuInit"),
  SYM (GetErrorName, "cuGetErrorName"),
  SYM (GetErrorString, "cuGetErrorString"),
  SYM (DriverGetVersion, "cuDriverGetVersion"),
  SYM (DeviceGetCount, "cuDeviceGetCount"),
  SYM (DeviceGet, "cuDeviceGet"),
  SYM (DeviceGetName, "cuDeviceGetName"),
  SYM (DeviceGetAttribute, "cuDeviceGetAttribute"),
  SYM (CtxPushCurrent, "cuCtxPushCurrent_v2"),
  SYM (CtxPopCurrent, "cuCtxPopCurrent_v2"),
  SYM (CtxGetDevice, "cuCtxGetDevice"),
  SYM (CtxSynchronize, "cuCtxSynchronize"),
  SYM (MemAlloc, "cuMemAlloc_v2"),
  SYM (MemAllocPitch, "cuMemAllocPitch_v2"),
  SYM (MemFree, "cuMemFree_v2"),
  SYM (MemAllocHost, "cuMemAllocHost_v2"),
  SYM (MemFreeHost, "cuMemFreeHost"),
  SYM (MemHostRegister, "cuMemHostRegister_v2"),
  SYM (MemHostUnregister, "cuMemHostUnregister"),
  SYM (MemHostGetDevicePointer, "cuMemHostGetDevicePointer_v2"),
  SYM (Memcpy2D, "cuMemcpy2D_v2"),
  SYM (Memcpy2DAsync, "cuMemcpy2DAsync_v2"),
  SYM (MemcpyHtoD, "cuMemcpyHtoD_v2"),
  SYM (MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
  SYM (StreamCreate, "cuStreamCreate"),
  SYM (StreamDestroy, "cuStreamDestroy_v2"),
  SYM (StreamSynchronize, "cuStreamSynchronize"),
  SYM (StreamQuery, "cuStreamQuery"),
  SYM (EventCreate, "cuEventCreate"),
  SYM (EventRecord, "cuEventRecord"),
  SYM (EventSynchronize, "cuEventSynchronize"),
  SYM (EventQuery, "cuEventQuery"),
  SYM (EventDestroy, "cuEventDestroy_v2"),
  SYM (GraphicsEGLRegisterImage, "cuGraphicsEGLRegisterImage"),
  SYM (
      GraphicsResourceGetMappedEglFrame, "cuGraphicsResourceGetMappedEglFrame"),
  SYM (GraphicsMapResources, "cuGraphicsMapResources"),
  SYM (GraphicsUnmapResources, "cuGraphicsUnmapResources"),
  SYM (GraphicsUnregisterResource, "cuGraphicsUnregisterResource"),
  SYM (ModuleLoadData, "cuModuleLoadData"),
  SYM (ModuleUnload, "cuModuleUnload"),
  SYM (ModuleGetFunction, "cuModuleGetFunction"),
  SYM (LaunchKernel, "cuLaunchKernel"),
  SYM (TexObjectCreate, "cuTexObjectCreate"),
  SYM (TexObjectDestroy, "cuTexObjectDestroy"),
};

#undef SYM

static const gchar *const advice =
    "Install the NVIDIA driver or use output-mode=system";

static gboolean
load_library (GError **error)
{
  void *lib;
  CUresult res;
  const gchar *name = NULL;

  /* RTLD_LOCAL: nothing else in the process should bind to our handle.
   * GStreamer's own CUDA loader opens the same soname, so both share one
   * instance of the driver. */
  lib = dlopen ("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "CUDA is not available: libcuda.so.1 could not be loaded (%s). %s",
        dlerror (), advice);
    return FALSE;
  }

  for (gsize i = 0; i < G_N_ELEMENTS (symbols); i++) {
    gpointer sym = dlsym (lib, symbols[i].name);

    if (sym == NULL) {
      g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
          "CUDA is not available: libcuda.so.1 lacks %s (driver too old?). "
          "Update the NVIDIA driver or use output-mode=system",
          symbols[i].name);
      /* The handle stays open: dlclose() of a driver library is not safe
       * once anything might have touched it, and this runs once. */
      memset (&zc_cuda, 0, sizeof (zc_cuda));
      return FALSE;
    }
    G_STRUCT_MEMBER (gpointer, &zc_cuda, symbols[i].offset) = sym;
  }

  res = zc_cuda.Init (0);
  if (res != CUDA_SUCCESS) {
    zc_cuda.GetErrorName (res, &name);
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "CUDA is not available: cuInit failed with %s (no usable NVIDIA "
        "GPU, or the driver is not loaded). %s",
        name ? name : "?", advice);
    return FALSE;
  }

  res = zc_cuda.DeviceGetCount (&device_count);
  if (res != CUDA_SUCCESS || device_count < 1) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "CUDA is not available: the driver reports no CUDA device. %s", advice);
    device_count = 0;
    return FALSE;
  }
  /* GstCudaContext and GstCudaBufferPool call libcuda through GStreamer's
   * own table, which must be filled too. */
  if (!gst_cuda_load_library ()) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "CUDA is not available: GStreamer's CUDA library "
        "(libgstcuda-1.0) could not load libcuda. %s",
        advice);
    return FALSE;
  }
  GST_INFO ("libcuda loaded, %d device(s)", device_count);
  return TRUE;
}

static gpointer
load_once (gpointer data)
{
  GST_DEBUG_CATEGORY_INIT (
      zc_cuda_loader_debug, "zccuda", 0, "zerocast CUDA loader");
  load_ok = load_library (&load_error);
  if (!load_ok)
    GST_INFO ("%s", load_error->message);
  return NULL;
}

gboolean
zc_cuda_load (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_once, NULL);
  if (!load_ok && error != NULL)
    *error = g_error_copy (load_error);
  return load_ok;
}

gint
zc_cuda_get_device_count (void)
{
  return zc_cuda_load (NULL) ? device_count : 0;
}

gboolean
zc_cuda_check_result (CUresult result, const gchar *call, GError **error,
    const gchar *file, gint line, const gchar *func)
{
  const gchar *name = NULL, *text = NULL;

  if (result == CUDA_SUCCESS)
    return TRUE;

  if (zc_cuda.GetErrorName != NULL) {
    zc_cuda.GetErrorName (result, &name);
    zc_cuda.GetErrorString (result, &text);
  }
  if (name == NULL)
    name = "CUDA_ERROR_UNKNOWN";
  if (text == NULL)
    text = "unknown error";

  gst_debug_log (zc_cuda_loader_debug, GST_LEVEL_ERROR, file, func, line, NULL,
      "%s failed: %s (%d): %s", call, name, (gint) result, text);
  if (error != NULL && *error == NULL)
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "CUDA call %s failed: %s (%s)", call, name, text);
  return FALSE;
}
