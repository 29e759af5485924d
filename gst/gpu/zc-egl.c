/* zerocast GPU library: EGL on a DRM render node, loaded at run time.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-egl.h"
#include "zc-gpu-error.h"

#include <dlfcn.h>
#include <string.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (zc_egl_debug);
#define GST_CAT_DEFAULT zc_egl_debug

/* Not in every eglext.h. */
#ifndef EGL_DRM_RENDER_NODE_FILE_EXT
#define EGL_DRM_RENDER_NODE_FILE_EXT 0x3377
#endif
#ifndef EGL_CUDA_DEVICE_NV
#define EGL_CUDA_DEVICE_NV 0x323A
#endif

/* Everything we call, resolved once: core entry points with dlsym, the
 * extension ones with eglGetProcAddress (which may return non-NULL for
 * names the driver does not support, so the extension strings decide). */
typedef struct
{
  PFNEGLGETPROCADDRESSPROC GetProcAddress;
  PFNEGLGETERRORPROC GetError;
  PFNEGLQUERYSTRINGPROC QueryString;
  PFNEGLINITIALIZEPROC Initialize;
  PFNEGLTERMINATEPROC Terminate;
  PFNEGLQUERYDEVICESEXTPROC QueryDevicesEXT;
  PFNEGLQUERYDEVICESTRINGEXTPROC QueryDeviceStringEXT;
  PFNEGLQUERYDEVICEATTRIBEXTPROC QueryDeviceAttribEXT;
  PFNEGLGETPLATFORMDISPLAYEXTPROC GetPlatformDisplayEXT;
  PFNEGLQUERYDMABUFFORMATSEXTPROC QueryDmaBufFormatsEXT;
  PFNEGLQUERYDMABUFMODIFIERSEXTPROC QueryDmaBufModifiersEXT;
  PFNEGLCREATEIMAGEKHRPROC CreateImageKHR;
  PFNEGLDESTROYIMAGEKHRPROC DestroyImageKHR;
} ZcEglFuncs;

static ZcEglFuncs egl;
static gchar *egl_load_error; /* NULL once loaded */

struct _ZcEgl
{
  EGLDisplay display;
  EGLDeviceEXT device;
  gchar *device_path; /* "" when the device has no DRM file */
  gchar *name;        /* for messages: "2 (/dev/dri/renderD129)" */
  gboolean has_modifiers;
};

static gpointer
load_once (gpointer data)
{
  void *lib;

  GST_DEBUG_CATEGORY_INIT (zc_egl_debug, "zcegl", 0, "zerocast EGL");

  lib = dlopen ("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    egl_load_error = g_strdup_printf (
        "libEGL.so.1 could not be loaded (%s); "
        "install libegl1 and the GPU driver's EGL vendor library",
        dlerror ());
    return NULL;
  }
  egl.GetProcAddress =
      (PFNEGLGETPROCADDRESSPROC) dlsym (lib, "eglGetProcAddress");
  if (egl.GetProcAddress == NULL) {
    egl_load_error = g_strdup ("libEGL.so.1 has no eglGetProcAddress");
    return NULL;
  }
#define CORE(field, name) egl.field = dlsym (lib, name)
  CORE (GetError, "eglGetError");
  CORE (QueryString, "eglQueryString");
  CORE (Initialize, "eglInitialize");
  CORE (Terminate, "eglTerminate");
#undef CORE
#define GET(field, name) egl.field = (gpointer) egl.GetProcAddress (name)
  GET (QueryDevicesEXT, "eglQueryDevicesEXT");
  GET (QueryDeviceStringEXT, "eglQueryDeviceStringEXT");
  GET (QueryDeviceAttribEXT, "eglQueryDeviceAttribEXT");
  GET (GetPlatformDisplayEXT, "eglGetPlatformDisplayEXT");
  GET (QueryDmaBufFormatsEXT, "eglQueryDmaBufFormatsEXT");
  GET (QueryDmaBufModifiersEXT, "eglQueryDmaBufModifiersEXT");
  GET (CreateImageKHR, "eglCreateImageKHR");
  GET (DestroyImageKHR, "eglDestroyImageKHR");
#undef GET
  if (egl.GetError == NULL || egl.QueryString == NULL || egl.Initialize == NULL
      || egl.Terminate == NULL) {
    egl_load_error = g_strdup ("libEGL.so.1 lacks core EGL 1.4 functions");
    return NULL;
  }
  return NULL;
}

static gboolean
load_egl (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_once, NULL);
  if (egl_load_error != NULL) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "EGL is not available: %s. Use output-mode=system", egl_load_error);
    return FALSE;
  }
  return TRUE;
}

/* Whole-word match in a space-separated extension string. */
static gboolean
has_extension (const gchar *extensions, const gchar *name)
{
  gsize len = strlen (name);
  const gchar *p = extensions;

  while (p != NULL && (p = strstr (p, name)) != NULL) {
    if ((p == extensions || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
      return TRUE;
    p += len;
  }
  return FALSE;
}

const gchar *
zc_egl_error_name (gint egl_error)
{
  switch (egl_error) {
    case EGL_SUCCESS:
      return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED:
      return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS:
      return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC:
      return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE:
      return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONTEXT:
      return "EGL_BAD_CONTEXT";
    case EGL_BAD_CONFIG:
      return "EGL_BAD_CONFIG";
    case EGL_BAD_CURRENT_SURFACE:
      return "EGL_BAD_CURRENT_SURFACE";
    case EGL_BAD_DISPLAY:
      return "EGL_BAD_DISPLAY";
    case EGL_BAD_SURFACE:
      return "EGL_BAD_SURFACE";
    case EGL_BAD_MATCH:
      return "EGL_BAD_MATCH";
    case EGL_BAD_PARAMETER:
      return "EGL_BAD_PARAMETER";
    case EGL_BAD_NATIVE_PIXMAP:
      return "EGL_BAD_NATIVE_PIXMAP";
    case EGL_BAD_NATIVE_WINDOW:
      return "EGL_BAD_NATIVE_WINDOW";
    case EGL_CONTEXT_LOST:
      return "EGL_CONTEXT_LOST";
    default:
      return "unknown EGL error";
  }
}

static const gchar *
device_file (EGLDeviceEXT dev, EGLint name)
{
  const gchar *s = egl.QueryDeviceStringEXT (dev, name);

  /* Querying an attribute the device lacks sets an error: clear it so it
   * does not surface in a later, unrelated check. */
  if (s == NULL)
    egl.GetError ();
  return s;
}

/* Mesa's llvmpipe device (EGL_MESA_device_software) is listed on every
 * machine with Mesa, GPU or not (Debian 13's Mesa 25 lists it even without
 * /dev/dri). It has no GPU behind it: DMA-BUFs from the compositor and CUDA
 * interop mean nothing there, so it is never the device picked. */
static gboolean
device_is_software (EGLDeviceEXT dev)
{
  const gchar *ext = device_file (dev, EGL_EXTENSIONS);

  return ext != NULL && has_extension (ext, "EGL_MESA_device_software");
}

/* Picks the EGL device for render_node: its render node or primary node
 * file matches; else the first hardware device, with a warning. */
static gboolean
pick_device (ZcEgl *self, const gchar *render_node, GError **error)
{
  EGLDeviceEXT devices[16];
  EGLint n = 0;
  gint match = -1;

  if (!egl.QueryDevicesEXT (G_N_ELEMENTS (devices), devices, &n) || n < 1) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "EGL lists no device (%s): no GPU driver with EGL support is "
        "installed. Use output-mode=system",
        zc_egl_error_name (egl.GetError ()));
    return FALSE;
  }

  for (gint i = 0; i < n && render_node != NULL; i++) {
    const gchar *rn = device_file (devices[i], EGL_DRM_RENDER_NODE_FILE_EXT);
    const gchar *pn = device_file (devices[i], EGL_DRM_DEVICE_FILE_EXT);

    GST_DEBUG ("EGL device %d: render node %s, primary node %s", i,
        GST_STR_NULL (rn), GST_STR_NULL (pn));
    if (g_strcmp0 (rn, render_node) == 0 || g_strcmp0 (pn, render_node) == 0) {
      match = i;
      break;
    }
  }
  if (match < 0) {
    /* Headless NVIDIA without nvidia-drm has no device files at all, yet
     * EGL and CUDA work: using the first hardware device beats failing. */
    for (gint i = 0; i < n && match < 0; i++)
      if (!device_is_software (devices[i]))
        match = i;
    if (match < 0) {
      g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
          "no EGL device for render node %s: EGL lists only a software "
          "renderer (no GPU driver with EGL support). Use output-mode=system",
          GST_STR_NULL (render_node));
      return FALSE;
    }
    GST_WARNING ("no EGL device for render node %s among %d device(s); "
                 "using the first hardware one (%d)",
        GST_STR_NULL (render_node), n, match);
  }
  self->device = devices[match];
  self->device_path =
      g_strdup (device_file (self->device, EGL_DRM_RENDER_NODE_FILE_EXT));
  if (self->device_path == NULL)
    self->device_path =
        g_strdup (device_file (self->device, EGL_DRM_DEVICE_FILE_EXT));
  if (self->device_path == NULL)
    self->device_path = g_strdup ("");
  self->name = g_strdup_printf ("%d (%s)", match,
      self->device_path[0] ? self->device_path : "no DRM device file");
  return TRUE;
}

ZcEgl *
zc_egl_new (const gchar *render_node, GError **error)
{
  ZcEgl *self;
  const gchar *client_ext, *display_ext;
  EGLint major = 0, minor = 0;

  if (!load_egl (error))
    return NULL;

  client_ext = egl.QueryString (EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (client_ext == NULL || egl.QueryDevicesEXT == NULL
      || egl.QueryDeviceStringEXT == NULL || egl.GetPlatformDisplayEXT == NULL
      ||
      /* EGL_EXT_device_base is enumeration + query in one (NVIDIA lists
       * only that name). */
      !(has_extension (client_ext, "EGL_EXT_device_enumeration")
          || has_extension (client_ext, "EGL_EXT_device_base"))
      || !has_extension (client_ext, "EGL_EXT_platform_device")) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "EGL lacks EGL_EXT_device_enumeration or EGL_EXT_platform_device "
        "(client extensions: %s): the GPU driver's EGL is missing or too "
        "old. Use output-mode=system",
        GST_STR_NULL (client_ext));
    return NULL;
  }

  self = g_new0 (ZcEgl, 1);
  if (!pick_device (self, render_node, error))
    goto failed;

  self->display =
      egl.GetPlatformDisplayEXT (EGL_PLATFORM_DEVICE_EXT, self->device, NULL);
  if (self->display == EGL_NO_DISPLAY) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "eglGetPlatformDisplayEXT failed for EGL device %s: %s", self->name,
        zc_egl_error_name (egl.GetError ()));
    goto failed;
  }
  if (!egl.Initialize (self->display, &major, &minor)) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "eglInitialize failed on EGL device %s: %s. Check the GPU driver",
        self->name, zc_egl_error_name (egl.GetError ()));
    self->display = EGL_NO_DISPLAY;
    goto failed;
  }

  display_ext = egl.QueryString (self->display, EGL_EXTENSIONS);
  GST_DEBUG ("display extensions of EGL device %s: %s", self->name,
      GST_STR_NULL (display_ext));
  if (!has_extension (display_ext, "EGL_EXT_image_dma_buf_import")
      || egl.CreateImageKHR == NULL || egl.DestroyImageKHR == NULL) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED,
        "EGL device %s cannot import DMA-BUFs (no "
        "EGL_EXT_image_dma_buf_import). Use output-mode=system",
        self->name);
    goto failed;
  }
  self->has_modifiers =
      has_extension (display_ext, "EGL_EXT_image_dma_buf_import_modifiers")
      && egl.QueryDmaBufFormatsEXT != NULL
      && egl.QueryDmaBufModifiersEXT != NULL;

  GST_INFO ("EGL %d.%d on device %s (%s), modifiers %s", major, minor,
      self->name, GST_STR_NULL (egl.QueryString (self->display, EGL_VENDOR)),
      self->has_modifiers ? "yes" : "no");
  return self;

failed:
  zc_egl_free (self);
  return NULL;
}

void
zc_egl_free (ZcEgl *self)
{
  if (self == NULL)
    return;
  /* eglTerminate is reference-counted per display only with
   * EGL_KHR_display_reference; without it, it would pull the display from
   * under anyone else using the same device (tests, GStreamer GL).  Device
   * displays are cheap to keep, so we leave it initialized. */
  g_free (self->device_path);
  g_free (self->name);
  g_free (self);
}

gpointer
zc_egl_get_display (ZcEgl *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->display;
}

const gchar *
zc_egl_get_device_path (ZcEgl *self)
{
  g_return_val_if_fail (self != NULL, "");

  return self->device_path;
}

gboolean
zc_egl_has_modifiers (ZcEgl *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->has_modifiers;
}

GArray *
zc_egl_query_formats (ZcEgl *self)
{
  GArray *formats = g_array_new (FALSE, FALSE, sizeof (guint32));
  EGLint n = 0;

  g_return_val_if_fail (self != NULL, formats);

  if (!self->has_modifiers)
    return formats;
  if (!egl.QueryDmaBufFormatsEXT (self->display, 0, NULL, &n) || n <= 0) {
    GST_DEBUG ("eglQueryDmaBufFormatsEXT: %s, no formats",
        zc_egl_error_name (egl.GetError ()));
    return formats;
  }
  g_array_set_size (formats, n);
  if (!egl.QueryDmaBufFormatsEXT (
          self->display, n, (EGLint *) formats->data, &n)) {
    GST_DEBUG ("eglQueryDmaBufFormatsEXT: %s, no formats",
        zc_egl_error_name (egl.GetError ()));
    n = 0;
  }
  g_array_set_size (formats, MAX (n, 0));
  return formats;
}

GArray *
zc_egl_query_modifiers (ZcEgl *self, guint32 drm_fourcc)
{
  GArray *mods = g_array_new (FALSE, FALSE, sizeof (guint64));
  EGLuint64KHR *all = NULL;
  EGLBoolean *external = NULL;
  EGLint n = 0;

  g_return_val_if_fail (self != NULL, mods);

  if (!self->has_modifiers)
    return mods;
  if (!egl.QueryDmaBufModifiersEXT (
          self->display, (EGLint) drm_fourcc, 0, NULL, NULL, &n)
      || n <= 0)
    goto none;

  all = g_new (EGLuint64KHR, n);
  external = g_new (EGLBoolean, n);
  if (!egl.QueryDmaBufModifiersEXT (
          self->display, (EGLint) drm_fourcc, n, all, external, &n))
    goto none;

  for (EGLint i = 0; i < n; i++) {
    guint64 m = all[i];

    /* External-only modifiers can be sampled only through
     * GL_TEXTURE_EXTERNAL_OES; CUDA cannot read them as an array. */
    if (external[i]) {
      GST_DEBUG ("fourcc 0x%08x: skipping external-only modifier "
                 "0x%016" G_GINT64_MODIFIER "x",
          drm_fourcc, m);
      continue;
    }
    g_array_append_val (mods, m);
  }
  g_free (all);
  g_free (external);
  return mods;

none:
  /* An EGL error means "none": guessing a vendor modifier would make the
   * producer allocate buffers we then cannot import. */
  GST_DEBUG ("fourcc 0x%08x: no modifiers (%s)", drm_fourcc,
      zc_egl_error_name (egl.GetError ()));
  g_free (all);
  g_free (external);
  g_array_set_size (mods, 0);
  return mods;
}

gpointer
zc_egl_import_dmabuf (ZcEgl *self, guint32 drm_fourcc, guint64 modifier,
    gint width, gint height, guint n_planes, const gint *fds,
    const guint32 *offsets, const guint32 *strides, GError **error)
{
  /* Per-plane attribute names, in plane order. */
  static const EGLint plane_attrs[4][5] = {
    { EGL_DMA_BUF_PLANE0_FD_EXT, EGL_DMA_BUF_PLANE0_OFFSET_EXT,
        EGL_DMA_BUF_PLANE0_PITCH_EXT, EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT,
        EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT },
    { EGL_DMA_BUF_PLANE1_FD_EXT, EGL_DMA_BUF_PLANE1_OFFSET_EXT,
        EGL_DMA_BUF_PLANE1_PITCH_EXT, EGL_DMA_BUF_PLANE1_MODIFIER_LO_EXT,
        EGL_DMA_BUF_PLANE1_MODIFIER_HI_EXT },
    { EGL_DMA_BUF_PLANE2_FD_EXT, EGL_DMA_BUF_PLANE2_OFFSET_EXT,
        EGL_DMA_BUF_PLANE2_PITCH_EXT, EGL_DMA_BUF_PLANE2_MODIFIER_LO_EXT,
        EGL_DMA_BUF_PLANE2_MODIFIER_HI_EXT },
    { EGL_DMA_BUF_PLANE3_FD_EXT, EGL_DMA_BUF_PLANE3_OFFSET_EXT,
        EGL_DMA_BUF_PLANE3_PITCH_EXT, EGL_DMA_BUF_PLANE3_MODIFIER_LO_EXT,
        EGL_DMA_BUF_PLANE3_MODIFIER_HI_EXT },
  };
  EGLint attrs[7 + 4 * 10 + 1];
  guint i = 0;
  EGLImageKHR image;
  gboolean explicit_mod = modifier != G_GUINT64_CONSTANT (0x00ffffffffffffff);

  g_return_val_if_fail (self != NULL, NULL);

  if (n_planes < 1 || n_planes > 4 || fds == NULL || offsets == NULL
      || strides == NULL || width <= 0 || height <= 0) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "cannot import a DMA-BUF of %dx%d with %u plane(s): the buffer "
        "description from PipeWire is invalid",
        width, height, n_planes);
    return NULL;
  }
  if (explicit_mod && !self->has_modifiers) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "cannot import a DMA-BUF with modifier 0x%016" G_GINT64_MODIFIER
        "x: EGL lacks EGL_EXT_image_dma_buf_import_modifiers",
        modifier);
    return NULL;
  }

  attrs[i++] = EGL_WIDTH;
  attrs[i++] = width;
  attrs[i++] = EGL_HEIGHT;
  attrs[i++] = height;
  attrs[i++] = EGL_LINUX_DRM_FOURCC_EXT;
  attrs[i++] = (EGLint) drm_fourcc;
  for (guint p = 0; p < n_planes; p++) {
    attrs[i++] = plane_attrs[p][0];
    attrs[i++] = fds[p];
    attrs[i++] = plane_attrs[p][1];
    attrs[i++] = (EGLint) offsets[p];
    attrs[i++] = plane_attrs[p][2];
    attrs[i++] = (EGLint) strides[p];
    if (explicit_mod) {
      attrs[i++] = plane_attrs[p][3];
      attrs[i++] = (EGLint) (modifier & 0xffffffff);
      attrs[i++] = plane_attrs[p][4];
      attrs[i++] = (EGLint) (modifier >> 32);
    }
  }
  attrs[i++] = EGL_NONE;

  /* EGL_NO_CONTEXT: a DMA-BUF image belongs to the display, not a context. */
  image = egl.CreateImageKHR (
      self->display, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT, NULL, attrs);
  if (image == EGL_NO_IMAGE_KHR) {
    g_set_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED,
        "EGL could not import the DMA-BUF (fourcc 0x%08x, modifier "
        "0x%016" G_GINT64_MODIFIER "x, %dx%d, %u plane(s), fd %d): %s",
        drm_fourcc, modifier, width, height, n_planes, fds[0],
        zc_egl_error_name (egl.GetError ()));
    return NULL;
  }
  GST_LOG ("imported fd %d as EGLImage %p", fds[0], image);
  return image;
}

void
zc_egl_destroy_image (ZcEgl *self, gpointer image)
{
  g_return_if_fail (self != NULL);

  if (image == NULL)
    return;
  if (!egl.DestroyImageKHR (self->display, image))
    GST_WARNING ("eglDestroyImageKHR(%p) failed: %s", image,
        zc_egl_error_name (egl.GetError ()));
}

gint
zc_egl_get_cuda_device (ZcEgl *self)
{
  const gchar *dev_ext;
  EGLAttrib value = -1;

  g_return_val_if_fail (self != NULL, -1);

  dev_ext = egl.QueryDeviceStringEXT (self->device, EGL_EXTENSIONS);
  if (egl.QueryDeviceAttribEXT == NULL
      || !has_extension (dev_ext, "EGL_NV_device_cuda"))
    return -1;
  if (!egl.QueryDeviceAttribEXT (self->device, EGL_CUDA_DEVICE_NV, &value)) {
    GST_DEBUG ("EGL_CUDA_DEVICE_NV query failed: %s",
        zc_egl_error_name (egl.GetError ()));
    return -1;
  }
  return (gint) value;
}
