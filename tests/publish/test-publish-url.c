/* Unit tests of the --publish URL parser (server/publish/zc-publish-url.c):
 * what it accepts, what it refuses, and that refusals say why.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-publish-url.h"
#include "zc-server-error.h"

static void
test_good (void)
{
  static const struct
  {
    const gchar *text;
    ZcPublishKind kind;
    const gchar *host;
    guint port;
    const gchar *path, *uri;
  } good[] = {
    { "rtp://127.0.0.1:5004", ZC_PUBLISH_RTP, "127.0.0.1", 5004, NULL,
        "rtp://127.0.0.1:5004" },
    { "RTP://janus.example:5004/", ZC_PUBLISH_RTP, "janus.example", 5004, NULL,
        "rtp://janus.example:5004" },
    { "rtp://[::1]:6000", ZC_PUBLISH_RTP, "::1", 6000, NULL,
        "rtp://[::1]:6000" },
    { "rtsp://10.0.0.5:8554/live/desk-1", ZC_PUBLISH_RTSP, "10.0.0.5", 8554,
        "/live/desk-1", "rtsp://10.0.0.5:8554/live/desk-1" },
    { "srt://relay:9000", ZC_PUBLISH_SRT, "relay", 9000, NULL,
        "srt://relay:9000" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (ZcPublishUrl) url = zc_publish_url_parse (good[i].text, &error);

    g_assert_no_error (error);
    g_assert_nonnull (url);
    g_assert_cmpint (url->kind, ==, good[i].kind);
    g_assert_cmpstr (url->host, ==, good[i].host);
    g_assert_cmpuint (url->port, ==, good[i].port);
    g_assert_cmpstr (url->path, ==, good[i].path);
    g_assert_cmpstr (url->uri, ==, good[i].uri);
  }
}

static void
test_bad (void)
{
  static const struct
  {
    const gchar *text, *why;
  } bad[] = {
    { "", "empty" },
    { "udp://127.0.0.1:5004", "unknown scheme" },
    { "127.0.0.1:5004", "not absolute" },
    { "rtp://127.0.0.1", "port" },
    { "rtp://127.0.0.1:0", "port" },
    { "rtp://127.0.0.1:65535", "PORT+1" },
    { "rtp://127.0.0.1:99999", "" },
    { "rtp://:5004", "host" },
    { "rtp://127.0.0.1:5004/x", "only RTSP" },
    { "rtp://127.0.0.1:5004?ttl=5", "query" },
    { "srt://127.0.0.1:9000?passphrase=x", "query" },
    { "rtsp://127.0.0.1:8554", "path" },
    { "rtsp://127.0.0.1:8554/", "path" },
    { "rtsp://127.0.0.1:8554/a%20b", "path" },
    { "rtsp://127.0.0.1:8554/a\"b", "" },
    { "rtsp://127.0.0.1:8554/a/../b", "dot segments" },
    { "rtsp://127.0.0.1:8554/a/./b", "dot segments" },
    { "rtsp://user:secret@127.0.0.1:8554/live", "credentials" },
    { "rtp://ho\"st:5004", "" },
    { "rtp://a%0Ab:5004", "host" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (ZcPublishUrl) url = zc_publish_url_parse (bad[i].text, &error);

    g_test_message ("%s", bad[i].text);
    g_assert_null (url);
    g_assert_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS);
    g_assert_nonnull (strstr (error->message, bad[i].why));
  }
}

static void
test_too_long (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = g_strnfill (2000, 'a');
  g_autofree gchar *text = g_strdup_printf ("rtsp://127.0.0.1:8554/%s", path);
  g_autoptr (ZcPublishUrl) url = zc_publish_url_parse (text, &error);

  g_assert_null (url);
  g_assert_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/publish-url/good", test_good);
  g_test_add_func ("/publish-url/bad", test_bad);
  g_test_add_func ("/publish-url/too-long", test_too_long);
  return g_test_run ();
}
