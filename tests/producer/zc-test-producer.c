/* zc-test-producer: a PipeWire video source of our own, used by the tests
 * instead of pipewiresink (which stalls for good once a consumer leaves).
 *
 * It drives its own graph at --fps from a timer, hands out MemFd buffers
 * with a Header meta, and paints a pattern a consumer can check: four
 * quadrants (red, green / blue, white) in the byte order of --format, and
 * the frame's sequence number as four grey pixels at the start of row 0
 * and again at the end of the last row (a torn frame shows two values).
 *
 * stdout: `READY <node-id>` once, then `OK <cmd>` / `ERR <why>` per command.
 * stdin:  still | move | size WxH | corrupt N | cursor N | quit
 * --still starts as "still" does: the format is negotiated, no frame comes
 * until "move" (a desktop that has not drawn yet).
 * --lose-first-link is still for the first consumer only: once that one
 * has left, the next one to link gets frames (a compositor that lost the
 * first frame of a new stream and draws again for a new link).
 *
 * --sync-timeline also offers the explicit-sync meta (SPA_META_SyncTimeline,
 * PipeWire >= 1.2) on its MemFd buffers, as a GPU compositor offers it: a
 * consumer must not take it with shared memory. The `metas` command says
 * how many of the buffers PipeWire made carry each meta:
 * `OK metas buffers=N header=N sync-timeline=N`.
 *
 * --stamp paints the wall-clock time of each frame (CLOCK_REALTIME in ms,
 * modulo 2^20) as 20 black/white 16x16 blocks along row 16, most
 * significant bit first from x = 16: whatever shows the picture (a
 * browser behind a relay, say) can tell glass-to-glass latency from it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/param/buffers.h>
#include <spa/param/param.h>
#include <spa/pod/builder.h>
#include <spa/buffer/meta.h>

/* One entry per --format: how a pixel of each quadrant colour is laid out
 * in memory. RGB formats are 4 bytes per pixel; YUY2 is handled apart. */
typedef struct
{
  const char *name;
  enum spa_video_format spa;
  int r, g, b, a; /* byte offsets inside a pixel; a = filler */
} Format;

static const Format formats[] = {
  { .name = "BGRx",
      .spa = SPA_VIDEO_FORMAT_BGRx,
      .r = 2,
      .g = 1,
      .b = 0,
      .a = 3 },
  { .name = "BGRA",
      .spa = SPA_VIDEO_FORMAT_BGRA,
      .r = 2,
      .g = 1,
      .b = 0,
      .a = 3 },
  { .name = "RGBx",
      .spa = SPA_VIDEO_FORMAT_RGBx,
      .r = 0,
      .g = 1,
      .b = 2,
      .a = 3 },
  { .name = "RGBA",
      .spa = SPA_VIDEO_FORMAT_RGBA,
      .r = 0,
      .g = 1,
      .b = 2,
      .a = 3 },
  { .name = "xRGB",
      .spa = SPA_VIDEO_FORMAT_xRGB,
      .r = 1,
      .g = 2,
      .b = 3,
      .a = 0 },
  { .name = "ARGB",
      .spa = SPA_VIDEO_FORMAT_ARGB,
      .r = 1,
      .g = 2,
      .b = 3,
      .a = 0 },
  /* A packed YUV format: the "format we cannot take" case for consumers
   * that only accept RGB. */
  { .name = "YUY2", .spa = SPA_VIDEO_FORMAT_YUY2 },
};

typedef struct
{
  struct pw_main_loop *main_loop;
  struct pw_loop *loop;
  struct pw_context *context;
  struct pw_core *core;
  struct pw_stream *stream;
  struct spa_hook stream_listener;
  struct spa_source *timer;
  struct spa_source *input;

  const Format *format;
  const char *name;
  int fps;
  int max_buffers;             /* most buffers it allows (--max-buffers) */
  int want_width, want_height; /* what EnumFormat offers now */
  int width, height, stride;   /* what was negotiated; 0 = nothing yet */

  int ready_printed;
  int streaming;
  int still;
  int lose_first_link; /* --lose-first-link: still until a second link */
  struct pw_registry *registry; /* --lose-first-link: watches our links */
  struct spa_hook registry_listener;
  uint32_t first_link; /* the first link from our node, or SPA_ID_INVALID */
  int corrupt_left, cursor_left;
  uint32_t seq;
  int stamp;                       /* --stamp */
  int sync_timeline;               /* --sync-timeline */
  int n_buffers, n_header, n_sync; /* buffers made, with each meta */

  char line[256];
  size_t line_len;
  int exit_code;
} Producer;

static void
reply (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vfprintf (stdout, fmt, ap);
  va_end (ap);
  fputc ('\n', stdout);
  /* The tests read our stdout through a pipe: flush every line. */
  fflush (stdout);
}

static const struct spa_pod *
build_enum_format (Producer *p, struct spa_pod_builder *b)
{
  return spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_Format,
      SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
      SPA_POD_Id (SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype,
      SPA_POD_Id (SPA_MEDIA_SUBTYPE_raw), SPA_FORMAT_VIDEO_format,
      SPA_POD_Id (p->format->spa), SPA_FORMAT_VIDEO_size,
      SPA_POD_Rectangle (&SPA_RECTANGLE (p->want_width, p->want_height)),
      SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction (&SPA_FRACTION (p->fps, 1)));
}

static void
set_timer (Producer *p)
{
  struct timespec value = { 0, 0 }, interval = { 0, 0 };

  /* Produce only while a consumer is linked, a format matches what we
   * offer (a resize is pending until it does), and we are not "still". */
  if (p->streaming && !p->still && p->width == p->want_width
      && p->height == p->want_height) {
    interval.tv_nsec = 1000000000L / p->fps;
    value.tv_nsec = 1; /* 0 would disarm the timer */
  }
  pw_loop_update_timer (p->loop, p->timer, &value, &interval, false);
}

static void
put_rgb (Producer *p, uint8_t *px, uint8_t r, uint8_t g, uint8_t b)
{
  px[p->format->r] = r;
  px[p->format->g] = g;
  px[p->format->b] = b;
  px[p->format->a] = 0xff;
}

/* Quadrant colours: TL red, TR green, BL blue, BR white. */
static void
quadrant_rgb (Producer *p, int x, int y, uint8_t rgb[3])
{
  int right = x >= p->width / 2, bottom = y >= p->height / 2;

  rgb[0] = (!right && !bottom) || (right && bottom) ? 0xff : 0;
  rgb[1] = (right && !bottom) || (right && bottom) ? 0xff : 0;
  rgb[2] = bottom ? 0xff : 0;
}

static void
paint_rgb (Producer *p, uint8_t *data)
{
  for (int y = 0; y < p->height; y++) {
    uint8_t *row = data + (size_t) y * p->stride;
    for (int x = 0; x < p->width; x++) {
      uint8_t c[3];
      quadrant_rgb (p, x, y, c);
      put_rgb (p, row + 4 * x, c[0], c[1], c[2]);
    }
  }
  /* The sequence number, most significant byte first, as grey pixels. */
  uint8_t *last = data + (size_t) (p->height - 1) * p->stride;
  for (int i = 0; i < 4 && i < p->width; i++) {
    uint8_t v = (p->seq >> (8 * (3 - i))) & 0xff;
    put_rgb (p, data + 4 * i, v, v, v);
    put_rgb (p, last + 4 * (p->width - 4 + i), v, v, v);
  }
}

#define STAMP_BITS 20
#define STAMP_BLOCK 16

/* Macroblock-aligned blocks survive any H.264 bitrate as black or white. */
static void
paint_stamp (Producer *p, uint8_t *data)
{
  struct timespec t;
  uint32_t ms;

  clock_gettime (CLOCK_REALTIME, &t);
  ms = (uint32_t) (((uint64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000)
      & ((1u << STAMP_BITS) - 1));
  for (int bit = 0; bit < STAMP_BITS; bit++) {
    uint8_t v = (ms >> (STAMP_BITS - 1 - bit)) & 1 ? 0xff : 0;
    for (int y = STAMP_BLOCK; y < 2 * STAMP_BLOCK && y < p->height; y++)
      for (int x = STAMP_BLOCK * (bit + 1);
           x < STAMP_BLOCK * (bit + 2) && x < p->width; x++)
        put_rgb (p, data + (size_t) y * p->stride + 4 * x, v, v, v);
  }
}

static void
paint_yuy2 (Producer *p, uint8_t *data)
{
  /* BT.601 limited range values of the four quadrant colours. */
  static const uint8_t yuv[4][3] = {
    { 81, 90, 240 },
    { 145, 54, 34 },
    { 41, 240, 110 },
    { 235, 128, 128 },
  };
  for (int y = 0; y < p->height; y++) {
    uint8_t *row = data + (size_t) y * p->stride;
    for (int x = 0; x + 1 < p->width; x += 2) {
      const uint8_t *c = yuv[(x >= p->width / 2) + 2 * (y >= p->height / 2)];
      row[2 * x] = c[0];
      row[2 * x + 1] = c[1];
      row[2 * x + 2] = c[0];
      row[2 * x + 3] = c[2];
    }
  }
  for (int i = 0; i < 4 && i < p->width; i++)
    data[2 * i] = (p->seq >> (8 * (3 - i))) & 0xff;
}

static void
on_process (void *user_data)
{
  Producer *p = user_data;
  struct pw_buffer *b;
  struct spa_buffer *buf;
  struct spa_meta_header *h;
  struct spa_data *d;
  struct timespec now;

  if ((b = pw_stream_dequeue_buffer (p->stream)) == NULL)
    return; /* all buffers are with the consumer */
  buf = b->buffer;
  d = &buf->datas[0];
  if (d->data == NULL || p->width == 0) {
    pw_stream_queue_buffer (p->stream, b);
    return;
  }

  clock_gettime (CLOCK_MONOTONIC, &now);
  p->seq++;
  if ((h = spa_buffer_find_meta_data (buf, SPA_META_Header, sizeof (*h)))) {
    h->pts = SPA_TIMESPEC_TO_NSEC (&now);
    h->flags = 0;
    h->seq = p->seq;
    h->dts_offset = 0;
    h->offset = 0;
    if (p->corrupt_left > 0) {
      h->flags |= SPA_META_HEADER_FLAG_CORRUPTED;
      p->corrupt_left--;
    }
  }

  d->chunk->offset = 0;
  d->chunk->stride = p->stride;
  d->chunk->flags = SPA_CHUNK_FLAG_NONE;
  if (p->cursor_left > 0) {
    /* What Mutter sends when only the cursor moved: no picture. */
    d->chunk->size = 0;
    p->cursor_left--;
  } else {
    if (p->format->spa == SPA_VIDEO_FORMAT_YUY2)
      paint_yuy2 (p, d->data);
    else
      paint_rgb (p, d->data);
    if (p->stamp && p->format->spa != SPA_VIDEO_FORMAT_YUY2)
      paint_stamp (p, d->data);
    d->chunk->size = (uint32_t) p->stride * p->height;
  }
  pw_stream_queue_buffer (p->stream, b);
}

static void
on_timeout (void *user_data, uint64_t expirations)
{
  Producer *p = user_data;

  /* We are the driver: each tick starts one graph cycle, which calls
   * on_process() to fill and queue a buffer. */
  pw_stream_trigger_process (p->stream);
}

static void
on_state_changed (void *user_data, enum pw_stream_state old,
    enum pw_stream_state state, const char *error)
{
  Producer *p = user_data;

  if (state == PW_STREAM_STATE_ERROR) {
    fprintf (stderr, "zc-test-producer: stream error: %s\n",
        error ? error : "unknown");
    p->exit_code = 1;
    pw_main_loop_quit (p->main_loop);
    return;
  }
  if (state == PW_STREAM_STATE_UNCONNECTED) {
    fprintf (stderr, "zc-test-producer: disconnected from PipeWire\n");
    p->exit_code = 1;
    pw_main_loop_quit (p->main_loop);
    return;
  }
  /* PAUSED is reached once the node is exported and has its id. */
  if (!p->ready_printed && state >= PW_STREAM_STATE_PAUSED) {
    uint32_t id = pw_stream_get_node_id (p->stream);
    if (id != SPA_ID_INVALID) {
      p->ready_printed = 1;
      reply ("READY %u", id);
    }
  }
  p->streaming = state == PW_STREAM_STATE_STREAMING;
  set_timer (p);
}

static void
on_param_changed (void *user_data, uint32_t id, const struct spa_pod *param)
{
  Producer *p = user_data;
  struct spa_video_info_raw info;
  uint8_t buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[3];
  uint32_t n_params;

  if (id != SPA_PARAM_Format)
    return;
  if (param == NULL) {
    /* The consumer left; a new one negotiates again. */
    p->width = p->height = 0;
    set_timer (p);
    return;
  }
  if (spa_format_video_raw_parse (param, &info) < 0) {
    pw_stream_set_error (p->stream, -EINVAL, "cannot parse the format");
    return;
  }
  p->width = info.size.width;
  p->height = info.size.height;
  p->stride = SPA_ROUND_UP_N (
      (p->format->spa == SPA_VIDEO_FORMAT_YUY2 ? 2 : 4) * p->width, 4);

  params[0] = spa_pod_builder_add_object (&b, SPA_TYPE_OBJECT_ParamBuffers,
      SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
      SPA_POD_CHOICE_RANGE_Int (SPA_MIN (4, p->max_buffers), 2, p->max_buffers),
      SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (1), SPA_PARAM_BUFFERS_size,
      SPA_POD_Int (p->stride * p->height), SPA_PARAM_BUFFERS_stride,
      SPA_POD_Int (p->stride), SPA_PARAM_BUFFERS_dataType,
      SPA_POD_CHOICE_FLAGS_Int (1 << SPA_DATA_MemFd));
  params[1] = spa_pod_builder_add_object (&b, SPA_TYPE_OBJECT_ParamMeta,
      SPA_PARAM_Meta, SPA_PARAM_META_type, SPA_POD_Id (SPA_META_Header),
      SPA_PARAM_META_size, SPA_POD_Int (sizeof (struct spa_meta_header)));
  n_params = 2;
#if PW_CHECK_VERSION(1, 2, 0)
  if (p->sync_timeline)
    params[n_params++] = spa_pod_builder_add_object (&b,
        SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta, SPA_PARAM_META_type,
        SPA_POD_Id (SPA_META_SyncTimeline), SPA_PARAM_META_size,
        SPA_POD_Int (sizeof (struct spa_meta_sync_timeline)));
#endif
  pw_stream_update_params (p->stream, params, n_params);
  set_timer (p);
}

/* --lose-first-link: the first link out of our node is noted; once it is
 * removed (its consumer left; the stream's own states say nothing
 * reliable, as pipewiresrc pauses and resumes while it starts), the next
 * consumer gets frames. */
static void
on_registry_global (void *data, uint32_t id, uint32_t permissions,
    const char *type, uint32_t version, const struct spa_dict *props)
{
  Producer *p = data;
  const char *out =
      props ? spa_dict_lookup (props, PW_KEY_LINK_OUTPUT_NODE) : NULL;

  (void) permissions;
  (void) version;
  if (p->first_link != SPA_ID_INVALID || strcmp (type, PW_TYPE_INTERFACE_Link)
      || out == NULL
      || (uint32_t) atoi (out) != pw_stream_get_node_id (p->stream))
    return;
  p->first_link = id;
}

static void
on_registry_global_remove (void *data, uint32_t id)
{
  Producer *p = data;

  if (!p->lose_first_link || id != p->first_link)
    return;
  p->lose_first_link = 0;
  p->still = 0;
  fprintf (stderr,
      "zc-test-producer: the first link (%u) went away without a frame; "
      "the next one gets frames\n",
      id);
  set_timer (p);
}

static const struct pw_registry_events registry_events = {
  PW_VERSION_REGISTRY_EVENTS,
  .global = on_registry_global,
  .global_remove = on_registry_global_remove,
};

/* Counts the metas PipeWire gave each buffer: what both sides agreed. */
static void
on_add_buffer (void *user_data, struct pw_buffer *b)
{
  Producer *p = user_data;

  p->n_buffers++;
  if (spa_buffer_find_meta (b->buffer, SPA_META_Header))
    p->n_header++;
#if PW_CHECK_VERSION(1, 2, 0)
  if (spa_buffer_find_meta (b->buffer, SPA_META_SyncTimeline))
    p->n_sync++;
#endif
}

static void
on_remove_buffer (void *user_data, struct pw_buffer *b)
{
  Producer *p = user_data;

  p->n_buffers--;
  if (spa_buffer_find_meta (b->buffer, SPA_META_Header))
    p->n_header--;
#if PW_CHECK_VERSION(1, 2, 0)
  if (spa_buffer_find_meta (b->buffer, SPA_META_SyncTimeline))
    p->n_sync--;
#endif
}

static const struct pw_stream_events stream_events = {
  PW_VERSION_STREAM_EVENTS,
  .state_changed = on_state_changed,
  .param_changed = on_param_changed,
  .add_buffer = on_add_buffer,
  .remove_buffer = on_remove_buffer,
  .process = on_process,
};

static int
parse_size (const char *s, int *w, int *h)
{
  char *end;
  long lw = strtol (s, &end, 10), lh;

  if (end == s || *end != 'x')
    return -1;
  s = end + 1;
  lh = strtol (s, &end, 10);
  if (end == s || *end != '\0' || lw < 8 || lh < 8 || lw > 8192 || lh > 8192)
    return -1;
  *w = (int) lw;
  *h = (int) lh;
  return 0;
}

static void
run_command (Producer *p, char *cmd)
{
  char *arg = strchr (cmd, ' ');
  int n;

  if (arg)
    *arg++ = '\0';
  if (strcmp (cmd, "still") == 0) {
    p->still = 1;
    set_timer (p);
    reply ("OK still");
  } else if (strcmp (cmd, "move") == 0) {
    p->still = 0;
    set_timer (p);
    reply ("OK move");
  } else if (strcmp (cmd, "size") == 0) {
    uint8_t buffer[1024];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
    const struct spa_pod *param;
    int w, h;

    if (!arg || parse_size (arg, &w, &h) < 0) {
      reply ("ERR size wants WxH between 8x8 and 8192x8192");
      return;
    }
    p->want_width = w;
    p->want_height = h;
    /* Offering only the new size makes the consumer renegotiate; frames
     * resume when the new Format arrives in on_param_changed(). */
    param = build_enum_format (p, &b);
    pw_stream_update_params (p->stream, &param, 1);
    set_timer (p);
    reply ("OK size %dx%d", w, h);
  } else if (strcmp (cmd, "corrupt") == 0 || strcmp (cmd, "cursor") == 0) {
    char *end = NULL;
    n = arg ? (int) strtol (arg, &end, 10) : -1;
    if (!arg || *end != '\0' || n < 0) {
      reply ("ERR %s wants a count >= 0", cmd);
      return;
    }
    if (cmd[1] == 'o')
      p->corrupt_left = n;
    else
      p->cursor_left = n;
    reply ("OK %s %d", cmd, n);
  } else if (strcmp (cmd, "metas") == 0) {
    reply ("OK metas buffers=%d header=%d sync-timeline=%d", p->n_buffers,
        p->n_header, p->n_sync);
  } else if (strcmp (cmd, "quit") == 0) {
    reply ("OK quit");
    pw_main_loop_quit (p->main_loop);
  } else {
    reply ("ERR unknown command '%s' (still, move, size WxH, corrupt N, "
           "cursor N, metas, quit)",
        cmd);
  }
}

static void
on_input (void *user_data, int fd, uint32_t mask)
{
  Producer *p = user_data;
  char chunk[256];
  ssize_t n = read (fd, chunk, sizeof (chunk));

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    /* stdin closed: whoever started us is gone or done. */
    pw_main_loop_quit (p->main_loop);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (chunk[i] == '\n') {
      p->line[p->line_len] = '\0';
      if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
        p->line[p->line_len - 1] = '\0';
      if (p->line[0] != '\0')
        run_command (p, p->line);
      p->line_len = 0;
    } else if (p->line_len + 1 < sizeof (p->line)) {
      p->line[p->line_len++] = chunk[i];
    }
  }
}

/* SIGTERM/SIGINT may land in any of PipeWire's threads, so the handler
 * only writes to a pipe that the main loop watches. */
static int signal_pipe[2] = { -1, -1 };

static void
on_signal (int signal_number)
{
  char byte = (char) signal_number;
  ssize_t n = write (signal_pipe[1], &byte, 1);

  (void) n; /* full pipe: a quit is pending anyway */
}

static void
on_signal_pipe (void *user_data, int fd, uint32_t mask)
{
  Producer *p = user_data;

  pw_main_loop_quit (p->main_loop);
}

static void
usage (FILE *out)
{
  fprintf (out,
      "usage: zc-test-producer [--name NAME] [--size WxH] "
      "[--fps N] [--format BGRx|BGRA|RGBx|RGBA|xRGB|ARGB|YUY2] "
      "[--stamp] [--still] [--lose-first-link] [--sync-timeline] "
      "[--max-buffers 2..16]\n");
}

int
main (int argc, char *argv[])
{
  Producer p = { .name = "zc-test-producer",
    .first_link = SPA_ID_INVALID,
    .fps = 30,
    .max_buffers = 16,
    .want_width = 320,
    .want_height = 240,
    .format = &formats[0] };
  uint8_t buffer[1024];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *param;

  for (int i = 1; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

    if (strcmp (opt, "--help") == 0 || strcmp (opt, "-h") == 0) {
      usage (stdout);
      return 0;
    }
    if (strcmp (opt, "--stamp") == 0) {
      p.stamp = 1;
      continue;
    }
    if (strcmp (opt, "--still") == 0) {
      p.still = 1; /* no frame until "move" */
      continue;
    }
    if (strcmp (opt, "--lose-first-link") == 0) {
      p.still = p.lose_first_link = 1;
      continue;
    }
    if (strcmp (opt, "--sync-timeline") == 0) {
#if PW_CHECK_VERSION(1, 2, 0)
      p.sync_timeline = 1;
      continue;
#else
      fprintf (stderr,
          "zc-test-producer: --sync-timeline needs PipeWire >= 1.2 (built "
          "with %s)\n",
          pw_get_headers_version ());
      return 2;
#endif
    }
    if (val == NULL) {
      fprintf (stderr, "zc-test-producer: %s needs a value\n", opt);
      usage (stderr);
      return 2;
    }
    i++;
    if (strcmp (opt, "--name") == 0) {
      p.name = val;
    } else if (strcmp (opt, "--size") == 0) {
      if (parse_size (val, &p.want_width, &p.want_height) < 0) {
        fprintf (stderr,
            "zc-test-producer: bad --size '%s': use WxH, "
            "8x8 to 8192x8192\n",
            val);
        return 2;
      }
    } else if (strcmp (opt, "--fps") == 0) {
      p.fps = atoi (val);
      if (p.fps < 1 || p.fps > 1000) {
        fprintf (
            stderr, "zc-test-producer: bad --fps '%s': use 1..1000\n", val);
        return 2;
      }
    } else if (strcmp (opt, "--max-buffers") == 0) {
      p.max_buffers = atoi (val);
      if (p.max_buffers < 2 || p.max_buffers > 16) {
        fprintf (stderr,
            "zc-test-producer: bad --max-buffers '%s': use 2..16\n", val);
        return 2;
      }
    } else if (strcmp (opt, "--format") == 0) {
      p.format = NULL;
      for (size_t f = 0; f < SPA_N_ELEMENTS (formats); f++)
        if (strcmp (formats[f].name, val) == 0)
          p.format = &formats[f];
      if (p.format == NULL) {
        fprintf (stderr, "zc-test-producer: unknown --format '%s'\n", val);
        usage (stderr);
        return 2;
      }
    } else {
      fprintf (stderr, "zc-test-producer: unknown option '%s'\n", opt);
      usage (stderr);
      return 2;
    }
  }

  pw_init (&argc, &argv);
  p.main_loop = pw_main_loop_new (NULL);
  p.loop = pw_main_loop_get_loop (p.main_loop);
  p.context = pw_context_new (p.loop, NULL, 0);
  p.core = pw_context_connect (p.context, NULL, 0);
  if (p.core == NULL) {
    fprintf (stderr,
        "zc-test-producer: cannot connect to PipeWire (%s): "
        "is the daemon running and XDG_RUNTIME_DIR set?\n",
        strerror (errno));
    pw_context_destroy (p.context);
    pw_main_loop_destroy (p.main_loop);
    pw_deinit ();
    return 1;
  }

  if (pipe2 (signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
    fprintf (stderr, "zc-test-producer: pipe: %s\n", strerror (errno));
    return 1;
  }
  pw_loop_add_io (p.loop, signal_pipe[0], SPA_IO_IN, false, on_signal_pipe, &p);
  struct sigaction action = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
  p.timer = pw_loop_add_timer (p.loop, on_timeout, &p);
  p.input = pw_loop_add_io (
      p.loop, STDIN_FILENO, SPA_IO_IN | SPA_IO_HUP, false, on_input, &p);

  p.stream = pw_stream_new (p.core, p.name,
      pw_properties_new (PW_KEY_MEDIA_CLASS, "Video/Source", PW_KEY_MEDIA_TYPE,
          "Video", PW_KEY_MEDIA_CATEGORY, "Capture", PW_KEY_MEDIA_ROLE,
          "Screen", PW_KEY_NODE_NAME, p.name, NULL));
  pw_stream_add_listener (p.stream, &p.stream_listener, &stream_events, &p);
  if (p.lose_first_link) {
    p.registry = pw_core_get_registry (p.core, PW_VERSION_REGISTRY, 0);
    pw_registry_add_listener (
        p.registry, &p.registry_listener, &registry_events, &p);
  }

  param = build_enum_format (&p, &b);
  if (pw_stream_connect (p.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
          PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS, &param, 1)
      < 0) {
    fprintf (stderr, "zc-test-producer: cannot connect the stream\n");
    p.exit_code = 1;
  } else {
    pw_main_loop_run (p.main_loop);
  }

  /* Leaving on purpose is not the "disconnected" error of on_state_changed. */
  spa_hook_remove (&p.stream_listener);
  pw_stream_destroy (p.stream);
  if (p.registry)
    pw_proxy_destroy ((struct pw_proxy *) p.registry);
  pw_core_disconnect (p.core);
  pw_context_destroy (p.context);
  pw_main_loop_destroy (p.main_loop);
  pw_deinit ();
  return p.exit_code;
}
