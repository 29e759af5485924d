/* zerocast server: one --publish target (see the header).
 *
 * Threads and locks: push() and the pad probes run in GStreamer streaming
 * threads and touch only what `lock` guards (the appsrc of the running
 * attempt, the counters). Everything else, building, state changes, the
 * bus, backoff and the stall watchdog, runs in the target's own thread
 * and main context: a state change that blocks (an SRT caller connecting,
 * an RTSP server that stopped answering) blocks that thread alone.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-publish-target.h"

#include <string.h>
#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "zc-server-error.h"

GST_DEBUG_CATEGORY_STATIC (zc_publish_debug);
#define GST_CAT_DEFAULT zc_publish_debug

/* About a second at 30 fps: a target further behind skips to the next
 * keyframe instead of adding latency (or memory). */
#define MAX_QUEUED_FRAMES 30
#define MAX_QUEUED_BYTES (16 * 1024 * 1024)
/* A PLI/FIR burst (every viewer of a relay joining at once) must not turn
 * into a keyframe per packet: at most one per second per target. */
#define KEYFRAME_REQUEST_INTERVAL_US (1000 * 1000)
#define CONNECT_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define STALL_TIMEOUT_US (3 * G_USEC_PER_SEC)
#define WATCHDOG_INTERVAL_MS 500
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
/* Up this long, a failure starts the backoff again from the beginning. */
#define STABLE_US (10 * G_USEC_PER_SEC)
/* A dead RTSP server must not hold the target's thread for the default
 * 20 s of rtspclientsink. */
#define RTSP_TCP_TIMEOUT_US G_GUINT64_CONSTANT (5000000)
/* RTCP sender reports at least this often (RFC 3550's 5 s by default): a
 * relay started after us learns where to send keyframe requests sooner. */
#define RTCP_MIN_INTERVAL_NS (GST_SECOND)

struct _ZcPublishTarget
{
  ZcPublishKind kind;
  gchar *host, *path, *uri;
  guint16 port;
  ZcPublishKeyframeFunc keyframe;
  gpointer keyframe_data;

  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;

  /* The target's thread only. */
  GstElement *pipeline;
  GstElement *srt_sink; /* SRT: whose statistics say when it is connected */
  GSocket *rtcp_socket;
  GSource *bus_source, *retry_source, *watchdog_source;
  guint backoff_ms;
  gint64 attempt_started_us;

  GMutex lock;
  GstElement *appsrc; /* of the running attempt, or NULL */
  gboolean waiting_keyframe;
  gboolean behind; /* dropping since the queue filled (logged once) */
  gint64 last_out_us;
  gint64 last_request_us;     /* a PLI/FIR passed on */
  gint64 last_own_request_us; /* our own, to resume at a keyframe */
  guint64 attempt_buffers;    /* into the sending element, this attempt */
  gint64 up_since_us;         /* 0 while not up */
  ZcPublishStats stats;
};

static gboolean start_attempt (gpointer data);

/* ---- streaming threads ---- */

/* Runs with the lock held. */
static void
request_own_keyframe (ZcPublishTarget *self)
{
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_own_request_us < KEYFRAME_REQUEST_INTERVAL_US)
    return;
  self->last_own_request_us = now;
  self->keyframe (self->keyframe_data);
}

void
zc_publish_target_push (ZcPublishTarget *self, GstBuffer *au, gboolean keyframe)
{
  GstBuffer *copy;

  g_mutex_lock (&self->lock);
  self->stats.frames_in++;
  if (self->appsrc == NULL) {
    self->stats.frames_dropped++;
    goto out;
  }
  if (gst_app_src_get_current_level_buffers (GST_APP_SRC (self->appsrc))
      >= MAX_QUEUED_FRAMES) {
    self->stats.frames_dropped++;
    if (!self->behind) {
      self->behind = TRUE;
      g_printerr ("zerocast: publish %s: falling behind (%d frames queued); "
                  "dropping frames until the next keyframe\n",
          self->uri, MAX_QUEUED_FRAMES);
    }
    self->waiting_keyframe = TRUE;
    goto out;
  }
  if (self->waiting_keyframe && !keyframe) {
    self->stats.frames_dropped++;
    request_own_keyframe (self);
    goto out;
  }
  if (self->behind)
    g_printerr ("zerocast: publish %s: caught up at a keyframe\n", self->uri);
  self->behind = FALSE;
  self->waiting_keyframe = FALSE;

  /* Shares the memory; only the timestamps are ours: appsrc stamps each
   * buffer with this pipeline's running time as it leaves. */
  copy = gst_buffer_copy (au);
  GST_BUFFER_PTS (copy) = GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer (GST_APP_SRC (self->appsrc), copy);
out:
  g_mutex_unlock (&self->lock);
}

/* On the appsrc's pad: what left the queue for the target's elements. */
static GstPadProbeReturn
on_frame_out (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ZcPublishTarget *self = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&self->lock);
  self->stats.frames_sent++;
  self->stats.bytes_sent += gst_buffer_get_size (buffer);
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

/* On the pad into the element that sends (the payloader, whose udpsink
 * never blocks; rtspclientsink; srtsink). A sink renders in its chain
 * function, so a second buffer arriving means the first went through: up
 * is "data gets through", not "the pipeline is PLAYING" (rtspclientsink
 * gets there before it is connected). srtsink takes data while its
 * caller is still connecting: see srt_connected(). */
static GstPadProbeReturn
on_sink_data (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ZcPublishTarget *self = data;
  gboolean now_up = FALSE;

  g_mutex_lock (&self->lock);
  self->last_out_us = g_get_monotonic_time ();
  if (++self->attempt_buffers == 2 && self->appsrc
      && self->kind != ZC_PUBLISH_SRT) {
    self->stats.up = now_up = TRUE;
    self->up_since_us = self->last_out_us;
  }
  g_mutex_unlock (&self->lock);
  if (now_up)
    g_print ("zerocast: publish %s: up\n", self->uri);
  return GST_PAD_PROBE_OK;
}

/* rtpbin turns an RTCP PLI or FIR for our SSRC into an upstream
 * GstForceKeyUnit event; h264parse and the payloader pass it on, and it
 * ends here, at the appsrc, where the encoder is one hop away. */
static GstPadProbeReturn
on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ZcPublishTarget *self = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  gint64 now = g_get_monotonic_time ();

  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->lock);
  self->stats.keyframe_requests++;
  if (now - self->last_request_us >= KEYFRAME_REQUEST_INTERVAL_US) {
    self->last_request_us = now;
    self->stats.keyframe_requests_honoured++;
    GST_DEBUG ("%s asks for a keyframe", self->uri);
    self->keyframe (self->keyframe_data);
  }
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_DROP;
}

/* ---- the target's thread ---- */

/* A numeric address for @host (udpsink and the RTCP socket need one
 * family); blocking, which is why it runs here. */
static GInetAddress *
resolve (ZcPublishTarget *self, GError **error)
{
  g_autoptr (GResolver) resolver = NULL;
  g_autoptr (GError) local = NULL;
  GInetAddress *addr = g_inet_address_new_from_string (self->host);
  GList *list;

  if (addr)
    return addr;
  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, self->host, NULL, &local);
  if (list == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "cannot resolve %s: %s", self->host, local->message);
    return NULL;
  }
  addr = g_object_ref (list->data);
  g_resolver_free_addresses (list);
  return addr;
}

/* An empty receiver report from @ssrc on the RTCP socket, sent before the
 * first RTP packet: relays learn the address to send keyframe requests to
 * from the first RTCP they receive (Janus drops requests due before it
 * knows one: its new viewers' ones), and rtpbin's first report comes only
 * after a randomised start interval. Best effort: UDP, no answer. */
static void
send_rtcp_latch (ZcPublishTarget *self, GInetAddress *addr, guint32 ssrc)
{
  g_autoptr (GSocketAddress) dest =
      g_inet_socket_address_new (addr, (guint16) (self->port + 1u));
  g_autoptr (GError) error = NULL;
  /* V=2, RC=0, PT=201 (RR), length 1 (two 32-bit words), SSRC. */
  guint8 rr[8] = { 0x80, 201, 0, 1, ssrc >> 24, ssrc >> 16, ssrc >> 8, ssrc };

  if (g_socket_send_to (self->rtcp_socket, dest, (const gchar *) rr,
          sizeof (rr), NULL, &error)
      < 0)
    GST_DEBUG ("%s: first RTCP packet not sent: %s", self->uri, error->message);
}

static GstElement *
build_rtp (ZcPublishTarget *self, GError **error)
{
  g_autoptr (GInetAddress) addr = NULL;
  g_autoptr (GInetAddress) any = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autofree gchar *host = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *pipeline, *rtcp_sink, *rtcp_src, *rtpbin;
  GObject *session = NULL;
  /* Ours, not rtpbin's random one: the first RTCP goes out before RTP. */
  guint32 ssrc = (guint32) g_random_int_range (1, G_MAXINT32);

  addr = resolve (self, error);
  if (addr == NULL)
    return NULL;
  host = g_inet_address_to_string (addr);

  /* One socket sends our RTCP (sender reports) and receives the target's
   * (receiver reports, PLI, FIR): relays such as Janus answer to the
   * address our RTCP came from. */
  self->rtcp_socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (self->rtcp_socket == NULL)
    return NULL;
  any = g_inet_address_new_any (g_inet_address_get_family (addr));
  local = g_inet_socket_address_new (any, 0);
  if (!g_socket_bind (self->rtcp_socket, local, FALSE, error))
    return NULL;

  /* Every value in the description is validated or numeric. */
  desc = g_strdup_printf (
      "appsrc name=src ! h264parse config-interval=-1 ! "
      "rtph264pay name=sink pt=96 config-interval=-1 mtu=1200 "
      "aggregate-mode=zero-latency ssrc=%u ! rtpbin.send_rtp_sink_0 "
      "rtpbin name=rtpbin "
      "rtpbin.send_rtp_src_0 ! udpsink host=\"%s\" port=%u sync=false "
      "async=false "
      "rtpbin.send_rtcp_src_0 ! udpsink name=rtcpsink host=\"%s\" port=%u "
      "sync=false async=false close-socket=false "
      "udpsrc name=rtcpsrc close-socket=false caps=application/x-rtcp ! "
      "rtpbin.recv_rtcp_sink_0",
      ssrc, host, self->port, host, self->port + 1u);
  pipeline =
      gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (pipeline == NULL)
    return NULL;
  rtcp_sink = gst_bin_get_by_name (GST_BIN (pipeline), "rtcpsink");
  rtcp_src = gst_bin_get_by_name (GST_BIN (pipeline), "rtcpsrc");
  g_object_set (rtcp_sink, "socket", self->rtcp_socket, NULL);
  g_object_set (rtcp_src, "socket", self->rtcp_socket, NULL);
  gst_object_unref (rtcp_sink);
  gst_object_unref (rtcp_src);
  rtpbin = gst_bin_get_by_name (GST_BIN (pipeline), "rtpbin");
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0u, &session);
  if (session) {
    g_object_set (session, "rtcp-min-interval", RTCP_MIN_INTERVAL_NS, NULL);
    g_object_unref (session);
  }
  gst_object_unref (rtpbin);
  send_rtcp_latch (self, addr, ssrc);
  return pipeline;
}

static GstElement *
build (ZcPublishTarget *self, GError **error)
{
  g_autofree gchar *desc = NULL;
  GstElement *pipeline, *sink;
  gboolean v6 = strchr (self->host, ':') != NULL;

  switch (self->kind) {
    case ZC_PUBLISH_RTP:
      return build_rtp (self, error);
    case ZC_PUBLISH_RTSP:
      /* RECORD interleaved over the RTSP connection: a server that goes
       * away shows as a failed write instead of RTP into the void. */
      desc =
          g_strdup_printf ("appsrc name=src ! h264parse config-interval=-1 ! "
                           "rtspclientsink name=sink protocols=tcp latency=0 "
                           "location=\"%s\"",
              self->uri);
      break;
    case ZC_PUBLISH_SRT:
      /* The caller connects in the background (no state change blocks);
       * failures come to us instead of srtsink's own reconnect loop, and
       * its statistics say when it is connected (srt_connected()). */
      desc = g_strdup_printf (
          "appsrc name=src ! h264parse config-interval=-1 ! "
          "video/x-h264,stream-format=byte-stream,alignment=au ! "
          "mpegtsmux alignment=7 ! "
          "srtsink name=sink uri=\"srt://%s%s%s:%u?mode=caller\" "
          "wait-for-connection=true auto-reconnect=false poll-timeout=1000 "
          "sync=false async=false",
          v6 ? "[" : "", self->host, v6 ? "]" : "", self->port);
      break;
  }
  pipeline =
      gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (pipeline == NULL)
    return NULL;
  if (self->kind == ZC_PUBLISH_RTSP) {
    sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    g_object_set (sink, "tcp-timeout", RTSP_TCP_TIMEOUT_US, NULL);
    gst_object_unref (sink);
  }
  return pipeline;
}

static void
teardown (ZcPublishTarget *self)
{
  GstElement *appsrc;

  if (self->watchdog_source) {
    g_source_destroy (self->watchdog_source);
    g_clear_pointer (&self->watchdog_source, g_source_unref);
  }
  if (self->bus_source) {
    g_source_destroy (self->bus_source);
    g_clear_pointer (&self->bus_source, g_source_unref);
  }
  g_mutex_lock (&self->lock);
  appsrc = g_steal_pointer (&self->appsrc);
  self->stats.up = FALSE;
  self->up_since_us = 0;
  g_mutex_unlock (&self->lock);
  gst_clear_object (&appsrc);
  gst_clear_object (&self->srt_sink);
  if (self->pipeline) {
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
    gst_clear_object (&self->pipeline);
  }
  if (self->rtcp_socket) {
    g_socket_close (self->rtcp_socket, NULL);
    g_clear_object (&self->rtcp_socket);
  }
}

static void
attempt_failed (ZcPublishTarget *self, const gchar *why)
{
  gint64 now = g_get_monotonic_time ();
  gint64 up_since;
  guint delay;

  g_mutex_lock (&self->lock);
  up_since = self->up_since_us;
  g_mutex_unlock (&self->lock);
  if (up_since && now - up_since >= STABLE_US)
    self->backoff_ms = BACKOFF_FIRST_MS;
  teardown (self);
  g_mutex_lock (&self->lock);
  self->stats.failures++;
  g_mutex_unlock (&self->lock);

  delay = self->backoff_ms;
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
  g_printerr ("zerocast: publish %s: %s; retrying in %.1f s\n", self->uri, why,
      delay / 1000.0);
  self->retry_source = g_timeout_source_new (delay);
  g_source_set_callback (self->retry_source, start_attempt, self, NULL);
  g_source_attach (self->retry_source, self->context);
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  ZcPublishTarget *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *why = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, &debug);
      GST_INFO ("%s: error from %s: %s (%s)", self->uri,
          GST_MESSAGE_SRC_NAME (msg), error->message, debug ? debug : "");
      why = g_strdup_printf (
          "%s: %s", GST_MESSAGE_SRC_NAME (msg), error->message);
      attempt_failed (self, why);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
      attempt_failed (self, "the target ended the stream");
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &error, &debug);
      GST_WARNING ("%s: warning from %s: %s", self->uri,
          GST_MESSAGE_SRC_NAME (msg), error->message);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* srtsink's statistics hold only bytes-sent-total until the handshake is
 * done; acknowledgements mean a listener takes our packets. */
static gboolean
srt_connected (ZcPublishTarget *self)
{
  GstStructure *stats = NULL;
  gint acks = 0;

  g_object_get (self->srt_sink, "stats", &stats, NULL);
  if (stats) {
    gst_structure_get_int (stats, "packet-ack-received", &acks);
    gst_structure_free (stats);
  }
  return acks > 0;
}

/* A sink that takes nothing (a TCP window that never opens, a server that
 * stopped reading) shows no error: the queue in front of it fills. */
static gboolean
on_watchdog (gpointer data)
{
  ZcPublishTarget *self = data;
  gint64 now = g_get_monotonic_time ();
  guint64 level = 0;
  gint64 last_out;
  gboolean up;

  g_mutex_lock (&self->lock);
  if (self->appsrc)
    level = gst_app_src_get_current_level_buffers (GST_APP_SRC (self->appsrc));
  last_out = self->last_out_us;
  up = self->stats.up;
  g_mutex_unlock (&self->lock);

  if (!up && self->srt_sink && srt_connected (self)) {
    g_mutex_lock (&self->lock);
    self->stats.up = up = TRUE;
    self->up_since_us = now;
    g_mutex_unlock (&self->lock);
    g_print ("zerocast: publish %s: up\n", self->uri);
  }
  if (!up && now - self->attempt_started_us > CONNECT_TIMEOUT_US) {
    g_clear_pointer (&self->watchdog_source, g_source_unref);
    attempt_failed (self, "not connected within 10 s");
    return G_SOURCE_REMOVE;
  }
  /* Only once up: connecting (RTSP's ANNOUNCE, SETUP and RECORD, an SRT
   * handshake) leaves the queue standing for a while, which the connect
   * timeout above covers. udpsink never blocks: an RTP target's queue only
   * stands still when this process gets no CPU, and starting over would
   * not help. */
  if (up && self->kind != ZC_PUBLISH_RTP && level > 0
      && now - last_out > STALL_TIMEOUT_US) {
    g_clear_pointer (&self->watchdog_source, g_source_unref);
    attempt_failed (self, "took no data for 3 s (too slow, or gone)");
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
start_attempt (gpointer data)
{
  ZcPublishTarget *self = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstPad) pad = NULL;
  GstElement *appsrc;

  g_clear_pointer (&self->retry_source, g_source_unref);
  self->attempt_started_us = g_get_monotonic_time ();
  self->pipeline = build (self, &error);
  if (self->pipeline == NULL) {
    attempt_failed (self, error->message);
    return G_SOURCE_REMOVE;
  }

  appsrc = gst_bin_get_by_name (GST_BIN (self->pipeline), "src");
  caps = gst_caps_from_string (
      "video/x-h264,stream-format=byte-stream,alignment=au");
  /* The limits are ours (push() counts frames); appsrc's own would block
   * or drop without a keyframe in sight. */
  g_object_set (appsrc, "caps", caps, "is-live", TRUE, "format",
      GST_FORMAT_TIME, "do-timestamp", TRUE, "block", FALSE, "max-bytes",
      (guint64) MAX_QUEUED_BYTES, NULL);
  pad = gst_element_get_static_pad (appsrc, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame_out, self, NULL);
  gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, self, NULL);
  gst_clear_object (&pad);
  {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
    GstIterator *it = gst_element_iterate_sink_pads (sink);

    if (self->kind == ZC_PUBLISH_SRT)
      self->srt_sink = gst_object_ref (sink);
    GValue item = G_VALUE_INIT;

    if (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
      gst_pad_add_probe (g_value_get_object (&item),
          GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
          on_sink_data, self, NULL);
      g_value_unset (&item);
    }
    gst_iterator_free (it);
    gst_object_unref (sink);
  }

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  self->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (
      self->bus_source, G_SOURCE_FUNC (on_bus_message), self, NULL);
  g_source_attach (self->bus_source, self->context);
  self->watchdog_source = g_timeout_source_new (WATCHDOG_INTERVAL_MS);
  g_source_set_callback (self->watchdog_source, on_watchdog, self, NULL);
  g_source_attach (self->watchdog_source, self->context);

  g_mutex_lock (&self->lock);
  self->appsrc = appsrc; /* takes the ref */
  self->waiting_keyframe = TRUE;
  self->behind = FALSE;
  self->last_out_us = g_get_monotonic_time ();
  self->attempt_buffers = 0;
  g_mutex_unlock (&self->lock);

  GST_INFO ("%s: starting", self->uri);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autoptr (GError) bus_error = NULL;
    g_autofree gchar *why = NULL;

    if (msg) {
      gst_message_parse_error (msg, &bus_error, NULL);
      why = g_strdup_printf (
          "%s: %s", GST_MESSAGE_SRC_NAME (msg), bus_error->message);
    }
    attempt_failed (self, why ? why : "the pipeline would not start");
  }
  return G_SOURCE_REMOVE;
}

static gboolean
quit_in_thread (gpointer data)
{
  ZcPublishTarget *self = data;

  if (self->retry_source) {
    g_source_destroy (self->retry_source);
    g_clear_pointer (&self->retry_source, g_source_unref);
  }
  teardown (self);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
thread_main (gpointer data)
{
  ZcPublishTarget *self = data;
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (self->context);
  g_source_set_callback (idle, start_attempt, self, NULL);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

ZcPublishTarget *
zc_publish_target_new (
    const ZcPublishUrl *url, ZcPublishKeyframeFunc keyframe, gpointer user_data)
{
  ZcPublishTarget *self = g_new0 (ZcPublishTarget, 1);
  g_autofree gchar *name = NULL;

  if (zc_publish_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (
        zc_publish_debug, "zcpublish", 0, "zerocast publish targets");
  self->kind = url->kind;
  self->host = g_strdup (url->host);
  self->path = g_strdup (url->path);
  self->uri = g_strdup (url->uri);
  self->port = url->port;
  self->keyframe = keyframe;
  self->keyframe_data = user_data;
  self->backoff_ms = BACKOFF_FIRST_MS;
  g_mutex_init (&self->lock);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  name =
      g_strdup_printf ("zc-publish-%s", zc_publish_kind_to_string (url->kind));
  self->thread = g_thread_new (name, thread_main, self);
  return self;
}

const gchar *
zc_publish_target_get_uri (ZcPublishTarget *self)
{
  return self->uri;
}

void
zc_publish_target_get_stats (ZcPublishTarget *self, ZcPublishStats *stats)
{
  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
}

void
zc_publish_target_free (ZcPublishTarget *self)
{
  GSource *quit;

  if (self == NULL)
    return;
  quit = g_idle_source_new ();
  g_source_set_callback (quit, quit_in_thread, self, NULL);
  g_source_attach (quit, self->context);
  g_source_unref (quit);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_free (self->host);
  g_free (self->path);
  g_free (self->uri);
  g_free (self);
}
