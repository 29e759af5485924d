/* Fuzz target: the SPA-format-to-caps mapping (gst/zc-format.c,
 * zc_format_parse). The Format param comes from the PipeWire producer,
 * another process: the input is taken as a SPA pod, checked the way
 * PipeWire checks a param before handing it to param_changed (a whole pod
 * that fits its buffer, an object), then parsed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <gst/gst.h>
#include <spa/pod/pod.h>
#include <spa/pod/iter.h>

#include "zc-format.h"
#include "zc-fuzz.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean initialized;
  /* Pods are 8-byte aligned in PipeWire's buffers; copy to get the same. */
  guint64 *copy;
  const struct spa_pod *pod;
  GstVideoInfo info;
  guint64 modifier = 0;
  GError *error = NULL;

  zc_fuzz_init ();
  if (!initialized) {
    gst_init (NULL, NULL);
    initialized = TRUE;
  }
  if (size < sizeof (struct spa_pod) || size > 65536)
    return 0;
  copy = g_malloc0 ((size + 7) / 8 * 8);
  memcpy (copy, data, size);
  pod = (const struct spa_pod *) copy;
  if (SPA_POD_SIZE (pod) > size || !spa_pod_is_object (pod)) {
    g_free (copy);
    return 0;
  }

  gst_video_info_init (&info);
  if (zc_format_parse (pod, &info, &modifier, &error)) {
    /* What the element then builds caps from must be sane. */
    GstCaps *caps;

    g_assert (GST_VIDEO_INFO_WIDTH (&info) > 0);
    g_assert (GST_VIDEO_INFO_HEIGHT (&info) > 0);
    g_assert (GST_VIDEO_INFO_FPS_D (&info) != 0);
    g_assert (zc_format_from_gst (GST_VIDEO_INFO_FORMAT (&info)) != NULL);
    caps = gst_video_info_to_caps (&info);
    if (caps)
      gst_caps_unref (caps);
  } else {
    g_assert (error != NULL && error->message != NULL);
    g_clear_error (&error);
  }
  g_free (copy);
  return 0;
}
