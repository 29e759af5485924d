/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-pipewirezerocopysrc
 * @title: pipewirezerocopysrc
 *
 * Captures a PipeWire video node, typically a GNOME ScreenCast stream, with
 * as few copies as the hardware allows. In system mode the PipeWire buffers
 * are mapped once and lent downstream without a CPU copy; they go back to
 * the producer when downstream is done with them.
 *
 * A damage-based screen sends nothing while it holds still: keepalive-time
 * resends a copy of the last picture so encoders and viewers keep going.
 * The first resend after a real frame waits half a keepalive-time longer,
 * so a producer repainting at about that period is never doubled, and a
 * frame right behind a resend follows it by at least 5 ms; PTS rise
 * strictly across resends, renegotiations and pauses.
 *
 * When the producer sends the cursor as metadata (Mutter's ScreenCast
 * cursor-mode 2), every change of the pointer's position or shape is posted
 * as an element message named "zc-cursor" (fields in zc-cursor.h).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 pipewirezerocopysrc pipewire-node-id=42 ! videoconvert ! \
 *     video/x-raw,format=I420 ! x264enc tune=zerolatency ! h264parse ! \
 *     mp4mux ! filesink location=desktop.mp4 -e
 * ]|
 */
#include "zc-config.h"

#include "gstpipewirezerocopysrc.h"

#include "zc-error.h"
#include "zc-format.h"
#include "zc-output.h"
#include "zc-stream.h"

#if ZC_HAVE_CUDA
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudautils.h>
#endif

GST_DEBUG_CATEGORY_STATIC (gst_pipewire_zerocopy_src_debug);
#define GST_CAT_DEFAULT gst_pipewire_zerocopy_src_debug

#define DEFAULT_NODE_ID 0
#define DEFAULT_FD -1
#define DEFAULT_RENDER_NODE "/dev/dri/renderD128"
#define DEFAULT_OUTPUT_MODE ZC_OUTPUT_MODE_AUTO
#define DEFAULT_CUDA_DEVICE_ID -1
#define DEFAULT_KEEPALIVE_TIME 100
#define DEFAULT_RESEND_LAST FALSE

enum
{
  PROP_0,
  PROP_NODE_ID,
  PROP_FD,
  PROP_RENDER_NODE,
  PROP_OUTPUT_MODE,
  PROP_CUDA_DEVICE_ID,
  PROP_KEEPALIVE_TIME,
  PROP_RESEND_LAST,
  PROP_FRAMES_RECEIVED,
  PROP_FRAMES_RESENT,
  PROP_FRAMES_DROPPED,
  PROP_FRAMES_CORRUPTED,
  PROP_BYTES_COPIED,
  PROP_MEMORY_TYPE,
  PROP_MODIFIER,
};

#define ZC_RAW_FORMATS "{ BGRx, BGRA, RGBx, RGBA, xRGB, ARGB }"

#define ZC_CUDA_CAPS                                                           \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES (                                          \
      "memory:CUDAMemory", "{ NV12, BGRx, BGRA, RGBx, RGBA, xRGB, ARGB }")
#if ZC_HAVE_GST_1_24
#define ZC_DMABUF_CAPS                                                         \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES ("memory:DMABuf", "DMA_DRM")
#else
#define ZC_DMABUF_CAPS                                                         \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES ("memory:DMABuf", ZC_RAW_FORMATS)
#endif

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (ZC_CUDA_CAPS
            ";" ZC_DMABUF_CAPS ";" GST_VIDEO_CAPS_MAKE (ZC_RAW_FORMATS)));

struct _GstPipewireZerocopySrc
{
  GstPushSrc parent;

  /* Properties, under the object lock. */
  guint node_id;
  gint fd;
  gchar *render_node;
  ZcOutputMode output_mode;
  gint cuda_device_id;
  guint keepalive_time;
  gboolean resend_last;

  ZcStats stats; /* atomics */

  /* Decided in start(), used by the streaming thread, freed in stop(). */
  ZcOutput output;
  gpointer cuda_ctx; /* GstCudaContext, object lock (shared with
                      * downstream by the context query) */

  /* Lock order: the PipeWire thread-loop lock, then @lock. The stream's
   * callbacks run with the loop lock held and take @lock; so code holding
   * @lock never calls into ZcStream, and never frees a frame (freeing one
   * queues its PipeWire buffer, which takes the loop lock). */
  GMutex lock;
  GCond cond;
  ZcStream *stream;   /* set in start(), cleared in stop() */
  GstBuffer *pending; /* newest frame not yet pushed */
  guint pending_seq;
  GstVideoInfo pending_info; /* the format @pending was made in */
  GstBuffer *last;           /* last picture pushed, for keepalive */
  gboolean last_is_copy;     /* last owns its memory (holds no PW buffer) */
  GstVideoInfo info;         /* negotiated with PipeWire */
  guint64 modifier;
  guint format_seq;
  GError *error;
  gboolean flushing;
  gboolean eos_requested;
  gboolean eos_resent;
  const gchar *memory_type;

  /* Streaming thread only. */
  guint caps_seq;
  GstCaps *current_caps;
  gint64 last_push_us;
  gboolean last_push_resent; /* the last push was a keepalive copy */
  GstClockTime last_pts;
};

#define gst_pipewire_zerocopy_src_parent_class parent_class
G_DEFINE_TYPE (
    GstPipewireZerocopySrc, gst_pipewire_zerocopy_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (pipewirezerocopysrc, "pipewirezerocopysrc",
    GST_RANK_NONE, GST_TYPE_PIPEWIRE_ZEROCOPY_SRC);

#define ZC_TYPE_OUTPUT_MODE (zc_output_mode_get_type ())
static GType
zc_output_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { ZC_OUTPUT_MODE_AUTO,
        "CUDA memory when downstream takes it and CUDA "
        "works, else DMA-BUF when downstream takes it, else system memory",
        "auto" },
    { ZC_OUTPUT_MODE_CUDA, "CUDA memory (for nvh264enc)", "cuda" },
    { ZC_OUTPUT_MODE_DMABUF, "DMA-BUF passthrough (for VA-API)", "dmabuf" },
    { ZC_OUTPUT_MODE_SYSTEM, "System memory, mapped without a copy", "system" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("ZcOutputMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* --- callbacks from the PipeWire thread (loop lock held) */

static void
on_format_changed (gpointer user_data, const GstVideoInfo *info,
    guint64 modifier, guint format_seq)
{
  GstPipewireZerocopySrc *self = user_data;
  GstBuffer *stale_pending, *stale_last;

  g_mutex_lock (&self->lock);
  self->info = *info;
  self->modifier = modifier;
  self->format_seq = format_seq;
  self->memory_type = zc_output_memory_name (&self->output, modifier);
  /* Nothing of the old size may be pushed after the new caps: no stale
   * keepalive copy, no frame that was waiting. */
  stale_pending = g_steal_pointer (&self->pending);
  stale_last = g_steal_pointer (&self->last);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  gst_clear_buffer (&stale_pending);
  gst_clear_buffer (&stale_last);
}

static void
on_frame (gpointer user_data, GstBuffer *frame, guint format_seq,
    const GstVideoInfo *info)
{
  GstPipewireZerocopySrc *self = user_data;
  GstBuffer *older;

  g_mutex_lock (&self->lock);
  if (format_seq < self->format_seq) {
    /* Made before the latest renegotiation (it raced it on the data
     * thread): never push a frame of the old size after the new caps. */
    g_mutex_unlock (&self->lock);
    zc_stats_add (&self->stats.frames_dropped, 1);
    gst_buffer_unref (frame);
    return;
  }
  older = self->pending;
  self->pending = frame;
  self->pending_seq = format_seq;
  self->pending_info = *info;
  g_mutex_unlock (&self->lock);
  /* Signalled after unlocking, so the woken streaming thread does not
   * block at once on the mutex this thread still holds (it re-checks
   * under the lock anyway). */
  g_cond_signal (&self->cond);

  if (older) {
    /* Downstream was slower than the producer: only the newest counts. */
    zc_stats_add (&self->stats.frames_dropped, 1);
    gst_buffer_unref (older);
  }
}

static void
on_stream_error (gpointer user_data, const GError *error)
{
  GstPipewireZerocopySrc *self = user_data;

  g_mutex_lock (&self->lock);
  if (self->error == NULL)
    self->error = g_error_copy (error);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Data thread. The bus is thread-safe; the application reads the pointer
 * from there (zerocast sends it to viewers beside the video). */
static void
on_cursor (gpointer user_data, GstStructure *cursor)
{
  GstPipewireZerocopySrc *self = user_data;

  gst_element_post_message (
      GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), cursor));
}

static const ZcStreamCallbacks stream_callbacks = {
  .format_changed = on_format_changed,
  .frame = on_frame,
  .error = on_stream_error,
  .cursor = on_cursor,
};

/* --- errors */

static void
post_error (GstPipewireZerocopySrc *self, const GError *error)
{
  switch (error->code) {
    case ZC_ERROR_NO_DAEMON:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message),
          ("pipewire-node-id=%u pipewire-fd=%d", self->node_id, self->fd));
      break;
    case ZC_ERROR_NO_NODE:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", error->message),
          ("pipewire-node-id=%u", self->node_id));
      break;
    case ZC_ERROR_NOT_NEGOTIATED:
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", error->message),
          ("pipewire-node-id=%u", self->node_id));
      break;
    case ZC_ERROR_UNSUPPORTED:
      GST_ELEMENT_ERROR (
          self, RESOURCE, SETTINGS, ("%s", error->message), (NULL));
      break;
    default:
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", error->message),
          ("pipewire-node-id=%u", self->node_id));
      break;
  }
}

/* --- start / stop */

static gboolean
gst_pipewire_zerocopy_src_start (GstBaseSrc *src)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (src);
  enum spa_video_format formats[16];
  ZcStreamConfig config = { 0 };
  GError *error = NULL;
  ZcStream *stream;
  ZcOutputMode requested;
  gchar *render_node;
  gint device_id;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  requested = self->output_mode;
  render_node = g_strdup (self->render_node);
  device_id = self->cuda_device_id;
  GST_OBJECT_UNLOCK (self);
  self->output.peer_caps =
      gst_pad_peer_query_caps (GST_BASE_SRC_PAD (src), NULL);
  ok = zc_output_choose (&self->output, GST_ELEMENT (self), requested,
      render_node, device_id, &self->cuda_ctx, &error);
  config.render_node = render_node; /* for explicit sync; copied */
  if (!ok)
    goto failed;

  /* Offer PipeWire only what downstream can take, so a mismatch is found
   * here, with both sides named, instead of after the first frame. */
  config.n_formats =
      zc_output_formats (&self->output, formats, G_N_ELEMENTS (formats));
  if (config.n_formats == 0) {
    gchar *str = gst_caps_to_string (self->output.peer_caps);
    g_set_error (&error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "Downstream accepts none of the formats pipewirezerocopysrc "
        "produces in %s memory (" ZC_RAW_FORMATS "); it accepts %s. "
        "Put videoconvert after the source.",
        zc_output_mode_name (self->output.mode), str);
    g_free (str);
    goto failed;
  }

  config.data_types =
      zc_output_data_types (&self->output, formats, config.n_formats);

  GST_OBJECT_LOCK (self);
  config.node_id = self->node_id;
  config.fd = self->fd;
  GST_OBJECT_UNLOCK (self);
  config.formats = formats;
  config.modifiers = self->output.modifiers;
  zc_format_preference_from_caps (self->output.peer_caps, &config.preference);
  config.stats = &self->stats;

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  self->eos_requested = FALSE;
  self->eos_resent = FALSE;
  self->format_seq = 0;
  g_clear_error (&self->error);
  g_mutex_unlock (&self->lock);
  self->caps_seq = 0;
  self->last_push_us = 0;
  self->last_push_resent = FALSE;
  self->last_pts = GST_CLOCK_TIME_NONE;

  stream = zc_stream_new (&config, &stream_callbacks, self, &error);
  g_clear_pointer (&render_node, g_free);
  if (stream == NULL)
    goto failed;
  g_mutex_lock (&self->lock);
  self->stream = stream;
  g_mutex_unlock (&self->lock);
  return TRUE;

failed:
  g_free (render_node);
  post_error (self, error);
  g_error_free (error);
  zc_output_clear (&self->output);
  return FALSE;
}

static gboolean
gst_pipewire_zerocopy_src_stop (GstBaseSrc *src)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (src);
  ZcStream *stream;
  GstBuffer *pending, *last;

  g_mutex_lock (&self->lock);
  stream = g_steal_pointer (&self->stream);
  g_mutex_unlock (&self->lock);
  /* No callback can run once this returns. */
  zc_stream_free (stream);

  g_mutex_lock (&self->lock);
  pending = g_steal_pointer (&self->pending);
  last = g_steal_pointer (&self->last);
  g_clear_error (&self->error);
  self->memory_type = NULL;
  g_mutex_unlock (&self->lock);
  gst_clear_buffer (&pending);
  gst_clear_buffer (&last);
  gst_clear_caps (&self->current_caps);
  self->caps_seq = 0;
  /* Last: the PipeWire buffers' imports (freed with the stream and the
   * frames above) used these. */
  zc_output_clear (&self->output);
  return TRUE;
}

/* Wakes create() (and a CUDA buffer-pool wait) when flushing; clears it. */
static void
set_flushing (GstPipewireZerocopySrc *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_mutex_unlock (&self->lock);
  g_cond_broadcast (&self->cond);
  zc_cuda_output_set_flushing (self->output.cuda, flushing);
}

static gboolean
gst_pipewire_zerocopy_src_unlock (GstBaseSrc *src)
{
  set_flushing (GST_PIPEWIRE_ZEROCOPY_SRC (src), TRUE);
  return TRUE;
}

static gboolean
gst_pipewire_zerocopy_src_unlock_stop (GstBaseSrc *src)
{
  set_flushing (GST_PIPEWIRE_ZEROCOPY_SRC (src), FALSE);
  return TRUE;
}

/* Caps are decided by what PipeWire negotiated, when the first frame of a
 * format arrives (see create()); basesrc's default would fixate the template
 * to an arbitrary size before that. */
static gboolean
gst_pipewire_zerocopy_src_negotiate (GstBaseSrc *src)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (src);
  GstCaps *caps = NULL;
  gboolean ok = TRUE;

  if (self->current_caps)
    caps = gst_caps_ref (self->current_caps);
  if (caps) {
    ok = gst_base_src_set_caps (src, caps);
    gst_caps_unref (caps);
  }
  return ok;
}

static gboolean
gst_pipewire_zerocopy_src_query (GstBaseSrc *src, GstQuery *query)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (src);

#if ZC_HAVE_CUDA
  if (GST_QUERY_TYPE (query) == GST_QUERY_CONTEXT) {
    gboolean ret;
    GST_OBJECT_LOCK (self);
    ret = self->cuda_ctx
        && gst_cuda_handle_context_query (
            GST_ELEMENT (self), query, self->cuda_ctx);
    GST_OBJECT_UNLOCK (self);
    if (ret)
      return TRUE;
  }
#endif
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime min;

    /* A frame is stamped when the compositor finished it and reaches us a
     * little later: claim one frame of latency (60 Hz when the rate is
     * variable). */
    g_mutex_lock (&self->lock);
    if (self->format_seq && GST_VIDEO_INFO_FPS_N (&self->info) > 0)
      min = gst_util_uint64_scale_int (GST_SECOND,
          GST_VIDEO_INFO_FPS_D (&self->info),
          GST_VIDEO_INFO_FPS_N (&self->info));
    else
      min = GST_SECOND / 60;
    g_mutex_unlock (&self->lock);
    gst_query_set_latency (query, TRUE, min, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* --- streaming */

/* PipeWire stamps frames with CLOCK_MONOTONIC. Convert through the frame's
 * age rather than assuming the pipeline clock is monotonic. */
static GstClockTime
running_time_of (GstPipewireZerocopySrc *self, GstClockTime capture_mono)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
  GstClockTime now_mono = (GstClockTime) g_get_monotonic_time () * 1000;
  GstClockTime now, age = 0, rt = 0;

  if (clock) {
    now = gst_clock_get_time (clock);
    gst_object_unref (clock);
    if (GST_CLOCK_TIME_IS_VALID (capture_mono) && capture_mono <= now_mono
        && now_mono - capture_mono < GST_SECOND)
      age = now_mono - capture_mono;
    if (now > base + age)
      rt = now - base - age;
  }
  return rt;
}

/* The PTS to push with: strictly rising whatever the producer says, and
 * across renegotiations and pauses. */
static GstClockTime
rising_pts (GstPipewireZerocopySrc *self, GstClockTime rt)
{
  if (GST_CLOCK_TIME_IS_VALID (self->last_pts) && rt <= self->last_pts)
    rt = self->last_pts + 1;
  self->last_pts = rt;
  return rt;
}

/* A copy of the last picture that holds no PipeWire buffer. Called without
 * @lock; @last is our own reference. */
static GstBuffer *
make_keepalive (
    GstPipewireZerocopySrc *self, GstBuffer *last, gboolean last_is_copy)
{
  GstBuffer *owned, *out, *released = NULL;

  if (last_is_copy) {
    owned = gst_buffer_ref (last);
  } else {
    owned = gst_buffer_copy_deep (last);
    zc_stats_add (
        &self->stats.bytes_copied, (gint64) gst_buffer_get_size (owned));
    g_mutex_lock (&self->lock);
    if (self->last == last) {
      /* Give the PipeWire buffer back now: the copy stands in for it. */
      released = self->last;
      self->last = gst_buffer_ref (owned);
      self->last_is_copy = TRUE;
    }
    g_mutex_unlock (&self->lock);
    gst_clear_buffer (&released);
  }
  /* A new buffer object sharing the copy's memory: its own timestamps. */
  out = gst_buffer_copy (owned);
  gst_buffer_unref (owned);
  return out;
}

/* What create() is to do next. */
typedef struct
{
  GstBuffer *frame; /* a new frame, or */
  GstBuffer *last;  /* the last picture, to resend */
  gboolean last_is_copy;
  guint frame_seq;
  GstVideoInfo info; /* of frame_seq */
  guint64 modifier;
} ZcWork;

/* When the next keepalive copy is due. A producer repainting at exactly
 * keepalive-time (a 10 fps desktop, the default 100 ms) would race a timer
 * of that length, and whichever lost would come a few microseconds after
 * the other: two pushes of nearly one instant, doubling the frame rate. So
 * the first resend after a real frame waits half a keepalive-time longer;
 * later ones, on a desktop that is really still, come every keepalive-time.
 * Measured from the last push, of a frame or a copy. */
static gint64
keepalive_due (GstPipewireZerocopySrc *self, guint keepalive_ms)
{
  gint64 wait_us = (gint64) keepalive_ms * 1000;

  if (!self->last_push_resent)
    wait_us += wait_us / 2;
  return self->last_push_us + wait_us;
}

/* The least time between a keepalive copy and the frame after it. Pushed
 * microseconds apart, the two mislead whoever paces or measures by PTS,
 * and a muxer with a 1 ms time base (mp4mux at 10 fps) gives the copy a
 * zero duration. Short against a frame's latency. */
static gint64
keepalive_gap_us (guint keepalive_ms)
{
  return MIN ((gint64) 5000, (gint64) keepalive_ms * 1000 / 2);
}

/* Waits for a frame, a keepalive deadline, EOS, an error or a flush. */
static GstFlowReturn
wait_for_work (GstPipewireZerocopySrc *self, guint keepalive_ms, ZcWork *work)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GError *error = NULL;
  gint64 gap_us = keepalive_gap_us (keepalive_ms);

  memset (work, 0, sizeof (*work));
  g_mutex_lock (&self->lock);
  for (;;) {
    gint64 due = keepalive_due (self, keepalive_ms);
    gboolean keepalive =
        keepalive_ms > 0 && self->last && self->last_push_us > 0;

    if (self->error) {
      error = g_error_copy (self->error);
      ret = GST_FLOW_ERROR;
      break;
    }
    if (self->flushing) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (self->eos_requested) {
      /* resend-last: one more copy of the last picture, then EOS (the
       * flag stays set, so the next call returns EOS). */
      if (self->last && !self->eos_resent) {
        self->eos_resent = TRUE;
        work->last = gst_buffer_ref (self->last);
        work->last_is_copy = self->last_is_copy;
      } else {
        ret = GST_FLOW_EOS;
      }
      break;
    }
    if (self->pending && self->last_push_resent
        && g_get_monotonic_time () < self->last_push_us + gap_us) {
      /* Right behind a keepalive copy: wait out the gap (a newer frame
       * may replace this one meanwhile). */
      g_cond_wait_until (&self->cond, &self->lock, self->last_push_us + gap_us);
      continue;
    }
    if (self->pending) {
      work->frame = g_steal_pointer (&self->pending);
      work->frame_seq = self->pending_seq;
      work->info = self->pending_info;
      work->modifier = self->modifier;
      break;
    }
    if (keepalive && g_get_monotonic_time () >= due) {
      work->last = gst_buffer_ref (self->last);
      work->last_is_copy = self->last_is_copy;
      break;
    }
    if (keepalive)
      g_cond_wait_until (&self->cond, &self->lock, due);
    else
      g_cond_wait (&self->cond, &self->lock);
  }
  g_mutex_unlock (&self->lock);

  if (error) {
    post_error (self, error);
    g_error_free (error);
  }
  return ret;
}

/* Turns a PipeWire frame into what goes downstream in the chosen memory.
 * GST_FLOW_OK with *out NULL: nothing to push for this frame. */
static GstFlowReturn
produce (GstPipewireZerocopySrc *self, ZcWork *work, GstBuffer **out,
    gboolean *owns_memory)
{
  GstBuffer *frame = g_steal_pointer (&work->frame);
  GError *error = NULL;
  GstFlowReturn ret;
  gboolean import_failed = FALSE;

  *out = NULL;
  *owns_memory = FALSE;
  if (work->frame_seq != self->caps_seq) {
    GstCaps *caps =
        zc_output_caps (&self->output, &work->info, work->modifier, &error);

    if (caps == NULL)
      goto not_negotiated;
    GST_INFO_OBJECT (self, "new caps %" GST_PTR_FORMAT, caps);
    if (!gst_base_src_set_caps (GST_BASE_SRC (self), caps)) {
      gchar *str = gst_caps_to_string (caps);
      g_set_error (&error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
          "Downstream refused %s. Put videoconvert after "
          "pipewirezerocopysrc (or use output-mode=system).",
          str);
      g_free (str);
      gst_caps_unref (caps);
      goto not_negotiated;
    }
    gst_caps_replace (&self->current_caps, caps);
    gst_caps_unref (caps);
    self->caps_seq = work->frame_seq;
  }

  if (self->output.mode != ZC_OUTPUT_MODE_CUDA) {
    /* System memory and DMA-BUF go downstream as PipeWire lent them. */
    *out = frame;
    *owns_memory = self->output.mode == ZC_OUTPUT_MODE_DMABUF
        && !zc_output_frames_in_system (&self->output, work->modifier);
    return GST_FLOW_OK;
  }

  ret = zc_cuda_output_process (
      self->output.cuda, frame, out, &import_failed, &error);
  /* Every GPU read is done: the PipeWire buffer goes back now. */
  gst_buffer_unref (frame);
  if (import_failed) {
    GST_INFO_OBJECT (
        self, "DMA-BUF import failed, renegotiating: %s", error->message);
    g_clear_error (&error);
    zc_stream_drop_modifier (self->stream,
        zc_format_from_gst (GST_VIDEO_INFO_FORMAT (&work->info))->drm,
        work->modifier);
    return GST_FLOW_OK;
  }
  if (ret == GST_FLOW_ERROR) {
    post_error (self, error);
    g_clear_error (&error);
  }
  *owns_memory = TRUE;
  return ret;

  /* ERRORS */
not_negotiated : {
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("%s", error->message), (NULL));
  g_error_free (error);
  gst_buffer_unref (frame);
  return GST_FLOW_NOT_NEGOTIATED;
}
}

static GstFlowReturn
gst_pipewire_zerocopy_src_create (GstPushSrc *psrc, GstBuffer **outbuf)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (psrc);
  GstBuffer *replaced = NULL;
  gboolean keep_last, owns_memory = TRUE;
  GstClockTime capture;
  guint keepalive_ms;
  GstFlowReturn ret;
  ZcWork work;

  GST_OBJECT_LOCK (self);
  keepalive_ms = self->keepalive_time;
  keep_last = keepalive_ms > 0 || self->resend_last;
  GST_OBJECT_UNLOCK (self);

  do {
    gboolean superseded;

    ret = wait_for_work (self, keepalive_ms, &work);
    if (ret != GST_FLOW_OK)
      return ret;
    if (work.last) {
      *outbuf = make_keepalive (self, work.last, work.last_is_copy);
      gst_buffer_unref (work.last);
      /* A frame that came while the copy was made supersedes it: push
       * one of the two, the new picture, never both. (An EOS resend is
       * the last push whatever came.) */
      g_mutex_lock (&self->lock);
      superseded = self->pending != NULL && !self->eos_requested;
      g_mutex_unlock (&self->lock);
      if (superseded) {
        GST_LOG_OBJECT (self, "keepalive superseded by a new frame");
        gst_clear_buffer (outbuf);
        continue;
      }
      zc_stats_add (&self->stats.frames_resent, 1);
      GST_BUFFER_PTS (*outbuf) = rising_pts (self,
          running_time_of (
              self, (GstClockTime) g_get_monotonic_time () * 1000));
      GST_LOG_OBJECT (self, "keepalive resend, pts %" GST_TIME_FORMAT,
          GST_TIME_ARGS (GST_BUFFER_PTS (*outbuf)));
      break;
    }
    /* The capture time, before produce() may replace the buffer. A frame
     * right behind a keepalive copy (held back in wait_for_work) is
     * stamped at least the gap after it too: one captured before the copy
     * went out (the producer stalled past the keepalive, then came) would
     * otherwise get the copy's PTS plus 1 ns. */
    capture = running_time_of (self, GST_BUFFER_PTS (work.frame));
    if (self->last_push_resent && GST_CLOCK_TIME_IS_VALID (self->last_pts))
      capture = MAX (capture,
          self->last_pts + keepalive_gap_us (keepalive_ms) * GST_USECOND);
    ret = produce (self, &work, outbuf, &owns_memory);
    if (ret != GST_FLOW_OK)
      return ret;
    if (*outbuf)
      GST_BUFFER_PTS (*outbuf) = rising_pts (self, capture);
  } while (*outbuf == NULL);

  GST_BUFFER_DTS (*outbuf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (*outbuf) = GST_CLOCK_TIME_NONE;
  g_mutex_lock (&self->lock);
  if (work.frame_seq != 0 && keep_last) {
    /* Holding the last picture keeps one PipeWire buffer out until the
     * next frame, or until keepalive copies it: never longer. A CUDA
     * buffer holds none; a DMA-BUF is resent as it is (a copy would land
     * in system memory). */
    replaced = self->last;
    self->last = gst_buffer_ref (*outbuf);
    self->last_is_copy = owns_memory;
  }
  self->last_push_us = g_get_monotonic_time ();
  self->last_push_resent = work.frame_seq == 0;
  g_mutex_unlock (&self->lock);
  /* Outside the lock: freeing a frame requeues its PipeWire buffer. */
  gst_clear_buffer (&replaced);
  return GST_FLOW_OK;
}

/* A CUDA context from the application or a neighbour (nvh264enc): use it,
 * so the encoder reads our buffers without a copy between contexts. */
static void
gst_pipewire_zerocopy_src_set_context (GstElement *element, GstContext *context)
{
#if ZC_HAVE_CUDA
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (element);
  GstCudaContext *ctx = NULL;
  gint device_id;

  GST_OBJECT_LOCK (self);
  device_id = self->cuda_device_id;
  ctx = self->cuda_ctx ? gst_object_ref (self->cuda_ctx) : NULL;
  GST_OBJECT_UNLOCK (self);
  gst_cuda_handle_set_context (element, context, device_id, &ctx);
  GST_OBJECT_LOCK (self);
  if (self->cuda_ctx != (gpointer) ctx) {
    gst_clear_object ((GstCudaContext **) &self->cuda_ctx);
    self->cuda_ctx = ctx ? gst_object_ref (ctx) : NULL;
  }
  GST_OBJECT_UNLOCK (self);
  gst_clear_object (&ctx);
#endif
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}

/* EOS sent by the application: with resend-last, the last picture goes out
 * once more before EOS (an encoder then emits it as its final frame). */
static gboolean
gst_pipewire_zerocopy_src_send_event (GstElement *element, GstEvent *event)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (element);
  gboolean resend_last, handled = FALSE;

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_OBJECT_LOCK (self);
    resend_last = self->resend_last;
    GST_OBJECT_UNLOCK (self);
    g_mutex_lock (&self->lock);
    if (resend_last && self->stream && self->last) {
      self->eos_requested = TRUE;
      g_cond_broadcast (&self->cond);
      handled = TRUE;
    }
    g_mutex_unlock (&self->lock);
    if (handled) {
      gst_event_unref (event);
      return TRUE;
    }
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

/* --- properties */

static void
gst_pipewire_zerocopy_src_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NODE_ID:
      self->node_id = g_value_get_uint (value);
      break;
    case PROP_FD:
      self->fd = g_value_get_int (value);
      break;
    case PROP_RENDER_NODE:
      g_free (self->render_node);
      self->render_node = g_value_dup_string (value);
      break;
    case PROP_OUTPUT_MODE:
      self->output_mode = g_value_get_enum (value);
      break;
    case PROP_CUDA_DEVICE_ID:
      self->cuda_device_id = g_value_get_int (value);
      break;
    case PROP_KEEPALIVE_TIME:
      self->keepalive_time = g_value_get_uint (value);
      break;
    case PROP_RESEND_LAST:
      self->resend_last = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_pipewire_zerocopy_src_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (object);

  switch (prop_id) {
    case PROP_FRAMES_RECEIVED:
      g_value_set_uint64 (value, zc_stats_get (&self->stats.frames_received));
      return;
    case PROP_FRAMES_RESENT:
      g_value_set_uint64 (value, zc_stats_get (&self->stats.frames_resent));
      return;
    case PROP_FRAMES_DROPPED:
      g_value_set_uint64 (value, zc_stats_get (&self->stats.frames_dropped));
      return;
    case PROP_FRAMES_CORRUPTED:
      g_value_set_uint64 (value, zc_stats_get (&self->stats.frames_corrupted));
      return;
    case PROP_BYTES_COPIED:
      g_value_set_uint64 (value, zc_stats_get (&self->stats.bytes_copied));
      return;
    case PROP_MEMORY_TYPE:
      g_mutex_lock (&self->lock);
      g_value_set_string (
          value, self->memory_type ? self->memory_type : "none");
      g_mutex_unlock (&self->lock);
      return;
    case PROP_MODIFIER:
      g_mutex_lock (&self->lock);
      g_value_set_uint64 (value, self->modifier);
      g_mutex_unlock (&self->lock);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NODE_ID:
      g_value_set_uint (value, self->node_id);
      break;
    case PROP_FD:
      g_value_set_int (value, self->fd);
      break;
    case PROP_RENDER_NODE:
      g_value_set_string (value, self->render_node);
      break;
    case PROP_OUTPUT_MODE:
      g_value_set_enum (value, self->output_mode);
      break;
    case PROP_CUDA_DEVICE_ID:
      g_value_set_int (value, self->cuda_device_id);
      break;
    case PROP_KEEPALIVE_TIME:
      g_value_set_uint (value, self->keepalive_time);
      break;
    case PROP_RESEND_LAST:
      g_value_set_boolean (value, self->resend_last);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_pipewire_zerocopy_src_finalize (GObject *object)
{
  GstPipewireZerocopySrc *self = GST_PIPEWIRE_ZEROCOPY_SRC (object);

  g_free (self->render_node);
  gst_clear_object ((GstObject **) &self->cuda_ctx);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_pipewire_zerocopy_src_init (GstPipewireZerocopySrc *self)
{
  self->node_id = DEFAULT_NODE_ID;
  self->fd = DEFAULT_FD;
  self->render_node = g_strdup (DEFAULT_RENDER_NODE);
  self->output_mode = DEFAULT_OUTPUT_MODE;
  self->cuda_device_id = DEFAULT_CUDA_DEVICE_ID;
  self->keepalive_time = DEFAULT_KEEPALIVE_TIME;
  self->resend_last = DEFAULT_RESEND_LAST;
  self->modifier = ZC_DRM_FORMAT_MOD_INVALID;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), FALSE);
}

#define STAT_FLAGS (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)
#define PROP_FLAGS                                                             \
  (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void
gst_pipewire_zerocopy_src_class_init (GstPipewireZerocopySrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_pipewire_zerocopy_src_debug,
      "pipewirezerocopysrc", 0, "Zero-copy PipeWire screen capture");

  gobject_class->set_property = gst_pipewire_zerocopy_src_set_property;
  gobject_class->get_property = gst_pipewire_zerocopy_src_get_property;
  gobject_class->finalize = gst_pipewire_zerocopy_src_finalize;

  g_object_class_install_property (gobject_class, PROP_NODE_ID,
      g_param_spec_uint ("pipewire-node-id", "PipeWire node id",
          "The PipeWire node to capture: the id a ScreenCast session "
          "announces (Mutter's PipeWireStreamAdded, or the portal's "
          "streams), or one from pw-dump",
          0, G_MAXUINT, DEFAULT_NODE_ID, PROP_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FD,
      g_param_spec_int ("pipewire-fd", "PipeWire fd",
          "A PipeWire remote fd, from the ScreenCast portal's "
          "OpenPipeWireRemote; -1 connects to the user's PipeWire daemon. "
          "The element duplicates it; the caller keeps its own",
          -1, G_MAXINT, DEFAULT_FD, PROP_FLAGS));
  g_object_class_install_property (gobject_class, PROP_RENDER_NODE,
      g_param_spec_string ("render-node", "DRM render node",
          "The DRM render node whose EGL imports DMA-BUFs (cuda and dmabuf "
          "output modes)",
          DEFAULT_RENDER_NODE, PROP_FLAGS));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_MODE,
      g_param_spec_enum ("output-mode", "Output mode",
          "What memory frames go downstream in", ZC_TYPE_OUTPUT_MODE,
          DEFAULT_OUTPUT_MODE, PROP_FLAGS));
  g_object_class_install_property (gobject_class, PROP_CUDA_DEVICE_ID,
      g_param_spec_int ("cuda-device-id", "CUDA device id",
          "The CUDA device for output-mode=cuda; -1 uses the device behind "
          "the EGL device of render-node",
          -1, G_MAXINT, DEFAULT_CUDA_DEVICE_ID, PROP_FLAGS));
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE_TIME,
      g_param_spec_uint ("keepalive-time", "Keepalive time (ms)",
          "When the producer sends no frame for this long (a damage-based "
          "screen holding still), push a copy of the last frame with a new "
          "timestamp (the first copy after a frame waits half as long "
          "again, so a producer at this period is not doubled); 0 disables",
          0, G_MAXUINT, DEFAULT_KEEPALIVE_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_RESEND_LAST,
      g_param_spec_boolean ("resend-last", "Resend last frame on EOS",
          "When the application sends EOS, push the last frame once more "
          "before EOS",
          DEFAULT_RESEND_LAST,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_FRAMES_RECEIVED,
      g_param_spec_uint64 ("frames-received", "Frames received",
          "Frames taken from PipeWire (corrupted and cursor-only buffers "
          "excluded)",
          0, G_MAXUINT64, 0, STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_RESENT,
      g_param_spec_uint64 ("frames-resent", "Frames resent",
          "Copies of the last frame pushed by keepalive or resend-last", 0,
          G_MAXUINT64, 0, STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_DROPPED,
      g_param_spec_uint64 ("frames-dropped", "Frames dropped",
          "Frames replaced by a newer one before downstream took them", 0,
          G_MAXUINT64, 0, STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_CORRUPTED,
      g_param_spec_uint64 ("frames-corrupted", "Frames corrupted",
          "Buffers skipped because the producer flagged them corrupted or "
          "they were too small for the format",
          0, G_MAXUINT64, 0, STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_BYTES_COPIED,
      g_param_spec_uint64 ("bytes-copied", "Bytes copied",
          "Bytes of picture data the element copied with the CPU", 0,
          G_MAXUINT64, 0, STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_MEMORY_TYPE,
      g_param_spec_string ("memory-type", "Memory type",
          "The memory frames go downstream in: none (not negotiated yet), "
          "system, cuda or dmabuf",
          "none", STAT_FLAGS));
  g_object_class_install_property (gobject_class, PROP_MODIFIER,
      g_param_spec_uint64 ("modifier", "DRM modifier",
          "The negotiated DRM format modifier (0xffffffffffffff: none, "
          "as with MemFd buffers)",
          0, G_MAXUINT64, ZC_DRM_FORMAT_MOD_INVALID, STAT_FLAGS));

  gst_element_class_set_static_metadata (element_class,
      "PipeWire zero-copy screen capture", "Source/Video",
      "Captures a PipeWire video node (a GNOME ScreenCast) without CPU "
      "copies: system memory, DMA-BUF or CUDA memory. Example: "
      "gst-launch-1.0 -e pipewirezerocopysrc pipewire-node-id=NODE ! "
      "videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency ! "
      "h264parse ! mp4mux ! filesink location=desktop.mp4",
      "zerocast developers");
  gst_element_class_add_static_pad_template (element_class, &src_template);
  element_class->send_event =
      GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_send_event);
  element_class->set_context =
      GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_set_context);

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_unlock_stop);
  basesrc_class->negotiate =
      GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_negotiate);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_pipewire_zerocopy_src_create);

  gst_type_mark_as_plugin_api (ZC_TYPE_OUTPUT_MODE, 0);
}
