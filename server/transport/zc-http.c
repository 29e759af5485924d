/* zerocast server: the HTTP side (listening, auth, static files, metrics,
 * WebSocket upgrade).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-http.h"

#include <string.h>
#include <sys/random.h>
#include <libsoup/soup.h>

#include "zc-control.h"
#include "zc-metrics.h"
#include "zc-server-error.h"
#include "zc-ws-viewer.h"

struct _ZcHttp
{
  SoupServer *server;
  ZcFanout *fanout;
  ZcPipeline *pipeline;
  ZcHttpMetricsFunc extra_metrics;
  gpointer extra_metrics_data;
  gchar *token; /* NULL: no auth (loopback, none given) */
  /* With a token: the one that also grants control (NULL if view-only). */
  gchar *control_token;
  gboolean view_only;
  ZcInputHub *input_hub;
  gchar *web_dir;
  gchar *url, *view_url;
  GList *viewers; /* ZcWsViewer */
  guint n_viewers;
  guint max_viewers;
};

gboolean
zc_http_token_equal (const gchar *given, const gchar *expected)
{
  gsize n = strlen (expected);
  gsize given_len = given ? strlen (given) : 0;
  guint8 diff = given_len != n;

  /* Every byte of @expected is compared whatever @given holds, so the
   * time taken says nothing about how much of the token was right. */
  for (gsize i = 0; i < n; i++)
    diff |= (guint8) expected[i] ^ (guint8) (i < given_len ? given[i] : 0);
  return diff == 0;
}

/* The host part of a Host header or an Origin's authority. */
static gchar *
host_of (const gchar *authority)
{
  const gchar *end;

  if (authority[0] == '[') {
    end = strchr (authority, ']');
    return end ? g_strndup (authority + 1, end - authority - 1) : NULL;
  }
  end = strrchr (authority, ':');
  return end ? g_strndup (authority, end - authority) : g_strdup (authority);
}

static gboolean
is_loopback_name (const gchar *host)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr && g_inet_address_get_is_loopback (addr);
}

/* Without a token the server is bound to loopback, but any web page the
 * user opens can still reach 127.0.0.1: refuse a browser's cross-origin
 * request (Origin of another site) and a DNS-rebound one (a Host that is
 * not a loopback name), so only the user's own tab and local tools get in. */
static gboolean
local_request (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *host = soup_message_headers_get_one (h, "Host");
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  g_autofree gchar *host_name = host ? host_of (host) : NULL;
  g_autoptr (GUri) origin_uri = NULL;

  if (host_name && !is_loopback_name (host_name))
    return FALSE;
  if (origin == NULL)
    return TRUE; /* not a browser: a local program */
  origin_uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  return origin_uri && is_loopback_name (g_uri_get_host (origin_uri));
}

typedef enum
{
  ACCESS_NONE,
  ACCESS_VIEW,
  ACCESS_CONTROL,
} Access;

static Access
token_access (ZcHttp *self, const gchar *given)
{
  /* Both comparisons always run, so the time says nothing about which
   * token (if any) was close. */
  gboolean control =
      self->control_token && zc_http_token_equal (given, self->control_token);
  gboolean view = zc_http_token_equal (given, self->token);

  return control ? ACCESS_CONTROL : view ? ACCESS_VIEW : ACCESS_NONE;
}

static Access
access_of (ZcHttp *self, SoupServerMessage *msg, GHashTable *query)
{
  const gchar *auth;
  Access a = ACCESS_NONE;

  if (self->token == NULL)
    return !local_request (msg) ? ACCESS_NONE
        : self->view_only       ? ACCESS_VIEW
                                : ACCESS_CONTROL;
  if (query && g_hash_table_lookup (query, "token"))
    a = token_access (self, g_hash_table_lookup (query, "token"));
  auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (a == ACCESS_NONE && auth && g_str_has_prefix (auth, "Bearer "))
    a = token_access (self, auth + 7);
  return a;
}

static gboolean
authorized (ZcHttp *self, SoupServerMessage *msg, GHashTable *query)
{
  return access_of (self, msg, query) != ACCESS_NONE;
}

static void
refuse (ZcHttp *self, SoupServerMessage *msg)
{
  static const gchar need_token[] =
      "401 Unauthorized: this zerocast server needs "
      "its token: add ?token=... to the URL or send Authorization: Bearer "
      "...\n";
  static const gchar not_local[] =
      "403 Forbidden: without --token zerocast serves only pages of its "
      "own loopback origin (this request came from another site or host "
      "name); open the viewer at http://127.0.0.1:PORT/ or start zerocast "
      "with --token\n";

  if (self->token) {
    soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    soup_server_message_set_response (msg, "text/plain; charset=utf-8",
        SOUP_MEMORY_STATIC, need_token, sizeof (need_token) - 1);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
    soup_server_message_set_response (msg, "text/plain; charset=utf-8",
        SOUP_MEMORY_STATIC, not_local, sizeof (not_local) - 1);
  }
}

/* Only plain file names in the web directory, so no request can climb out
 * of it. */
static const gchar *
content_type_for (const gchar *name)
{
  static const struct
  {
    const gchar *suffix, *type;
  } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
  };

  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return NULL;
  if (name[0] == '.')
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_suffix (name, types[i].suffix))
      return types[i].type;
  return NULL;
}

static void
serve_file (ZcHttp *self, SoupServerMessage *msg, const gchar *path)
{
  const gchar *name = path[0] == '/' ? path + 1 : path;
  const gchar *type;
  g_autofree gchar *file = NULL;
  g_autofree gchar *contents = NULL;
  gsize length;

  if (*name == '\0')
    name = "index.html";
  type = content_type_for (name);
  if (type == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  file = g_build_filename (self->web_dir, name, NULL);
  if (!g_file_get_contents (file, &contents, &length, NULL)) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-cache");
  soup_server_message_set_response (
      msg, type, SOUP_MEMORY_TAKE, g_steal_pointer (&contents), length);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* libsoup 3.2's server never closes a kept-alive connection that its
 * client closes while idle: the socket stays in CLOSE_WAIT and holds an
 * fd for good (found by scripts/soak.sh: one fd per /metrics scrape or
 * page load). Plain HTTP responses close their connection instead;
 * WebSocket upgrades are left alone. */
static void
handle_early (SoupServer *server, SoupServerMessage *msg, const gchar *path,
    GHashTable *query, gpointer data)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);

  if (!soup_message_headers_header_contains (request, "Upgrade", "websocket"))
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
handle_root (SoupServer *server, SoupServerMessage *msg, const gchar *path,
    GHashTable *query, gpointer data)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  serve_file (data, msg, path);
}

static void
handle_metrics (SoupServer *server, SoupServerMessage *msg, const gchar *path,
    GHashTable *query, gpointer data)
{
  ZcHttp *self = data;
  ZcFanoutStats fstats;
  ZcPipelineStats pstats;
  ZcInputStats istats;
  gchar *text;

  if (!authorized (self, msg, query)) {
    refuse (self, msg);
    return;
  }
  zc_fanout_get_stats (self->fanout, &fstats);
  if (self->pipeline)
    zc_pipeline_get_stats (self->pipeline, &pstats);
  if (self->input_hub)
    zc_input_hub_get_stats (self->input_hub, &istats);
  text = zc_metrics_format (&fstats, self->pipeline ? &pstats : NULL,
      self->input_hub ? &istats : NULL);
  if (self->extra_metrics) {
    GString *all = g_string_new (text);
    g_free (text);
    self->extra_metrics (all, self->extra_metrics_data);
    text = g_string_free (all, FALSE);
  }
  soup_server_message_set_response (
      msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE, text, strlen (text));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* Runs before the WebSocket handshake: a status set here refuses it. */
static void
handle_ws_auth (SoupServer *server, SoupServerMessage *msg, const gchar *path,
    GHashTable *query, gpointer data)
{
  ZcHttp *self = data;

  if (!authorized (self, msg, query)) {
    g_printerr ("zerocast: refused a viewer from %s: %s\n",
        soup_server_message_get_remote_host (msg),
        self->token ? "wrong or missing token" : "not from a loopback origin");
    refuse (self, msg);
    return;
  }
  if (self->max_viewers && self->n_viewers >= self->max_viewers) {
    g_autofree gchar *text = g_strdup_printf (
        "503 Service Unavailable: zerocast serves at most %u viewers "
        "(--max-viewers); try again later\n",
        self->max_viewers);
    g_printerr ("zerocast: refused a viewer from %s: already %u viewers\n",
        soup_server_message_get_remote_host (msg), self->n_viewers);
    soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    soup_server_message_set_response (msg, "text/plain; charset=utf-8",
        SOUP_MEMORY_COPY, text, strlen (text));
  }
}

/* One encode serves everyone. A viewer's init bitrate and fps apply
 * while it is the only viewer (within limits); otherwise, or where it
 * named none, the command line's. Its size applies where zerocast sizes
 * the desktop, this viewer joined alone and may control it; the size then stays
 * when others join or it leaves (the desktop is not resized under anybody's
 * feet; the next viewer that is alone with it sets its own). */
#define MIN_VIEWER_BITRATE_KBPS 250
#define MAX_VIEWER_BITRATE_KBPS 50000
#define MIN_VIEWER_FPS 5
#define MAX_VIEWER_FPS 120

static void
apply_rates (ZcHttp *self)
{
  guint kbps = 0, fps = 0;

  if (self->pipeline == NULL)
    return;
  if (self->n_viewers == 1 && self->viewers) {
    kbps = zc_ws_viewer_get_requested_bitrate (self->viewers->data);
    if (kbps)
      kbps = CLAMP (kbps, MIN_VIEWER_BITRATE_KBPS, MAX_VIEWER_BITRATE_KBPS);
    fps = zc_ws_viewer_get_requested_fps (self->viewers->data);
    if (fps)
      fps = CLAMP (fps, MIN_VIEWER_FPS, MAX_VIEWER_FPS);
  }
  zc_pipeline_set_bitrate (self->pipeline, kbps);
  zc_pipeline_set_max_fps (self->pipeline, fps);
}

static void
on_init_received (ZcWsViewer *viewer, gpointer data)
{
  ZcHttp *self = data;
  guint w, h, fit_w, fit_h;

  apply_rates (self);
  if (self->pipeline == NULL || self->n_viewers != 1)
    return;
  zc_ws_viewer_get_requested_size (viewer, &w, &h);
  if (!zc_control_fit_size (w, h, &fit_w, &fit_h))
    return;
  /* Resizing changes the desktop itself (its windows move): that takes
   * the right to control it, unlike the stream's bitrate and fps. */
  if (!zc_ws_viewer_may_control (viewer)) {
    g_print ("zerocast: a view-only viewer's %ux%u does not resize the "
             "desktop\n",
        w, h);
    return;
  }
  if (fit_w != w || fit_h != h)
    g_print ("zerocast: the viewer's %ux%u is outside %ux%u..%ux%u or odd: "
             "%ux%u instead\n",
        w, h, ZC_CONTROL_MIN_WIDTH, ZC_CONTROL_MIN_HEIGHT, ZC_CONTROL_MAX_WIDTH,
        ZC_CONTROL_MAX_HEIGHT, fit_w, fit_h);
  if (!zc_pipeline_set_size (self->pipeline, fit_w, fit_h))
    g_print ("zerocast: the source's size is not zerocast's to change "
             "(only --mutter --virtual and --headless are resized for a "
             "viewer): "
             "streaming it as it is\n");
}

static void
on_viewer_closed (ZcWsViewer *viewer, gpointer data)
{
  ZcHttp *self = data;

  self->viewers = g_list_remove (self->viewers, viewer);
  self->n_viewers--;
  zc_ws_viewer_free (viewer);
  apply_rates (self);
}

static void
handle_ws (SoupServer *server, SoupServerMessage *msg, const gchar *path,
    SoupWebsocketConnection *conn, gpointer data)
{
  ZcHttp *self = data;
  const gchar *peer = soup_server_message_get_remote_host (msg);
  const gchar *query_text = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr (GHashTable) query =
      query_text ? g_uri_parse_params (query_text, -1, "&", 0, NULL) : NULL;
  ZcWsViewerOptions options = {
    .needs_init = g_str_equal (path, "/ws/stream"),
    .may_control = access_of (self, msg, query) == ACCESS_CONTROL,
    .input_hub = self->input_hub,
    .init_received = on_init_received,
  };

  g_print ("zerocast: viewer %s joined %s (%s)\n", peer, path,
      options.may_control ? "may control" : "view only");
  self->n_viewers++;
  self->viewers = g_list_prepend (self->viewers,
      zc_ws_viewer_new (conn, self->fanout, &self->pipeline, peer, &options,
          on_viewer_closed, self));
  apply_rates (self);
}

static gchar *
generate_token (void)
{
  guint8 bytes[16];

  /* getrandom() blocks only before the kernel's pool is seeded, at boot. */
  if (getrandom (bytes, sizeof (bytes), 0) != sizeof (bytes))
    for (guint i = 0; i < sizeof (bytes); i++)
      bytes[i] = g_random_int ();
  return g_compute_checksum_for_data (G_CHECKSUM_MD5, bytes, sizeof (bytes));
}

static GInetSocketAddress *
parse_listen (const gchar *listen, GError **error)
{
  g_autoptr (GSocketConnectable) conn = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autofree gchar *host = NULL;
  guint16 port = 0;

  conn = g_network_address_parse (listen, 8080, error);
  if (conn == NULL) {
    g_prefix_error (error, "bad --listen \"%s\" (want HOST:PORT): ", listen);
    return NULL;
  }
  host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (conn)));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (conn));
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (host);
  if (inet == NULL) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "bad --listen \"%s\": the host must be an IP address (0.0.0.0 for "
        "every interface) or localhost",
        listen);
    return NULL;
  }
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (inet, port));
}

ZcHttp *
zc_http_new (const ZcHttpOptions *options, ZcFanout *fanout, GError **error)
{
  g_autoptr (ZcHttp) self = g_new0 (ZcHttp, 1);
  g_autoptr (GInetSocketAddress) address = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;
  g_autofree gchar *index = NULL;
  GSList *uris;
  gboolean loopback;

  self->fanout = fanout;
  self->view_only = options->view_only;
  self->input_hub = options->input_hub;
  self->web_dir = g_strdup (options->web_dir);
  self->max_viewers = options->max_viewers;
  index = g_build_filename (self->web_dir, "index.html", NULL);
  if (!g_file_test (index, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_HTTP,
        "the viewer is not in %s (no index.html): set ZEROCAST_WEB_DIR to "
        "the web/ directory",
        self->web_dir);
    return NULL;
  }

  address = parse_listen (options->listen, error);
  if (address == NULL)
    return NULL;
  loopback = g_inet_address_get_is_loopback (
      g_inet_socket_address_get_address (address));
  if (options->token && *options->token)
    self->token = g_strdup (options->token);
  else if (!loopback)
    self->token = generate_token ();
  /* Watching and controlling are separate rights once tokens are in use:
   * the view token alone never grants control. */
  if (self->token && !self->view_only) {
    if (options->control_token && *options->control_token)
      self->control_token = g_strdup (options->control_token);
    else
      self->control_token = generate_token ();
    if (g_str_equal (self->control_token, self->token)) {
      g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
          "--control-token must differ from --token (the view token)");
      return NULL;
    }
  }

  if ((options->tls_cert != NULL) != (options->tls_key != NULL)) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--tls-cert and --tls-key go together: give both or neither");
    return NULL;
  }
  if (options->tls_cert) {
    cert = g_tls_certificate_new_from_files (
        options->tls_cert, options->tls_key, error);
    if (cert == NULL) {
      g_prefix_error (error,
          "loading the TLS certificate %s and key %s: ", options->tls_cert,
          options->tls_key);
      return NULL;
    }
  }

  self->server = soup_server_new (
      "server-header", "zerocast ", "tls-certificate", cert, NULL);
  /* H.264 does not compress: permessage-deflate would only burn CPU. */
  soup_server_remove_websocket_extension (
      self->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  /* Early handlers live with the handler of the same path: one each. */
  soup_server_add_early_handler (self->server, "/", handle_early, NULL, NULL);
  soup_server_add_early_handler (
      self->server, "/metrics", handle_early, NULL, NULL);
  soup_server_add_early_handler (self->server, "/ws", handle_early, NULL, NULL);
  soup_server_add_early_handler (
      self->server, "/ws/stream", handle_early, NULL, NULL);
  soup_server_add_handler (self->server, "/", handle_root, self, NULL);
  soup_server_add_handler (
      self->server, "/metrics", handle_metrics, self, NULL);
  soup_server_add_handler (self->server, "/ws", handle_ws_auth, self, NULL);
  soup_server_add_websocket_handler (
      self->server, "/ws", NULL, NULL, handle_ws, self, NULL);
  /* Helix's route: the same viewer, waiting for its text init. */
  soup_server_add_handler (
      self->server, "/ws/stream", handle_ws_auth, self, NULL);
  soup_server_add_websocket_handler (
      self->server, "/ws/stream", NULL, NULL, handle_ws, self, NULL);

  if (!soup_server_listen (self->server, G_SOCKET_ADDRESS (address),
          cert ? SOUP_SERVER_LISTEN_HTTPS : 0, error)) {
    g_prefix_error (error, "cannot listen on %s: ", options->listen);
    return NULL;
  }

  uris = soup_server_get_uris (self->server);
  if (uris) {
    g_autofree gchar *base = g_uri_to_string (uris->data);
    self->url = self->control_token
        ? g_strdup_printf ("%s?token=%s", base, self->control_token)
        : self->token ? g_strdup_printf ("%s?token=%s", base, self->token)
                      : g_strdup (base);
    if (self->control_token)
      self->view_url = g_strdup_printf ("%s?token=%s", base, self->token);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&self);
}

void
zc_http_set_pipeline (ZcHttp *self, ZcPipeline *pipeline)
{
  self->pipeline = pipeline;
}

void
zc_http_set_extra_metrics (
    ZcHttp *self, ZcHttpMetricsFunc func, gpointer user_data)
{
  self->extra_metrics = func;
  self->extra_metrics_data = user_data;
}

const gchar *
zc_http_get_url (ZcHttp *self)
{
  return self->url;
}

const gchar *
zc_http_get_view_url (ZcHttp *self)
{
  return self->view_url;
}

void
zc_http_free (ZcHttp *self)
{
  if (self == NULL)
    return;
  /* Viewers first: their close may call back into the list. */
  while (self->viewers) {
    ZcWsViewer *viewer = self->viewers->data;
    self->viewers = g_list_delete_link (self->viewers, self->viewers);
    zc_ws_viewer_free (viewer);
  }
  if (self->server) {
    soup_server_disconnect (self->server);
    g_object_unref (self->server);
  }
  g_free (self->token);
  g_free (self->control_token);
  g_free (self->web_dir);
  g_free (self->url);
  g_free (self->view_url);
  g_free (self);
}
