/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ZcStream owns the PipeWire side: a thread loop, the connection, a check
 * that the node exists and speaks one of our formats, the format and buffer
 * negotiation, and a pw_stream. What happens to its buffers, mapped once
 * and lent downstream as frames, is in zc-stream-buffers.c.
 */
#include "zc-config.h"

#include "zc-stream-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <spa/param/video/format-utils.h>
#include <spa/utils/result.h>

GST_DEBUG_CATEGORY (zc_stream_debug);
#define GST_CAT_DEFAULT zc_stream_debug

/* How long start-up may wait for the daemon to answer a round trip, and how
 * long a connected stream may take to agree on a format. */
#define ZC_SYNC_TIMEOUT_US (3 * G_USEC_PER_SEC)
#define ZC_NEGOTIATION_TIMEOUT_S 10

void
zc_stream_init_debug (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_stream_debug, "zcstream", 0, "zerocast PipeWire stream");
    g_once_init_leave (&done, 1);
  }
}

ZcStream *
zc_stream_ref (ZcStream *s)
{
  g_atomic_int_inc (&s->refcount);
  return s;
}

void
zc_stream_unref (ZcStream *s)
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
  zc_syncobj_free (s->syncobj);
  g_free (s->render_node);
  g_mutex_clear (&s->queue_lock);
  g_free (s);
}

/* Called on the PipeWire thread or, when the failure is found before the
 * thread loop runs our stream, on the caller's thread with the lock held. */
void
zc_stream_report_error (ZcStream *s, ZcError code, const gchar *format, ...)
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

  GST_DEBUG (
      "core error id %u seq %d: %s (%s)", id, seq, message, spa_strerror (res));
  if (id == PW_ID_CORE && res == -EPIPE)
    zc_stream_report_error (s, ZC_ERROR_NO_DAEMON,
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
  zc_stream_report_error (s, ZC_ERROR_NO_NODE,
      "PipeWire node %u went away (the screencast or its producer stopped). "
      "Start a new ScreenCast session and use its node id.",
      id);
}

static const struct pw_registry_events registry_events = {
  PW_VERSION_REGISTRY_EVENTS,
  .global = on_registry_global,
  .global_remove = on_registry_global_remove,
};

static void
on_node_param (void *data, int seq, uint32_t id, uint32_t index, uint32_t next,
    const struct spa_pod *param)
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
  value_type = SPA_POD_TYPE (&prop->value) == SPA_TYPE_Choice
      ? SPA_POD_CHOICE_VALUE_TYPE (&prop->value)
      : SPA_POD_TYPE (&prop->value);
  if (value_type != SPA_TYPE_Id)
    return;
  values = SPA_POD_BODY (spa_pod_get_values (&prop->value, &n_values, &choice));
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
sync_core (ZcStream *s, GError **error)
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
check_node_formats (ZcStream *s, const ZcStreamConfig *config, GError **error)
{
  gchar *ours, *theirs;

  s->node = pw_registry_bind (
      s->registry, s->node_id, PW_TYPE_INTERFACE_Node, PW_VERSION_NODE, 0);
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
        "or headless compositor), and DMA-BUF is all that was asked for "
        "(output-mode=dmabuf, or a downstream that takes only "
        "memory:DMABuf). Use output-mode=system, or let downstream take "
        "system memory (videoconvert or vapostproc before the encoder).",
        s->node_id);
    return FALSE;
  }
  for (guint i = 0; i < s->offered->len; i++)
    for (guint j = 0; j < config->n_formats; j++)
      if (g_array_index (s->offered, guint32, i) == config->formats[j])
        return TRUE;

  ours = describe_formats (config->formats, config->n_formats);
  theirs = describe_formats (
      (const enum spa_video_format *) s->offered->data, s->offered->len);
  g_set_error (error, ZC_ERROR, ZC_ERROR_NOT_NEGOTIATED,
      "PipeWire node %u offers %s; pipewirezerocopysrc (with what "
      "downstream accepts) can take %s. Capture a screen node, or put a "
      "converter in the producer.",
      s->node_id, theirs, ours);
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
    zc_stream_report_error (s, ZC_ERROR_STREAM,
        "PipeWire stream error on node %u: %s", s->node_id,
        error ? error : "unknown");
  else if (state == PW_STREAM_STATE_UNCONNECTED
      && old != PW_STREAM_STATE_CONNECTING)
    zc_stream_report_error (s, ZC_ERROR_NO_NODE,
        "The PipeWire stream from node %u was disconnected (the producer "
        "went away).",
        s->node_id);
}

/* Enough buffers that frames held downstream (an encoder's lookahead, a
 * sink's last sample) are lent, not copied: wrap_frame copies once all
 * but three are downstream. PipeWire 1.6 settles a range on the producer's
 * default (4 for many producers, every frame then copied), so this many is
 * asked for first, and fewer only from a producer that cannot give it. */
#define ZC_BUFFERS_WANTED 8
#define ZC_BUFFERS_MAX 16

static const struct spa_pod *
buffers_param (struct spa_pod_builder *b, gint min, guint32 data_types)
{
  return spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamBuffers,
      SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
      SPA_POD_CHOICE_RANGE_Int (ZC_BUFFERS_WANTED, min, ZC_BUFFERS_MAX),
      SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (1), SPA_PARAM_BUFFERS_dataType,
      SPA_POD_CHOICE_FLAGS_Int (data_types));
}

#if ZC_HAVE_PW_1_2
/* A DMA-BUF layout with explicit sync: the plane, then the acquire and
 * release syncobjs as two more blocks, and the SyncTimeline meta required
 * (metaType), so a producer without explicit sync does not match it and
 * takes a plain one below. */
static const struct spa_pod *
sync_buffers_param (struct spa_pod_builder *b, gint min)
{
  return spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamBuffers,
      SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
      SPA_POD_CHOICE_RANGE_Int (ZC_BUFFERS_WANTED, min, ZC_BUFFERS_MAX),
      SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (3), SPA_PARAM_BUFFERS_metaType,
      SPA_POD_CHOICE_FLAGS_Int (1 << SPA_META_SyncTimeline),
      SPA_PARAM_BUFFERS_dataType,
      SPA_POD_CHOICE_FLAGS_Int (1 << SPA_DATA_DmaBuf));
}
#endif

guint
zc_stream_build_buffer_params (struct spa_pod_builder *b, guint32 data_types,
    gboolean dmabuf, const struct spa_pod **params)
{
  guint n = 0;
  guint32 fd_types = data_types & ~(1u << SPA_DATA_MemPtr);
  const gint mins[] = { ZC_BUFFERS_WANTED, 2 };

#if ZC_HAVE_PW_1_2
  /* Explicit sync only where it means something: a GPU producer's
   * DMA-BUF. With shared memory the producer's CPU wrote the pixels before
   * it queued the buffer; there is nothing to wait for. */
  if (dmabuf && (data_types & (1u << SPA_DATA_DmaBuf))) {
    for (guint i = 0; i < G_N_ELEMENTS (mins); i++)
      params[n++] = sync_buffers_param (b, mins[i]);
    params[n++] = spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamMeta,
        SPA_PARAM_Meta, SPA_PARAM_META_type, SPA_POD_Id (SPA_META_SyncTimeline),
        SPA_PARAM_META_size,
        SPA_POD_Int (sizeof (struct spa_meta_sync_timeline)));
  }
#endif
  /* Buffers params in order of preference: enough buffers first (above),
   * then MemFd (and DMA-BUF) before MemPtr: we map those ourselves, so a
   * frame held downstream stays valid even after PipeWire removes its
   * buffer. MemPtr, PipeWire's own mapping, only for a producer that offers
   * nothing else. */
  for (guint i = 0; i < G_N_ELEMENTS (mins); i++) {
    if (fd_types != 0 && fd_types != data_types)
      params[n++] = buffers_param (b, mins[i], fd_types);
    params[n++] = buffers_param (b, mins[i], data_types);
  }
  params[n++] = spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamMeta,
      SPA_PARAM_Meta, SPA_PARAM_META_type, SPA_POD_Id (SPA_META_Header),
      SPA_PARAM_META_size, SPA_POD_Int (sizeof (struct spa_meta_header)));
  params[n++] = spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamMeta,
      SPA_PARAM_Meta, SPA_PARAM_META_type, SPA_POD_Id (SPA_META_VideoCrop),
      SPA_PARAM_META_size, SPA_POD_Int (sizeof (struct spa_meta_region)));
  /* The size is the producer's to pick: Mutter offers one fixed size
   * (room for a 384x384 bitmap), which a smaller maximum here would refuse,
   * and with it the whole meta. Bitmaps above ZC_CURSOR_MAX_SIZE are
   * ignored when read (zc-cursor.c). */
  params[n++] = spa_pod_builder_add_object (b, SPA_TYPE_OBJECT_ParamMeta,
      SPA_PARAM_Meta, SPA_PARAM_META_type, SPA_POD_Id (SPA_META_Cursor),
      SPA_PARAM_META_size,
      SPA_POD_CHOICE_RANGE_Int (
          (int) (sizeof (struct spa_meta_cursor)
              + sizeof (struct spa_meta_bitmap) + 64 * 64 * 4),
          (int) sizeof (struct spa_meta_cursor),
          (int) (sizeof (struct spa_meta_cursor)
              + sizeof (struct spa_meta_bitmap) + 1024 * 1024 * 4)));
  g_assert (n <= ZC_STREAM_MAX_BUFFER_PARAMS);
  return n;
}

static void
update_buffer_params (ZcStream *s, gboolean dmabuf)
{
  guint8 buffer[2048];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[ZC_STREAM_MAX_BUFFER_PARAMS];
  guint n = zc_stream_build_buffer_params (&b, s->data_types, dmabuf, params);

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
    zc_stream_report_error (s, ZC_ERROR_NOT_NEGOTIATED, "%s", error->message);
    g_error_free (error);
    return;
  }
  s->info = info;
  s->have_format = TRUE;
  s->format_seq++;
  if (s->negotiation_timer) {
    pw_loop_destroy_source (
        pw_thread_loop_get_loop (s->loop), s->negotiation_timer);
    s->negotiation_timer = NULL;
  }
  GST_INFO ("node %u: format %s %dx%d %d/%d, modifier 0x%" G_GINT64_MODIFIER
            "x (format #%u)",
      s->node_id, gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
      GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
      GST_VIDEO_INFO_FPS_N (&info), GST_VIDEO_INFO_FPS_D (&info), modifier,
      s->format_seq);
  update_buffer_params (s, modifier != ZC_DRM_FORMAT_MOD_INVALID);
  if (s->callbacks.format_changed)
    s->callbacks.format_changed (s->user_data, &info, modifier, s->format_seq);
}

static const struct pw_stream_events stream_events = {
  PW_VERSION_STREAM_EVENTS,
  .state_changed = on_state_changed,
  .param_changed = on_param_changed,
  .add_buffer = zc_stream_on_add_buffer,
  .remove_buffer = zc_stream_on_remove_buffer,
  .process = zc_stream_on_process,
};

static void
on_negotiation_timeout (void *data, uint64_t expirations)
{
  ZcStream *s = data;

  if (!s->have_format)
    zc_stream_report_error (s, ZC_ERROR_NOT_NEGOTIATED,
        "No format was agreed with PipeWire node %u within %d s: is a "
        "session manager (WirePlumber) running to link the stream?",
        s->node_id, ZC_NEGOTIATION_TIMEOUT_S);
}

/* DMA-BUF offers first, one per format with its modifiers in EGL's order,
 * then shared memory for everything: PipeWire takes the first that both
 * sides can do. */
guint
zc_stream_build_enum_formats (
    ZcStream *s, struct spa_pod_builder *b, const struct spa_pod **params)
{
  guint n = 0;

  if (s->modifiers && (s->data_types & (1u << SPA_DATA_DmaBuf))) {
    for (guint i = 0; i < s->n_formats; i++) {
      const ZcFormat *fmt = zc_format_from_spa (s->formats[i]);
      guint n_mods = 0;
      const guint64 *mods =
          zc_modifiers_get_modifiers (s->modifiers, fmt->drm, &n_mods);

      if (n_mods > 0)
        params[n++] = zc_format_build_enum_modifiers (
            b, fmt->spa, mods, n_mods, &s->preference);
    }
  }
  if (s->data_types & ((1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr)))
    params[n++] =
        zc_format_build_enum (b, s->formats, s->n_formats, &s->preference);
  return n;
}

static gboolean
connect_stream (ZcStream *s, const ZcStreamConfig *config, GError **error)
{
  guint8 buffer[8192];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[G_N_ELEMENTS (s->formats) + 1];
  guint n_params;
  struct pw_properties *props;
  struct timespec timeout = { ZC_NEGOTIATION_TIMEOUT_S, 0 };
  int res;

  props = pw_properties_new (PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
      "Capture", PW_KEY_MEDIA_ROLE, "Screen", PW_KEY_NODE_NAME,
      "pipewirezerocopysrc", NULL);
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
  n_params = zc_stream_build_enum_formats (s, &b, params);
  if (s->modifiers) {
    gchar *str = zc_modifiers_to_string (s->modifiers);
    GST_DEBUG ("offering DMA-BUF %s, then shared memory", str);
    g_free (str);
  }

  s->negotiation_timer = pw_loop_add_timer (
      pw_thread_loop_get_loop (s->loop), on_negotiation_timeout, s);
  pw_loop_update_timer (pw_thread_loop_get_loop (s->loop), s->negotiation_timer,
      &timeout, NULL, false);

  res = pw_stream_connect (s->stream, PW_DIRECTION_INPUT, s->node_id,
      /* RT_PROCESS: process() runs on the data thread, saving a wake-up
       * of the loop thread per frame (53 us of CPU per frame on the H200
       * machine, BENCHMARKS.md; zc-stream-private.h: queue_lock). */
      PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_DONT_RECONNECT
          | PW_STREAM_FLAG_RT_PROCESS,
      params, n_params);
  if (res < 0) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_STREAM,
        "Could not connect a PipeWire stream to node %u: %s", s->node_id,
        spa_strerror (res));
    return FALSE;
  }
  return TRUE;
}

/* The stream's data thread must run on time even while the encoder keeps
 * every core busy: a producer that drives the graph (Mutter) hands out its
 * next frame only if the last cycle finished, and a frame queued while it
 * had not stays queued until the producer queues another, which on a still
 * desktop may be never (the viewer shows the picture before the last
 * change; seen on Debian 12 with Mutter 43 under load). PipeWire 1.x's
 * client.conf loads module-rt, which makes the data thread real-time where
 * the system allows it; before 1.0 only client-rt.conf does, so ask for
 * that there, and fall back to the default configuration without it. */
static struct pw_context *
new_context (struct pw_loop *loop)
{
  struct pw_context *context = NULL;
  gint major = 0;

  if (sscanf (pw_get_library_version (), "%d.", &major) == 1 && major < 1) {
    context = pw_context_new (loop,
        pw_properties_new (PW_KEY_CONFIG_NAME, "client-rt.conf", NULL), 0);
    if (context == NULL)
      GST_INFO ("no client-rt.conf (%s): the data thread is not real-time",
          g_strerror (errno));
  }
  if (context == NULL)
    context = pw_context_new (loop, NULL, 0);
  return context;
}

ZcStream *
zc_stream_new (const ZcStreamConfig *config, const ZcStreamCallbacks *callbacks,
    gpointer user_data, GError **error)
{
  ZcStream *s;
  const gchar *runtime_dir;

  g_return_val_if_fail (config->n_formats > 0, NULL);

  zc_stream_init_debug ();
  pw_init (NULL, NULL);

  s = g_new0 (ZcStream, 1);
  s->refcount = 1;
  g_mutex_init (&s->queue_lock);
  s->callbacks = *callbacks;
  s->user_data = user_data;
  s->stats = config->stats;
  s->node_id = config->node_id;
  s->data_types = config->data_types;
  s->preference = config->preference;
  s->render_node = g_strdup (config->render_node);
  s->n_formats = MIN (config->n_formats, G_N_ELEMENTS (s->formats));
  memcpy (s->formats, config->formats, s->n_formats * sizeof (s->formats[0]));
  if (config->modifiers && !zc_modifiers_is_empty (config->modifiers))
    s->modifiers = zc_modifiers_copy (config->modifiers);
  s->offered = g_array_new (FALSE, FALSE, sizeof (guint32));

  s->loop = pw_thread_loop_new ("zc-pipewire", NULL);
  s->context = s->loop ? new_context (pw_thread_loop_get_loop (s->loop)) : NULL;
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
    s->core = pw_context_connect_fd (
        s->context, fcntl (config->fd, F_DUPFD_CLOEXEC, 3), NULL, 0);
  else
    s->core = pw_context_connect (s->context, NULL, 0);
  if (s->core == NULL) {
    runtime_dir = g_getenv ("PIPEWIRE_RUNTIME_DIR");
    if (runtime_dir == NULL)
      runtime_dir = g_getenv ("XDG_RUNTIME_DIR");
    if (config->fd >= 0)
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "Could not connect to PipeWire through pipewire-fd %d: %s. Pass "
          "the fd from the portal's OpenPipeWireRemote.",
          config->fd, g_strerror (errno));
    else
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "Could not connect to the PipeWire daemon: %s. Is PipeWire "
          "running for this user (looked in %s)?",
          g_strerror (errno),
          runtime_dir ? runtime_dir : "XDG_RUNTIME_DIR, which is unset");
    goto failed_locked;
  }
  pw_core_add_listener (s->core, &s->core_listener, &core_events, s);
  s->registry = pw_core_get_registry (s->core, PW_VERSION_REGISTRY, 0);
  pw_registry_add_listener (
      s->registry, &s->registry_listener, &registry_events, s);
  if (!sync_core (s, error))
    goto failed_locked;
  if (!s->node_found) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_NODE,
        "PipeWire node %u does not exist. Use the node id that the "
        "ScreenCast session announced (PipeWireStreamAdded), or find one "
        "with pw-dump.",
        s->node_id);
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
  s->failed = TRUE; /* no error callbacks during teardown */
  zc_stream_free (s);
  return NULL;
}

void
zc_stream_free (ZcStream *s)
{
  if (s == NULL)
    return;
  if (s->loop) {
    pw_thread_loop_lock (s->loop);
    s->failed = TRUE; /* teardown is not an error */
    if (s->negotiation_timer)
      pw_loop_destroy_source (
          pw_thread_loop_get_loop (s->loop), s->negotiation_timer);
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

ZcModifiersDrop
zc_stream_forget_modifier (ZcStream *s, guint32 fourcc, guint64 modifier)
{
  ZcModifiersDrop left = s->modifiers
      ? zc_modifiers_drop (s->modifiers, fourcc, modifier)
      : ZC_MODIFIERS_DROP_NOT_FOUND;
  gchar name[5] = { 0 };

  /* A terminated copy: GStreamer's printf reads a %.4s argument with
   * strlen, past the four bytes (AddressSanitizer). */
  memcpy (name, &fourcc, 4);
  zc_stream_init_debug ();
  GST_INFO ("import of %s:0x%016" G_GINT64_MODIFIER "x failed: %s", name,
      modifier,
      left == ZC_MODIFIERS_DROP_NOT_FOUND ? "was not offered"
          : left == ZC_MODIFIERS_DROP_NONE_LEFT
          ? "no DMA-BUF modifier left, falling back to shared memory"
          : "renegotiating without it");
  /* With no modifier left, buffers must be shared memory from now on. */
  if (left == ZC_MODIFIERS_DROP_NONE_LEFT)
    s->data_types &= ~(1u << SPA_DATA_DmaBuf);
  return left;
}

void
zc_stream_drop_modifier (ZcStream *s, guint32 fourcc, guint64 modifier)
{
  pw_thread_loop_lock (s->loop);
  if (zc_stream_forget_modifier (s, fourcc, modifier)
          != ZC_MODIFIERS_DROP_NOT_FOUND
      && s->stream) {
    guint8 buffer[8192];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
    const struct spa_pod *params[G_N_ELEMENTS (s->formats) + 1];
    guint n = zc_stream_build_enum_formats (s, &b, params);

    pw_stream_update_params (s->stream, params, n);
  }
  pw_thread_loop_unlock (s->loop);
}
