/* Unit tests of what zerocast reads from the portal's Start response
 * (server/capture/zc-portal.c): the stream's node, the RemoteDesktop
 * devices granted and the restore token. Real portals are exercised by
 * tests/sway (xdg-desktop-portal-wlr: ScreenCast only, view-only).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "zc-portal.h"
#include "zc-server-error.h"

/* A Start response as a{sv} text, e.g. "{'devices': <uint32 3>}". */
static GVariant *
results (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  GVariant *v =
      g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return v; /* g_variant_parse's reference is not floating: ours */
}

#define STREAM "'streams': <[(uint32 49, {'size': <(1280, 720)>})]>"

static void
test_remote_desktop (void)
{
  g_autoptr (GVariant) r = results ("{" STREAM ", 'devices': <uint32 7>, "
                                    "'clipboard_enabled': <false>, "
                                    "'restore_token': <'f3b1-09'>}");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  guint32 node, devices;

  g_assert_true (
      zc_portal_parse_start_results (r, &node, &devices, &token, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (node, ==, 49);
  g_assert_cmpuint (devices, ==, ZC_PORTAL_DEVICE_ALL);
  g_assert_cmpstr (token, ==, "f3b1-09");
}

static void
test_devices (void)
{
  /* Unknown bits are dropped; what was granted stays exact. */
  const struct
  {
    const gchar *member;
    guint32 want;
  } cases[] = {
    { "", 0 }, /* ScreenCast's answer has none */
    { ", 'devices': <uint32 2>", ZC_PORTAL_DEVICE_POINTER },
    { ", 'devices': <uint32 1>", ZC_PORTAL_DEVICE_KEYBOARD },
    { ", 'devices': <uint32 0xfffffff8>", 0 },
    { ", 'devices': <uint32 0x0c>", ZC_PORTAL_DEVICE_TOUCHSCREEN },
    { ", 'devices': <'7'>", 0 },     /* mistyped: nothing granted */
    { ", 'devices': <int32 7>", 0 }, /* the spec says u */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text =
        g_strdup_printf ("{" STREAM "%s}", cases[i].member);
    g_autoptr (GVariant) r = results (text);
    g_autofree gchar *token = NULL;
    guint32 node, devices = 99;

    g_assert_true (
        zc_portal_parse_start_results (r, &node, &devices, &token, NULL));
    g_assert_cmpuint (devices, ==, cases[i].want);
    g_assert_null (token);
  }
}

static void
test_first_stream (void)
{
  g_autoptr (GVariant) r =
      results ("{'streams': <[(uint32 7, @a{sv} {}), (uint32 8, {})]>}");
  g_autofree gchar *token = NULL;
  guint32 node, devices;

  g_assert_true (
      zc_portal_parse_start_results (r, &node, &devices, &token, NULL));
  g_assert_cmpuint (node, ==, 7);
}

static void
test_no_stream (void)
{
  const gchar *bad[] = {
    "@a{sv} {}", "{'devices': <uint32 3>}", "{'streams': <@a(ua{sv}) []>}",
    "{'streams': <[uint32 49]>}", /* the wrong type */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GVariant) r = results (bad[i]);
    g_autoptr (GError) error = NULL;
    g_autofree gchar *token = NULL;
    guint32 node = 1, devices = 1;

    g_assert_false (
        zc_portal_parse_start_results (r, &node, &devices, &token, &error));
    g_assert_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, "without a stream"));
    g_assert_cmpuint (node, ==, 0);
    g_assert_cmpuint (devices, ==, 0);
  }
}

static void
test_not_a_dict (void)
{
  g_autoptr (GVariant) v = g_variant_ref_sink (g_variant_new_uint32 (3));
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  guint32 node, devices;

  g_assert_false (
      zc_portal_parse_start_results (v, &node, &devices, &token, &error));
  g_assert_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE);
  g_clear_error (&error);
  g_assert_false (
      zc_portal_parse_start_results (NULL, &node, &devices, &token, &error));
  g_assert_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE);
}

static void
test_restore_token (void)
{
  /* The token is written to a file and sent back: only a short printable
   * word is kept. */
  g_autofree gchar *long_token = g_strnfill (257, 'a');
  g_autofree gchar *ok_token = g_strnfill (256, 'b');
  const struct
  {
    const gchar *token;
    gboolean kept;
  } cases[] = {
    { "", FALSE },
    { "two words", FALSE },
    { "line\nbreak", FALSE },
    { "caf\xc3\xa9", FALSE },
    { long_token, FALSE },
    { ok_token, TRUE },
    { "0d1e-44", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GVariantDict d;
    g_autoptr (GVariant) base = results ("{" STREAM "}");
    g_autoptr (GVariant) r = NULL;
    g_autofree gchar *token = NULL;
    guint32 node, devices;

    g_variant_dict_init (&d, base);
    g_variant_dict_insert (&d, "restore_token", "s", cases[i].token);
    r = g_variant_ref_sink (g_variant_dict_end (&d));
    g_assert_true (
        zc_portal_parse_start_results (r, &node, &devices, &token, NULL));
    g_assert_cmpstr (token, ==, cases[i].kept ? cases[i].token : NULL);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/portal/start/remote-desktop", test_remote_desktop);
  g_test_add_func ("/portal/start/devices", test_devices);
  g_test_add_func ("/portal/start/first-stream", test_first_stream);
  g_test_add_func ("/portal/start/no-stream", test_no_stream);
  g_test_add_func ("/portal/start/not-a-dict", test_not_a_dict);
  g_test_add_func ("/portal/start/restore-token", test_restore_token);
  return g_test_run ();
}
