/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ZcStream owns the PipeWire side: a thread loop, the connection, a check
 * that the node exists and speaks one of our formats, and a pw_stream whose
 * buffers are mapped once and lent downstream without a copy.
 *
 * Lifetimes: a frame handed out holds a reference on its slot (the per
 * PipeWire buffer state) and on the ZcStream. When the frame's memory is
 * freed, the PipeWire buffer is queued back, unless PipeWire removed it in
 * the meantime (renegotiation, disconnect); the slot's own mapping keeps the
 * memory valid until the last frame using it is gone.
 */
#define _GNU_SOURCE             /* mremap */
#include "zc-stream.h"

#include "zc-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>
#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>

GST_DEBUG_CATEGORY_STATIC (zc_stream_debug);
#define GST_CAT_DEFAULT zc_stream_debug

/* How long start-up may wait for the daemon to answer a round trip, and how
 * long a connected stream may take to agree on a format. */
#define ZC_SYNC_TIMEOUT_US (3 * G_USEC_PER_SEC)
#define ZC_NEGOTIATION_TIMEOUT_S 10

typedef struct
{
  gint refcount;
  struct pw_buffer *pwb;        /* NULL once PipeWire removed the buffer */
  guint8 *map;                  /* our own mapping of a MemFd, or NULL */
  gsize map_size;
  const guint8 *data;           /* start of the data: in map, or MemPtr */
  gsize maxsize;
  guint32 type;                 /* SPA_DATA_* */
  guint n_planes;               /* DmaBuf: fds owned by PipeWire */
  gint fds[4];
  guint32 offsets[4];           /* from the chunks of the latest frame */
  guint32 strides[4];
  gpointer user_data;           /* zc_stream_frame_set_data() */
  GDestroyNotify user_destroy;
  /* Frames lent downstream; @lock and @cond are leaf locks (never held
   * while taking another) so remove_buffer can wait on them. */
  GMutex lock;
  GCond cond;
  gint lent;
} ZcSlot;

struct _ZcStream
{
  gint refcount;
  ZcStreamCallbacks callbacks;
  gpointer user_data;
  ZcStats *stats;

  guint32 node_id;
  gchar *node_serial;
  gboolean node_found;
  gboolean node_removed;

  struct pw_thread_loop *loop;
  struct pw_context *context;
  struct pw_core *core;
  struct spa_hook core_listener;
  struct pw_registry *registry;
  struct spa_hook registry_listener;
  struct pw_node *node;
  struct spa_hook node_listener;
  struct pw_stream *stream;
  struct spa_hook stream_listener;
  struct spa_source *negotiation_timer;

  gint pending_seq;
  gboolean sync_done;
  gboolean failed;
  GArray *offered;              /* enum spa_video_format the node offers */
  gboolean offered_other;       /* it offered formats that are not ours */
  gboolean offered_dmabuf;      /* some offer had a modifier (DMA-BUF) */

  guint32 data_types;
  ZcModifiers *modifiers;       /* loop lock; DMA-BUF offers left */
  enum spa_video_format formats[16];
  guint n_formats;
  GstAllocator *dmabuf_allocator;
  gint n_buffers;               /* PipeWire thread only */
  gint lent_slots;              /* atomic: buffers with frames downstream */
  gboolean have_format;
  GstVideoInfo info;
  guint format_seq;
};

static ZcStream *
zc_stream_ref (ZcStream * s)
{
  g_atomic_int_inc (&s->refcount);
  return s;
}

static void
zc_stream_unref (ZcStream * s)
{
  if (!g_atomic_int_dec_and_test (&s->refcount))
    return;
  /* The thread is stopped (zc_stream_free); nothing can run on it now. */
  if (s->context)
    pw_context_destroy (s->context);
  if (s->loop)
    pw_thread_loop_destroy (s->loop);
  if (s->offered)
    g_array_unref (s->offered);
  zc_modifiers_free (s->modifiers);
  if (s->dmabuf_allocator)
    gst_object_unref (s->dmabuf_allocator);
  g_free (s->node_serial);
  g_free (s);
}

static void
slot_unref (ZcSlot * slot)
{
  if (!g_atomic_int_dec_and_test (&slot->refcount))
    return;
  if (slot->user_destroy)
    slot->user_destroy (slot->user_data);
  if (slot->map)
    munmap (slot->map, slot->map_size);
  g_mutex_clear (&slot->lock);
  g_cond_clear (&slot->cond);
  g_free (slot);
}

/* Called on the PipeWire thread or, when the failure is found before the
 * thread loop runs our stream, on the caller's thread with the lock held. */
static void
report_error (ZcStream * s, ZcError code, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);

static void
report_error (ZcStream * s, ZcError code, const gchar * format, ...)
{
  GError *error;
  va_list args;

  if (s->failed)
    return;
  s->failed = TRUE;
  va_start (args, format);
  error = g_error_new_valist (ZC_ERROR, code, format, args);
  va_end (args);
  GST_WARNING ("node %u: %s", s->node_id, error->message);
  if (s->callbacks.error)
    s->callbacks.error (s->user_data, error);
  g_error_free (error);
  pw_thread_loop_signal (s->loop, FALSE);
}

/* --- the core and the registry: does the node exist, what does it offer */

static void
on_core_done (void *data, uint32_t id, int seq)
{
  ZcStream *s = data;

  if (id == PW_ID_CORE && seq == s->pending_seq) {
    s->sync_done = TRUE;
    pw_thread_loop_signal (s->loop, FALSE);
  }
}

static void
on_core_error (void *data, uint32_t id, int seq, int res, const char *message)
{
  ZcStream *s = data;

  GST_DEBUG ("core error id %u seq %d: %s (%s)", id, seq, message,
      spa_strerror (res));
  if (id == PW_ID_CORE && res == -EPIPE)
    report_error (s, ZC_ERROR_NO_DAEMON,
        "Lost the connection to the PipeWire daemon (it stopped or "
        "restarted). Restart the pipeline once PipeWire runs again.");
}

static const struct pw_core_events core_events = {
  PW_VERSION_CORE_EVENTS,
  .done = on_core_done,
  .error = on_core_error,
};

static void
on_registry_global (void *data, uint32_t id, uint32_t permissions,
    const char *type, uint32_t version, const struct spa_dict *props)
{
  ZcStream *s = data;
  const char *serial;

  if (id != s->node_id || strcmp (type, PW_TYPE_INTERFACE_Node) != 0)
    return;
  s->node_found = TRUE;
  serial = props ? spa_dict_lookup (props, PW_KEY_OBJECT_SERIAL) : NULL;
  g_free (s->node_serial);
  s->node_serial = g_strdup (serial);
}

static void
on_registry_global_remove (void *data, uint32_t id)
{
  ZcStream *s = data;

  if (id != s->node_id || !s->node_found)
    return;
  s->node_removed = TRUE;
  report_error (s, ZC_ERROR_NO_NODE,
      "PipeWire node %u went away (the screencast or its producer stopped). "
      "Start a new ScreenCast session and use its node id.", id);
}

static const struct pw_registry_events registry_events = {
  PW_VERSION_REGISTRY_EVENTS,
  .global = on_registry_global,
  .global_remove = on_registry_global_remove,
};

static void
on_node_param (void *data, int seq, uint32_t id, uint32_t index,
    uint32_t next, const struct spa_pod *param)
{
  ZcStream *s = data;
  const struct spa_pod_prop *prop;
  uint32_t n_values, choice, value_type;
  const uint32_t *values;
  uint32_t media_type, media_subtype;

  if (id != SPA_PARAM_EnumFormat || param == NULL)
    return;
  if (spa_format_parse (param, &media_type, &media_subtype) < 0
      || media_type != SPA_MEDIA_TYPE_video
      || media_subtype != SPA_MEDIA_SUBTYPE_raw) {
    s->offered_other = TRUE;
    return;
  }
  if (spa_pod_find_prop (param, NULL, SPA_FORMAT_VIDEO_modifier))
    s->offered_dmabuf = TRUE;
  prop = spa_pod_find_prop (param, NULL, SPA_FORMAT_VIDEO_format);
  if (prop == NULL)
    return;
  value_type = SPA_POD_TYPE (&prop->value) == SPA_TYPE_Choice ?
      SPA_POD_CHOICE_VALUE_TYPE (&prop->value) : SPA_POD_TYPE (&prop->value);
  if (value_type != SPA_TYPE_Id)
    return;
  values = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n_values,
          &choice));
  for (uint32_t i = 0; i < n_values; i++) {
    if (zc_format_from_spa (values[i]) == NULL)
      s->offered_other = TRUE;
    g_array_append_val (s->offered, values[i]);
  }
}

static const struct pw_node_events node_events = {
  PW_VERSION_NODE_EVENTS,
  .param = on_node_param,
};

/* Waits, lock held, for the daemon to answer everything asked so far. */
static gboolean
sync_core (ZcStream * s, GError ** error)
{
  gint64 deadline = g_get_monotonic_time () + ZC_SYNC_TIMEOUT_US;

  s->sync_done = FALSE;
  s->pending_seq = pw_core_sync (s->core, PW_ID_CORE, 0);
  while (!s->sync_done && !s->failed) {
    if (g_get_monotonic_time () > deadline) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "The PipeWire daemon did not answer within %d s",
          (int) (ZC_SYNC_TIMEOUT_US / G_USEC_PER_SEC));
      return FALSE;
    }
    pw_thread_loop_timed_wait (s->loop, 1);
  }
  return TRUE;
}

static gchar *
describe_formats (const enum spa_video_format *formats, guint n)
{
  GString *str = g_string_new (NULL);

  for (guint i = 0; i < n; i++) {
    if (i)
      g_string_append (str, ", ");
    g_string_append (str, zc_format_spa_name (formats[i]));
  }
  if (n == 0)
    g_string_append (str, "no raw video format");
  return g_string_free (str, FALSE);
}

/* Asks the node for its EnumFormat params, so a node that speaks none of our
 * formats is an immediate, precise error rather than a link that never
 * negotiates. A node that lists nothing is given the benefit of the doubt:
 * the negotiation timeout still covers it. */
static gboolean
check_node_formats (ZcStream * s, const ZcStreamConfig * config,
    GError ** error)
{
  gchar *ours, *theirs;

  s->node = pw_registry_bind (s->registry, s->node_id, PW_TYPE_INTERFACE_Node,
      PW_VERSION_NODE, 0);
  if (s->node == NULL)
    return TRUE;
  pw_node_add_listener (s->node, &s->node_listener, &node_events, s);
  pw_node_enum_params (s->node, 0, SPA_PARAM_EnumFormat, 0, UINT32_MAX, NULL);
  if (!sync_core (s, error))
    return FALSE;

  if (s->offered->len == 0 && !s->offered_other)
    return TRUE;
  if (config->data_types == (1u << SPA_DATA_DmaBuf) && !s->offered_dmabuf) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
        "PipeWire node %u offers no DMA-BUF, only shared memory (a software "
        "or headless compositor). Use output-mode=system or auto.",
        s->node_id);
    return FALSE;
  }
  for (guint i = 0; i < s->offered->len; i++)
    for (guint j = 0; j < config->n_formats; j++)
      if (g_array_index (s->offered, guint32, i) == config->formats[j])
        return TRUE;

  ours = describe_formats (config->formats, config->n_formats);
  theirs = describe_formats ((const enum spa_video_format *) s->offered->data,
      s->offered->len);
  g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
      "PipeWire node %u offers %s; pipewirezerocopysrc (with what "
      "downstream accepts) can take %s. Capture a screen node, or put a "
      "converter in the producer.", s->node_id, theirs, ours);
  g_free (ours);
  g_free (theirs);
  return FALSE;
}

/* --- the stream */

static void
on_state_changed (void *data, enum pw_stream_state old,
    enum pw_stream_state state, const char *error)
{
  ZcStream *s = data;

  GST_DEBUG ("stream state %s -> %s", pw_stream_state_as_string (old),
      pw_stream_state_as_string (state));
  if (state == PW_STREAM_STATE_ERROR)
    report_error (s, ZC_ERROR_STREAM, "PipeWire stream error on node %u: %s",
        s->node_id, error ? error : "unknown");
  else if (state == PW_STREAM_STATE_UNCONNECTED
      && old != PW_STREAM_STATE_CONNECTING)
    report_error (s, ZC_ERROR_NO_NODE,
        "The PipeWire stream from node %u was disconnected (the producer "
        "went away).", s->node_id);
}

static void
update_buffer_params (ZcStream * s)
{
  guint8 buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[5];
  guint n = 0;
  guint32 fd_types = s->data_types & ~(1u << SPA_DATA_MemPtr);

  /* Buffers params in order of preference. MemFd (and DMA-BUF) first: we
   * map those ourselves, so a frame held downstream stays valid even after
   * PipeWire removes its buffer. MemPtr, PipeWire's own mapping, only for a
   * producer that offers nothing else. */
  if (fd_types != 0 && fd_types != s->data_types)
    params[n++] = spa_pod_builder_add_object (&b,
        SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
        SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int (8, 2, 16),
        SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (1),
        SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int (fd_types));
  params[n++] = spa_pod_builder_add_object (&b,
      SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
      /* Enough that frames held downstream (an encoder's lookahead, the
       * keepalive's last frame) never starve the producer. */
      SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int (8, 2, 16),
      SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (1),
      SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int (s->data_types));
  params[n++] = spa_pod_builder_add_object (&b,
      SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
      SPA_PARAM_META_type, SPA_POD_Id (SPA_META_Header),
      SPA_PARAM_META_size, SPA_POD_Int (sizeof (struct spa_meta_header)));
  params[n++] = spa_pod_builder_add_object (&b,
      SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
      SPA_PARAM_META_type, SPA_POD_Id (SPA_META_VideoCrop),
      SPA_PARAM_META_size, SPA_POD_Int (sizeof (struct spa_meta_region)));
  params[n++] = spa_pod_builder_add_object (&b,
      SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
      SPA_PARAM_META_type, SPA_POD_Id (SPA_META_Cursor),
      SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int (
          (int) (sizeof (struct spa_meta_cursor)
              + sizeof (struct spa_meta_bitmap) + 64 * 64 * 4),
          (int) sizeof (struct spa_meta_cursor),
          (int) (sizeof (struct spa_meta_cursor)
              + sizeof (struct spa_meta_bitmap) + 256 * 256 * 4)));
  pw_stream_update_params (s->stream, params, n);
}

static void
on_param_changed (void *data, uint32_t id, const struct spa_pod *param)
{
  ZcStream *s = data;
  GstVideoInfo info;
  guint64 modifier = ZC_DRM_FORMAT_MOD_INVALID;
  GError *error = NULL;

  if (id != SPA_PARAM_Format)
    return;
  if (param == NULL) {
    GST_DEBUG ("format cleared");
    s->have_format = FALSE;
    return;
  }
  if (!zc_format_parse (param, &info, &modifier, &error)) {
    pw_stream_set_error (s->stream, -EINVAL, "%s", error->message);
    report_error (s, ZC_ERROR_NOT_NEGOTIATED, "%s", error->message);
    g_error_free (error);
    return;
  }
  s->info = info;
  s->have_format = TRUE;
  s->format_seq++;
  if (s->negotiation_timer) {
    pw_loop_destroy_source (pw_thread_loop_get_loop (s->loop),
        s->negotiation_timer);
    s->negotiation_timer = NULL;
  }
  GST_INFO ("node %u: format %s %dx%d %d/%d, modifier 0x%" G_GINT64_MODIFIER
      "x (format #%u)", s->node_id,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
      GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
      GST_VIDEO_INFO_FPS_N (&info), GST_VIDEO_INFO_FPS_D (&info), modifier,
      s->format_seq);
  update_buffer_params (s);
  if (s->callbacks.format_changed)
    s->callbacks.format_changed (s->user_data, &info, modifier,
        s->format_seq);
}

static void
on_add_buffer (void *data, struct pw_buffer *b)
{
  ZcStream *s = data;
  struct spa_data *d = &b->buffer->datas[0];
  ZcSlot *slot = g_new0 (ZcSlot, 1);

  slot->refcount = 1;           /* PipeWire's: dropped in remove_buffer */
  g_mutex_init (&slot->lock);
  g_cond_init (&slot->cond);
  slot->pwb = b;
  slot->type = d->type;
  slot->maxsize = d->maxsize;

  if (d->type == SPA_DATA_MemFd) {
    /* Map once, read-only, for the life of the buffer: frames then share
     * this mapping instead of being copied. */
    long page = sysconf (_SC_PAGESIZE);
    gsize aligned = d->mapoffset & ~((gsize) page - 1);
    gsize delta = d->mapoffset - aligned;
    void *map;

    slot->map_size = delta + d->maxsize;
    map = mmap (NULL, slot->map_size, PROT_READ, MAP_SHARED, d->fd, aligned);
    if (map == MAP_FAILED) {
      GST_WARNING ("mmap of MemFd %" G_GINT64_FORMAT " failed: %s",
          (gint64) d->fd, g_strerror (errno));
      slot->map_size = 0;
    } else {
      slot->map = map;
      slot->data = slot->map + delta;
    }
  } else if (d->type == SPA_DATA_DmaBuf) {
    /* Imported (if at all) by the consumer, once, via frame data. */
    slot->n_planes = MIN (b->buffer->n_datas, G_N_ELEMENTS (slot->fds));
    for (guint i = 0; i < slot->n_planes; i++)
      slot->fds[i] = (gint) b->buffer->datas[i].fd;
  } else if (d->type == SPA_DATA_MemPtr && d->data) {
    /* MemPtr points into PipeWire's own mapping of a shared block, which it
     * unmaps when the buffer is removed. mremap with old_size 0 makes a
     * second mapping of the same shared pages that is ours, so frames lent
     * downstream outlive the removal just like MemFd ones. */
    long page = sysconf (_SC_PAGESIZE);
    guintptr start = (guintptr) d->data & ~((guintptr) page - 1);
    gsize delta = (guintptr) d->data - start;
    void *map = mremap ((void *) start, 0, delta + d->maxsize, MREMAP_MAYMOVE);

    if (map != MAP_FAILED) {
      slot->map = map;
      slot->map_size = delta + d->maxsize;
      slot->data = slot->map + delta;
    } else {
      GST_DEBUG ("MemPtr not shareable (%s): lending PipeWire's mapping",
          g_strerror (errno));
      slot->data = d->data;
    }
  }
  GST_DEBUG ("add buffer %p type %u maxsize %u, own mapping %p", b, d->type,
      d->maxsize, slot->map);
  b->user_data = slot;
  s->n_buffers++;
}

static void
on_remove_buffer (void *data, struct pw_buffer *b)
{
  ZcStream *s = data;
  ZcSlot *slot = b->user_data;

  GST_DEBUG ("remove buffer %p", b);
  b->user_data = NULL;
  if (slot == NULL)
    return;
  slot->pwb = NULL;
  s->n_buffers--;
  if (slot->type == SPA_DATA_MemPtr && slot->map == NULL) {
    /* This MemPtr memory is PipeWire's mapping and goes away after this
     * returns, unlike one we mapped ourselves. Give downstream a
     * moment to finish with frames it still holds (renegotiation while an
     * encoder holds one): lease_release signals without the loop lock. */
    gint64 deadline = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;
    g_mutex_lock (&slot->lock);
    while (slot->lent > 0
        && g_cond_wait_until (&slot->cond, &slot->lock, deadline));
    if (slot->lent > 0)
      GST_WARNING ("a frame in removed MemPtr buffer %p is still held "
          "downstream; it must not be read any more", b);
    g_mutex_unlock (&slot->lock);
  }
  slot_unref (slot);
}

/* Everything a frame needs to give its PipeWire buffer back. */
typedef struct
{
  ZcStream *stream;
  ZcSlot *slot;
} ZcLease;

static void
lease_release (gpointer data)
{
  ZcLease *lease = data;
  ZcStream *s = lease->stream;

  /* Any thread. Downstream is done reading: say so first, without the
   * loop lock, since remove_buffer may be waiting for it with that lock
   * held. Then the loop lock serialises with remove_buffer, which may have
   * taken the buffer away since it was lent. */
  g_mutex_lock (&lease->slot->lock);
  if (--lease->slot->lent == 0)
    g_atomic_int_add (&s->lent_slots, -1);
  g_cond_broadcast (&lease->slot->cond);
  g_mutex_unlock (&lease->slot->lock);
  pw_thread_loop_lock (s->loop);
  if (lease->slot->pwb && s->stream)
    pw_stream_queue_buffer (s->stream, lease->slot->pwb);
  pw_thread_loop_unlock (s->loop);
  slot_unref (lease->slot);
  zc_stream_unref (s);
  g_free (lease);
}

/* Is this buffer a picture we can use? Requeues nothing: the caller does. */
static gboolean
frame_is_usable (ZcStream * s, struct pw_buffer *b, gsize * out_stride)
{
  struct spa_data *d = &b->buffer->datas[0];
  struct spa_meta_header *h;
  ZcSlot *slot = b->user_data;
  gsize width_bytes, need, stride;

  if (!s->have_format || slot == NULL)
    return FALSE;
  h = spa_buffer_find_meta_data (b->buffer, SPA_META_Header, sizeof (*h));
  if ((h && (h->flags & SPA_META_HEADER_FLAG_CORRUPTED))
      || (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED)) {
    zc_stats_add (&s->stats->frames_corrupted, 1);
    GST_LOG ("skipping a buffer flagged corrupted");
    return FALSE;
  }
  if (d->chunk->size == 0) {
    /* Mutter sends these when only the cursor moved (its metadata lives in
     * the Cursor meta): not a new picture. */
    zc_stats_add (&s->stats->cursor_updates, 1);
    return FALSE;
  }
  if (slot->type == SPA_DATA_DmaBuf) {
    /* The layout is the modifier's business; only the importer can tell. */
    *out_stride = d->chunk->stride > 0 ? (gsize) d->chunk->stride : 0;
    return TRUE;
  }
  width_bytes = (gsize) GST_VIDEO_INFO_WIDTH (&s->info) * 4;
  stride = d->chunk->stride > 0 ? (gsize) d->chunk->stride :
      (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&s->info, 0);
  need = stride * (GST_VIDEO_INFO_HEIGHT (&s->info) - 1) + width_bytes;
  if (stride < width_bytes || d->chunk->size < need
      || (gsize) d->chunk->offset + d->chunk->size > d->maxsize
      || slot->data == NULL) {
    zc_stats_add (&s->stats->frames_corrupted, 1);
    GST_WARNING ("skipping a torn or short buffer: size %u offset %u stride "
        "%d, a %dx%d frame needs %" G_GSIZE_FORMAT, d->chunk->size,
        d->chunk->offset, d->chunk->stride, GST_VIDEO_INFO_WIDTH (&s->info),
        GST_VIDEO_INFO_HEIGHT (&s->info), need);
    return FALSE;
  }
  *out_stride = stride;
  return TRUE;
}

static ZcLease *
lease_new (ZcStream * s, ZcSlot * slot)
{
  ZcLease *lease = g_new (ZcLease, 1);

  g_atomic_int_inc (&slot->refcount);
  lease->slot = slot;
  lease->stream = zc_stream_ref (s);
  g_mutex_lock (&slot->lock);
  if (slot->lent++ == 0)
    g_atomic_int_inc (&s->lent_slots);
  g_mutex_unlock (&slot->lock);
  return lease;
}

/* Frames carry their lease, so a consumer can find the PipeWire buffer
 * behind them (zc_stream_frame_get_source and _data). No destroy: the
 * lease belongs to the frame's memory. */
static GQuark
lease_quark (void)
{
  static gsize q;

  if (g_once_init_enter (&q))
    g_once_init_leave (&q, g_quark_from_static_string ("zc-lease"));
  return (GQuark) q;
}

static void
append_dmabuf_planes (ZcStream * s, GstBuffer * buf, struct pw_buffer *b,
    ZcLease * lease)
{
  ZcSlot *slot = lease->slot;

  if (s->dmabuf_allocator == NULL)
    s->dmabuf_allocator = gst_dmabuf_allocator_new ();
  for (guint i = 0; i < slot->n_planes; i++) {
    struct spa_chunk *chunk = b->buffer->datas[i].chunk;
    gsize size = b->buffer->datas[i].maxsize;
    GstMemory *mem;

    slot->offsets[i] = chunk->offset;
    slot->strides[i] = (guint32) chunk->stride;
    /* Our own fd: the memory may outlive PipeWire's buffer. */
    mem = gst_dmabuf_allocator_alloc (s->dmabuf_allocator,
        fcntl (slot->fds[i], F_DUPFD_CLOEXEC, 3), size ? size :
        (gsize) chunk->offset + chunk->size);
    if (i == 0)
      gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem), lease_quark (),
          lease, lease_release);
    gst_buffer_append_memory (buf, mem);
  }
}

static GstBuffer *
wrap_frame (ZcStream * s, struct pw_buffer *b, gsize stride)
{
  struct spa_data *d = &b->buffer->datas[0];
  struct spa_meta_header *h;
  struct spa_meta_region *crop;
  ZcSlot *slot = b->user_data;
  GstBuffer *buf = gst_buffer_new ();
  ZcLease *lease;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint strides[GST_VIDEO_MAX_PLANES] = { (gint) stride };
  GstClockTime pts = 0;

  if (slot->type == SPA_DATA_DmaBuf) {
    lease = lease_new (s, slot);
    append_dmabuf_planes (s, buf, b, lease);
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (buf), lease_quark (),
        lease, NULL);
    for (guint i = 0; i < slot->n_planes && i < GST_VIDEO_MAX_PLANES; i++) {
      offset[i] = slot->offsets[i];
      strides[i] = (gint) slot->strides[i];
    }
  } else if (g_atomic_int_get (&s->lent_slots) + 3 >= s->n_buffers) {
    /* Downstream holds nearly every buffer (a queue, a stalled consumer):
     * lending one more would leave the producer none to draw into, and a
     * screencast stalls. Copy this frame instead, and say so. */
    GST_LOG ("%d of %d buffers are downstream: copying this frame",
        g_atomic_int_get (&s->lent_slots), s->n_buffers);
    gst_buffer_append_memory (buf,
        gst_memory_new_wrapped (0,
            g_memdup2 (slot->data + d->chunk->offset, d->chunk->size),
            d->chunk->size, 0, d->chunk->size, NULL, NULL));
    zc_stats_add (&s->stats->bytes_copied, (gint64) d->chunk->size);
    pw_stream_queue_buffer (s->stream, b);
  } else {
    lease = lease_new (s, slot);
    /* Lent, not copied: the PipeWire buffer goes back when this memory is
     * freed downstream. */
    gst_buffer_append_memory (buf,
        gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
            (gpointer) slot->data, slot->maxsize, d->chunk->offset,
            d->chunk->size, lease, lease_release));
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (buf), lease_quark (),
        lease, NULL);
  }
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (&s->info), GST_VIDEO_INFO_WIDTH (&s->info),
      GST_VIDEO_INFO_HEIGHT (&s->info), MAX (slot->n_planes, 1), offset,
      strides);

  crop = spa_buffer_find_meta_data (b->buffer, SPA_META_VideoCrop,
      sizeof (*crop));
  if (crop && spa_meta_region_is_valid (crop)
      && (crop->region.size.width < (guint) GST_VIDEO_INFO_WIDTH (&s->info)
          || crop->region.size.height <
          (guint) GST_VIDEO_INFO_HEIGHT (&s->info))) {
    GstVideoCropMeta *cm = gst_buffer_add_video_crop_meta (buf);
    cm->x = crop->region.position.x;
    cm->y = crop->region.position.y;
    cm->width = crop->region.size.width;
    cm->height = crop->region.size.height;
  }

  h = spa_buffer_find_meta_data (b->buffer, SPA_META_Header, sizeof (*h));
  if (h && h->pts > 0)
    pts = (GstClockTime) h->pts;
  else
    pts = (GstClockTime) g_get_monotonic_time () * GST_USECOND;
  GST_BUFFER_PTS (buf) = pts;
  if (h)
    GST_BUFFER_OFFSET (buf) = h->seq;
  return buf;
}

static void
on_process (void *data)
{
  ZcStream *s = data;
  struct pw_buffer *b, *newest = NULL;
  gsize stride = 0, newest_stride = 0;

  /* Drain to the newest picture and give every other buffer back at once:
   * a producer with all its buffers checked out stalls. */
  while ((b = pw_stream_dequeue_buffer (s->stream)) != NULL) {
    if (!frame_is_usable (s, b, &stride)) {
      pw_stream_queue_buffer (s->stream, b);
      continue;
    }
    if (newest) {
      pw_stream_queue_buffer (s->stream, newest);
      zc_stats_add (&s->stats->frames_dropped, 1);
    }
    newest = b;
    newest_stride = stride;
  }
  if (newest == NULL)
    return;
  zc_stats_add (&s->stats->frames_received, 1);
  if (s->callbacks.frame)
    s->callbacks.frame (s->user_data, wrap_frame (s, newest, newest_stride),
        s->format_seq);
}

static const struct pw_stream_events stream_events = {
  PW_VERSION_STREAM_EVENTS,
  .state_changed = on_state_changed,
  .param_changed = on_param_changed,
  .add_buffer = on_add_buffer,
  .remove_buffer = on_remove_buffer,
  .process = on_process,
};

static void
on_negotiation_timeout (void *data, uint64_t expirations)
{
  ZcStream *s = data;

  if (!s->have_format)
    report_error (s, ZC_ERROR_NOT_NEGOTIATED,
        "No format was agreed with PipeWire node %u within %d s: is a "
        "session manager (WirePlumber) running to link the stream?",
        s->node_id, ZC_NEGOTIATION_TIMEOUT_S);
}

/* DMA-BUF offers first, one per format with its modifiers in EGL's order,
 * then shared memory for everything: PipeWire takes the first that both
 * sides can do. */
static guint
build_enum_formats (ZcStream * s, struct spa_pod_builder *b,
    const struct spa_pod **params)
{
  guint n = 0;

  if (s->modifiers && (s->data_types & (1u << SPA_DATA_DmaBuf))) {
    for (guint i = 0; i < s->n_formats; i++) {
      const ZcFormat *fmt = zc_format_from_spa (s->formats[i]);
      guint n_mods = 0;
      const guint64 *mods = zc_modifiers_get_modifiers (s->modifiers,
          fmt->drm, &n_mods);

      if (n_mods > 0)
        params[n++] = zc_format_build_enum_modifiers (b, fmt->spa, mods,
            n_mods);
    }
  }
  if (s->data_types & ((1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr)))
    params[n++] = zc_format_build_enum (b, s->formats, s->n_formats);
  return n;
}

static gboolean
connect_stream (ZcStream * s, const ZcStreamConfig * config, GError ** error)
{
  guint8 buffer[8192];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[G_N_ELEMENTS (s->formats) + 1];
  guint n_params;
  struct pw_properties *props;
  struct timespec timeout = { ZC_NEGOTIATION_TIMEOUT_S, 0 };
  int res;

  props = pw_properties_new (PW_KEY_MEDIA_TYPE, "Video",
      PW_KEY_MEDIA_CATEGORY, "Capture", PW_KEY_MEDIA_ROLE, "Screen",
      PW_KEY_NODE_NAME, "pipewirezerocopysrc", NULL);
  /* target.object by serial is what current session managers follow; the
   * id passed to connect() covers the older ones. */
  if (s->node_serial)
    pw_properties_set (props, PW_KEY_TARGET_OBJECT, s->node_serial);
  s->stream = pw_stream_new (s->core, "zerocast capture", props);
  if (s->stream == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "Could not create a PipeWire stream: %s", g_strerror (errno));
    return FALSE;
  }
  pw_stream_add_listener (s->stream, &s->stream_listener, &stream_events, s);
  n_params = build_enum_formats (s, &b, params);
  if (s->modifiers) {
    gchar *str = zc_modifiers_to_string (s->modifiers);
    GST_DEBUG ("offering DMA-BUF %s, then shared memory", str);
    g_free (str);
  }

  s->negotiation_timer = pw_loop_add_timer (pw_thread_loop_get_loop (s->loop),
      on_negotiation_timeout, s);
  pw_loop_update_timer (pw_thread_loop_get_loop (s->loop),
      s->negotiation_timer, &timeout, NULL, false);

  res = pw_stream_connect (s->stream, PW_DIRECTION_INPUT, s->node_id,
      PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_DONT_RECONNECT,
      params, n_params);
  if (res < 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "Could not connect a PipeWire stream to node %u: %s", s->node_id,
        spa_strerror (res));
    return FALSE;
  }
  return TRUE;
}

ZcStream *
zc_stream_new (const ZcStreamConfig * config,
    const ZcStreamCallbacks * callbacks, gpointer user_data, GError ** error)
{
  ZcStream *s;
  const gchar *runtime_dir;

  g_return_val_if_fail (config->n_formats > 0, NULL);

  GST_DEBUG_CATEGORY_INIT (zc_stream_debug, "zcstream", 0,
      "zerocast PipeWire stream");
  pw_init (NULL, NULL);

  s = g_new0 (ZcStream, 1);
  s->refcount = 1;
  s->callbacks = *callbacks;
  s->user_data = user_data;
  s->stats = config->stats;
  s->node_id = config->node_id;
  s->data_types = config->data_types;
  s->n_formats = MIN (config->n_formats, G_N_ELEMENTS (s->formats));
  memcpy (s->formats, config->formats, s->n_formats * sizeof (s->formats[0]));
  if (config->modifiers && !zc_modifiers_is_empty (config->modifiers))
    s->modifiers = zc_modifiers_copy (config->modifiers);
  s->offered = g_array_new (FALSE, FALSE, sizeof (guint32));

  s->loop = pw_thread_loop_new ("zc-pipewire", NULL);
  s->context = pw_context_new (pw_thread_loop_get_loop (s->loop), NULL, 0);
  if (s->loop == NULL || s->context == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "Could not set up a PipeWire context: %s", g_strerror (errno));
    goto failed;
  }
  if (pw_thread_loop_start (s->loop) < 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "Could not start the PipeWire thread");
    goto failed;
  }

  pw_thread_loop_lock (s->loop);
  if (config->fd >= 0)
    /* The core takes ownership of the fd it is given: keep the caller's. */
    s->core = pw_context_connect_fd (s->context,
        fcntl (config->fd, F_DUPFD_CLOEXEC, 3), NULL, 0);
  else
    s->core = pw_context_connect (s->context, NULL, 0);
  if (s->core == NULL) {
    runtime_dir = g_getenv ("PIPEWIRE_RUNTIME_DIR");
    if (runtime_dir == NULL)
      runtime_dir = g_getenv ("XDG_RUNTIME_DIR");
    if (config->fd >= 0)
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "Could not connect to PipeWire through pipewire-fd %d: %s. Pass "
          "the fd from the portal's OpenPipeWireRemote.", config->fd,
          g_strerror (errno));
    else
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "Could not connect to the PipeWire daemon: %s. Is PipeWire "
          "running for this user (looked in %s)?", g_strerror (errno),
          runtime_dir ? runtime_dir : "XDG_RUNTIME_DIR, which is unset");
    goto failed_locked;
  }
  pw_core_add_listener (s->core, &s->core_listener, &core_events, s);
  s->registry = pw_core_get_registry (s->core, PW_VERSION_REGISTRY, 0);
  pw_registry_add_listener (s->registry, &s->registry_listener,
      &registry_events, s);
  if (!sync_core (s, error))
    goto failed_locked;
  if (!s->node_found) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_NODE,
        "PipeWire node %u does not exist. Use the node id that the "
        "ScreenCast session announced (PipeWireStreamAdded), or find one "
        "with pw-dump.", s->node_id);
    goto failed_locked;
  }
  if (!check_node_formats (s, config, error))
    goto failed_locked;
  if (!connect_stream (s, config, error))
    goto failed_locked;
  pw_thread_loop_unlock (s->loop);
  return s;

failed_locked:
  pw_thread_loop_unlock (s->loop);
failed:
  s->failed = TRUE;             /* no error callbacks during teardown */
  zc_stream_free (s);
  return NULL;
}

void
zc_stream_free (ZcStream * s)
{
  if (s == NULL)
    return;
  if (s->loop) {
    pw_thread_loop_lock (s->loop);
    s->failed = TRUE;           /* teardown is not an error */
    if (s->negotiation_timer)
      pw_loop_destroy_source (pw_thread_loop_get_loop (s->loop),
          s->negotiation_timer);
    s->negotiation_timer = NULL;
    if (s->stream) {
      pw_stream_disconnect (s->stream);
      pw_stream_destroy (s->stream);
      s->stream = NULL;
    }
    if (s->node) {
      spa_hook_remove (&s->node_listener);
      pw_proxy_destroy ((struct pw_proxy *) s->node);
      s->node = NULL;
    }
    if (s->registry) {
      spa_hook_remove (&s->registry_listener);
      pw_proxy_destroy ((struct pw_proxy *) s->registry);
      s->registry = NULL;
    }
    if (s->core) {
      spa_hook_remove (&s->core_listener);
      pw_core_disconnect (s->core);
      s->core = NULL;
    }
    pw_thread_loop_unlock (s->loop);
    pw_thread_loop_stop (s->loop);
  }
  zc_stream_unref (s);
}

gboolean
zc_stream_frame_get_source (GstBuffer * frame, ZcFrameSource * src)
{
  ZcLease *lease = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame),
      lease_quark ());
  ZcSlot *slot;

  if (lease == NULL)
    return FALSE;
  slot = lease->slot;
  memset (src, 0, sizeof (*src));
  src->type = slot->type;
  src->base = slot->data;
  src->size = slot->maxsize;
  src->n_planes = slot->n_planes;
  for (guint i = 0; i < slot->n_planes; i++) {
    src->fds[i] = slot->fds[i];
    src->offsets[i] = slot->offsets[i];
    src->strides[i] = slot->strides[i];
  }
  return TRUE;
}

gpointer
zc_stream_frame_get_data (GstBuffer * frame)
{
  ZcLease *lease = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame),
      lease_quark ());

  return lease ? lease->slot->user_data : NULL;
}

void
zc_stream_frame_set_data (GstBuffer * frame, gpointer data,
    GDestroyNotify destroy)
{
  ZcLease *lease = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame),
      lease_quark ());

  g_return_if_fail (lease != NULL && lease->slot->user_data == NULL);
  lease->slot->user_data = data;
  lease->slot->user_destroy = destroy;
}

void
zc_stream_drop_modifier (ZcStream * s, guint32 fourcc, guint64 modifier)
{
  ZcModifiersDrop left;

  pw_thread_loop_lock (s->loop);
  left = s->modifiers ? zc_modifiers_drop (s->modifiers, fourcc, modifier) :
      ZC_MODIFIERS_DROP_NOT_FOUND;
  GST_INFO ("import of %.4s:0x%016" G_GINT64_MODIFIER "x failed: %s",
      (const gchar *) &fourcc, modifier,
      left == ZC_MODIFIERS_DROP_NOT_FOUND ? "was not offered" :
      left == ZC_MODIFIERS_DROP_NONE_LEFT ? "no DMA-BUF modifier left, "
      "falling back to shared memory" : "renegotiating without it");
  if (left != ZC_MODIFIERS_DROP_NOT_FOUND && s->stream) {
    guint8 buffer[8192];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
    const struct spa_pod *params[G_N_ELEMENTS (s->formats) + 1];
    guint n = build_enum_formats (s, &b, params);

    if (left == ZC_MODIFIERS_DROP_NONE_LEFT)
      s->data_types &= ~(1u << SPA_DATA_DmaBuf);
    pw_stream_update_params (s->stream, params, n);
  }
  pw_thread_loop_unlock (s->loop);
}
