/* The server's encoder table on GStreamer >= 1.24 names the NVENC elements
 * of that release (nvcudah264enc, nvautogpuh264enc) beside 1.22's
 * nvh264enc, and builds the CUDA-memory caps each takes; encoders without
 * CUDA input build none and refuse cuda input with a clear error. Built
 * against 1.22 the table has only nvh264enc.
 *
 * With --instantiate it makes each NVENC encoder's bin for CUDA input and
 * holds the caps against the element's real sink template: nvcodec
 * registers them only on a GPU with an NVENC engine, so without one that
 * mode exits 77 saying so.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include <gst/gst.h>

#include "zc-encoder.h"

#include <stdio.h>
#include <string.h>

static const gchar *const nvenc[] = {
  "nvh264enc",
#if ZC_HAVE_GST_1_24
  "nvcudah264enc",
  "nvautogpuh264enc",
#endif
};

static gboolean
listed (const gchar *name)
{
  for (const gchar *const *n = zc_encoder_names (); *n; n++)
    if (g_str_equal (*n, name))
      return TRUE;
  return FALSE;
}

static void
test_names (void)
{
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (nvenc); i++) {
    g_assert_true (listed (nvenc[i]));
    g_assert_true (zc_encoder_is_known (nvenc[i]));
  }
#if !ZC_HAVE_GST_1_24
  g_assert_false (listed ("nvautogpuh264enc"));
#endif
  for (const gchar *const *name = zc_encoder_names (); *name; name++)
    n++;
  g_assert_cmpuint (n, ==, 5 + G_N_ELEMENTS (nvenc) - 1);
  /* Hardware first, software last. */
  g_assert_cmpstr (zc_encoder_names ()[0], ==, "nvh264enc");
  g_assert_cmpstr (zc_encoder_names ()[n - 1], ==, "x264enc");
}

static void
test_cuda_caps (void)
{
  GstCaps *want = gst_caps_from_string (
      "video/x-raw(memory:CUDAMemory),format=(string)NV12");

  for (guint i = 0; i < G_N_ELEMENTS (nvenc); i++) {
    GstCaps *caps = zc_encoder_cuda_caps (nvenc[i]);
    gchar *str;

    g_assert_nonnull (caps);
    str = gst_caps_to_string (caps);
    g_test_message ("%s takes %s", nvenc[i], str);
    g_free (str);
    g_assert_true (gst_caps_is_equal (caps, want));
    g_assert_true (gst_caps_features_contains (
        gst_caps_get_features (caps, 0), "memory:CUDAMemory"));
    gst_caps_unref (caps);
  }
  gst_caps_unref (want);
  g_assert_null (zc_encoder_cuda_caps ("x264enc"));
  g_assert_null (zc_encoder_cuda_caps ("openh264enc"));
  g_assert_null (zc_encoder_cuda_caps ("vah264enc"));
  g_assert_null (zc_encoder_cuda_caps ("no-such-enc"));
  g_assert_false (zc_encoder_takes_cuda ("x264enc"));
}

/* A software encoder asked for CUDA input: refused, saying so. */
static void
test_cuda_refused (void)
{
  ZcEncoderSettings settings = {
    .bitrate_kbps = 2000, .fps = 30, .gop = 60, .cuda_input = TRUE
  };
  GError *error = NULL;
  GstElement *bin = zc_encoder_make_bin ("x264enc", &settings, &error);

  g_assert_null (bin);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "does not take CUDA memory"));
  g_error_free (error);
}

/* The NVENC encoders this GStreamer registered, made for CUDA input. */
static int
instantiate (void)
{
  guint found = 0;

  for (guint i = 0; i < G_N_ELEMENTS (nvenc); i++) {
    ZcEncoderSettings settings = {
      .bitrate_kbps = 4000, .fps = 60, .gop = 120, .cuda_input = TRUE
    };
    GError *error = NULL;
    GstElement *bin;

    if (!zc_encoder_is_available (nvenc[i]))
      continue;
    found++;
    if (!zc_encoder_takes_cuda (nvenc[i])) {
      fprintf (
          stderr, "FAIL: %s's sink template takes no CUDA NV12\n", nvenc[i]);
      return 1;
    }
    bin = zc_encoder_make_bin (nvenc[i], &settings, &error);
    if (bin == NULL) {
      fprintf (stderr, "FAIL: %s: %s\n", nvenc[i], error->message);
      return 1;
    }
    printf ("%s: made for CUDA input\n", nvenc[i]);
    gst_object_unref (gst_object_ref_sink (bin));
  }
  if (found == 0) {
    GstPlugin *nv = gst_registry_find_plugin (gst_registry_get (), "nvcodec");
    g_autofree gchar *version = gst_version_string ();

    printf ("SKIP: %s registered no NVENC encoder (%s): nvcodec registers "
            "them only on a GPU with an NVENC engine\n",
        version, nv ? "nvcodec is installed" : "nvcodec is not installed");
    gst_clear_object (&nv);
    return 77;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc > 1 && g_str_equal (argv[1], "--instantiate"))
    return instantiate ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/encoder-table/names", test_names);
  g_test_add_func ("/encoder-table/cuda-caps", test_cuda_caps);
  g_test_add_func ("/encoder-table/cuda-refused", test_cuda_refused);
  return g_test_run ();
}
