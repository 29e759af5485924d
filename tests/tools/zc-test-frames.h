/* zerocast tests: checking captured frames against the known patterns of
 * zc-colour-client and zc-test-producer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* The pixel at (x, y) as 8-bit A, R, G, B, read through the negotiated
 * format's own unpack function, so the byte order is the caps' and not a
 * guess. FALSE (with @why) for formats that are not 8-bit RGB. */
gboolean zc_frame_pixel (
    const GstVideoFrame *frame, gint x, gint y, guint8 argb[4], gchar **why);

/* TRUE when the centre of each quadrant has its colour: top-left red,
 * top-right green, bottom-left blue, bottom-right white (each channel
 * within a small tolerance). Otherwise @why says what was found. */
gboolean zc_frame_check_quadrants (const GstVideoFrame *frame, gchar **why);

/* The sequence number zc-test-producer paints in the first four pixels of
 * row 0 and the last four of the last row. FALSE if the two differ (a torn
 * frame) or the pixels are not grey. */
gboolean zc_frame_producer_seq (
    const GstVideoFrame *frame, guint32 *seq, gchar **why);

/* Return TRUE to stop pulling (the frame is what was wanted). */
typedef gboolean (*ZcFrameFunc) (const GstVideoFrame *frame, GstSample *sample,
    gpointer user_data, gchar **why);

/* Pulls samples from @sink (in a PLAYING @pipeline) and hands each one
 * to @func until it returns TRUE, the pipeline posts an error or
 * @timeout_us passes. On failure @error says why, including what @func
 * said about the last frame. @n_frames counts the frames seen. */
gboolean zc_pull_frames (GstElement *pipeline, GstAppSink *sink,
    gint64 timeout_us, ZcFrameFunc func, gpointer user_data, guint *n_frames,
    GError **error);

G_END_DECLS
