/* zerocast server: what a --publish URL names.
 *
 * rtp://HOST:PORT        RTP H.264 to HOST:PORT, RTCP to and from PORT+1
 * rtsp://HOST:PORT/PATH  RTSP RECORD (interleaved over the TCP connection)
 * srt://HOST:PORT        MPEG-TS over SRT, as the caller
 *
 * The text is a security boundary (it comes from the command line and ends
 * up in logs and /metrics labels): anything this does not understand is
 * refused with a reason rather than passed on to GStreamer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_PUBLISH_RTP,
  ZC_PUBLISH_RTSP,
  ZC_PUBLISH_SRT,
} ZcPublishKind;

typedef struct
{
  ZcPublishKind kind;
  gchar *host; /* a name or an address, without IPv6 brackets */
  guint16 port;
  gchar *path; /* RTSP only ("/live"), else NULL */
  gchar *uri;  /* normalised, for logs, labels and GStreamer */
} ZcPublishUrl;

/* NULL and a ZC_SERVER_ERROR_INVALID_ARGS error saying what is wrong. */
ZcPublishUrl *zc_publish_url_parse (const gchar *text, GError **error);

const gchar *zc_publish_kind_to_string (ZcPublishKind kind);

/* NULL is ok. */
void zc_publish_url_free (ZcPublishUrl *url);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcPublishUrl, zc_publish_url_free)

G_END_DECLS
