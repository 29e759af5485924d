/* zerocast server: every --publish target (see the header).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-publisher.h"

#include "zc-publish-target.h"

/* Keyframe requests come from the targets' threads; the relay outlives
 * the publisher as long as a request is on its way to the main context. */
typedef struct
{
  gint ref_count;
  gboolean alive; /* main context only */
  ZcPublisherKeyframeFunc func;
  gpointer user_data;
  GMainContext *context;
} Relay;

struct _ZcPublisher
{
  GPtrArray *targets; /* ZcPublishTarget* */
  Relay *relay;
};

static Relay *
relay_ref (Relay *relay)
{
  g_atomic_int_inc (&relay->ref_count);
  return relay;
}

static void
relay_unref (gpointer data)
{
  Relay *relay = data;

  if (!g_atomic_int_dec_and_test (&relay->ref_count))
    return;
  g_main_context_unref (relay->context);
  g_free (relay);
}

static gboolean
relay_in_main (gpointer data)
{
  Relay *relay = data;

  if (relay->alive)
    relay->func (relay->user_data);
  return G_SOURCE_REMOVE;
}

static void
on_keyframe_wanted (gpointer data)
{
  Relay *relay = data;
  /* Queued, never run here (g_main_context_invoke would run it on this
   * thread whenever the main context is free at this instant). */
  GSource *idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, relay_in_main, relay_ref (relay), relay_unref);
  g_source_attach (idle, relay->context);
  g_source_unref (idle);
}

ZcPublisher *
zc_publisher_new (
    GPtrArray *urls, ZcPublisherKeyframeFunc keyframe, gpointer user_data)
{
  ZcPublisher *self = g_new0 (ZcPublisher, 1);

  self->relay = g_new0 (Relay, 1);
  self->relay->ref_count = 1;
  self->relay->alive = TRUE;
  self->relay->func = keyframe;
  self->relay->user_data = user_data;
  self->relay->context = g_main_context_ref_thread_default ();
  self->targets =
      g_ptr_array_new_with_free_func ((GDestroyNotify) zc_publish_target_free);
  for (guint i = 0; i < urls->len; i++)
    g_ptr_array_add (self->targets,
        zc_publish_target_new (
            g_ptr_array_index (urls, i), on_keyframe_wanted, self->relay));
  return self;
}

void
zc_publisher_push (GstBuffer *au, gboolean keyframe, gpointer publisher)
{
  ZcPublisher *self = publisher;

  for (guint i = 0; i < self->targets->len; i++)
    zc_publish_target_push (g_ptr_array_index (self->targets, i), au, keyframe);
}

/* Label values are URLs zc_publish_url_parse() accepted (no quotes,
 * backslashes or newlines); escaped anyway, as the format asks. */
static void
append_label (GString *out, const gchar *value)
{
  for (const gchar *p = value; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c (out, '\\');
    if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
}

void
zc_publisher_append_metrics (GString *out, gpointer publisher)
{
  static const struct
  {
    const gchar *name, *type, *help;
    gsize offset;
  } metrics[] = {
    { "zerocast_publish_up", "gauge",
        "1 while the publish target is connected and taking data.",
        G_STRUCT_OFFSET (ZcPublishStats, up) },
    { "zerocast_publish_frames_sent_total", "counter",
        "Access units that left for the publish target.",
        G_STRUCT_OFFSET (ZcPublishStats, frames_sent) },
    { "zerocast_publish_frames_dropped_total", "counter",
        "Access units not sent: target down, behind, or waiting for a "
        "keyframe.",
        G_STRUCT_OFFSET (ZcPublishStats, frames_dropped) },
    { "zerocast_publish_bytes_total", "counter",
        "H.264 bytes that left for the publish target.",
        G_STRUCT_OFFSET (ZcPublishStats, bytes_sent) },
    { "zerocast_publish_failures_total", "counter",
        "Connections to the publish target that failed or ended.",
        G_STRUCT_OFFSET (ZcPublishStats, failures) },
    { "zerocast_publish_keyframe_requests_total", "counter",
        "Keyframe requests (RTCP PLI/FIR) from the publish target.",
        G_STRUCT_OFFSET (ZcPublishStats, keyframe_requests) },
    { "zerocast_publish_keyframe_requests_honoured_total", "counter",
        "Keyframe requests passed on to the encoder (at most one a second).",
        G_STRUCT_OFFSET (ZcPublishStats, keyframe_requests_honoured) },
  };
  ZcPublisher *self = publisher;
  g_autofree ZcPublishStats *stats =
      g_new0 (ZcPublishStats, MAX (self->targets->len, 1));

  if (self->targets->len == 0)
    return;
  for (guint t = 0; t < self->targets->len; t++)
    zc_publish_target_get_stats (
        g_ptr_array_index (self->targets, t), &stats[t]);
  for (guint m = 0; m < G_N_ELEMENTS (metrics); m++) {
    g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n",
        metrics[m].name, metrics[m].help, metrics[m].name, metrics[m].type);
    for (guint t = 0; t < self->targets->len; t++) {
      const guint8 *base = (const guint8 *) &stats[t];
      gdouble value = metrics[m].offset == G_STRUCT_OFFSET (ZcPublishStats, up)
          ? (gdouble) stats[t].up
          : (gdouble) * (const guint64 *) (base + metrics[m].offset);

      g_string_append_printf (out, "%s{target=\"", metrics[m].name);
      append_label (out,
          zc_publish_target_get_uri (g_ptr_array_index (self->targets, t)));
      g_string_append_printf (out, "\"} %.17g\n", value);
    }
  }
}

void
zc_publisher_free (ZcPublisher *self)
{
  if (self == NULL)
    return;
  /* The targets' threads end here; requests still queued find the relay
   * dead. */
  g_ptr_array_unref (self->targets);
  self->relay->alive = FALSE;
  relay_unref (self->relay);
  g_free (self);
}
