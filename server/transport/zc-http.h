/* zerocast server: the HTTP side. `/` serves the viewer from the web
 * directory, `/ws` streams to a viewer over WebSocket (`/ws/stream` too,
 * the route of Helix's client: it sends a text init first), `/metrics`
 * reports in Prometheus text format. Off loopback every request for
 * `/ws`, `/ws/stream` and `/metrics` needs a token (query parameter
 * `token` or `Authorization: Bearer`): the view token lets a viewer watch,
 * the control token lets it watch and control.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "zc-fanout.h"
#include "zc-input-client.h"
#include "zc-pipeline.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *listen; /* HOST:PORT, HOST an IP address or localhost */
  const gchar *token;  /* NULL: none on loopback, generated off it */
  const gchar *tls_cert, *tls_key; /* PEM files, both or neither */
  const gchar *web_dir;
  guint max_viewers; /* more are refused with 503; 0 = no limit */
  /* Who may control: nobody with @view_only; else off loopback (or with a
   * token) whoever presents @control_token (generated when NULL), and on
   * loopback without a token every local viewer. */
  gboolean view_only;
  const gchar *control_token;
  ZcInputHub *input_hub; /* not owned */
} ZcHttpOptions;

typedef struct _ZcHttp ZcHttp;

/* Listens at once. @pipeline may be NULL at first (see set_pipeline). */
ZcHttp *zc_http_new (
    const ZcHttpOptions *options, ZcFanout *fanout, GError **error);

void zc_http_set_pipeline (ZcHttp *self, ZcPipeline *pipeline);

/* More /metrics text from another room (the --publish targets), appended
 * after the server's own; called in the main context. */
typedef void (*ZcHttpMetricsFunc) (GString *out, gpointer user_data);

void zc_http_set_extra_metrics (
    ZcHttp *self, ZcHttpMetricsFunc func, gpointer user_data);

/* The viewer's URL, with the token when one is needed: the control token
 * where control needs one (the URL of the person at the desktop). */
const gchar *zc_http_get_url (ZcHttp *self);
/* The URL that lets a viewer watch but not control, when it differs from
 * the one above (a token is in use and control is allowed); else NULL. */
const gchar *zc_http_get_view_url (ZcHttp *self);

/* Closes every viewer and stops listening; NULL is ok. */
void zc_http_free (ZcHttp *self);

/* Compares two strings in time that depends on @expected's length only. */
gboolean zc_http_token_equal (const gchar *given, const gchar *expected);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcHttp, zc_http_free)

G_END_DECLS
