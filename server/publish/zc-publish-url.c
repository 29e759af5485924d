/* zerocast server: what a --publish URL names (see the header).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-publish-url.h"

#include <string.h>

#include "zc-server-error.h"

#define MAX_URL_LENGTH 1024

static gboolean
fail (GError **error, const gchar *text, const gchar *why)
{
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
      "--publish \"%s\": %s (use rtp://HOST:PORT, rtsp://HOST:PORT/PATH or "
      "srt://HOST:PORT)",
      text, why);
  return FALSE;
}

/* Host names and addresses only: letters, digits, '-', '.', and ':' for
 * IPv6. Nothing that could change the meaning of a URI or a label. */
static gboolean
host_ok (const gchar *host)
{
  if (host == NULL || *host == '\0' || strlen (host) > 253)
    return FALSE;
  for (const gchar *p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != ':')
      return FALSE;
  return TRUE;
}

/* An RTSP path: unreserved characters and '/', nothing escaped. */
static gboolean
path_ok (const gchar *path)
{
  if (path == NULL || path[0] != '/' || path[1] == '\0')
    return FALSE;
  for (const gchar *p = path; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("/-._~", *p) == NULL)
      return FALSE;
  return strstr (path, "//") == NULL;
}

const gchar *
zc_publish_kind_to_string (ZcPublishKind kind)
{
  switch (kind) {
    case ZC_PUBLISH_RTP:
      return "rtp";
    case ZC_PUBLISH_RTSP:
      return "rtsp";
    case ZC_PUBLISH_SRT:
      return "srt";
  }
  return "?";
}

ZcPublishUrl *
zc_publish_url_parse (const gchar *text, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) uri_error = NULL;
  g_autoptr (ZcPublishUrl) url = NULL;
  const gchar *scheme, *host, *path;
  gint port;

  if (text == NULL || *text == '\0') {
    fail (error, "", "empty");
    return NULL;
  }
  if (strlen (text) > MAX_URL_LENGTH || !g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--publish: the URL is longer than %d bytes or not UTF-8",
        MAX_URL_LENGTH);
    return NULL;
  }
  /* GLib would resolve dot segments away; a path with them is a mistake
   * or a probe, not something to normalise quietly. */
  if (strstr (text, "/..") || strstr (text, "/./")) {
    fail (error, text, "dot segments in the path are not allowed");
    return NULL;
  }
  uri = g_uri_parse (text, G_URI_FLAGS_NONE, &uri_error);
  if (uri == NULL) {
    fail (error, text, uri_error->message);
    return NULL;
  }

  url = g_new0 (ZcPublishUrl, 1);
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "rtp") == 0)
    url->kind = ZC_PUBLISH_RTP;
  else if (g_ascii_strcasecmp (scheme, "rtsp") == 0)
    url->kind = ZC_PUBLISH_RTSP;
  else if (g_ascii_strcasecmp (scheme, "srt") == 0)
    url->kind = ZC_PUBLISH_SRT;
  else {
    fail (error, text, "unknown scheme");
    return NULL;
  }

  if (g_uri_get_userinfo (uri) != NULL) {
    /* It would show in ps, the log and /metrics. */
    fail (error, text, "credentials in the URL are not supported");
    return NULL;
  }
  host = g_uri_get_host (uri);
  if (!host_ok (host)) {
    fail (error, text, "the host is missing or has characters a host cannot");
    return NULL;
  }
  port = g_uri_get_port (uri);
  if (port < 1 || port > 65535
      || (url->kind == ZC_PUBLISH_RTP && port > 65534)) {
    fail (error, text,
        url->kind == ZC_PUBLISH_RTP
            ? "a port 1..65534 is required (RTCP uses PORT+1)"
            : "a port 1..65535 is required");
    return NULL;
  }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL) {
    fail (error, text, "query and fragment are not supported");
    return NULL;
  }
  path = g_uri_get_path (uri);
  if (url->kind == ZC_PUBLISH_RTSP) {
    if (!path_ok (path)) {
      fail (error, text,
          "an RTSP URL needs a path of letters, digits and -._~/ (e.g. "
          "/live)");
      return NULL;
    }
    url->path = g_strdup (path);
  } else if (path != NULL && *path != '\0' && g_strcmp0 (path, "/") != 0) {
    fail (error, text, "only RTSP URLs take a path");
    return NULL;
  }

  url->host = g_strdup (host);
  url->port = port;
  {
    gboolean v6 = strchr (host, ':') != NULL;
    url->uri = g_strdup_printf ("%s://%s%s%s:%u%s",
        zc_publish_kind_to_string (url->kind), v6 ? "[" : "", host,
        v6 ? "]" : "", url->port, url->path ? url->path : "");
  }
  return g_steal_pointer (&url);
}

void
zc_publish_url_free (ZcPublishUrl *url)
{
  if (url == NULL)
    return;
  g_free (url->host);
  g_free (url->path);
  g_free (url->uri);
  g_free (url);
}
