/* zc-bench-consumer: consumes a PipeWire video node with one capture element
 * and reports frames per second, CPU time of this process per frame, and
 * bytes the element copied per frame. Run two of these side by side on one
 * producer (bench/element/run.sh) to compare elements on the same frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>

#include <stdlib.h>
#include <sys/resource.h>

static gint64 frames;

static GstPadProbeReturn
count_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_pointer_add (&frames, 1);
  return GST_PAD_PROBE_OK;
}

static gdouble
cpu_seconds (glong *switches)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  if (switches)
    *switches = ru.ru_nvcsw + ru.ru_nivcsw;
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static guint64
bytes_copied (GstElement *src)
{
  guint64 v = 0;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (src), "bytes-copied"))
    g_object_get (src, "bytes-copied", &v, NULL);
  return v;
}

int
main (int argc, char **argv)
{
  gchar *element = NULL, *mode = NULL;
  gint node = 0, seconds = 10, warmup = 2;
  GOptionEntry entries[] = { { "element", 0, 0, G_OPTION_ARG_STRING, &element,
                                 "pipewiresrc or pipewirezerocopysrc", "NAME" },
    { "node", 0, 0, G_OPTION_ARG_INT, &node, "PipeWire node id", "ID" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Seconds before measuring",
        "S" },
    { "output-mode", 0, 0, G_OPTION_ARG_STRING, &mode,
        "pipewirezerocopysrc output-mode (default system); cuda adds "
        "a CUDA-memory caps filter",
        "MODE" },
    { NULL } };
  GOptionContext *ctx = g_option_context_new ("- one capture consumer");
  GError *error = NULL;
  gchar *desc;
  GstElement *pipe, *src, *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  gint64 f0, f1;
  gdouble c0, c1, t0, t1;
  glong sw0 = 0, sw1 = 0;
  guint64 b0, b1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || element == NULL
      || node <= 0) {
    g_printerr ("zc-bench-consumer: %s\n",
        error ? error->message : "--element and --node are required");
    return 2;
  }
  if (g_str_equal (element, "pipewiresrc"))
    /* Upstream needs a caps filter to leave PAUSED (see RECIPES.md). */
    desc = g_strdup_printf ("pipewiresrc name=src path=%d ! video/x-raw ! "
                            "fakesink name=sink sync=false",
        node);
  else
    desc = g_strdup_printf (
        "%s name=src pipewire-node-id=%d "
        "keepalive-time=0 output-mode=%s ! %s fakesink name=sink sync=false",
        element, node, mode ? mode : "system",
        g_strcmp0 (mode, "cuda") == 0
            ? "video/x-raw(memory:CUDAMemory),format=NV12 !"
            : "");
  pipe = gst_parse_launch (desc, &error);
  if (pipe == NULL) {
    g_printerr ("zc-bench-consumer: %s\n", error->message);
    return 2;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, NULL, NULL);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);

  /* The bus pop doubles as the timer, and catches an error at once. */
  msg =
      gst_bus_timed_pop_filtered (bus, warmup * GST_SECOND, GST_MESSAGE_ERROR);
  if (msg)
    goto error;
  f0 = g_atomic_pointer_get (&frames);
  c0 = cpu_seconds (&sw0);
  t0 = g_get_monotonic_time () / 1e6;
  b0 = bytes_copied (src);
  msg =
      gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND, GST_MESSAGE_ERROR);
  if (msg)
    goto error;
  f1 = g_atomic_pointer_get (&frames);
  c1 = cpu_seconds (&sw1);
  t1 = g_get_monotonic_time () / 1e6;
  b1 = bytes_copied (src);
  gst_element_set_state (pipe, GST_STATE_NULL);

  if (f1 == f0) {
    g_printerr ("zc-bench-consumer: %s received no frame\n", element);
    return 1;
  }
  g_print (
      "{\"element\": \"%s\", \"mode\": \"%s\", \"frames\": %" G_GINT64_FORMAT
      ", \"fps\": %.1f, \"cpu_us_per_frame\": %.1f, "
      "\"context_switches_per_frame\": %.2f, "
      "\"bytes_copied_per_frame\": %s}\n",
      element, mode ? mode : "system", f1 - f0, (f1 - f0) / (t1 - t0),
      (c1 - c0) * 1e6 / (f1 - f0), (gdouble) (sw1 - sw0) / (f1 - f0),
      g_object_class_find_property (G_OBJECT_GET_CLASS (src), "bytes-copied")
          ? g_strdup_printf ("%.0f", (gdouble) (b1 - b0) / (f1 - f0))
          : "null");
  return 0;

error:
  gst_message_parse_error (msg, &error, NULL);
  g_printerr ("zc-bench-consumer: %s: %s\n", element, error->message);
  return 1;
}
