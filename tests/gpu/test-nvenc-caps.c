/* The CUDA-memory caps cuda mode outputs, held against the pad templates
 * that have to take them: the element's own src template (anywhere), and
 * the sink templates of the NVENC encoders this GStreamer registered (only
 * on a GPU with an NVENC engine: nvcodec registers none without one, so
 * that part is skipped with the reason elsewhere). The caps come from
 * zc_cuda_converter_caps_for, the function the converter itself uses.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>
#include <gst/video/video.h>

#include "zc-cuda.h"

static const gint sizes[][2] = { { 1920, 1080 }, { 3840, 2160 } };

/* Every encoder name nvcodec has used for its NVENC H.264/H.265 elements:
 * GStreamer 1.22's nvh264enc, 1.22+'s CUDA ones and 1.24+'s auto-GPU ones. */
static const gchar *const encoders[] = { "nvh264enc", "nvh265enc",
  "nvcudah264enc", "nvcudah265enc", "nvautogpuh264enc", "nvautogpuh265enc" };

static GstCaps *
ours (gint w, gint h, GstVideoFormat in, GstVideoFormat out)
{
  GstVideoInfo info;

  gst_video_info_set_format (&info, in, w, h);
  GST_VIDEO_INFO_FPS_N (&info) = 60;
  GST_VIDEO_INFO_FPS_D (&info) = 1;
  return zc_cuda_converter_caps_for (&info, out);
}

/* The caps of factory's always pad of direction dir (transfer full). */
static GstCaps *
template_caps (GstElementFactory *factory, GstPadDirection dir)
{
  const GList *l;

  for (l = gst_element_factory_get_static_pad_templates (factory); l;
       l = l->next) {
    GstStaticPadTemplate *t = l->data;

    if (t->direction == dir && t->presence == GST_PAD_ALWAYS)
      return gst_static_pad_template_get_caps (t);
  }
  return NULL;
}

static void
check_subset (GstCaps *caps, GstCaps *tmpl, const gchar *what)
{
  gchar *c = gst_caps_to_string (caps);

  if (!gst_caps_is_subset (caps, tmpl)) {
    gchar *t = gst_caps_to_string (tmpl);

    g_test_message ("%s does not take %s (its template: %s)", what, c, t);
    g_free (t);
    g_test_fail ();
  } else {
    g_test_message ("%s takes %s", what, c);
  }
  g_free (c);
}

static void
test_element_template (void)
{
  static const GstVideoFormat outs[] = { GST_VIDEO_FORMAT_NV12,
    GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_RGBA };
  GstElementFactory *f = gst_element_factory_find ("pipewirezerocopysrc");
  GstCaps *tmpl;

  g_assert_nonnull (f);
  tmpl = template_caps (f, GST_PAD_SRC);
  g_assert_nonnull (tmpl);
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++) {
    for (gsize o = 0; o < G_N_ELEMENTS (outs); o++) {
      GstVideoFormat in =
          outs[o] == GST_VIDEO_FORMAT_NV12 ? GST_VIDEO_FORMAT_BGRx : outs[o];
      GstCaps *caps = ours (sizes[s][0], sizes[s][1], in, outs[o]);

      check_subset (caps, tmpl, "pipewirezerocopysrc's src template");
      gst_caps_unref (caps);
    }
  }
  gst_caps_unref (tmpl);
  gst_object_unref (f);
}

static void
test_encoder_templates (void)
{
  guint found = 0;

  for (gsize e = 0; e < G_N_ELEMENTS (encoders); e++) {
    GstElementFactory *f = gst_element_factory_find (encoders[e]);
    GstCaps *tmpl, *cuda;

    if (f == NULL)
      continue;
    found++;
    tmpl = template_caps (f, GST_PAD_SINK);
    g_assert_nonnull (tmpl);
    /* Only the CUDA-memory part of the template counts: system memory
     * would take the caps without the feature, but not our buffers. */
    cuda = gst_caps_from_string ("video/x-raw(memory:CUDAMemory)");
    {
      GstCaps *cuda_part = gst_caps_intersect (tmpl, cuda);

      for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++) {
        GstCaps *caps = ours (sizes[s][0], sizes[s][1], GST_VIDEO_FORMAT_BGRx,
            GST_VIDEO_FORMAT_NV12);

        check_subset (caps, cuda_part, encoders[e]);
        gst_caps_unref (caps);
      }
      gst_caps_unref (cuda_part);
    }
    gst_caps_unref (cuda);
    gst_caps_unref (tmpl);
    gst_object_unref (f);
  }
  if (found == 0) {
    GstPlugin *nv = gst_registry_find_plugin (gst_registry_get (), "nvcodec");
    g_autofree gchar *version = gst_version_string ();
    gchar *why = g_strdup_printf (
        "%s registered no NVENC encoder (%s): nvcodec registers "
        "them only on a GPU with an NVENC engine, so there is no template "
        "to compare against",
        version, nv ? "nvcodec is installed" : "nvcodec is not installed");

    g_test_skip (why);
    g_free (why);
    gst_clear_object (&nv);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nvenc-caps/element-template", test_element_template);
  g_test_add_func ("/nvenc-caps/encoder-templates", test_encoder_templates);
  return g_test_run ();
}
