/* A private headless Sway through its ScreenCast portal, with input, all
 * real: dbus, PipeWire, WirePlumber, sway, xdg-desktop-portal-wlr,
 * xdg-desktop-portal, and zc-input-client as the application.
 *
 *   test-sway-capture capture-input | no-backend
 *
 * capture-input  the portal handshake on Sway's bus (restore token kept),
 *                pipewirezerocopysrc on the portal's own remote fd, and
 *                wlroots input from zc-input-wlr: the pointer moves where
 *                it was sent, each click repaints the client, and the
 *                captured picture turns red, green, blue in turn (a red /
 *                blue swap fails it); keys reach the client through the
 *                uploaded keymap (a keysym that needs Shift too); a key
 *                held when the backend goes is released; a second session
 *                with the token is restored by the backend.
 * no-backend     xdg-desktop-portal runs but its ScreenCast backend cannot
 *                (no Wayland display for xdg-desktop-portal-wlr): opening
 *                the portal fails within the deadline with a message that
 *                names the backend.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/input-event-codes.h>

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "zc-headless.h"
#include "zc-input-wlr.h"
#include "zc-portal.h"
#include "zc-sway-test.h"
#include "zc-test-frames.h"

#define WIDTH 640
#define HEIGHT 480
#define STEP_MS 10000
#define FRAME_US (10 * G_USEC_PER_SEC)

typedef struct
{
  ZcHeadless *headless;
  GSubprocess *client;
  gchar *client_log;
  gchar *dir;
  GstElement *pipeline;
  GstAppSink *sink;
  ZcPortalSession *portal;
  gint fd;
} Test;

static gint failures;

typedef struct
{
  const gchar *path;
  const gchar *prefix, *other; /* other: NULL, or a second acceptable line */
} LineWait;

static gboolean
has_line (gpointer data)
{
  LineWait *w = data;
  return zc_sway_test_file_has_line (w->path, w->prefix)
      || (w->other && zc_sway_test_file_has_line (w->path, w->other));
}

/* Waits for a line starting with @prefix, or with @other when not NULL. */
static gboolean
wait_either (Test *t, const gchar *prefix, const gchar *other)
{
  LineWait w = { t->client_log, prefix, other };

  if (zc_sway_test_wait (has_line, &w, STEP_MS))
    return TRUE;
  g_print ("# zc-input-client never logged \"%s\"%s%s\n", prefix,
      other ? " nor " : "", other ? other : "");
  return FALSE;
}

static gboolean
wait_line (Test *t, const gchar *prefix)
{
  return wait_either (t, prefix, NULL);
}

/* ---- frames ---- */

typedef struct
{
  guint32 rgb;
} Colour;

static gboolean
frame_is (
    const GstVideoFrame *frame, GstSample *sample, gpointer data, gchar **why)
{
  Colour *c = data;
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  const gint points[][2] = { { w / 2, h / 2 }, { 2, 2 }, { w - 3, 2 },
    { 2, h - 3 }, { w - 3, h - 3 } };

  for (guint i = 0; i < G_N_ELEMENTS (points); i++) {
    guint8 argb[4];
    guint32 got;

    if (!zc_frame_pixel (frame, points[i][0], points[i][1], argb, why))
      return FALSE;
    got = (argb[1] << 16) | (argb[2] << 8) | argb[3];
    /* pixman's output is exact; a little slack for a cursor never drawn. */
    if (ABS ((gint) argb[1] - (gint) ((c->rgb >> 16) & 0xff)) > 8
        || ABS ((gint) argb[2] - (gint) ((c->rgb >> 8) & 0xff)) > 8
        || ABS ((gint) argb[3] - (gint) (c->rgb & 0xff)) > 8) {
      *why = g_strdup_printf ("pixel (%d,%d) of %dx%d is #%06x, not #%06x",
          points[i][0], points[i][1], w, h, got, c->rgb);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
expect_colour (Test *t, guint32 rgb)
{
  g_autoptr (GError) error = NULL;
  Colour c = { rgb };
  guint n = 0;

  if (zc_pull_frames (t->pipeline, t->sink, FRAME_US, frame_is, &c, &n, &error))
    return TRUE;
  g_print ("# waiting for #%06x: %s\n", rgb, error->message);
  return FALSE;
}

static gboolean
start_capture (Test *t, GError **error)
{
  g_autofree gchar *desc = NULL;

  t->fd = zc_portal_session_open_remote (t->portal, error);
  if (t->fd < 0)
    return FALSE;
  /* Hidden cursor: the picture is the client's colour, nothing else. */
  desc = g_strdup_printf (
      "pipewirezerocopysrc pipewire-fd=%d pipewire-node-id=%u "
      "keepalive-time=100 ! video/x-raw ! appsink name=sink sync=false "
      "max-buffers=2 drop=true",
      t->fd, zc_portal_session_get_node_id (t->portal));
  t->pipeline = gst_parse_launch (desc, error);
  if (t->pipeline == NULL)
    return FALSE;
  t->sink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (t->pipeline), "sink"));
  gst_element_set_state (t->pipeline, GST_STATE_PLAYING);
  return TRUE;
}

static void
stop_capture (Test *t)
{
  if (t->pipeline)
    gst_element_set_state (t->pipeline, GST_STATE_NULL);
  gst_clear_object (&t->sink);
  gst_clear_object (&t->pipeline);
  if (t->fd >= 0)
    close (t->fd);
  t->fd = -1;
}

static ZcPortalSession *
open_portal (Test *t, GError **error)
{
  g_autofree gchar *token = g_build_filename (t->dir, "token", NULL);
  ZcPortalOptions opts = {
    .cursor_mode = 0,
    .timeout_us = 20 * G_USEC_PER_SEC,
    .restore_token_path = token,
    /* As --portal asks: xdg-desktop-portal-wlr has no RemoteDesktop, so
     * this must come back ScreenCast-only, saying so. */
    .remote_desktop = TRUE,
  };

  return zc_portal_session_open (
      zc_headless_get_bus (t->headless), &opts, error);
}

static gboolean
start_client (Test *t, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_auto (GStrv) env = zc_headless_environ (t->headless, NULL);
  const gchar *root = g_getenv ("ZC_BUILD_ROOT");
  g_autofree gchar *program = g_build_filename (
      root ? root : ".", "tests", "tools", "zc-input-client", NULL);

  t->client_log = g_build_filename (t->dir, "input-client.log", NULL);
  g_subprocess_launcher_set_environ (launcher, env);
  t->client = g_subprocess_launcher_spawn (
      launcher, error, program, "-o", t->client_log, NULL);
  return t->client != NULL;
}

static void
test_capture_input (Test *t)
{
  ZcHeadlessOptions hopts = {
    .sway = TRUE,
    .width = WIDTH,
    .height = HEIGHT,
    .timeout_us = 20 * G_USEC_PER_SEC,
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *xdpw_log = NULL, *display = NULL;
  ZcInput *input = NULL;
  const guint32 clicks[] = { 0xff0000, 0x00ff00, 0x0000ff };
  gint64 t0 = g_get_monotonic_time ();

  t->headless = zc_headless_start (&hopts, &error);
  CHECK (t->headless, "headless Sway starts: %s", error->message);
  g_print ("# Sway, both portals and PipeWire up in %.1f s\n",
      (g_get_monotonic_time () - t0) / 1e6);
  CHECK (
      start_client (t, &error), "zc-input-client starts: %s", error->message);
  CHECK (wait_line (t, "MAPPED ") && wait_line (t, "PAINTED #404040 0"),
      "zc-input-client maps its window");

  t0 = g_get_monotonic_time ();
  t->portal = open_portal (t, &error);
  CHECK (t->portal, "the portal handshake succeeds: %s", error->message);
  g_print ("# portal handshake in %.2f s, node %u\n",
      (g_get_monotonic_time () - t0) / 1e6,
      zc_portal_session_get_node_id (t->portal));
  CHECK (zc_portal_session_get_restore_token (t->portal) != NULL,
      "the portal returns a restore token");
  CHECK (zc_portal_session_get_devices (t->portal) == 0
          && g_strcmp0 (zc_portal_session_get_no_input_reason (t->portal),
                 "the portal offers no RemoteDesktop")
              == 0,
      "without a RemoteDesktop portal the session is view-only, saying why "
      "(got devices 0x%x, \"%s\")",
      zc_portal_session_get_devices (t->portal),
      zc_portal_session_get_no_input_reason (t->portal));
  g_print ("ok - no RemoteDesktop portal: ScreenCast alone, view-only\n");
  CHECK (start_capture (t, &error), "capture starts: %s", error->message);
  CHECK (expect_colour (t, 0x404040),
      "the captured picture is the client's "
      "#404040");
  g_print ("ok - portal capture shows the client (#404040)\n");

  display =
      g_build_filename (zc_headless_get_env (t->headless, "XDG_RUNTIME_DIR"),
          zc_headless_get_env (t->headless, "WAYLAND_DISPLAY"), NULL);
  input = zc_input_wlr_new (display, &error);
  CHECK (input, "the wlroots input backend connects: %s", error->message);
  CHECK (input->caps == (ZC_INPUT_CAP_POINTER | ZC_INPUT_CAP_KEYBOARD),
      "the backend offers pointer and keyboard");

  zc_input_pointer_absolute (input, 200, 100, WIDTH, HEIGHT);
  CHECK (wait_either (t, "ENTER 200.00 100.00", "MOTION 200.00 100.00"),
      "the pointer arrives at (200, 100)");
  zc_input_pointer_absolute (input, 500, 400, WIDTH, HEIGHT);
  CHECK (wait_line (t, "MOTION 500.00 400.00"),
      "the pointer moves to "
      "(500, 400)");
  g_print ("ok - absolute pointer motion lands at stream pixels\n");

  for (guint i = 0; i < G_N_ELEMENTS (clicks); i++) {
    g_autofree gchar *painted =
        g_strdup_printf ("PAINTED #%06x %u", clicks[i], i + 1);
    zc_input_button (input, BTN_LEFT, TRUE);
    zc_input_button (input, BTN_LEFT, FALSE);
    CHECK (wait_line (t, painted), "click %u repaints the client", i + 1);
    CHECK (expect_colour (t, clicks[i]), "the captured picture turns #%06x",
        clicks[i]);
  }
  CHECK (zc_sway_test_file_has_line (t->client_log, "BUTTON 272 RELEASED"),
      "button releases arrive");
  g_print ("ok - clicks repaint the client, the capture shows red, green, "
           "blue\n");

  zc_input_key (input, KEY_A, TRUE);
  zc_input_key (input, KEY_A, FALSE);
  CHECK (wait_line (t, "KEY 30 0x61 a PRESSED")
          && wait_line (t, "KEY 30 0x61 a RELEASED"),
      "KEY_A types a through the uploaded keymap");
  zc_input_keysym (input, 0x41 /* XKB_KEY_A */, TRUE);
  zc_input_keysym (input, 0x41, FALSE);
  CHECK (wait_line (t, "KEY 30 0x41 A PRESSED"),
      "the keysym A arrives as Shift+a");
  zc_input_axis_discrete (input, 0, 1);
  /* Seat version 8 sends value120 instead of discrete steps. */
  CHECK (wait_either (t, "AXIS_DISCRETE v 1", "AXIS_VALUE120 v 120"),
      "a wheel notch down arrives");
  g_print ("ok - keys, keysyms and the wheel arrive\n");

  zc_input_key (input, KEY_S, TRUE);
  CHECK (wait_line (t, "KEY 31 0x73 s PRESSED"), "KEY_S goes down");
  g_clear_pointer (&input, zc_input_destroy);
  CHECK (wait_line (t, "KEY 31 0x73 s RELEASED"),
      "the held key is released when the backend goes");
  g_print ("ok - a key held when input ends is released\n");

  /* A second session with the token the first one left. */
  stop_capture (t);
  g_clear_pointer (&t->portal, zc_portal_session_free);
  t->portal = open_portal (t, &error);
  CHECK (t->portal, "a second handshake succeeds: %s", error->message);
  CHECK (zc_portal_session_was_restored (t->portal),
      "the second session is opened with the restore token");
  xdpw_log = g_build_filename (zc_headless_get_log_dir (t->headless),
      "xdg-desktop-portal-wlr.log", NULL);
  {
    g_autofree gchar *contents = NULL;
    g_file_get_contents (xdpw_log, &contents, NULL, NULL);
    CHECK (contents && strstr (contents, "restoring session from data"),
        "xdg-desktop-portal-wlr restores the session from the token");
  }
  CHECK (start_capture (t, &error), "capture starts again: %s", error->message);
  CHECK (expect_colour (t, 0x0000ff),
      "the restored session shows the "
      "client (#0000ff)");
  g_print ("ok - the restore token reopens the screen without asking\n");

out:
  zc_input_destroy (input);
  stop_capture (t);
}

static void
test_no_backend (Test *t)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GSubprocess) xdp = NULL;
  g_auto (GStrv) env = NULL;
  ZcPortalOptions opts = { .timeout_us = 20 * G_USEC_PER_SEC,
    .restore_token_path = "" };
  gint64 t0;

  /* dbus, PipeWire, WirePlumber; no compositor. */
  t->headless = zc_headless_start (&(ZcHeadlessOptions){ 0 }, &error);
  CHECK (t->headless, "the private session starts: %s", error->message);
  env = zc_headless_environ (t->headless, NULL);
  env = g_environ_setenv (env, "XDG_CURRENT_DESKTOP", "sway", TRUE);
  g_subprocess_launcher_set_environ (launcher, env);
  xdp = g_subprocess_launcher_spawn (
      launcher, &error, "/usr/libexec/xdg-desktop-portal", "-r", NULL);
  CHECK (xdp, "xdg-desktop-portal starts: %s", error->message);

  t0 = g_get_monotonic_time ();
  t->portal =
      zc_portal_session_open (zc_headless_get_bus (t->headless), &opts, &error);
  CHECK (t->portal == NULL, "no ScreenCast session without a backend");
  g_print ("# after %.1f s: %s\n", (g_get_monotonic_time () - t0) / 1e6,
      error->message);
  CHECK (strstr (error->message, "backend") != NULL
          && strstr (error->message, "ScreenCast") != NULL,
      "the error names the missing ScreenCast backend: %s", error->message);
  g_print ("ok - no backend: a clear error\n");

out:
  if (xdp) {
    g_subprocess_send_signal (xdp, SIGTERM);
    g_subprocess_wait (xdp, NULL, NULL);
  }
}

int
main (int argc, char **argv)
{
  Test t = { .fd = -1 };
  gint rc;

  if (argc != 2
      || (strcmp (argv[1], "capture-input") != 0
          && strcmp (argv[1], "no-backend") != 0)) {
    g_printerr ("usage: %s capture-input|no-backend\n", argv[0]);
    return 2;
  }
  /* Skipping first: a skip makes nothing to clean up. */
  if ((rc = zc_sway_test_check_installed ()) != 0)
    return rc;
  if ((rc = zc_sway_test_drop_root (argv)) != 0)
    return rc;
  gst_init (&argc, &argv);
  t.dir = g_dir_make_tmp ("zc-sway-capture-XXXXXX", NULL);

  if (strcmp (argv[1], "capture-input") == 0)
    test_capture_input (&t);
  else
    test_no_backend (&t);

  if (failures && t.headless)
    zc_headless_print_logs (t.headless);
  if (failures && t.client_log) {
    g_autofree gchar *log = NULL;
    if (g_file_get_contents (t.client_log, &log, NULL, NULL))
      g_print ("# zc-input-client's log:\n%s\n", log);
  }
  g_clear_pointer (&t.portal, zc_portal_session_free);
  if (t.client) {
    g_subprocess_force_exit (t.client);
    g_subprocess_wait (t.client, NULL, NULL);
    g_clear_object (&t.client);
  }
  g_clear_pointer (&t.headless, zc_headless_stop);
  g_free (t.client_log);
  if (t.dir)
    zc_remove_tree (t.dir);
  g_free (t.dir);
  zc_sway_test_cleanup ();
  return failures ? 1 : 0;
}
