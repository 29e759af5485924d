/* zerocast server: the /metrics page in Prometheus text format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-metrics.h"

#include <stdio.h>
#include <unistd.h>

static void
metric (GString *out, const gchar *name, const gchar *type, const gchar *help,
    gdouble value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name,
      help, name, type, name, value);
}

/* Resident set size from /proc, so a test or an operator can see that
 * slow viewers do not grow the server. */
static gdouble
resident_bytes (void)
{
  g_autofree gchar *statm = NULL;
  unsigned long pages_total = 0, pages_resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL)
      || sscanf (statm, "%lu %lu", &pages_total, &pages_resident) != 2)
    return 0;
  return (gdouble) pages_resident * sysconf (_SC_PAGESIZE);
}

gchar *
zc_metrics_format (
    const ZcFanoutStats *f, const ZcPipelineStats *p, const ZcInputStats *in)
{
  GString *out = g_string_new (NULL);

  metric (out, "zerocast_viewers", "gauge", "Connected viewers.", f->viewers);
  metric (out, "zerocast_frames_sent_total", "counter",
      "Video frames handed to viewers' sockets (all viewers).", f->frames_sent);
  metric (out, "zerocast_frames_dropped_total", "counter",
      "Video frames a viewer skipped to catch up at a keyframe.",
      f->frames_dropped);
  metric (out, "zerocast_bytes_out_total", "counter",
      "Bytes of WebSocket messages handed to viewers' sockets.", f->bytes_out);
  metric (out, "zerocast_viewers_closed_slow_total", "counter",
      "Viewers closed for falling behind again and again.",
      f->viewers_closed_slow);
  metric (out, "zerocast_queued_bytes", "gauge",
      "Bytes waiting in all viewers' queues.", f->queued_bytes);
  metric (out, "zerocast_replay_bytes", "gauge",
      "Bytes kept to replay the current GOP to joining viewers.", f->gop_bytes);
  if (in) {
    metric (out, "zerocast_input_events_total", "counter",
        "Input events injected into the desktop.", in->events);
    metric (out, "zerocast_input_refused_total", "counter",
        "Input messages ignored: the viewer has no right to control, or the "
        "source is view-only.",
        in->refused);
    metric (out, "zerocast_input_throttled_total", "counter",
        "Input messages dropped by a viewer's rate limit.", in->throttled);
    metric (out, "zerocast_input_released_total", "counter",
        "Keys, buttons and touches released for viewers that left holding "
        "them.",
        in->released);
  }
  metric (out, "process_resident_memory_bytes", "gauge",
      "Resident memory of the server.", resident_bytes ());
  if (p) {
    metric (out, "zerocast_frames_encoded_total", "counter",
        "Access units out of the encoder.", p->frames_encoded);
    metric (out, "zerocast_encoder_bitrate_kbps", "gauge",
        "The bitrate the encoder is set to (kbit/s).", p->bitrate_kbps);
    metric (out, "zerocast_pipeline_restarts_total", "counter",
        "Pipeline rebuilds after a failure (fallbacks).", p->restarts);
    metric (out, "zerocast_encode_latency_seconds", "gauge",
        "Capture to encoded latency of the newest frame.",
        p->encode_latency_us / 1e6);
    g_string_append_printf (out,
        "# HELP zerocast_encode_latency_seconds_total Sum of capture to "
        "encoded latency over zerocast_frames_encoded_total frames.\n"
        "# TYPE zerocast_encode_latency_seconds_total counter\n"
        "zerocast_encode_latency_seconds_total %.17g\n",
        p->encode_latency_sum_us / 1e6);
    if (p->mode && p->encoder)
      g_string_append_printf (out,
          "# HELP zerocast_pipeline_info The running video mode and encoder.\n"
          "# TYPE zerocast_pipeline_info gauge\n"
          "zerocast_pipeline_info{mode=\"%s\",encoder=\"%s\"} 1\n",
          p->mode, p->encoder);
  }
  return g_string_free (out, FALSE);
}
