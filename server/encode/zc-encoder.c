/* zerocast server: encoder probing and low-latency settings.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include "zc-encoder.h"

#include "zc-server-error.h"

GST_DEBUG_CATEGORY_STATIC (zc_encoder_debug);
#define GST_CAT_DEFAULT zc_encoder_debug

typedef struct
{
  const gchar *name;
  const gchar *raw_format; /* what the encoder wants from videoconvert */
  const gchar *profile;    /* forced through caps after the encoder */
  gboolean bitrate_in_bps; /* else kbit/s */
  const gchar *bitrate_prop;
  const gchar *gop_prop;
  /* The formats it takes in CUDA memory, for pipewirezerocopysrc in cuda
   * mode (NULL: it takes none). */
  const gchar *cuda_formats;
  /* Give it a nominal frame rate when the source has none (0/1, a
   * damage-driven desktop): x264 takes 0/1 as variable-rate input and
   * then holds every frame until the next one comes, to learn its
   * duration (x264's frame delay grows by b_vfr_input), which on a still
   * desktop is the next keepalive resend, 100 ms later. */
  gboolean fixed_rate;
  /* Low-latency settings; a property this GStreamer version lacks is
   * skipped with a log line rather than failing. */
  const gchar *const props[8];
} EncoderInfo;

static const EncoderInfo encoders[] = {
  {
      .name = "nvh264enc",
      .raw_format = "NV12",
      .profile = "main",
      .bitrate_prop = "bitrate",
      .gop_prop = "gop-size",
      .cuda_formats = "NV12",
      .props = { "preset=low-latency-hq", "rc-mode=cbr", "zerolatency=true",
          "bframes=0", "rc-lookahead=0", NULL },
  },
#if ZC_HAVE_GST_1_24
  /* GStreamer 1.24's NVENC elements (GstNvEncoder): nvcudah264enc on the
   * CUDA context it shares with upstream, nvautogpuh264enc on whichever GPU
   * the CUDA memory it receives lives on. Both also take system memory;
   * NV12 is what the element's CUDA converter makes for them. */
  {
      .name = "nvcudah264enc",
      .raw_format = "NV12",
      .profile = "main",
      .bitrate_prop = "bitrate",
      .gop_prop = "gop-size",
      .cuda_formats = "NV12",
      .props = { "preset=p1", "tune=ultra-low-latency", "rate-control=cbr",
          "b-frames=0", "zero-reorder-delay=true", "rc-lookahead=0", NULL },
  },
  {
      .name = "nvautogpuh264enc",
      .raw_format = "NV12",
      .profile = "main",
      .bitrate_prop = "bitrate",
      .gop_prop = "gop-size",
      .cuda_formats = "NV12",
      .props = { "preset=p1", "tune=ultra-low-latency", "rate-control=cbr",
          "b-frames=0", "zero-reorder-delay=true", "rc-lookahead=0", NULL },
  },
#endif
  {
      .name = "qsvh264enc",
      .raw_format = "NV12",
      .profile = "main",
      .bitrate_prop = "bitrate",
      .gop_prop = "gop-size",
      .props = { "rate-control=cbr", "b-frames=0", "target-usage=7", NULL },
  },
  {
      .name = "vah264enc",
      .raw_format = "NV12",
      .profile = "main",
      .bitrate_prop = "bitrate",
      .gop_prop = "key-int-max",
      .props = { "rate-control=cbr", "b-frames=0", "target-usage=7", NULL },
  },
  {
      .name = "openh264enc",
      .raw_format = "I420",
      .profile = "constrained-baseline",
      .bitrate_in_bps = TRUE,
      .bitrate_prop = "bitrate",
      .gop_prop = "gop-size",
      .props = { "rate-control=bitrate", "complexity=low", "usage-type=screen",
          "multi-thread=2", "enable-frame-skip=false", NULL },
  },
  {
      .name = "x264enc",
      .raw_format = "I420",
      .profile = "constrained-baseline",
      .bitrate_prop = "bitrate",
      .gop_prop = "key-int-max",
      .fixed_rate = TRUE,
      /* zerolatency: no lookahead, sliced threads; CBR with a short VBV
       * buffer so a frame never waits for rate control. */
      .props = { "tune=zerolatency", "speed-preset=ultrafast", "bframes=0",
          "b-adapt=false", "pass=cbr", "vbv-buf-capacity=200", NULL },
  },
};

static void
init_debug (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (
        zc_encoder_debug, "zcencoder", 0, "zerocast encoder selection");
    g_once_init_leave (&once, 1);
  }
}

static const EncoderInfo *
find (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (encoders); i++)
    if (g_strcmp0 (encoders[i].name, name) == 0)
      return &encoders[i];
  return NULL;
}

const gchar *const *
zc_encoder_names (void)
{
  static gsize once = 0;
  static const gchar *names[G_N_ELEMENTS (encoders) + 1];

  /* The table's order is the probing order. */
  if (g_once_init_enter (&once)) {
    for (guint i = 0; i < G_N_ELEMENTS (encoders); i++)
      names[i] = encoders[i].name;
    g_once_init_leave (&once, 1);
  }
  return names;
}

GstCaps *
zc_encoder_cuda_caps (const gchar *name)
{
  const EncoderInfo *info = find (name);
  g_autofree gchar *str = NULL;

  if (info == NULL || info->cuda_formats == NULL)
    return NULL;
  str = g_strdup_printf (
      "video/x-raw(memory:CUDAMemory),format=%s", info->cuda_formats);
  return gst_caps_from_string (str);
}

gboolean
zc_encoder_takes_cuda (const gchar *name)
{
  g_autoptr (GstCaps) cuda = zc_encoder_cuda_caps (name);
  g_autoptr (GstElementFactory) factory = NULL;
  const GList *l;

  if (cuda == NULL || (factory = gst_element_factory_find (name)) == NULL)
    return FALSE;
  for (l = gst_element_factory_get_static_pad_templates (factory); l;
       l = l->next) {
    GstStaticPadTemplate *t = l->data;

    if (t->direction == GST_PAD_SINK) {
      g_autoptr (GstCaps) tmpl = gst_static_pad_template_get_caps (t);

      if (gst_caps_can_intersect (tmpl, cuda))
        return TRUE;
    }
  }
  return FALSE;
}

gboolean
zc_encoder_is_known (const gchar *name)
{
  return find (name) != NULL;
}

gboolean
zc_encoder_is_available (const gchar *name)
{
  g_autoptr (GstElementFactory) factory = gst_element_factory_find (name);

  return factory != NULL;
}

static void
set_prop (GstElement *enc, const gchar *name, const gchar *value)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (enc), name) == NULL) {
    GST_INFO ("%s has no property %s here; not setting it",
        GST_ELEMENT_NAME (enc), name);
    return;
  }
  gst_util_set_object_arg (G_OBJECT (enc), name, value);
}

/* Rewrites a caps event's framerate 0/1 to the stream's nominal rate
 * (EncoderInfo.fixed_rate). Timestamps stay the capture times; only the
 * encoder's idea of the rate changes, which its rate control uses to size
 * frames (bitrate / fps each). */
static GstPadProbeReturn
set_nominal_rate (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  guint fps = GPOINTER_TO_UINT (user_data);
  GstCaps *caps, *fixed;
  GstStructure *s;
  gint n, d;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  if (gst_caps_get_size (caps) != 1)
    return GST_PAD_PROBE_OK;
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_get_fraction (s, "framerate", &n, &d) || n != 0)
    return GST_PAD_PROBE_OK;
  fixed = gst_caps_copy (caps);
  gst_caps_set_simple (
      fixed, "framerate", GST_TYPE_FRACTION, (gint) fps, 1, NULL);
  GST_INFO_OBJECT (pad,
      "no frame rate from the source: telling the encoder "
      "%u/1, else it holds each frame for the next",
      fps);
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (fixed);
  gst_caps_unref (fixed);
  return GST_PAD_PROBE_OK;
}

/* Test only: ZEROCAST_TEST_FAIL_ENCODER_AFTER=N makes the first encoder
 * built in this process fail after N access units, as a real encoder that
 * loses its device mid-stream would: an identity element inside the
 * encoder's bin posts an error, so the pipeline blames the encoder and
 * falls back to the next one. Later encoders are left alone. Returns TRUE
 * when it linked @enc to @next through the fault. */
static gboolean
add_test_fault (GstElement *bin, GstElement *enc, GstElement *next)
{
  static gint used;
  const gchar *env = g_getenv ("ZEROCAST_TEST_FAIL_ENCODER_AFTER");
  guint64 after;
  GstElement *fault;

  if (env == NULL || *env == '\0'
      || !g_ascii_string_to_unsigned (env, 10, 1, G_MAXINT, &after, NULL)
      || !g_atomic_int_compare_and_exchange (&used, 0, 1))
    return FALSE;
  fault = gst_element_factory_make ("identity", "test-encoder-fault");
  if (fault == NULL)
    return FALSE;
  g_object_set (fault, "error-after", (gint) after, NULL);
  gst_bin_add (GST_BIN (bin), fault);
  gst_element_link_many (enc, fault, next, NULL);
  g_printerr (
      "zerocast: test fault: encoder %s will fail after %" G_GUINT64_FORMAT
      " access units (ZEROCAST_TEST_FAIL_ENCODER_AFTER)\n",
      GST_ELEMENT_NAME (enc), after);
  return TRUE;
}

GstElement *
zc_encoder_make_bin (
    const gchar *name, const ZcEncoderSettings *settings, GError **error)
{
  const EncoderInfo *info = find (name);
  g_autofree gchar *bitrate = NULL;
  g_autofree gchar *gop = NULL;
  g_autoptr (GstCaps) profile_caps = NULL;
  GstElement *bin, *enc, *profile_filter, *first;
  GstPad *pad;

  init_debug ();
  if (info == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "unknown encoder \"%s\"", name);
    return NULL;
  }
  if (settings->cuda_input && info->cuda_formats == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "encoder %s does not take CUDA memory; use a video mode with "
        "system memory",
        name);
    return NULL;
  }
  enc = gst_element_factory_make (name, NULL);
  if (enc == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PIPELINE,
        "encoder %s is not available (its GStreamer plugin is missing or "
        "found no hardware)",
        name);
    return NULL;
  }

  for (guint i = 0; info->props[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (info->props[i], "=", 2);
    set_prop (enc, kv[0], kv[1]);
  }
  bitrate = g_strdup_printf ("%u",
      info->bitrate_in_bps ? settings->bitrate_kbps * 1000
                           : settings->bitrate_kbps);
  set_prop (enc, info->bitrate_prop, bitrate);
  gop = g_strdup_printf ("%u", settings->gop);
  set_prop (enc, info->gop_prop, gop);

  if (info->fixed_rate && settings->fps > 0) {
    pad = gst_element_get_static_pad (enc, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        set_nominal_rate, GUINT_TO_POINTER (settings->fps), NULL);
    gst_object_unref (pad);
  }

  bin = gst_bin_new (NULL);
  profile_filter = gst_element_factory_make ("capsfilter", NULL);
  profile_caps = gst_caps_new_simple (
      "video/x-h264", "profile", G_TYPE_STRING, info->profile, NULL);
  g_object_set (profile_filter, "caps", profile_caps, NULL);
  gst_bin_add_many (GST_BIN (bin), enc, profile_filter, NULL);
  if (!add_test_fault (bin, enc, profile_filter))
    gst_element_link (enc, profile_filter);
  first = enc;

  if (!settings->cuda_input) {
    /* Without a raw format x264 would be offered Y444 and emit High 4:4:4,
     * which browsers cannot decode. */
    GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
    GstElement *raw_filter = gst_element_factory_make ("capsfilter", NULL);
    /* BT.709 whatever the size: videoconvert would pick BT.601 for small
     * frames, and a decoder that finds no colour description in the VUI
     * (openh264 writes none) shifts every colour. */
    g_autoptr (GstCaps) raw_caps =
        gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
            info->raw_format, "colorimetry", G_TYPE_STRING, "bt709", NULL);

    g_object_set (raw_filter, "caps", raw_caps, NULL);
    gst_bin_add_many (GST_BIN (bin), convert, raw_filter, NULL);
    gst_element_link_many (convert, raw_filter, enc, NULL);
    first = convert;
  }

  pad = gst_element_get_static_pad (first, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (profile_filter, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);

  GST_INFO ("encoder %s: %s kbit/s, keyframe every %u frames, %s", name,
      bitrate, settings->gop, info->profile);
  return bin;
}

void
zc_encoder_set_bitrate (GstElement *bin, const gchar *name, guint kbps)
{
  const EncoderInfo *info = find (name);
  g_autoptr (GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;
  g_autofree gchar *value = NULL;

  if (info == NULL)
    return;
  value = g_strdup_printf ("%u", info->bitrate_in_bps ? kbps * 1000 : kbps);
  it = gst_bin_iterate_elements (GST_BIN (bin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && g_str_equal (GST_OBJECT_NAME (f), name)) {
      set_prop (e, info->bitrate_prop, value);
      GST_INFO ("encoder %s: now %u kbit/s", name, kbps);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
}
