/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The buffers of a ZcStream: each PipeWire buffer is mapped once when it is
 * added (a slot), and each new picture is lent downstream as a GstBuffer
 * whose memory points into that mapping.
 *
 * Lifetimes: a frame handed out holds a reference on its slot and on the
 * ZcStream (a lease). When the frame's memory is freed, the PipeWire buffer
 * is queued back, unless PipeWire removed it in the meantime
 * (renegotiation, disconnect); the slot's own mapping keeps the memory valid
 * until the last frame using it is gone.
 */
#define _GNU_SOURCE /* mremap */
#include "zc-config.h"

#include "zc-stream-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>

#define GST_CAT_DEFAULT zc_stream_debug

void
zc_slot_unref (ZcSlot *slot)
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

#if ZC_HAVE_PW_1_2
/* The explicit-sync timeline of a buffer: its SyncTimeline meta and the
 * two SyncObj blocks after the planes (acquire, then release). NULL when
 * it has none (not negotiated, or a producer that left them out). */
static struct spa_meta_sync_timeline *
find_sync_timeline (struct pw_buffer *b, gint *acquire_fd, gint *release_fd)
{
  struct spa_buffer *sb = b->buffer;
  struct spa_meta_sync_timeline *st =
      spa_buffer_find_meta_data (sb, SPA_META_SyncTimeline, sizeof (*st));

  if (st == NULL || sb->n_datas < 3
      || sb->datas[sb->n_datas - 2].type != SPA_DATA_SyncObj
      || sb->datas[sb->n_datas - 1].type != SPA_DATA_SyncObj)
    return NULL;
  *acquire_fd = (gint) sb->datas[sb->n_datas - 2].fd;
  *release_fd = (gint) sb->datas[sb->n_datas - 1].fd;
  return st;
}

/* The DRM device for the ioctls, opened at the first buffer with a
 * timeline (data thread). Without one, frames go out unsynchronised and
 * the producer gets no release: said once, loudly. */
static ZcSyncobj *
ensure_syncobj (ZcStream *s)
{
  GError *error = NULL;
  ZcSyncobj *sync = g_atomic_pointer_get (&s->syncobj);

  if (sync || s->syncobj_failed)
    return sync;
  sync = zc_syncobj_open (s->render_node, &error);
  if (sync == NULL) {
    GST_WARNING ("the producer uses explicit sync, but it cannot be honoured "
                 "(%s): frames may be read before the GPU finished them",
        error->message);
    g_error_free (error);
    s->syncobj_failed = TRUE;
    return NULL;
  }
  g_atomic_pointer_set (&s->syncobj, sync);
  return sync;
}

/* Tells the producer we are done with the buffer: its release point,
 * before it goes back (any thread). */
static void
signal_release (ZcStream *s, struct pw_buffer *b)
{
  ZcSyncobj *sync = g_atomic_pointer_get (&s->syncobj);
  struct spa_meta_sync_timeline *st;
  gint acquire_fd, release_fd;
  GError *error = NULL;

  if (sync == NULL
      || (st = find_sync_timeline (b, &acquire_fd, &release_fd)) == NULL)
    return;
  if (!zc_syncobj_signal (sync, release_fd, st->release_point, &error)) {
    GST_WARNING ("explicit sync release: %s", error->message);
    g_error_free (error);
  }
}

/* Waits, at most a frame's time, until the producer's GPU has finished
 * the picture; FALSE when it did not (the frame is then not read). */
static gboolean
wait_acquire (ZcStream *s, struct pw_buffer *b)
{
  struct spa_meta_sync_timeline *st;
  gint acquire_fd, release_fd;
  GError *error = NULL;
  ZcSyncobj *sync;

  st = find_sync_timeline (b, &acquire_fd, &release_fd);
  if (st == NULL || (sync = ensure_syncobj (s)) == NULL)
    return TRUE;
  if (!zc_syncobj_wait (sync, acquire_fd, st->acquire_point,
          100 * G_GINT64_CONSTANT (1000000), &error)) {
    GST_WARNING (
        "explicit sync acquire: %s; dropping the frame", error->message);
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}
#endif

void
zc_stream_requeue (ZcStream *s, struct pw_buffer *b)
{
#if ZC_HAVE_PW_1_2
  signal_release (s, b);
#endif
  g_mutex_lock (&s->queue_lock);
  pw_stream_queue_buffer (s->stream, b);
  g_mutex_unlock (&s->queue_lock);
}

void
zc_stream_on_add_buffer (void *data, struct pw_buffer *b)
{
  ZcStream *s = data;
  struct spa_data *d = &b->buffer->datas[0];
  ZcSlot *slot = g_new0 (ZcSlot, 1);

  slot->refcount = 1; /* PipeWire's: dropped in remove_buffer */
  g_mutex_init (&slot->lock);
  g_cond_init (&slot->cond);
  slot->pwb = b;
  slot->info = s->info;
  slot->format_seq = s->format_seq;
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
    /* Only the DmaBuf blocks are planes: explicit sync adds two SyncObj
     * blocks after them. */
    while (slot->n_planes < MIN (b->buffer->n_datas, G_N_ELEMENTS (slot->fds))
        && b->buffer->datas[slot->n_planes].type == SPA_DATA_DmaBuf) {
      slot->fds[slot->n_planes] = (gint) b->buffer->datas[slot->n_planes].fd;
      slot->n_planes++;
    }
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

void
zc_stream_on_remove_buffer (void *data, struct pw_buffer *b)
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
        && g_cond_wait_until (&slot->cond, &slot->lock, deadline))
      ;
    if (slot->lent > 0)
      GST_WARNING ("a frame in removed MemPtr buffer %p is still held "
                   "downstream; it must not be read any more",
          b);
    g_mutex_unlock (&slot->lock);
  }
  zc_slot_unref (slot);
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
    zc_stream_requeue (s, lease->slot->pwb);
  pw_thread_loop_unlock (s->loop);
  zc_slot_unref (lease->slot);
  zc_stream_unref (s);
  g_free (lease);
}

/* Is this buffer a picture we can use? Requeues nothing: the caller does. */
static gboolean
frame_is_usable (ZcStream *s, struct pw_buffer *b, gsize *out_stride)
{
  struct spa_data *d = &b->buffer->datas[0];
  struct spa_meta_header *h;
  ZcSlot *slot = b->user_data;
  gsize width_bytes, need, stride;

  if (slot == NULL)
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
  width_bytes = (gsize) GST_VIDEO_INFO_WIDTH (&slot->info) * 4;
  stride = d->chunk->stride > 0
      ? (gsize) d->chunk->stride
      : (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&slot->info, 0);
  need = stride * (GST_VIDEO_INFO_HEIGHT (&slot->info) - 1) + width_bytes;
  if (stride < width_bytes || d->chunk->size < need
      || (gsize) d->chunk->offset + d->chunk->size > d->maxsize
      || slot->data == NULL) {
    zc_stats_add (&s->stats->frames_corrupted, 1);
    GST_WARNING ("skipping a torn or short buffer: size %u offset %u stride "
                 "%d, a %dx%d frame needs %" G_GSIZE_FORMAT,
        d->chunk->size, d->chunk->offset, d->chunk->stride,
        GST_VIDEO_INFO_WIDTH (&slot->info), GST_VIDEO_INFO_HEIGHT (&slot->info),
        need);
    return FALSE;
  }
  *out_stride = stride;
  return TRUE;
}

static ZcLease *
lease_new (ZcStream *s, ZcSlot *slot)
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
append_dmabuf_planes (
    ZcStream *s, GstBuffer *buf, struct pw_buffer *b, ZcLease *lease)
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
        fcntl (slot->fds[i], F_DUPFD_CLOEXEC, 3),
        size ? size : (gsize) chunk->offset + chunk->size);
    if (i == 0)
      gst_mini_object_set_qdata (
          GST_MINI_OBJECT_CAST (mem), lease_quark (), lease, lease_release);
    gst_buffer_append_memory (buf, mem);
  }
}

static GstBuffer *
wrap_frame (ZcStream *s, struct pw_buffer *b, gsize stride)
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
    gst_mini_object_set_qdata (
        GST_MINI_OBJECT_CAST (buf), lease_quark (), lease, NULL);
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
    gpointer copy = g_memdup2 (slot->data + d->chunk->offset, d->chunk->size);

    /* The memory owns the copy: g_free it with the memory (leaked every
     * copied frame before; found by the element test under
     * scripts/test-sanitizers.sh). */
    gst_buffer_append_memory (buf,
        gst_memory_new_wrapped (
            0, copy, d->chunk->size, 0, d->chunk->size, copy, g_free));
    zc_stats_add (&s->stats->bytes_copied, (gint64) d->chunk->size);
    zc_stream_requeue (s, b);
  } else {
    lease = lease_new (s, slot);
    /* Lent, not copied: the PipeWire buffer goes back when this memory is
     * freed downstream. */
    gst_buffer_append_memory (buf,
        gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY, (gpointer) slot->data,
            slot->maxsize, d->chunk->offset, d->chunk->size, lease,
            lease_release));
    gst_mini_object_set_qdata (
        GST_MINI_OBJECT_CAST (buf), lease_quark (), lease, NULL);
  }
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (&slot->info), GST_VIDEO_INFO_WIDTH (&slot->info),
      GST_VIDEO_INFO_HEIGHT (&slot->info), MAX (slot->n_planes, 1), offset,
      strides);

  crop =
      spa_buffer_find_meta_data (b->buffer, SPA_META_VideoCrop, sizeof (*crop));
  if (crop && spa_meta_region_is_valid (crop)
      && (crop->region.size.width < (guint) GST_VIDEO_INFO_WIDTH (&slot->info)
          || crop->region.size.height
              < (guint) GST_VIDEO_INFO_HEIGHT (&slot->info))) {
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

void
zc_stream_on_process (void *data)
{
  ZcStream *s = data;
  struct pw_buffer *b, *newest = NULL;
  gsize stride = 0, newest_stride = 0;

  /* Drain to the newest picture and give every other buffer back at once:
   * a producer with all its buffers checked out stalls. */
  while ((b = pw_stream_dequeue_buffer (s->stream)) != NULL) {
    GstStructure *cursor;

    /* Every buffer, frames and cursor-only ones alike, before any goes
     * back: the pointer moves over still pictures too. */
    if (s->callbacks.cursor
        && (cursor = zc_cursor_read (b->buffer, &s->cursor)))
      s->callbacks.cursor (s->user_data, cursor);
    GST_LOG ("buffer %p: chunk size %u flags 0x%x", (gpointer) b,
        b->buffer->datas[0].chunk->size,
        (guint) b->buffer->datas[0].chunk->flags);
    if (!frame_is_usable (s, b, &stride)) {
      zc_stream_requeue (s, b);
      continue;
    }
    if (newest) {
      zc_stream_requeue (s, newest);
      zc_stats_add (&s->stats->frames_dropped, 1);
    }
    newest = b;
    newest_stride = stride;
  }
  if (newest == NULL)
    return;
#if ZC_HAVE_PW_1_2
  if (!wait_acquire (s, newest)) {
    zc_stream_requeue (s, newest);
    zc_stats_add (&s->stats->frames_dropped, 1);
    return;
  }
#endif
  zc_stats_add (&s->stats->frames_received, 1);
  if (s->callbacks.frame) {
    ZcSlot *slot = newest->user_data;
    s->callbacks.frame (s->user_data, wrap_frame (s, newest, newest_stride),
        slot->format_seq, &slot->info);
  }
}

gboolean
zc_stream_frame_get_source (GstBuffer *frame, ZcFrameSource *src)
{
  ZcLease *lease =
      gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame), lease_quark ());
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
zc_stream_frame_get_data (GstBuffer *frame)
{
  ZcLease *lease =
      gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame), lease_quark ());

  return lease ? lease->slot->user_data : NULL;
}

void
zc_stream_frame_set_data (
    GstBuffer *frame, gpointer data, GDestroyNotify destroy)
{
  ZcLease *lease =
      gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (frame), lease_quark ());

  g_return_if_fail (lease != NULL && lease->slot->user_data == NULL);
  lease->slot->user_data = data;
  lease->slot->user_destroy = destroy;
}
