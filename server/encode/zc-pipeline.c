/* zerocast server: the capture -> encode pipeline, with fallback.
 *
 * Threads: the appsink callback runs in the encoder's streaming thread. It
 * parses and frames the access unit there (one copy, shared by every
 * viewer) and hands it to the main context, where everything else in this
 * file runs: building, the bus watch, fallback and the fan-out.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-pipeline.h"

#include <unistd.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "zc-cursor-relay.h"
#include "zc-h264.h"
#include "zc-server-error.h"
#include "zc-wire.h"

GST_DEBUG_CATEGORY_STATIC (zc_pipeline_debug);
#define GST_CAT_DEFAULT zc_pipeline_debug

/* Frames waiting for the main context; past this the main loop is stuck
 * and frames are dropped rather than queued without bound. */
#define MAX_PENDING_FRAMES 30
#define KEYFRAME_REQUEST_INTERVAL_US (250 * 1000)

static const ZcVideoMode auto_modes[] = { ZC_VIDEO_MODE_ZEROCOPY,
  ZC_VIDEO_MODE_NATIVE, ZC_VIDEO_MODE_SHM };

struct _ZcPipeline
{
  gint ref_count; /* the owner plus each frame in flight */
  ZcPipelineConfig config;
  gchar *encoder_name;
  ZcFanout *fanout;
  ZcCursorRelay *cursor; /* main context */
  ZcPipelineFailedFunc failed;
  gpointer user_data;
  ZcPipelineSourceLostFunc source_lost;
  gpointer source_lost_data;
  ZcPipelineAuFunc au_func; /* --publish: called in the streaming thread */
  gpointer au_data;
  gboolean stopped;
  GMainContext *context;

  /* Candidates and what has been ruled out. */
  ZcVideoMode modes[G_N_ELEMENTS (auto_modes)];
  guint n_modes;
  gboolean mode_bad[G_N_ELEMENTS (auto_modes)];
  const gchar *encoders[8];
  guint n_encoders;
  gboolean encoder_bad[8];
  guint mode_idx, encoder_idx;

  /* The current attempt. */
  GstElement *pipeline;
  GstElement *source; /* source element and its caps filter */
  GstElement *encoder_bin;
  GstElement *appsink;
  gint source_fd; /* from open_pipewire_fd for this attempt, or -1 */
  guint bus_watch;
  guint first_frame_timeout;
  guint retry_idle;
  gboolean got_first_frame;
  /* When this combination's wait for a first frame ends (monotonic µs),
   * reconnections included; 0 when it is not waiting yet. */
  gint64 first_frame_deadline_us;
  gboolean source_starting; /* zc_pipeline_set_source_starting() */
  /* pipewirezerocopysrc inside self->source (zerocopy mode), or NULL. */
  GstElement *capture;
  gint generation; /* frames of an older attempt are dropped */

  /* Written by the streaming thread, read in the main context. */
  gint pending;
  GMutex lock;
  guint16 width, height;
  GBytes *last_sps;
  GBytes *low_delay_sps; /* what to send instead of last_sps, or NULL */
  guint8 wire_codec;     /* ZC_WIRE_CODEC_H264 or _H264_HIGH */
  guint8 init_codec;     /* the codec of the last StreamInit */
  guint init_fps;        /* the fps of the last StreamInit */
  ZcPipelineStats stats;
  gint64 last_pts_us; /* of the newest VideoFrame, kept across attempts
                       * and restarts: the wire's pts never go back */
  gint64 last_keyframe_request_us;
  gchar *last_failure;  /* why the newest attempt failed */
  guint bitrate_kbps;   /* 0: the configured one */
  guint max_fps;        /* atomic; 0: no cap */
  gint64 next_frame_us; /* streaming thread: the cap's next slot */
};

typedef struct
{
  ZcPipeline *self;
  gint generation;
  GBytes *stream_init; /* set when the size changed */
  GBytes *frame;
  gboolean keyframe;
} FrameItem;

static gboolean try_next (gpointer user_data);
static void teardown (ZcPipeline *self);

gboolean
zc_video_mode_from_string (const gchar *str, ZcVideoMode *mode, GError **error)
{
  static const struct
  {
    const gchar *name;
    ZcVideoMode mode;
  } names[] = {
    { "auto", ZC_VIDEO_MODE_AUTO },
    { "zerocopy", ZC_VIDEO_MODE_ZEROCOPY },
    { "native", ZC_VIDEO_MODE_NATIVE },
    { "shm", ZC_VIDEO_MODE_SHM },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    if (g_ascii_strcasecmp (str, names[i].name) == 0) {
      *mode = names[i].mode;
      return TRUE;
    }
  }
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
      "unknown video mode \"%s\": use auto, zerocopy, native or shm", str);
  return FALSE;
}

const gchar *
zc_video_mode_to_string (ZcVideoMode mode)
{
  switch (mode) {
    case ZC_VIDEO_MODE_ZEROCOPY:
      return "zerocopy";
    case ZC_VIDEO_MODE_NATIVE:
      return "native";
    case ZC_VIDEO_MODE_SHM:
      return "shm";
    default:
      return "auto";
  }
}

static ZcPipeline *
pipeline_ref (ZcPipeline *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
pipeline_unref (ZcPipeline *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_clear_pointer (&self->last_sps, g_bytes_unref);
  g_clear_pointer (&self->low_delay_sps, g_bytes_unref);
  g_mutex_clear (&self->lock);
  g_main_context_unref (self->context);
  g_free (self->encoder_name);
  g_free (self->last_failure);
  g_free (self);
}

ZcPipeline *
zc_pipeline_new (const ZcPipelineConfig *config, ZcFanout *fanout,
    ZcPipelineFailedFunc failed, gpointer user_data)
{
  ZcPipeline *self = g_new0 (ZcPipeline, 1);

  if (zc_pipeline_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (
        zc_pipeline_debug, "zcpipeline", 0, "zerocast capture/encode pipeline");

  self->ref_count = 1;
  self->config = *config;
  self->source_fd = -1;
  self->encoder_name = g_strdup (config->encoder ? config->encoder : "auto");
  self->config.encoder = self->encoder_name;
  self->fanout = fanout;
  self->cursor = zc_cursor_relay_new (fanout);
  self->failed = failed;
  self->user_data = user_data;
  self->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->lock);
  self->wire_codec = self->init_codec = ZC_WIRE_CODEC_H264;

  if (config->mode == ZC_VIDEO_MODE_AUTO) {
    for (guint i = 0; i < G_N_ELEMENTS (auto_modes); i++)
      self->modes[self->n_modes++] = auto_modes[i];
  } else {
    self->modes[self->n_modes++] = config->mode;
  }
  /* A test pattern has no video mode: one pass over the encoders. */
  if (config->test_pattern)
    self->n_modes = 1;

  for (const gchar *const *n = zc_encoder_names (); *n; n++) {
    if (g_strcmp0 (self->encoder_name, "auto") != 0
        && g_strcmp0 (self->encoder_name, *n) != 0)
      continue;
    if (!zc_encoder_is_available (*n)) {
      GST_INFO ("encoder %s not available (no plugin or no hardware)", *n);
      if (g_strcmp0 (self->encoder_name, "auto") == 0)
        continue;
    }
    self->encoders[self->n_encoders++] = *n;
  }
  return self;
}

static const gchar *
current_mode_name (ZcPipeline *self)
{
  return self->config.test_pattern
      ? "videotestsrc"
      : zc_video_mode_to_string (self->modes[self->mode_idx]);
}

/* ---- streaming thread ---- */

static gboolean
deliver_in_main (gpointer data)
{
  FrameItem *item = data;
  ZcPipeline *self = item->self;

  if (self->stopped || item->generation != self->generation)
    return G_SOURCE_REMOVE;

  if (!self->got_first_frame) {
    self->got_first_frame = TRUE;
    self->first_frame_deadline_us = 0;
    g_clear_handle_id (&self->first_frame_timeout, g_source_remove);
    g_print ("zerocast: streaming with video mode %s and encoder %s\n",
        current_mode_name (self), self->encoders[self->encoder_idx]);
  }
  if (item->stream_init) {
    zc_fanout_set_stream_init (self->fanout, item->stream_init);
    /* Viewers wait for a keyframe of the new stream: ask for one now
     * rather than at the end of the GOP. */
    if (!item->keyframe)
      zc_pipeline_request_keyframe (self);
  }
  zc_fanout_push_frame (self->fanout, item->frame, item->keyframe);
  return G_SOURCE_REMOVE;
}

static void
frame_item_free (gpointer data)
{
  FrameItem *item = data;

  g_atomic_int_add (&item->self->pending, -1);
  g_clear_pointer (&item->stream_init, g_bytes_unref);
  g_bytes_unref (item->frame);
  pipeline_unref (item->self);
  g_free (item);
}

/* Notes the stream's SPS once per change (the codec string for the log)
 * and, when it does not say "no reordering", prepares a rewritten one:
 * every encoder here runs without B-frames, and browsers' hardware
 * decoders hold frames back unless the SPS promises that. Returns the SPS
 * to send instead, or NULL to keep the encoder's. Runs with the lock held. */
static GBytes *
check_sps (ZcPipeline *self, const guint8 *nal, gsize size)
{
  g_autoptr (GBytes) sps_bytes = g_bytes_new (nal, size);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *codec = NULL;
  ZcH264Sps sps;

  if (self->last_sps && g_bytes_equal (self->last_sps, sps_bytes))
    return self->low_delay_sps;
  g_clear_pointer (&self->last_sps, g_bytes_unref);
  g_clear_pointer (&self->low_delay_sps, g_bytes_unref);
  self->last_sps = g_bytes_ref (sps_bytes);

  if (!zc_h264_parse_sps (nal, size, &sps, &error)) {
    GST_WARNING ("cannot parse the encoder's SPS: %s", error->message);
    return NULL;
  }
  /* The old client tells High profile apart by the codec byte. */
  self->wire_codec =
      sps.profile_idc >= 100 ? ZC_WIRE_CODEC_H264_HIGH : ZC_WIRE_CODEC_H264;
  codec = zc_h264_codec_string (&sps);
  GST_INFO ("stream %ux%u codec %s", sps.width, sps.height, codec);
  self->low_delay_sps = zc_h264_sps_make_low_delay (nal, size, &error);
  if (self->low_delay_sps)
    GST_INFO ("the encoder's SPS allows frame reordering; sending one that "
              "declares max_num_reorder_frames=0 so decoders output at once");
  else if (error)
    GST_WARNING ("cannot rewrite the encoder's SPS: %s", error->message);
  return self->low_delay_sps;
}

/* A copy of @au with the SPS at [@offset, @offset + @size) replaced. */
static GBytes *
replace_nal (
    const guint8 *au, gsize au_size, gsize offset, gsize size, GBytes *nal)
{
  gsize nal_size;
  const guint8 *nal_data = g_bytes_get_data (nal, &nal_size);
  GByteArray *out = g_byte_array_sized_new (au_size - size + nal_size);

  g_byte_array_append (out, au, offset);
  g_byte_array_append (out, nal_data, nal_size);
  g_byte_array_append (out, au + offset + size, au_size - offset - size);
  return g_byte_array_free_to_bytes (out);
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  ZcPipeline *self = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr (GError) error = NULL;
  GstBuffer *buffer;
  GstCaps *caps;
  GstMapInfo map;
  ZcH264AuInfo au;
  ZcWireVideoHeader header = { 0 };
  GstClockTime base_time, pts;
  GstClock *clock;
  GBytes *rewritten = NULL;
  GSource *idle;
  gint64 now_mono = g_get_monotonic_time ();
  gint64 now_real = g_get_real_time ();
  gint64 capture_mono = now_mono, pts_us;
  FrameItem *item;
  gint w = 0, h = 0;
  guint fps;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  caps = gst_sample_get_caps (sample);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;

  if (!zc_h264_parse_au (map.data, map.size, &au, &error)) {
    GST_WARNING ("dropping an access unit: %s", error->message);
    gst_buffer_unmap (buffer, &map);
    return GST_FLOW_OK;
  }
  if (caps) {
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gst_structure_get_int (s, "width", &w);
    gst_structure_get_int (s, "height", &h);
  }

  /* The buffer's running time plus the base time is the pipeline clock's
   * time at capture. That clock may be pipewiresrc's own (PipeWire's
   * stream time), so the age of the frame is measured on it and then
   * applied to our clocks. */
  base_time = gst_element_get_base_time (self->pipeline);
  /* Encoders shift timestamps (x264enc by 1000 hours, to keep DTS
   * positive) and say so in the segment: convert to running time. */
  pts = gst_segment_to_running_time (gst_sample_get_segment (sample),
      GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  clock = gst_element_get_clock (self->pipeline);
  if (clock && GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (base_time)) {
    /* Read the three clocks back to back: sampled apart (the access unit
     * parsed in between), their differences wander by tens of
     * microseconds from frame to frame, enough to put a frame's pts
     * before its predecessor's. */
    GstClockTime clock_now = gst_clock_get_time (clock);
    now_mono = g_get_monotonic_time ();
    now_real = g_get_real_time ();
    capture_mono = now_mono;
    GST_LOG ("frame pts %" GST_TIME_FORMAT " base %" GST_TIME_FORMAT
             " clock %" GST_TIME_FORMAT,
        GST_TIME_ARGS (pts), GST_TIME_ARGS (base_time),
        GST_TIME_ARGS (clock_now));
    if (clock_now > base_time + pts)
      capture_mono =
          now_mono - (gint64) ((clock_now - base_time - pts) / GST_USECOND);
  }
  gst_clear_object (&clock);

  g_mutex_lock (&self->lock);
  if (au.has_sps) {
    GBytes *sps = check_sps (self, map.data + au.sps_offset, au.sps_size);
    if (sps)
      rewritten =
          replace_nal (map.data, map.size, au.sps_offset, au.sps_size, sps);
  }
  item = g_new0 (FrameItem, 1);
  fps = g_atomic_int_get (&self->max_fps);
  if (fps == 0)
    fps = self->config.encoder_settings.fps;
  if (w > 0 && h > 0
      && (w != self->width || h != self->height
          || self->wire_codec != self->init_codec || fps != self->init_fps)) {
    self->width = w;
    self->height = h;
    self->init_codec = self->wire_codec;
    self->init_fps = fps;
    item->stream_init =
        zc_wire_stream_init (self->wire_codec, w, h, MIN (fps, 255));
  }
  self->stats.frames_encoded++;
  self->stats.encode_latency_us = now_mono - capture_mono;
  self->stats.encode_latency_sum_us += now_mono - capture_mono;
  header.width = self->width;
  header.height = self->height;
  /* The pts is the capture time on the server's wall clock, so a viewer
   * that knows the clock offset (ping/pong) gets glass-to-glass latency.
   * It rises strictly, whatever the source stamped and across attempts
   * and restarts (a new pipeline's running time starts again at 0, the
   * wall clock may be stepped back): a player or muxer that orders by
   * pts must never see one repeat or go back. A restart jumps forward. */
  pts_us = capture_mono + (now_real - now_mono);
  if (pts_us <= self->last_pts_us)
    pts_us = self->last_pts_us + 1;
  self->last_pts_us = pts_us;
  g_mutex_unlock (&self->lock);

  header.codec = self->wire_codec;
  header.flags = au.keyframe ? ZC_WIRE_FLAG_KEYFRAME : 0;
  header.pts_us = (guint64) pts_us;
  if (rewritten) {
    gsize size;
    const guint8 *data = g_bytes_get_data (rewritten, &size);
    item->frame = zc_wire_video_frame (&header, data, size);
  } else {
    item->frame = zc_wire_video_frame (&header, map.data, map.size);
  }
  item->keyframe = au.keyframe;
  gst_buffer_unmap (buffer, &map);
  if (self->au_func) {
    /* The AU the viewers get, without a second copy where nothing was
     * rewritten (the wrapping buffer takes a ref of its own). */
    GstBuffer *out = rewritten ? gst_buffer_new_wrapped_bytes (rewritten)
                               : gst_buffer_ref (buffer);
    self->au_func (out, au.keyframe, self->au_data);
    gst_buffer_unref (out);
  }
  g_clear_pointer (&rewritten, g_bytes_unref);

  if (g_atomic_int_get (&self->pending) >= MAX_PENDING_FRAMES) {
    GST_WARNING (
        "main loop is %d frames behind; dropping a frame", MAX_PENDING_FRAMES);
    g_clear_pointer (&item->stream_init, g_bytes_unref);
    g_bytes_unref (item->frame);
    g_free (item);
    return GST_FLOW_OK;
  }
  g_atomic_int_inc (&self->pending);
  item->self = pipeline_ref (self);
  item->generation = g_atomic_int_get (&self->generation);
  /* Always queued to the main context (g_main_context_invoke would run it
   * on this streaming thread whenever the main context is free at this
   * instant, e.g. between the iterations of a nested wait). */
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, deliver_in_main, item, frame_item_free);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
  return GST_FLOW_OK;
}

/* The frame rate cap: a frame that comes before the next slot is dropped
 * here, before the encoder spends anything on it. Slots advance by the
 * interval, not from the last frame's arrival, so a source a little
 * faster than the cap is not halved by jitter; after a pause they start
 * again from now. */
static GstPadProbeReturn
cap_frame_rate (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ZcPipeline *self = user_data;
  guint fps = g_atomic_int_get (&self->max_fps);
  gint64 now, interval;

  if (fps == 0)
    return GST_PAD_PROBE_OK;
  now = g_get_monotonic_time ();
  interval = G_USEC_PER_SEC / fps;
  /* A quarter of a slot early still counts: timers and the compositor's
   * frame clock jitter. The rate stays bounded by the cap all the same:
   * each frame that passes takes a slot. */
  if (now < self->next_frame_us - interval / 4) {
    GST_LOG ("frame rate cap %u: dropping a frame", fps);
    return GST_PAD_PROBE_DROP;
  }
  if (now - self->next_frame_us > interval)
    self->next_frame_us = now + interval;
  else
    self->next_frame_us += interval;
  return GST_PAD_PROBE_OK;
}

/* ---- main context ---- */

/* The fd the source of this attempt connects through: a fresh one from
 * the portal (kept in source_fd until teardown), the caller's, or -1. */
static gboolean
pick_pipewire_fd (ZcPipeline *self, gint *fd, GError **error)
{
  g_autoptr (GError) open_error = NULL;

  *fd = self->config.pipewire_fd;
  if (self->config.open_pipewire_fd == NULL)
    return TRUE;
  if (self->source_fd >= 0)
    close (self->source_fd);
  self->source_fd = self->config.open_pipewire_fd (
      self->config.open_pipewire_fd_data, &open_error);
  if (open_error != NULL) {
    g_propagate_prefixed_error (
        error, g_steal_pointer (&open_error), "the PipeWire connection: ");
    return FALSE;
  }
  *fd = self->source_fd;
  return TRUE;
}

static GstElement *
make_source (ZcPipeline *self, ZcVideoMode mode, GError **error)
{
  const ZcPipelineConfig *c = &self->config;
  gint fd = -1;
  g_autoptr (GstCaps) caps = NULL;
  GstElement *bin, *src, *filter;
  GstPad *pad;

  if (c->test_pattern) {
    src = gst_element_factory_make ("videotestsrc", NULL);
    /* A moving pattern, so the encoder works as it would on a live desktop. */
    gst_util_set_object_arg (G_OBJECT (src), "pattern", "smpte");
    g_object_set (src, "is-live", TRUE, "horizontal-speed", 4, NULL);
    if (c->test_pattern_frames > 0)
      g_object_set (src, "num-buffers", c->test_pattern_frames, NULL);
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "BGRx",
        "width", G_TYPE_INT, c->width ? c->width : 1280, "height", G_TYPE_INT,
        c->height ? c->height : 720, "framerate", GST_TYPE_FRACTION,
        c->encoder_settings.fps, 1, NULL);
  } else if (!pick_pipewire_fd (self, &fd, error)) {
    return NULL;
  } else if (mode == ZC_VIDEO_MODE_ZEROCOPY) {
    src = gst_element_factory_make ("pipewirezerocopysrc", NULL);
    if (src == NULL) {
      g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
          "element pipewirezerocopysrc is not installed (GST_PLUGIN_PATH?)");
      return NULL;
    }
    g_object_set (src, "pipewire-node-id", c->node_id, "keepalive-time",
        c->keepalive_ms, NULL);
    self->capture = src;
    /* The element dups the fd it is given; ours stays for teardown. */
    if (fd >= 0)
      g_object_set (src, "pipewire-fd", fd, NULL);
    caps = self->config.encoder_settings.cuda_input
        ? gst_caps_from_string ("video/x-raw(memory:CUDAMemory)")
        : gst_caps_new_empty_simple ("video/x-raw");
  } else {
    g_autofree gchar *path = g_strdup_printf ("%u", c->node_id);

    src = gst_element_factory_make ("pipewiresrc", NULL);
    if (src == NULL) {
      g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
          "element pipewiresrc is missing: install gstreamer1.0-pipewire");
      return NULL;
    }
    /* pipewiresrc dups the fd it is given. */
    g_object_set (src, "path", path, "keepalive-time", c->keepalive_ms,
        "do-timestamp", TRUE, NULL);
    if (fd >= 0)
      g_object_set (src, "fd", fd, NULL);
    caps = mode == ZC_VIDEO_MODE_NATIVE
        ? gst_caps_from_string ("video/x-raw(memory:DMABuf)")
        : gst_caps_new_empty_simple ("video/x-raw");
  }
  if (!c->test_pattern && c->width > 0 && c->height > 0)
    gst_caps_set_simple (caps, "width", G_TYPE_INT, c->width, "height",
        G_TYPE_INT, c->height, NULL);

  bin = gst_bin_new ("source");
  filter = gst_element_factory_make ("capsfilter", NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_bin_add_many (GST_BIN (bin), src, filter, NULL);
  gst_element_link (src, filter);
  pad = gst_element_get_static_pad (filter, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);
  return bin;
}

static gboolean
is_inside (GstObject *obj, GstElement *container)
{
  for (; obj; obj = GST_OBJECT_PARENT (obj))
    if (obj == GST_OBJECT (container))
      return TRUE;
  return FALSE;
}

/* Says why the current combination failed, rules out its mode or (when
 * @encoder_at_fault) its encoder, and tears it down. */
static void
rule_out (ZcPipeline *self, gboolean encoder_at_fault, const gchar *why)
{
  g_printerr ("zerocast: video mode %s with encoder %s failed: %s\n",
      current_mode_name (self), self->encoders[self->encoder_idx], why);
  g_free (self->last_failure);
  self->last_failure = g_strdup (why);
  if (encoder_at_fault)
    self->encoder_bad[self->encoder_idx] = TRUE;
  else
    self->mode_bad[self->mode_idx] = TRUE;
  self->first_frame_deadline_us = 0;
  teardown (self);
}

/* Rules out what failed and schedules the next combination. */
static void
attempt_failed (ZcPipeline *self, gboolean encoder_at_fault, const gchar *why)
{
  rule_out (self, encoder_at_fault, why);
  if (self->retry_idle == 0)
    self->retry_idle = g_idle_add (try_next, self);
}

/* The source's node or PipeWire daemon went away: pipewirezerocopysrc
 * says so with RESOURCE NOT_FOUND (node gone) or OPEN_READ (daemon gone).
 * A desktop that is re-created fixes that, another video mode does not. */
static gboolean
is_source_lost (ZcPipeline *self, GstMessage *msg, const GError *error)
{
  return self->source_lost != NULL && !self->config.test_pattern
      && !is_inside (GST_MESSAGE_SRC (msg), self->encoder_bin)
      && error->domain == GST_RESOURCE_ERROR
      && (error->code == GST_RESOURCE_ERROR_NOT_FOUND
          || error->code == GST_RESOURCE_ERROR_OPEN_READ);
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  ZcPipeline *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *why = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, &debug);
      GST_WARNING ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          error->message, debug ? debug : "");
      why = g_strdup_printf (
          "%s: %s", GST_MESSAGE_SRC_NAME (msg), error->message);
      self->bus_watch = 0;
      if (is_source_lost (self, msg, error)) {
        g_printerr ("zerocast: video mode %s lost its source: %s\n",
            current_mode_name (self), why);
        teardown (self);
        self->source_lost (self, error, self->source_lost_data);
        return G_SOURCE_REMOVE;
      }
      attempt_failed (
          self, is_inside (GST_MESSAGE_SRC (msg), self->encoder_bin), why);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
      self->bus_watch = 0;
      attempt_failed (self, FALSE, "the source ended the stream");
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ELEMENT:
      /* The pointer, when the source sends it as metadata. */
      if (gst_message_get_structure (msg))
        zc_cursor_relay_handle (self->cursor, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &error, &debug);
      GST_WARNING (
          "warning from %s: %s", GST_MESSAGE_SRC_NAME (msg), error->message);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* How often a source that has sent no first frame is connected to again
 * within --first-frame-timeout (at most half of it). */
#define RECONNECT_EVERY_US (2 * G_USEC_PER_SEC)

static gint64
reconnect_every_us (ZcPipeline *self)
{
  return MIN (RECONNECT_EVERY_US, self->config.first_frame_timeout_us / 2);
}

static gboolean
on_first_frame_timeout (gpointer user_data)
{
  ZcPipeline *self = user_data;
  g_autofree gchar *why = NULL;
  gint64 now = g_get_monotonic_time ();

  if (self->source_starting)
    return G_SOURCE_CONTINUE;
  self->first_frame_timeout = 0;
  /* A source can lose the first frame of a new link and then send none
   * while its desktop is still: upstream pipewiresrc on a new Mutter 48
   * virtual monitor got none in about 4 of 100 starts (its stream paused
   * and resumed while Mutter recorded the frame). A new connection to the
   * same node makes the compositor record again, so the wait for a first
   * frame connects again every RECONNECT_EVERY_US; only when the whole
   * --first-frame-timeout has passed is the combination ruled out. */
  if (!self->config.test_pattern
      && self->first_frame_deadline_us - now > 100 * G_TIME_SPAN_MILLISECOND) {
    g_printerr ("zerocast: video mode %s with encoder %s: no frame after "
                "%" G_GINT64_FORMAT " ms; connecting to the source again\n",
        current_mode_name (self), self->encoders[self->encoder_idx],
        (now - self->first_frame_deadline_us
            + self->config.first_frame_timeout_us)
            / 1000);
    teardown (self);
    if (self->retry_idle == 0)
      self->retry_idle = g_idle_add (try_next, self);
    return G_SOURCE_REMOVE;
  }
  why = g_strdup_printf ("no frame within %" G_GINT64_FORMAT " ms",
      self->config.first_frame_timeout_us / 1000);
  attempt_failed (self, FALSE, why);
  return G_SOURCE_REMOVE;
}

/* Starts this combination's wait for a first frame, or (after a new
 * connection) goes on with it. */
static void
arm_first_frame_timeout (ZcPipeline *self)
{
  gint64 now = g_get_monotonic_time (), wait_us;

  if (self->first_frame_deadline_us == 0)
    self->first_frame_deadline_us = now + self->config.first_frame_timeout_us;
  wait_us = self->first_frame_deadline_us - now;
  if (!self->config.test_pattern)
    wait_us = MIN (wait_us, reconnect_every_us (self));
  g_clear_handle_id (&self->first_frame_timeout, g_source_remove);
  self->first_frame_timeout =
      g_timeout_add (MAX (wait_us / 1000, 1), on_first_frame_timeout, self);
}

void
zc_pipeline_set_source_starting (ZcPipeline *self, gboolean starting)
{
  self->source_starting = starting;
  /* Still waiting for the first frame: the full time from now. */
  if (!starting && self->first_frame_timeout) {
    self->first_frame_deadline_us = 0;
    arm_first_frame_timeout (self);
  }
}

static void
teardown (ZcPipeline *self)
{
  g_clear_handle_id (&self->first_frame_timeout, g_source_remove);
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  g_atomic_int_inc (&self->generation);
  if (self->pipeline) {
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
    gst_clear_object (&self->pipeline);
  }
  /* The source's own copy is gone with it: now ours. */
  if (self->source_fd >= 0) {
    close (self->source_fd);
    self->source_fd = -1;
  }
  self->source = self->encoder_bin = self->appsink = self->capture = NULL;
  g_mutex_lock (&self->lock);
  self->width = self->height = 0;
  self->stats.mode = self->stats.encoder = NULL;
  g_mutex_unlock (&self->lock);
}

/* Builds and starts one combination. */
static gboolean
build (ZcPipeline *self, gboolean *encoder_fault, GError **error)
{
  ZcVideoMode mode = self->modes[self->mode_idx];
  const gchar *encoder = self->encoders[self->encoder_idx];
  ZcEncoderSettings settings = self->config.encoder_settings;
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
  g_autoptr (GstCaps) h264_caps = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstElement *queue, *parse, *filter;

  /* CUDA memory straight into every NVENC encoder whose template takes it
   * (the table's caps, zc_encoder_cuda_caps). */
  settings.cuda_input = mode == ZC_VIDEO_MODE_ZEROCOPY
      && zc_encoder_takes_cuda (encoder) && !self->config.test_pattern;
  self->config.encoder_settings.cuda_input = settings.cuda_input;

  *encoder_fault = FALSE;
  self->source = make_source (self, mode, error);
  if (self->source == NULL)
    return FALSE;
  *encoder_fault = TRUE;
  if (self->bitrate_kbps)
    settings.bitrate_kbps = self->bitrate_kbps;
  g_mutex_lock (&self->lock);
  self->stats.bitrate_kbps = settings.bitrate_kbps;
  g_mutex_unlock (&self->lock);
  self->encoder_bin = zc_encoder_make_bin (encoder, &settings, error);
  if (self->encoder_bin == NULL) {
    gst_object_unref (gst_object_ref_sink (self->source));
    self->source = self->capture = NULL;
    return FALSE;
  }

  self->pipeline = gst_pipeline_new ("zerocast");
  /* The system clock, not pipewiresrc's: PipeWire's clock only moves once
   * per graph cycle, which would hide the latency we report. */
  {
    GstClock *system_clock = gst_system_clock_obtain ();
    gst_pipeline_use_clock (GST_PIPELINE (self->pipeline), system_clock);
    gst_object_unref (system_clock);
  }
  /* A leaky queue: when the encoder falls behind it encodes the newest
   * frame instead of building up latency. */
  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue, "max-size-buffers", 2, "max-size-bytes", 0,
      "max-size-time", (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  parse = gst_element_factory_make ("h264parse", NULL);
  g_object_set (parse, "config-interval", -1, NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  h264_caps = gst_caps_from_string (
      "video/x-h264,stream-format=byte-stream,alignment=au");
  g_object_set (filter, "caps", h264_caps, NULL);
  self->appsink = gst_element_factory_make ("appsink", NULL);
  g_object_set (
      self->appsink, "sync", FALSE, "max-buffers", 4, "drop", FALSE, NULL);
  gst_app_sink_set_callbacks (
      GST_APP_SINK (self->appsink), &callbacks, self, NULL);

  {
    GstPad *pad = gst_element_get_static_pad (queue, "sink");

    self->next_frame_us = 0;
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, cap_frame_rate, self, NULL);
    gst_object_unref (pad);
  }
  gst_bin_add_many (GST_BIN (self->pipeline), self->source, queue,
      self->encoder_bin, parse, filter, self->appsink, NULL);
  /* Failing to link means the source's memory type does not fit this
   * chain (DMA-BUF into videoconvert): the mode is at fault. */
  *encoder_fault = FALSE;
  if (!gst_element_link_many (self->source, queue, self->encoder_bin, parse,
          filter, self->appsink, NULL)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
        "cannot link %s source to %s", zc_video_mode_to_string (mode), encoder);
    teardown (self);
    return FALSE;
  }

  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);
  self->got_first_frame = FALSE;
  arm_first_frame_timeout (self);

  GST_INFO ("starting video mode %s with encoder %s", current_mode_name (self),
      encoder);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The element's own error on the bus says why; prefer it. */
    g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autoptr (GError) bus_error = NULL;

    if (msg) {
      gst_message_parse_error (msg, &bus_error, NULL);
      *encoder_fault = is_inside (GST_MESSAGE_SRC (msg), self->encoder_bin);
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE, "%s: %s",
          GST_MESSAGE_SRC_NAME (msg), bus_error->message);
    } else {
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
          "%s with %s would not start", current_mode_name (self), encoder);
    }
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->stats.mode = current_mode_name (self);
  self->stats.encoder = encoder;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Picks the first combination not ruled out; FALSE when none is left. */
static gboolean
pick (ZcPipeline *self)
{
  for (guint m = 0; m < self->n_modes; m++) {
    if (self->mode_bad[m])
      continue;
    for (guint e = 0; e < self->n_encoders; e++) {
      if (self->encoder_bad[e])
        continue;
      self->mode_idx = m;
      self->encoder_idx = e;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
start_some (ZcPipeline *self, GError **error)
{
  g_autoptr (GError) last = NULL;

  while (pick (self)) {
    gboolean encoder_fault;

    g_clear_error (&last);
    if (build (self, &encoder_fault, &last))
      return TRUE;
    rule_out (self, encoder_fault, last->message);
  }
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
      "no video mode and encoder combination works (mode %s, encoder %s)%s%s."
      " Check the source (is the PipeWire node there?) and that an H.264 "
      "encoder is installed (gstreamer1.0-plugins-ugly for x264enc)",
      zc_video_mode_to_string (self->config.mode), self->config.encoder,
      self->last_failure ? "; last error: " : "",
      self->last_failure ? self->last_failure : "");
  return FALSE;
}

static gboolean
try_next (gpointer user_data)
{
  ZcPipeline *self = user_data;
  g_autoptr (GError) error = NULL;

  self->retry_idle = 0;
  if (self->stopped)
    return G_SOURCE_REMOVE;
  self->stats.restarts++;
  zc_fanout_reset (self->fanout);
  if (!start_some (self, &error) && self->failed)
    self->failed (self, error, self->user_data);
  return G_SOURCE_REMOVE;
}

gboolean
zc_pipeline_start (ZcPipeline *self, GError **error)
{
  if (self->n_encoders == 0) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
        "no H.264 encoder available (asked for %s): install "
        "gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-bad "
        "(openh264enc, nvh264enc, vah264enc, qsvh264enc)",
        self->config.encoder);
    return FALSE;
  }
  return start_some (self, error);
}

void
zc_pipeline_set_source_lost_func (
    ZcPipeline *self, ZcPipelineSourceLostFunc func, gpointer user_data)
{
  self->source_lost = func;
  self->source_lost_data = user_data;
}

void
zc_pipeline_stop (ZcPipeline *self)
{
  g_clear_handle_id (&self->retry_idle, g_source_remove);
  teardown (self);
}

gboolean
zc_pipeline_restart (
    ZcPipeline *self, guint32 node_id, gint pipewire_fd, GError **error)
{
  gboolean all_bad = TRUE;

  zc_pipeline_stop (self);
  self->config.node_id = node_id;
  self->config.pipewire_fd = pipewire_fd;
  /* The old desktop's failures say nothing about the new one's modes. */
  for (guint m = 0; m < self->n_modes; m++)
    self->mode_bad[m] = FALSE;
  /* An encoder that failed stays out, unless that leaves none to try. */
  for (guint e = 0; e < self->n_encoders; e++)
    all_bad &= self->encoder_bad[e];
  if (all_bad)
    for (guint e = 0; e < self->n_encoders; e++)
      self->encoder_bad[e] = FALSE;
  g_clear_pointer (&self->last_failure, g_free);
  self->first_frame_deadline_us = 0;
  self->stats.restarts++;
  zc_fanout_reset (self->fanout);
  /* A new desktop: its stream sends its own pointer. */
  zc_cursor_relay_reset (self->cursor);
  return zc_pipeline_start (self, error);
}

void
zc_pipeline_set_au_func (
    ZcPipeline *self, ZcPipelineAuFunc func, gpointer user_data)
{
  self->au_func = func;
  self->au_data = user_data;
}

void
zc_pipeline_request_keyframe (ZcPipeline *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->appsink == NULL
      || now - self->last_keyframe_request_us < KEYFRAME_REQUEST_INTERVAL_US)
    return;
  self->last_keyframe_request_us = now;
  GST_DEBUG ("asking the encoder for a keyframe");
  gst_element_send_event (self->appsink,
      gst_video_event_new_upstream_force_key_unit (
          GST_CLOCK_TIME_NONE, TRUE, 0));
}

void
zc_pipeline_set_bitrate (ZcPipeline *self, guint kbps)
{
  guint effective = kbps ? kbps : self->config.encoder_settings.bitrate_kbps;

  self->bitrate_kbps = kbps;
  g_mutex_lock (&self->lock);
  if (self->stats.bitrate_kbps == effective) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->stats.bitrate_kbps = effective;
  g_mutex_unlock (&self->lock);
  g_print ("zerocast: encoder bitrate now %u kbit/s\n", effective);
  if (self->encoder_bin && self->stats.encoder)
    zc_encoder_set_bitrate (self->encoder_bin, self->stats.encoder, effective);
}

void
zc_pipeline_set_max_fps (ZcPipeline *self, guint fps)
{
  g_autoptr (GBytes) stream_init = NULL;

  if ((guint) g_atomic_int_get (&self->max_fps) == fps)
    return;
  g_atomic_int_set (&self->max_fps, fps);
  /* StreamInit says the rate: a new one now, so that a viewer joining
   * right after this (the one whose init asked for it) gets only it. */
  g_mutex_lock (&self->lock);
  if (self->width > 0 && self->height > 0) {
    self->init_fps = fps ? fps : self->config.encoder_settings.fps;
    stream_init = zc_wire_stream_init (
        self->init_codec, self->width, self->height, MIN (self->init_fps, 255));
  }
  g_mutex_unlock (&self->lock);
  if (stream_init) {
    zc_fanout_set_stream_init (self->fanout, stream_init);
    zc_pipeline_request_keyframe (self);
  }
  if (fps)
    g_print ("zerocast: frame rate capped at %u fps\n", fps);
  else
    g_print ("zerocast: frame rate cap lifted (%u fps planned)\n",
        self->config.encoder_settings.fps);
}

gboolean
zc_pipeline_set_size (ZcPipeline *self, guint width, guint height)
{
  if (!self->config.resizable)
    return FALSE;
  if (width == self->config.width && height == self->config.height)
    return TRUE;
  g_print ("zerocast: asking the source for %ux%u (was %ux%u)\n", width, height,
      self->config.width, self->config.height);
  self->config.width = width;
  self->config.height = height;
  /* Stopped (a recovery is under way): the next start asks for it. */
  if (self->stopped || (self->pipeline == NULL && self->retry_idle == 0))
    return TRUE;
  /* The caps filter is fixed once the source negotiated: a new attempt on
   * the same node requires the new size (Mutter's virtual monitor takes
   * the size its consumer negotiates). Viewers drop the old stream now,
   * so none starts on its last GOP. */
  teardown (self);
  zc_fanout_reset (self->fanout);
  if (self->retry_idle == 0)
    self->retry_idle = g_idle_add (try_next, self);
  return TRUE;
}

void
zc_pipeline_get_size (ZcPipeline *self, guint *width, guint *height)
{
  *width = self->config.width;
  *height = self->config.height;
}

gboolean
zc_pipeline_get_frames_resent (ZcPipeline *self, guint64 *resent)
{
  if (self->capture == NULL || self->config.keepalive_ms == 0)
    return FALSE;
  g_object_get (self->capture, "frames-resent", resent, NULL);
  return TRUE;
}

void
zc_pipeline_get_stats (ZcPipeline *self, ZcPipelineStats *stats)
{
  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
}

void
zc_pipeline_free (ZcPipeline *self)
{
  if (self == NULL)
    return;
  self->stopped = TRUE;
  g_clear_handle_id (&self->retry_idle, g_source_remove);
  teardown (self);
  g_clear_pointer (&self->cursor, zc_cursor_relay_free);
  pipeline_unref (self);
}
