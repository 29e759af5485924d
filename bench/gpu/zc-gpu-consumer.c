/* zc-gpu-consumer: one consuming process of the GPU video-mode benchmark
 * (bench/gpu/modes.sh). Runs a pipeline whose last element is named "sink",
 * counts the buffers reaching it and prints one JSON line: frames per
 * second, CPU time of this process per frame (every thread: GStreamer's,
 * PipeWire's and the CUDA driver's), context switches per frame, and the
 * CPU time and times scheduled per frame of each thread (from
 * /proc/self/task/TID/schedstat), so a profile shows which thread pays.
 *
 *   zc-gpu-consumer --pipeline DESC [--caps CAPS] [--seconds S] [--warmup S]
 *
 * --caps: what the sink must receive (e.g. NV12 in CUDA memory); the run
 * fails if the negotiated caps are not a subset, so a row cannot measure a
 * pipeline that quietly ended in other memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static gint64 frames;

static GstPadProbeReturn
count_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_pointer_add (&frames, 1);
  return GST_PAD_PROBE_OK;
}

typedef struct
{
  gchar *name;
  guint64 ns;     /* on CPU */
  guint64 slices; /* times scheduled in: wake-ups, roughly */
} ThreadStat;

static void
thread_stat_free (gpointer p)
{
  ThreadStat *t = p;

  g_free (t->name);
  g_free (t);
}

static gchar *
read_small (const gchar *path)
{
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/* tid -> ThreadStat of every thread of this process now. */
static GHashTable *
snapshot_threads (void)
{
  GHashTable *t = g_hash_table_new_full (
      g_direct_hash, g_direct_equal, NULL, thread_stat_free);
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;

  if (dir == NULL)
    return t;
  while ((tid = g_dir_read_name (dir))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/schedstat", tid);
    gchar *sched = read_small (path);
    gchar *comm;
    ThreadStat *st;

    g_free (path);
    if (sched == NULL)
      continue;
    path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    comm = read_small (path);
    g_free (path);
    st = g_new0 (ThreadStat, 1);
    st->name = comm ? comm : g_strdup ("?");
    /* "run-ns wait-ns timeslices" */
    if (sscanf (sched, "%" G_GUINT64_FORMAT " %*u %" G_GUINT64_FORMAT, &st->ns,
            &st->slices)
        != 2) {
      thread_stat_free (st);
    } else {
      g_hash_table_insert (t, GINT_TO_POINTER (atoi (tid)), st);
    }
    g_free (sched);
  }
  g_dir_close (dir);
  return t;
}

/* Per thread name (threads of one name added up): CPU µs and times
 * scheduled per frame over the measured interval, as a JSON object. */
static gchar *
thread_deltas (GHashTable *before, GHashTable *after, gint64 n)
{
  GHashTable *by_name =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer key, value;
  GString *json = g_string_new ("{");
  GList *names, *l;

  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    ThreadStat *a = value, *b = g_hash_table_lookup (before, key);
    guint64 *sum = g_hash_table_lookup (by_name, a->name);

    if (sum == NULL) {
      sum = g_new0 (guint64, 2);
      g_hash_table_insert (by_name, g_strdup (a->name), sum);
    }
    sum[0] += a->ns - (b ? b->ns : 0);
    sum[1] += a->slices - (b ? b->slices : 0);
  }
  names = g_list_sort (g_hash_table_get_keys (by_name), (GCompareFunc) strcmp);
  for (l = names; l; l = l->next) {
    guint64 *sum = g_hash_table_lookup (by_name, l->data);

    if (sum[1] == 0)
      continue; /* never ran while measured */
    g_string_append_printf (json,
        "%s\"%s\": {\"cpu_us_per_frame\": %.1f, \"runs_per_frame\": %.2f}",
        json->len > 1 ? ", " : "", (const gchar *) l->data, sum[0] / 1e3 / n,
        (gdouble) sum[1] / n);
  }
  g_list_free (names);
  g_hash_table_unref (by_name);
  g_string_append_c (json, '}');
  return g_string_free (json, FALSE);
}

static gdouble
cpu_seconds (glong *switches)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  *switches = ru.ru_nvcsw + ru.ru_nivcsw;
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
fail (const gchar *what, GstMessage *msg)
{
  GError *error = NULL;

  if (msg) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("zc-gpu-consumer: %s: %s\n", what, error->message);
    g_error_free (error);
  } else {
    g_printerr ("zc-gpu-consumer: %s\n", what);
  }
  return 1;
}

int
main (int argc, char **argv)
{
  gchar *desc = NULL, *want = NULL;
  gint seconds = 8, warmup = 2;
  GOptionEntry entries[] = {
    { "pipeline", 0, 0, G_OPTION_ARG_STRING, &desc,
        "Pipeline ending in an element named sink", "DESC" },
    { "caps", 0, 0, G_OPTION_ARG_STRING, &want,
        "Caps the sink must receive (checked)", "CAPS" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Seconds before measuring",
        "S" },
    { NULL },
  };
  GOptionContext *opts = g_option_context_new ("- one benchmark consumer");
  GError *error = NULL;
  GstElement *pipe, *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  GstCaps *caps;
  GHashTable *t0, *t1;
  gint64 f0, f1;
  gdouble c0, c1, w0, w1;
  glong s0, s1;
  gchar *threads, *caps_str;

  g_option_context_add_main_entries (opts, entries, NULL);
  g_option_context_add_group (opts, gst_init_get_option_group ());
  if (!g_option_context_parse (opts, &argc, &argv, &error) || desc == NULL
      || seconds < 1 || warmup < 0) {
    g_printerr ("zc-gpu-consumer: %s\n",
        error ? error->message : "--pipeline is required, --seconds >= 1");
    return 2;
  }
  g_option_context_free (opts);

  /* A missing element is a recoverable parse error: the rest would run. */
  pipe = gst_parse_launch (desc, &error);
  if (pipe == NULL || error != NULL) {
    g_printerr ("zc-gpu-consumer: %s: %s\n", desc,
        error ? error->message : "cannot build the pipeline");
    return 2;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  if (sink == NULL) {
    g_printerr ("zc-gpu-consumer: no element named sink in %s\n", desc);
    return 2;
  }
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, NULL, NULL);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);

  /* The bus pop doubles as the timer, and catches an error at once. */
  msg =
      gst_bus_timed_pop_filtered (bus, warmup * GST_SECOND, GST_MESSAGE_ERROR);
  if (msg)
    return fail ("during warm-up", msg);
  if (g_atomic_pointer_get (&frames) == 0)
    return fail ("no frame reached the sink during warm-up", NULL);
  caps = gst_pad_get_current_caps (pad);
  if (caps) {
    gchar *str = gst_caps_to_string (caps);

    caps_str = g_strescape (str, NULL); /* goes into a JSON string */
    g_free (str);
  } else {
    caps_str = g_strdup ("none");
  }
  if (want) {
    GstCaps *w = gst_caps_from_string (want);

    if (w == NULL || caps == NULL || !gst_caps_is_subset (caps, w)) {
      g_printerr ("zc-gpu-consumer: the sink got %s, not %s\n", caps_str, want);
      return 1;
    }
    gst_caps_unref (w);
  }
  gst_clear_caps (&caps);

  t0 = snapshot_threads ();
  f0 = g_atomic_pointer_get (&frames);
  c0 = cpu_seconds (&s0);
  w0 = g_get_monotonic_time () / 1e6;
  msg =
      gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND, GST_MESSAGE_ERROR);
  if (msg)
    return fail ("while measuring", msg);
  f1 = g_atomic_pointer_get (&frames);
  c1 = cpu_seconds (&s1);
  w1 = g_get_monotonic_time () / 1e6;
  t1 = snapshot_threads ();
  gst_element_set_state (pipe, GST_STATE_NULL);
  if (f1 == f0)
    return fail ("no frame while measuring", NULL);

  threads = thread_deltas (t0, t1, f1 - f0);
  g_print ("{\"frames\": %" G_GINT64_FORMAT ", \"fps\": %.1f, "
           "\"cpu_us_per_frame\": %.1f, \"context_switches_per_frame\": %.2f, "
           "\"caps\": \"%s\", \"threads\": %s}\n",
      f1 - f0, (f1 - f0) / (w1 - w0), (c1 - c0) * 1e6 / (f1 - f0),
      (gdouble) (s1 - s0) / (f1 - f0), caps_str, threads);
  g_free (threads);
  g_free (caps_str);
  g_hash_table_unref (t0);
  g_hash_table_unref (t1);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return 0;
}
