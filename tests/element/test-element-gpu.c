/* The element in output-mode=cuda on a real GPU: zc-test-producer's shared
 * memory frames -> pipewirezerocopysrc (host-registered once, one GPU pass)
 * -> cudadownload -> appsink, pixels checked. Exits 77 without a GPU.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "producer.h"

#include <stdlib.h>
#include <string.h>

static GstSample *
run_until_frames (const gchar *desc, guint n_frames, GstElement **out_pipe)
{
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstElement *sink;
  GstSample *sample = NULL;

  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < n_frames; i++) {
    if (sample)
      gst_sample_unref (sample);
    sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
    if (sample == NULL) {
      GstBus *bus = gst_element_get_bus (pipe);
      GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      if (msg) {
        gst_message_parse_error (msg, &error, NULL);
        g_error ("%s: %s", desc, error->message);
      }
      g_error ("%s: no frame within 10 s", desc);
    }
  }
  gst_object_unref (sink);
  *out_pipe = pipe;
  return sample;
}

static void
stop (GstElement *pipe)
{
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
}

static guint64
stat_of (GstElement *pipe, const gchar *name)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  guint64 v;

  g_object_get (src, name, &v, NULL);
  gst_object_unref (src);
  return v;
}

static gchar *
memory_type_of (GstElement *pipe)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  gchar *v;

  g_object_get (src, "memory-type", &v, NULL);
  gst_object_unref (src);
  return v;
}

/* The GstCudaContext an element answers a context query with, asked on its
 * own pad (an element-level query would go to its neighbour instead). */
static GstObject *
cuda_context_of (GstElement *pipe, const gchar *name, const gchar *pad_name)
{
  GstElement *el = gst_bin_get_by_name (GST_BIN (pipe), name);
  GstPad *pad = gst_element_get_static_pad (el, pad_name);
  GstQuery *q = gst_query_new_context ("gst.cuda.context");
  GstObject *ctx = NULL;
  GstContext *context = NULL;

  if (gst_pad_query (pad, q)) {
    gst_query_parse_context (q, &context);
    const GValue *v = context
        ? gst_structure_get_value (
            gst_context_get_structure (context), "gst.cuda.context")
        : NULL;
    /* The field holds a GstCudaContext: take it as the object it is. */
    if (v && G_VALUE_HOLDS_OBJECT (v))
      ctx = g_value_dup_object (v);
  }
  gst_query_unref (q);
  gst_object_unref (pad);
  gst_object_unref (el);
  return ctx;
}

/* BGRx in, the same out through a GPU copy: the colours and frame numbers
 * are checked like in system mode. */
static void
test_cuda_copy (TestProducer *p)
{
  gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc name=src "
      "pipewire-node-id=%u output-mode=cuda keepalive-time=0 ! "
      "video/x-raw(memory:CUDAMemory),format=BGRx ! cudadownload name=dl ! "
      "video/x-raw,format=BGRx ! appsink name=sink sync=false",
      p->node_id);
  GstElement *pipe;
  GstSample *sample = run_until_frames (desc, 10, &pipe);
  gchar *memtype = memory_type_of (pipe);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstVideoInfo info;

  g_assert_true (
      gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  if (gst_buffer_get_video_meta (buf) == NULL)
    gst_buffer_add_video_meta_full (buf, 0, GST_VIDEO_INFO_FORMAT (&info),
        info.width, info.height, 1, info.offset, info.stride);
  test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
  g_assert_cmpstr (memtype, ==, "cuda");
  g_assert_cmpuint (stat_of (pipe, "bytes-copied"), ==, 0);
  g_print ("ok cuda-copy: BGRx through CUDA, colours and frame number in "
           "place, 0 bytes copied by the CPU\n");
  {
    /* One CUDA context for source and downstream: shared through the
     * context query, not two contexts copying between them. */
    GstObject *ours = cuda_context_of (pipe, "src", "src");
    GstObject *theirs = cuda_context_of (pipe, "dl", "sink");

    g_assert_nonnull (ours);
    g_assert_nonnull (theirs);
    g_assert_true (ours == theirs);
    g_print ("ok cuda-context-shared: cudadownload uses the source's "
             "GstCudaContext\n");
    gst_object_unref (ours);
    gst_clear_object (&theirs);
  }
  g_free (memtype);
  gst_sample_unref (sample);
  stop (pipe);
  g_free (desc);
}

/* BGRx in, NV12 out of the fused kernel: BT.709 limited range values of
 * the four quadrant colours. */
static void
test_cuda_nv12 (TestProducer *p)
{
  static const guint8 expect[4][3] = {
    { 63, 102, 240 },
    { 173, 42, 26 },
    { 32, 240, 118 },
    { 235, 128, 128 },
  };
  gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc name=src "
      "pipewire-node-id=%u output-mode=cuda keepalive-time=0 ! "
      "video/x-raw(memory:CUDAMemory),format=NV12 ! cudadownload ! "
      "video/x-raw,format=NV12 ! appsink name=sink sync=false",
      p->node_id);
  GstElement *pipe;
  GstSample *sample = run_until_frames (desc, 10, &pipe);
  GstVideoInfo info;
  GstVideoFrame f;

  g_assert_true (
      gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  g_assert_true (gst_video_frame_map (
      &f, &info, gst_sample_get_buffer (sample), GST_MAP_READ));
  for (int q = 0; q < 4; q++) {
    gint x = (q % 2) ? 3 * info.width / 4 : info.width / 4;
    gint y = (q / 2) ? 3 * info.height / 4 : info.height / 4;
    const guint8 *Y = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + x;
    const guint8 *UV = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 1)
        + (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 1) + (x / 2) * 2;
    if (abs (Y[0] - expect[q][0]) > 3 || abs (UV[0] - expect[q][1]) > 3
        || abs (UV[1] - expect[q][2]) > 3)
      g_error ("NV12 quadrant %d at (%d,%d): YUV %d,%d,%d, expected "
               "%d,%d,%d",
          q, x, y, Y[0], UV[0], UV[1], expect[q][0], expect[q][1],
          expect[q][2]);
  }
  gst_video_frame_unmap (&f);
  g_assert_cmpuint (stat_of (pipe, "bytes-copied"), ==, 0);
  g_print ("ok cuda-nv12: BGRx -> NV12 in one GPU pass, BT.709 values of "
           "red, green, blue, white in place\n");
  gst_sample_unref (sample);
  stop (pipe);
  g_free (desc);
}

/* auto picks CUDA when downstream takes CUDA memory and CUDA works. */
static void
test_auto_picks_cuda (TestProducer *p)
{
  gchar *desc =
      g_strdup_printf ("pipewirezerocopysrc name=src "
                       "pipewire-node-id=%u keepalive-time=0 ! "
                       "video/x-raw(memory:CUDAMemory) ! cudadownload ! "
                       "appsink name=sink sync=false",
          p->node_id);
  GstElement *pipe;
  GstSample *sample = run_until_frames (desc, 3, &pipe);
  gchar *memtype = memory_type_of (pipe);

  g_assert_cmpstr (memtype, ==, "cuda");
  g_print ("ok auto-picks-cuda\n");
  g_free (memtype);
  gst_sample_unref (sample);
  stop (pipe);
  g_free (desc);
}

static gboolean saw_dmabuf_choice;

static void
on_log (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message,
    gpointer data)
{
  const gchar *text = gst_debug_message_get (message);

  if (text && strstr (text, "output-mode=auto chose DMA-BUF"))
    saw_dmabuf_choice = TRUE;
}

/* auto with a downstream that takes DMA-BUF or system memory (a VA-API
 * encoder does) on a machine with EGL: DMA-BUF is offered first, and
 * zc-test-producer, which has only shared memory, still streams, in
 * system memory, pixels in place (it failed to negotiate before). */
static void
test_auto_dmabuf_falls_back (TestProducer *p)
{
  gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc name=src pipewire-node-id=%u keepalive-time=0 ! "
      "capsfilter caps=\"video/x-raw(memory:DMABuf),format=DMA_DRM; "
      "video/x-raw(memory:DMABuf),format=BGRx; video/x-raw,format=BGRx\" ! "
      "appsink name=sink sync=false",
      p->node_id);
  GstElement *pipe;
  GstSample *sample;
  gchar *memtype;
  GstBuffer *buf;
  GstVideoInfo info;

  saw_dmabuf_choice = FALSE;
  gst_debug_set_threshold_for_name ("zcoutput", GST_LEVEL_INFO);
  gst_debug_add_log_function (on_log, NULL, NULL);
  sample = run_until_frames (desc, 5, &pipe);
  gst_debug_remove_log_function (on_log);
  memtype = memory_type_of (pipe);
  if (!saw_dmabuf_choice) {
    g_print ("SKIP auto-dmabuf-falls-back: auto did not choose DMA-BUF (no "
             "EGL device here)\n");
  } else {
    buf = gst_sample_get_buffer (sample);
    g_assert_true (
        gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
    g_assert_true (gst_caps_features_is_equal (
        gst_caps_get_features (gst_sample_get_caps (sample), 0),
        GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY));
    if (gst_buffer_get_video_meta (buf) == NULL)
      gst_buffer_add_video_meta_full (buf, 0, GST_VIDEO_INFO_FORMAT (&info),
          info.width, info.height, 1, info.offset, info.stride);
    test_check_frame (buf, GST_VIDEO_FORMAT_BGRx);
    g_assert_cmpstr (memtype, ==, "system");
    g_print ("ok auto-dmabuf-falls-back: DMA-BUF offered first, the "
             "shared-memory producer streams in system memory\n");
  }
  g_free (memtype);
  gst_sample_unref (sample);
  stop (pipe);
  g_free (desc);
}

int
main (int argc, char **argv)
{
  TestProducer *p;

  gst_init (&argc, &argv);
  if (!g_file_test ("/dev/nvidiactl", G_FILE_TEST_EXISTS)) {
    g_print ("SKIP: no NVIDIA GPU (/dev/nvidiactl missing)\n");
    return 77;
  }
  if (gst_element_factory_find ("cudadownload") == NULL) {
    g_print ("SKIP: GStreamer's nvcodec plugin (cudadownload) is missing\n");
    return 77;
  }
  p = test_producer_start ("BGRx", "640x480", 30);
  test_cuda_copy (p);
  test_cuda_nv12 (p);
  test_auto_picks_cuda (p);
  test_auto_dmabuf_falls_back (p);
  test_producer_stop (p);
  return 0;
}
