/* zerocast server: H.264 Annex-B access unit and SPS parsing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-h264.h"

#include <string.h>

#include "zc-server-error.h"

/* Finds the next 00 00 01 start code at or after @from; returns its offset
 * or @size. A 4-byte start code is 00 followed by a 3-byte one. */
static gsize
find_start_code (const guint8 *data, gsize size, gsize from)
{
  for (gsize i = from; i + 3 <= size; i++) {
    if (data[i + 2] > 1)
      i += 2; /* neither of the next 3 starts a code */
    else if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)
      return i;
  }
  return size;
}

gboolean
zc_h264_next_nal (const guint8 *data, gsize size, gsize *offset,
    const guint8 **nal, gsize *nal_size)
{
  gsize start = find_start_code (data, size, *offset);
  gsize end;

  if (start >= size)
    return FALSE;
  start += 3;
  end = find_start_code (data, size, start);
  *offset = end;
  /* Trailing zero bytes belong to the next (4-byte) start code or are
   * trailing_zero_8bits, never to this NAL unit. */
  while (end > start && data[end - 1] == 0)
    end--;
  *nal = data + start;
  *nal_size = end - start;
  return TRUE;
}

gboolean
zc_h264_parse_au (
    const guint8 *data, gsize size, ZcH264AuInfo *info, GError **error)
{
  gsize offset = 0;
  const guint8 *nal;
  gsize nal_size;

  memset (info, 0, sizeof (*info));
  while (zc_h264_next_nal (data, size, &offset, &nal, &nal_size)) {
    if (nal_size == 0) {
      g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
          "empty NAL unit in access unit");
      return FALSE;
    }
    info->n_nals++;
    switch (nal[0] & 0x1f) {
      case ZC_H264_NAL_SPS:
        if (!info->has_sps) {
          info->sps_offset = nal - data;
          info->sps_size = nal_size;
        }
        info->has_sps = TRUE;
        break;
      case ZC_H264_NAL_PPS:
        info->has_pps = TRUE;
        break;
      case ZC_H264_NAL_IDR:
        info->has_idr = TRUE;
        break;
      case ZC_H264_NAL_SLICE:
        info->has_slice = TRUE;
        break;
      default:
        break;
    }
  }
  if (info->n_nals == 0) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "no Annex-B start code in %" G_GSIZE_FORMAT " bytes: is the stream "
        "byte-stream?",
        size);
    return FALSE;
  }
  info->keyframe = info->has_idr;
  return TRUE;
}

/* A bit reader over the RBSP, skipping emulation prevention bytes
 * (00 00 03 -> 00 00) as it goes. */
typedef struct
{
  const guint8 *data;
  gsize size, pos;
  guint bit;   /* next bit in data[pos], 7 = MSB */
  guint zeros; /* consecutive zero bytes before pos */
  gboolean overrun;
  gboolean raw; /* emulation prevention already removed */
  /* Where the SPS flags the low-delay rewrite edits were read, in bits
   * from the start of data (raw readers only). */
  gsize vui_flag_bit, restriction_flag_bit;
} BitReader;

static gsize
bit_position (BitReader *br)
{
  return br->pos * 8 + (7 - br->bit);
}

static guint
read_bit (BitReader *br)
{
  guint v;

  if (br->pos >= br->size) {
    br->overrun = TRUE;
    return 0;
  }
  if (!br->raw && br->bit == 7 && br->zeros >= 2 && br->data[br->pos] == 3) {
    br->pos++; /* emulation prevention byte */
    br->zeros = 0;
    if (br->pos >= br->size) {
      br->overrun = TRUE;
      return 0;
    }
  }
  v = (br->data[br->pos] >> br->bit) & 1;
  if (br->bit == 0) {
    br->zeros = br->data[br->pos] == 0 ? br->zeros + 1 : 0;
    br->bit = 7;
    br->pos++;
  } else {
    br->bit--;
  }
  return v;
}

static guint32
read_bits (BitReader *br, guint n)
{
  guint32 v = 0;

  while (n--)
    v = v << 1 | read_bit (br);
  return v;
}

static guint32
read_ue (BitReader *br)
{
  guint zeros = 0;

  while (read_bit (br) == 0 && !br->overrun) {
    if (++zeros > 31) {
      br->overrun = TRUE;
      return 0;
    }
  }
  return ((1u << zeros) - 1) + read_bits (br, zeros);
}

static gint32
read_se (BitReader *br)
{
  guint32 k = read_ue (br);

  return (k & 1) ? (gint32) ((k + 1) / 2) : -(gint32) (k / 2);
}

static void
skip_scaling_list (BitReader *br, guint n)
{
  gint last = 8, next = 8;

  for (guint j = 0; j < n && !br->overrun; j++) {
    if (next != 0) {
      gint32 delta = read_se (br);

      /* delta_scale is -128..127; a larger one is a corrupt SPS and would
       * overflow the sum below (found by tests/fuzz fuzz-h264). */
      if (delta < -128 || delta > 127) {
        br->overrun = TRUE;
        return;
      }
      next = (last + delta + 256) % 256;
    }
    last = next == 0 ? last : next;
  }
}

static void
skip_hrd (BitReader *br)
{
  guint cpb_cnt = read_ue (br) + 1;

  read_bits (br, 8); /* bit_rate_scale, cpb_size_scale */
  for (guint i = 0; i < cpb_cnt && i < 32 && !br->overrun; i++) {
    read_ue (br);
    read_ue (br);
    read_bit (br);
  }
  read_bits (br, 20); /* four 5-bit lengths */
}

static void
parse_vui (BitReader *br, ZcH264Sps *sps)
{
  gboolean nal_hrd, vcl_hrd;

  if (read_bit (br) && read_bits (br, 8) == 255) /* aspect ratio */
    read_bits (br, 32);
  if (read_bit (br)) /* overscan */
    read_bit (br);
  if (read_bit (br)) { /* video signal type */
    read_bits (br, 4);
    if (read_bit (br))
      read_bits (br, 24);
  }
  if (read_bit (br)) { /* chroma location */
    read_ue (br);
    read_ue (br);
  }
  if (read_bit (br)) { /* timing info */
    read_bits (br, 32);
    read_bits (br, 32);
    read_bit (br);
  }
  nal_hrd = read_bit (br);
  if (nal_hrd)
    skip_hrd (br);
  vcl_hrd = read_bit (br);
  if (vcl_hrd)
    skip_hrd (br);
  if (nal_hrd || vcl_hrd)
    read_bit (br); /* low_delay_hrd_flag */
  read_bit (br);   /* pic_struct_present_flag */
  br->restriction_flag_bit = bit_position (br);
  sps->bitstream_restriction = read_bit (br);
  if (sps->bitstream_restriction) {
    read_bit (br);
    read_ue (br);
    read_ue (br);
    read_ue (br);
    read_ue (br);
    sps->max_num_reorder_frames = read_ue (br);
    sps->max_dec_frame_buffering = read_ue (br);
  }
}

/* Reads an SPS from @br, positioned after the NAL header byte. */
static gboolean
parse_sps_body (BitReader *br, ZcH264Sps *sps, GError **error)
{
  const guint8 *nal = br->data;
  gsize size = br->size;
  guint width_mbs, height_units, crop[4] = { 0 };
  guint crop_x, crop_y;

  memset (sps, 0, sizeof (*sps));
  if (size < 4 || (nal[0] & 0x1f) != ZC_H264_NAL_SPS) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "not an SPS NAL unit (%" G_GSIZE_FORMAT " bytes, type %d)", size,
        size > 0 ? nal[0] & 0x1f : -1);
    return FALSE;
  }
  sps->profile_idc = read_bits (br, 8);
  sps->constraint_flags = read_bits (br, 8);
  sps->level_idc = read_bits (br, 8);
  read_ue (br); /* seq_parameter_set_id */
  sps->chroma_format_idc = 1;
  switch (sps->profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      sps->chroma_format_idc = read_ue (br);
      if (sps->chroma_format_idc == 3)
        read_bit (br); /* separate_colour_plane_flag */
      read_ue (br);    /* bit depths */
      read_ue (br);
      read_bit (br);       /* qpprime_y_zero_transform_bypass */
      if (read_bit (br)) { /* seq_scaling_matrix_present */
        guint n = sps->chroma_format_idc != 3 ? 8 : 12;
        for (guint i = 0; i < n; i++)
          if (read_bit (br))
            skip_scaling_list (br, i < 6 ? 16 : 64);
      }
      break;
    default:
      break;
  }
  read_ue (br);           /* log2_max_frame_num_minus4 */
  switch (read_ue (br)) { /* pic_order_cnt_type */
    case 0:
      read_ue (br);
      break;
    case 1: {
      guint n;
      read_bit (br);
      read_se (br);
      read_se (br);
      n = read_ue (br);
      for (guint i = 0; i < n && i < 256 && !br->overrun; i++)
        read_se (br);
      break;
    }
    default:
      break;
  }
  sps->max_num_ref_frames = read_ue (br);
  read_bit (br); /* gaps_in_frame_num_value_allowed_flag */
  width_mbs = read_ue (br) + 1;
  height_units = read_ue (br) + 1;
  sps->frame_mbs_only = read_bit (br);
  if (!sps->frame_mbs_only)
    read_bit (br);
  read_bit (br); /* direct_8x8_inference_flag */
  if (read_bit (br))
    for (guint i = 0; i < 4; i++)
      crop[i] = read_ue (br);
  br->vui_flag_bit = bit_position (br);
  sps->vui_present = read_bit (br);
  if (sps->vui_present)
    parse_vui (br, sps);

  if (br->overrun) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_FAILED,
        "SPS of %" G_GSIZE_FORMAT " bytes is truncated or corrupt", size);
    return FALSE;
  }

  crop_x = (sps->chroma_format_idc == 1 || sps->chroma_format_idc == 2) ? 2 : 1;
  crop_y = (sps->chroma_format_idc == 1 ? 2 : 1) * (2 - sps->frame_mbs_only);
  sps->width = width_mbs * 16 - crop_x * (crop[0] + crop[1]);
  sps->height = (2 - sps->frame_mbs_only) * height_units * 16
      - crop_y * (crop[2] + crop[3]);
  return TRUE;
}

gboolean
zc_h264_parse_sps (
    const guint8 *nal, gsize size, ZcH264Sps *sps, GError **error)
{
  BitReader br = { .data = nal, .size = size, .pos = 1, .bit = 7 };

  return parse_sps_body (&br, sps, error);
}

gchar *
zc_h264_codec_string (const ZcH264Sps *sps)
{
  return g_strdup_printf ("avc1.%02x%02x%02x", sps->profile_idc,
      sps->constraint_flags, sps->level_idc);
}

gboolean
zc_h264_sps_is_low_delay (const ZcH264Sps *sps)
{
  /* The DPB cannot be smaller than the reference frames in use; with no
   * reordering a decoder outputs each frame as soon as it is decoded. */
  return sps->bitstream_restriction && sps->max_num_reorder_frames == 0
      && sps->max_dec_frame_buffering <= MAX (sps->max_num_ref_frames, 1);
}

/* ---- low-delay SPS rewrite ---- */

typedef struct
{
  GByteArray *out;
  guint8 cur;
  guint nbits;
} BitWriter;

static void
write_bits (BitWriter *w, guint32 v, guint n)
{
  while (n--) {
    w->cur = (guint8) (w->cur << 1 | ((v >> n) & 1));
    if (++w->nbits == 8) {
      g_byte_array_append (w->out, &w->cur, 1);
      w->cur = 0;
      w->nbits = 0;
    }
  }
}

static void
write_ue (BitWriter *w, guint32 v)
{
  guint64 x = (guint64) v + 1;
  guint len = 0;

  while ((x >> len) > 1)
    len++;
  write_bits (w, 0, len);
  for (gint i = len; i >= 0; i--)
    write_bits (w, (x >> i) & 1, 1);
}

/* The NAL unit without its emulation prevention bytes. */
static GByteArray *
unescape (const guint8 *nal, gsize size)
{
  GByteArray *rbsp = g_byte_array_sized_new (size);
  guint zeros = 0;

  for (gsize i = 0; i < size; i++) {
    if (zeros >= 2 && nal[i] == 3) {
      zeros = 0;
      continue;
    }
    g_byte_array_append (rbsp, &nal[i], 1);
    zeros = nal[i] == 0 ? zeros + 1 : 0;
  }
  return rbsp;
}

static GBytes *
escape (const guint8 *rbsp, gsize size)
{
  GByteArray *nal = g_byte_array_sized_new (size + size / 64 + 4);
  guint zeros = 0;

  for (gsize i = 0; i < size; i++) {
    if (zeros >= 2 && rbsp[i] <= 3) {
      guint8 three = 3;
      g_byte_array_append (nal, &three, 1);
      zeros = 0;
    }
    g_byte_array_append (nal, &rbsp[i], 1);
    zeros = rbsp[i] == 0 ? zeros + 1 : 0;
  }
  return g_byte_array_free_to_bytes (nal);
}

GBytes *
zc_h264_sps_make_low_delay (const guint8 *nal, gsize size, GError **error)
{
  g_autoptr (GByteArray) rbsp = unescape (nal, size);
  BitReader br = {
    .data = rbsp->data, .size = rbsp->len, .pos = 1, .bit = 7, .raw = TRUE
  };
  BitWriter w = { .out = g_byte_array_sized_new (rbsp->len + 8) };
  g_autoptr (GByteArray) out = w.out;
  ZcH264Sps sps;
  gsize keep;

  if (!parse_sps_body (&br, &sps, error))
    return NULL;
  if (zc_h264_sps_is_low_delay (&sps))
    return NULL;

  /* Everything before the flag we change is copied bit for bit; what
   * follows it is the bitstream restriction (the VUI's last field) and the
   * trailing bits, which are written anew. */
  keep = sps.vui_present ? br.restriction_flag_bit : br.vui_flag_bit;
  for (gsize i = 0; i < keep; i++)
    write_bits (&w, (rbsp->data[i / 8] >> (7 - i % 8)) & 1, 1);
  if (!sps.vui_present) {
    write_bits (&w, 1, 1); /* vui_parameters_present_flag */
    /* aspect ratio, overscan, video signal, chroma location, timing,
     * NAL HRD, VCL HRD, pic_struct: none */
    write_bits (&w, 0, 8);
  }
  write_bits (&w, 1, 1); /* bitstream_restriction_flag */
  write_bits (&w, 1, 1); /* motion_vectors_over_pic_boundaries_flag */
  write_ue (&w, 2);      /* max_bytes_per_pic_denom (the default) */
  write_ue (&w, 1);      /* max_bits_per_mb_denom (the default) */
  write_ue (&w, 16);     /* log2_max_mv_length_horizontal (the default) */
  write_ue (&w, 16);     /* log2_max_mv_length_vertical (the default) */
  write_ue (&w, 0);      /* max_num_reorder_frames */
  /* The DPB must still hold the reference frames the stream uses. */
  write_ue (&w, MAX (sps.max_num_ref_frames, 1));
  write_bits (&w, 1, 1); /* rbsp_stop_one_bit */
  while (w.nbits)
    write_bits (&w, 0, 1);
  return escape (out->data, out->len);
}
