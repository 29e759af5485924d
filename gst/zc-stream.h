/* zerocast: one PipeWire video stream, consumed from a thread loop of its own.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/video/video.h>
#include <pipewire/pipewire.h>

#include "zc-format.h"
#include "zc-modifiers.h"

G_BEGIN_DECLS

/* Counters a benchmark can trust; written with atomics from any thread. */
typedef struct
{
  gint64 frames_received;  /* valid frames taken from PipeWire */
  gint64 frames_resent;    /* keepalive and EOS resends */
  gint64 frames_dropped;   /* frames replaced by a newer one before use */
  gint64 frames_corrupted; /* buffers flagged corrupted or too small */
  gint64 cursor_updates;   /* size-0 chunks: cursor moved, picture did not */
  gint64 bytes_copied;     /* bytes the CPU copied */
} ZcStats;

static inline void
zc_stats_add (gint64 *counter, gint64 value)
{
  __atomic_fetch_add (counter, value, __ATOMIC_RELAXED);
}

static inline gint64
zc_stats_get (gint64 *counter)
{
  return __atomic_load_n (counter, __ATOMIC_RELAXED);
}

typedef struct _ZcStream ZcStream;

/* format_changed and error run on the PipeWire loop thread with its loop
 * lock held; frame runs on PipeWire's data thread (the stream processes
 * there, PW_STREAM_FLAG_RT_PROCESS: one thread hop less per frame) without
 * it. None may block, or take a lock that is held while calling into
 * ZcStream (see the lock order in gstpipewirezerocopysrc.c). */
typedef struct
{
  /* A format was agreed; frames that follow have @format_seq. */
  void (*format_changed) (gpointer user_data, const GstVideoInfo *info,
      guint64 modifier, guint format_seq);
  /* The newest frame; the callee owns @frame. Its memory belongs to a
   * PipeWire buffer that goes back to the producer when @frame (and every
   * buffer sharing its memory) is freed. PTS is CLOCK_MONOTONIC ns.
   * @format_seq and @info are the format the frame was made in: a frame
   * may still arrive from before the latest format_changed. */
  void (*frame) (gpointer user_data, GstBuffer *frame, guint format_seq,
      const GstVideoInfo *info);
  /* The stream cannot go on; @error says why and what to do. */
  void (*error) (gpointer user_data, const GError *error);
  /* Optional, data thread: the cursor meta changed (zc-cursor.h); the
   * callee owns @cursor. */
  void (*cursor) (gpointer user_data, GstStructure *cursor);
} ZcStreamCallbacks;

typedef struct
{
  guint32 node_id;
  gint fd; /* -1: connect to the default daemon */
  const enum spa_video_format *formats;
  guint n_formats;
  guint32 data_types; /* mask of 1 << SPA_DATA_* we accept */
  /* DMA-BUF formats and modifiers to offer first (from EGL); NULL or empty
   * offers none. Copied. */
  const ZcModifiers *modifiers;
  ZcFormatPreference preference; /* size/rate when the producer asks */
  /* DRM device for explicit-sync ioctls; NULL: the first render node.
   * Copied. */
  const gchar *render_node;
  ZcStats *stats;
} ZcStreamConfig;

/* Where a frame's pixels are, for a consumer that imports them (CUDA). */
typedef struct
{
  guint32 type;       /* SPA_DATA_MemFd, MemPtr or DmaBuf */
  gconstpointer base; /* MemFd/MemPtr: the whole mapped buffer */
  gsize size;         /* its size */
  guint n_planes;     /* DmaBuf */
  gint fds[4];
  guint32 offsets[4];
  guint32 strides[4];
} ZcFrameSource;

/* Connects to PipeWire and to @config->node_id. Fails at once, with an error
 * that says what to do, when the daemon is not there, the node does not
 * exist or offers none of our formats. */
ZcStream *zc_stream_new (const ZcStreamConfig *config,
    const ZcStreamCallbacks *callbacks, gpointer user_data, GError **error);

/* The PipeWire buffer behind a frame handed out by this stream. FALSE for a
 * frame that was copied (it has no PipeWire buffer). */
gboolean zc_stream_frame_get_source (GstBuffer *frame, ZcFrameSource *src);

/* State a consumer keeps per PipeWire buffer (an import, a registration),
 * found again from any later frame of the same buffer. @destroy runs once
 * PipeWire removed the buffer and no frame of it is alive, on any thread. */
gpointer zc_stream_frame_get_data (GstBuffer *frame);
void zc_stream_frame_set_data (
    GstBuffer *frame, gpointer data, GDestroyNotify destroy);

/* An import of (@fourcc, @modifier) failed: stop offering that modifier and
 * renegotiate; when no DMA-BUF modifier is left, fall back to shared
 * memory. Any thread except the PipeWire one. */
void zc_stream_drop_modifier (
    ZcStream *stream, guint32 fourcc, guint64 modifier);

/* Disconnects and stops the thread. Frames still held downstream stay valid
 * (their mapping is refcounted) and are simply not requeued. NULL is fine. */
void zc_stream_free (ZcStream *stream);

G_END_DECLS
