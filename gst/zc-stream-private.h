/* zerocast: ZcStream's insides, shared by zc-stream.c (connection,
 * negotiation) and zc-stream-buffers.c (PipeWire buffers lent as frames).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "zc-cursor.h"
#include "zc-stream.h"

#include "zc-error.h"
#include "zc-syncobj.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (zc_stream_debug);

typedef struct
{
  gint refcount;
  struct pw_buffer *pwb; /* NULL once PipeWire removed the buffer */
  guint8 *map;           /* our own mapping of a MemFd, or NULL */
  gsize map_size;
  const guint8 *data; /* start of the data: in map, or MemPtr */
  gsize maxsize;
  guint32 type;   /* SPA_DATA_* */
  guint n_planes; /* DmaBuf: fds owned by PipeWire */
  gint fds[4];
  guint32 offsets[4]; /* from the chunks of the latest frame */
  guint32 strides[4];
  gpointer user_data; /* zc_stream_frame_set_data() */
  GDestroyNotify user_destroy;
  /* The format this buffer was made for: frames are read with it, not with
   * the stream's current one, which may have moved on (process runs on the
   * data thread, renegotiation on the loop thread). */
  GstVideoInfo info;
  guint format_seq;
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
  GArray *offered;         /* enum spa_video_format the node offers */
  gboolean offered_other;  /* it offered formats that are not ours */
  gboolean offered_dmabuf; /* some offer had a modifier (DMA-BUF) */

  guint32 data_types;
  ZcModifiers *modifiers; /* loop lock; DMA-BUF offers left */
  enum spa_video_format formats[16];
  ZcFormatPreference preference;
  guint n_formats;
  GstAllocator *dmabuf_allocator;
  gint n_buffers;  /* PipeWire thread only */
  gint lent_slots; /* atomic: buffers with frames downstream */
  /* pw_stream_queue_buffer is for one thread at a time: the data thread
   * (process, which runs there with PW_STREAM_FLAG_RT_PROCESS and without
   * the loop lock) and the threads where frames are freed both requeue.
   * A leaf lock: taken last, never held while taking another. */
  GMutex queue_lock;
  ZcCursorState cursor; /* data thread only */
  gboolean have_format;
  GstVideoInfo info;
  guint format_seq;
  /* Explicit sync (SPA_META_SyncTimeline, asked for only with DMA-BUF):
   * the DRM device the syncobj ioctls go through, opened on the data
   * thread at the first buffer that carries the meta. */
  gchar *render_node;
  ZcSyncobj *syncobj;
  gboolean syncobj_failed; /* said once why there is none */
};

/* Registers the zcstream debug category (once). */
void zc_stream_init_debug (void);

ZcStream *zc_stream_ref (ZcStream *s);
void zc_stream_unref (ZcStream *s);
void zc_slot_unref (ZcSlot *slot);

/* Reports a fatal stream error once (PipeWire thread, or the caller's with
 * the loop lock held). */
void zc_stream_report_error (
    ZcStream *s, ZcError code, const gchar *format, ...) G_GNUC_PRINTF (3, 4);

/* The EnumFormat params to offer now: one DMA-BUF object per format that
 * has modifiers left (when DMA-BUF is accepted), then shared memory.
 * Returns how many were written to @params (room for n_formats + 1). */
guint zc_stream_build_enum_formats (
    ZcStream *s, struct spa_pod_builder *b, const struct spa_pod **params);

/* Stops offering (@fourcc, @modifier) after its import failed; with no
 * modifier left, stops accepting DMA-BUF. The caller renegotiates. */
ZcModifiersDrop zc_stream_forget_modifier (
    ZcStream *s, guint32 fourcc, guint64 modifier);

/* The Buffers and Meta params for a negotiated format: @dmabuf when it
 * has a modifier (the producer allocates DMA-BUFs). With DMA-BUF on
 * PipeWire >= 1.2 the first Buffers params ask for the SyncTimeline meta
 * and its two SyncObj blocks, the rest do without (a producer that has
 * no explicit sync). Returns how many were written to @params (room for
 * ZC_STREAM_MAX_BUFFER_PARAMS). */
#define ZC_STREAM_MAX_BUFFER_PARAMS 12
guint zc_stream_build_buffer_params (struct spa_pod_builder *b,
    guint32 data_types, gboolean dmabuf, const struct spa_pod **params);

/* Gives a buffer back to PipeWire, from any thread; signals its release
 * point first when it carries a sync timeline. */
void zc_stream_requeue (ZcStream *s, struct pw_buffer *b);

/* pw_stream events handled in zc-stream-buffers.c. */
void zc_stream_on_add_buffer (void *data, struct pw_buffer *b);
void zc_stream_on_remove_buffer (void *data, struct pw_buffer *b);
void zc_stream_on_process (void *data);

G_END_DECLS
