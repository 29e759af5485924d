/* Fuzz target: the Annex-B access-unit, keyframe and SPS parser
 * (server/zc-h264.c). Its input comes from an encoder today, but the same
 * code must hold up against any bytes: a broken encoder or a future
 * pass-through source must not crash the server.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-fuzz.h"
#include "zc-h264.h"

/* The low-delay rewrite of an SPS that parsed: either nothing to do, or a
 * new SPS that parses to the same picture and is low-delay. */
static void
check_rewrite (const guint8 *nal, gsize size, const ZcH264Sps *sps)
{
  GError *error = NULL;
  GBytes *rewritten = zc_h264_sps_make_low_delay (nal, size, &error);
  ZcH264Sps again;
  gsize new_size;
  const guint8 *new_nal;

  if (rewritten == NULL) {
    if (error == NULL)
      g_assert (zc_h264_sps_is_low_delay (sps));
    g_clear_error (&error);
    return;
  }
  new_nal = g_bytes_get_data (rewritten, &new_size);
  g_assert (zc_h264_parse_sps (new_nal, new_size, &again, NULL));
  g_assert (zc_h264_sps_is_low_delay (&again));
  g_assert (again.width == sps->width && again.height == sps->height);
  g_assert (again.profile_idc == sps->profile_idc);
  g_bytes_unref (rewritten);
}

static void
check_sps (const guint8 *nal, gsize size)
{
  ZcH264Sps sps;
  GError *error = NULL;

  if (zc_h264_parse_sps (nal, size, &sps, &error)) {
    gchar *codec = zc_h264_codec_string (&sps);

    /* "avc1." and three hex bytes, whatever the SPS said. */
    g_assert (strlen (codec) == 11);
    g_free (codec);
    check_rewrite (nal, size, &sps);
  } else {
    g_assert (error != NULL);
    g_clear_error (&error);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  ZcH264AuInfo info;
  GError *error = NULL;
  gsize offset = 0, last_offset = 0;
  const guint8 *nal;
  gsize nal_size;
  guint n = 0;

  zc_fuzz_init ();
  if (zc_h264_parse_au (data, size, &info, &error)) {
    g_assert (info.n_nals > 0);
    g_assert (info.keyframe == info.has_idr);
    if (info.has_sps) {
      g_assert (info.sps_offset + info.sps_size <= size);
      check_sps (data + info.sps_offset, info.sps_size);
    }
  } else {
    g_assert (error != NULL);
    g_clear_error (&error);
  }

  /* Walk every NAL unit: each lies inside the buffer, the walk moves
   * forward and ends. */
  while (zc_h264_next_nal (data, size, &offset, &nal, &nal_size)) {
    g_assert (nal >= data && nal + nal_size <= data + size);
    g_assert (offset > last_offset && offset <= size);
    last_offset = offset;
    if (nal_size > 0 && (nal[0] & 0x1f) == ZC_H264_NAL_SPS)
      check_sps (nal, nal_size);
    g_assert (++n <= size);
  }

  /* The whole input as one SPS NAL unit too: reaches deep VUI fields
   * faster than going through start codes. */
  check_sps (data, size);
  return 0;
}
