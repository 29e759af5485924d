/* Unit test of run-time loading: on any machine, with or without a GPU,
 * loading libcuda and opening an EGL device either works or fails with an
 * error that says what is missing and what to do, and never crashes.  On
 * the dev/CI machine (no NVIDIA, Mesa's software EGL device without DMA-BUF
 * import) it exercises the failure paths for real.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>

#include "zc-gpu-error.h"
#include "zc-egl.h"
#if ZC_HAVE_CUDA
#include "zc-cuda.h"
#endif

static void
assert_clear_error (const GError *error)
{
  g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_UNSUPPORTED);
  /* What failed, and what to do about it. */
  g_assert_nonnull (strstr (error->message, "output-mode=system"));
  g_test_message ("%s", error->message);
}

static void
test_cuda (void)
{
#if ZC_HAVE_CUDA
  GError *error = NULL, *again = NULL;
  gboolean ok = zc_cuda_load (&error);

  /* The outcome is computed once and handed out again, error included. */
  g_assert_cmpint (zc_cuda_load (&again), ==, ok);
  if (ok) {
    g_assert_no_error (error);
    g_assert_no_error (again);
    g_assert_cmpint (zc_cuda_get_device_count (), >=, 1);
    g_test_message (
        "libcuda loaded, %d device(s)", zc_cuda_get_device_count ());
  } else {
    assert_clear_error (error);
    g_assert_cmpstr (again->message, ==, error->message);
    g_assert_nonnull (strstr (error->message, "CUDA is not available"));
    g_assert_cmpint (zc_cuda_get_device_count (), ==, 0);
    /* Failing to load must not stop the caller asking for nothing. */
    g_assert_false (zc_cuda_load (NULL));
  }
  g_clear_error (&error);
  g_clear_error (&again);
#else
  g_test_skip ("built without CUDA support");
#endif
}

static void
test_egl (void)
{
#if ZC_HAVE_EGL
  GError *error = NULL;
  ZcEgl *egl = zc_egl_new ("/dev/dri/renderD128", &error);

  if (egl == NULL) {
    assert_clear_error (error);
    g_clear_error (&error);
  } else {
    gint fds[1] = { -1 };
    guint32 offsets[1] = { 0 }, strides[1] = { 256 };
    GArray *mods = zc_egl_query_modifiers (egl, 0x34325258);

    g_assert_no_error (error);
    g_assert_nonnull (mods);
    g_array_unref (mods);
    g_assert_null (zc_egl_import_dmabuf (egl, 0x34325258,
        G_GUINT64_CONSTANT (0x00ffffffffffffff), 64, 64, 1, fds, offsets,
        strides, &error));
    g_assert_error (error, ZC_GPU_ERROR, ZC_ERROR_FAILED);
    g_clear_error (&error);
    g_test_message ("EGL device %s", zc_egl_get_device_path (egl));
  }
  zc_egl_free (egl);
  zc_egl_free (NULL);
#else
  g_test_skip ("built without EGL headers");
#endif
}

static void
test_error_domain (void)
{
  /* Same domain as the element's ZC_ERROR (see zc-gpu-error.h). */
  g_assert_cmpuint (
      ZC_GPU_ERROR, ==, g_quark_from_string ("zerocast-error-quark"));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gpu-loaders/cuda", test_cuda);
  g_test_add_func ("/gpu-loaders/egl", test_egl);
  g_test_add_func ("/gpu-loaders/error-domain", test_error_domain);
  return g_test_run ();
}
