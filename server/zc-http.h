/* zerocast server: the HTTP side. `/` serves the viewer from the web
 * directory, `/ws` streams to a viewer over WebSocket, `/metrics` reports
 * in Prometheus text format. Off loopback every request for `/ws` and
 * `/metrics` needs the token (query parameter `token` or
 * `Authorization: Bearer`).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "zc-fanout.h"
#include "zc-pipeline.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *listen; /* HOST:PORT, HOST an IP address or localhost */
  const gchar *token;  /* NULL: none on loopback, generated off it */
  const gchar *tls_cert, *tls_key; /* PEM files, both or neither */
  const gchar *web_dir;
  guint max_viewers; /* more are refused with 503; 0 = no limit */
} ZcHttpOptions;

typedef struct _ZcHttp ZcHttp;

/* Listens at once. @pipeline may be NULL at first (see set_pipeline). */
ZcHttp *zc_http_new (
    const ZcHttpOptions *options, ZcFanout *fanout, GError **error);

void zc_http_set_pipeline (ZcHttp *self, ZcPipeline *pipeline);

/* The viewer's URL, with the token when one is needed. */
const gchar *zc_http_get_url (ZcHttp *self);

/* Closes every viewer and stops listening; NULL is ok. */
void zc_http_free (ZcHttp *self);

/* Compares two strings in time that depends on @expected's length only. */
gboolean zc_http_token_equal (const gchar *given, const gchar *expected);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcHttp, zc_http_free)

G_END_DECLS
