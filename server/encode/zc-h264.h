/* zerocast server: just enough H.264 Annex-B parsing for streaming: split an
 * access unit into NAL units, tell a keyframe, and read the SPS fields the
 * browser needs (codec string, size, and whether the decoder may hold
 * frames back for reordering).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_H264_NAL_SLICE = 1,
  ZC_H264_NAL_IDR = 5,
  ZC_H264_NAL_SEI = 6,
  ZC_H264_NAL_SPS = 7,
  ZC_H264_NAL_PPS = 8,
  ZC_H264_NAL_AUD = 9,
} ZcH264NalType;

typedef struct
{
  guint8 profile_idc;
  guint8 constraint_flags; /* the byte after profile_idc */
  guint8 level_idc;
  guint chroma_format_idc;
  guint width, height; /* after cropping */
  guint max_num_ref_frames;
  gboolean frame_mbs_only;
  gboolean vui_present;
  gboolean bitstream_restriction;
  guint max_num_reorder_frames;
  guint max_dec_frame_buffering;
} ZcH264Sps;

typedef struct
{
  guint n_nals;
  gboolean has_sps, has_pps, has_idr, has_slice;
  /* An IDR picture: a decoder can start here. With SPS and PPS in the same
   * access unit (h264parse config-interval=-1) it is self-contained. */
  gboolean keyframe;
  /* Where the first SPS NAL unit (header byte included) lies in the AU. */
  gsize sps_offset, sps_size;
} ZcH264AuInfo;

/* Iterates the NAL units of an Annex-B buffer. Start with *offset = 0;
 * returns FALSE when there is none left. @nal points at the NAL header. */
gboolean zc_h264_next_nal (const guint8 *data, gsize size, gsize *offset,
    const guint8 **nal, gsize *nal_size);

/* Fails for a buffer with no start code or an empty NAL unit. */
gboolean zc_h264_parse_au (
    const guint8 *data, gsize size, ZcH264AuInfo *info, GError **error);

/* @nal is one SPS NAL unit, header byte included, emulation prevention
 * bytes still in. */
gboolean zc_h264_parse_sps (
    const guint8 *nal, gsize size, ZcH264Sps *sps, GError **error);

/* The WebCodecs / RFC 6381 codec string, e.g. "avc1.42c01f". */
gchar *zc_h264_codec_string (const ZcH264Sps *sps);

/* TRUE when a decoder may output each frame at once: no reordering and a
 * decoded picture buffer no larger than the reference frames need, as the
 * SPS VUI declares it. */
gboolean zc_h264_sps_is_low_delay (const ZcH264Sps *sps);

/* For a stream known to have no B-frames: a copy of the SPS @nal that
 * declares max_num_reorder_frames=0 and the smallest decoded picture
 * buffer, so browsers' hardware decoders output each frame at once
 * instead of holding a few back. Returns NULL (and no error) when @nal
 * already says so, NULL with @error when it cannot be parsed. */
GBytes *zc_h264_sps_make_low_delay (
    const guint8 *nal, gsize size, GError **error);

G_END_DECLS
