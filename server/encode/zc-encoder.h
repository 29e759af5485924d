/* zerocast server: the H.264 encoders zerocast knows, in the order it
 * prefers them, and how to set each one up for low latency (no B-frames,
 * constant bitrate, bounded GOP, a profile browsers decode).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  guint bitrate_kbps;
  guint fps;
  guint gop; /* frames between keyframes */
  /* The input is in CUDA memory (pipewirezerocopysrc in cuda mode): no
   * videoconvert in front of the encoder. */
  gboolean cuda_input;
} ZcEncoderSettings;

/* NULL-terminated, in probing order. */
const gchar *const *zc_encoder_names (void);

gboolean zc_encoder_is_known (const gchar *name);

/* The element factory is registered (the plugin found its hardware or
 * library). Starting it can still fail; the pipeline falls back then. */
gboolean zc_encoder_is_available (const gchar *name);

/* The CUDA-memory caps @name takes (e.g. video/x-raw(memory:CUDAMemory),
 * format=NV12), made from the table; NULL for an encoder that takes no
 * CUDA memory or is unknown. Transfer full. */
GstCaps *zc_encoder_cuda_caps (const gchar *name);

/* The encoder is registered and its sink template takes those caps. */
gboolean zc_encoder_takes_cuda (const gchar *name);

/* A bin "[videoconvert ! raw caps !] encoder ! profile caps" with ghost
 * pads "sink" and "src". */
GstElement *zc_encoder_make_bin (
    const gchar *name, const ZcEncoderSettings *settings, GError **error);

/* Sets the bitrate of the running encoder inside @bin (made by
 * zc_encoder_make_bin() for @name); every encoder in the table takes it
 * while playing. */
void zc_encoder_set_bitrate (GstElement *bin, const gchar *name, guint kbps);

G_END_DECLS
