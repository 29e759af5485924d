/* --cursor against a real portal: a private headless Sway with
 * xdg-desktop-portal-wlr and xdg-desktop-portal, all real.
 *
 *   test-sway-cursor
 *
 * The portal's AvailableCursorModes is read over D-Bus; then a ScreenCast
 * session is opened with each of zerocast's modes (hidden, embedded,
 * metadata). What reaches the backend is read from xdg-desktop-portal-wlr's
 * own log ("option cursor_mode:N"): a mode the portal offers is asked for
 * as it is, with nothing said; one it does not offer becomes one it does,
 * and zerocast says so naming the mode asked for, the ones offered and the
 * one used. Started as root, it runs itself as nobody (Sway refuses root).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "zc-headless.h"
#include "zc-portal.h"
#include "zc-sway-test.h"

static gint failures;
static GString *printed; /* what zerocast wrote to stderr */

static void
record_printerr (const gchar *text)
{
  g_string_append (printed, text);
  fputs (text, stderr);
}

/* The cursor mode of the last SelectSources the backend logged, or -1. */
static gint
last_logged_cursor_mode (const gchar *log_path)
{
  g_autofree gchar *log = NULL;
  const gchar *key = "option cursor_mode:", *at, *last = NULL;

  if (!g_file_get_contents (log_path, &log, NULL, NULL))
    return -1;
  for (at = strstr (log, key); at; at = strstr (at + 1, key))
    last = at;
  return last ? atoi (last + strlen (key)) : -1;
}

static gboolean
available_cursor_modes (GDBusConnection *bus, guint32 *modes, GError **error)
{
  g_autoptr (GVariant) reply = NULL, inner = NULL;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.portal.Desktop",
      "/org/freedesktop/portal/desktop", "org.freedesktop.DBus.Properties",
      "Get",
      g_variant_new (
          "(ss)", "org.freedesktop.portal.ScreenCast", "AvailableCursorModes"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &inner);
  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "AvailableCursorModes is a %s", g_variant_get_type_string (inner));
    return FALSE;
  }
  *modes = g_variant_get_uint32 (inner);
  return TRUE;
}

static gboolean
run (void)
{
  const gchar *names[] = { "hidden", "embedded", "metadata" };
  ZcHeadlessOptions hopts = {
    .sway = TRUE,
    .width = 320,
    .height = 240,
    .timeout_us = 20 * G_USEC_PER_SEC,
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *xdpw_log = NULL;
  ZcHeadless *headless = NULL;
  ZcPortalSession *portal = NULL;
  guint32 available = 0;
  guint fallbacks = 0;

  headless = zc_headless_start (&hopts, &error);
  CHECK (headless, "headless Sway starts: %s", error->message);
  xdpw_log = g_build_filename (
      zc_headless_get_log_dir (headless), "xdg-desktop-portal-wlr.log", NULL);
  CHECK (available_cursor_modes (
             zc_headless_get_bus (headless), &available, &error),
      "the portal has AvailableCursorModes: %s", error->message);
  CHECK (available != 0 && (available & ~7u) == 0,
      "AvailableCursorModes is a set of known modes (0x%x)", available);
  g_print ("# the portal offers cursor modes 0x%x\n", available);

  for (guint mode = 0; mode < G_N_ELEMENTS (names); mode++) {
    ZcPortalOptions opts = {
      .cursor_mode = mode,
      .timeout_us = 20 * G_USEC_PER_SEC,
      .restore_token_path = "", /* a fresh session each time */
    };
    guint32 wanted = 1u << mode;
    gint sent;

    g_string_truncate (printed, 0);
    portal =
        zc_portal_session_open (zc_headless_get_bus (headless), &opts, &error);
    CHECK (portal, "a session with --cursor %s opens: %s", names[mode],
        error->message);
    sent = last_logged_cursor_mode (xdpw_log);
    if (available & wanted) {
      CHECK (sent == (gint) wanted, "--cursor %s asks for mode %u (sent %d)",
          names[mode], wanted, sent);
      CHECK (strstr (printed->str, "cursor mode") == NULL,
          "nothing is said about an offered mode: %s", printed->str);
      g_print ("ok - --cursor %s: offered, asked for as it is\n", names[mode]);
    } else {
      g_autofree gchar *asked = g_strdup_printf (
          "does not offer cursor mode %s (it offers ", names[mode]);
      CHECK (sent > 0 && (available & (guint32) sent) == (guint32) sent
              && (sent & (sent - 1)) == 0,
          "--cursor %s asks for a mode the portal offers (sent %d)",
          names[mode], sent);
      CHECK (strstr (printed->str, asked) != NULL
              && strstr (
                  printed->str, names[g_bit_nth_lsf ((gulong) sent, -1)]),
          "zerocast says which mode was not offered and which it used: %s",
          printed->str);
      g_print ("ok - --cursor %s: not offered, mode %d used and said: %s",
          names[mode], sent, printed->str);
      fallbacks++;
    }
    g_clear_pointer (&portal, zc_portal_session_free);
  }
  if (fallbacks == 0)
    g_print ("# the portal offers every mode: no fall-back to check\n");

out:
  g_clear_pointer (&portal, zc_portal_session_free);
  if (failures && headless)
    zc_headless_print_logs (headless);
  g_clear_pointer (&headless, zc_headless_stop);
  return failures == 0;
}

int
main (int argc, char **argv)
{
  gint rc;

  if (argc != 1) {
    g_printerr ("usage: %s\n", argv[0]);
    return 2;
  }
  if ((rc = zc_sway_test_check_installed ()) != 0)
    return rc;
  if ((rc = zc_sway_test_drop_root (argv)) != 0)
    return rc;
  printed = g_string_new (NULL);
  g_set_printerr_handler (record_printerr);
  rc = run () ? 0 : 1;
  g_string_free (printed, TRUE);
  zc_sway_test_cleanup ();
  return rc;
}
