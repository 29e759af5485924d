/* --portal against xdg-desktop-portal-gnome's RemoteDesktop, all real: a
 * headless GNOME Shell (zc-headless), xdg-desktop-portal-gnome and
 * xdg-desktop-portal started with its Wayland display, and zerocast
 * --portal. GNOME's share dialog is answered the way a person would,
 * with pointer clicks (Escape to cancel) through a Mutter RemoteDesktop
 * session of this test; the picture of its own ScreenCast stream says
 * when the dialog is up, where its Share button is and whether "Allow
 * Remote Interaction" is on. Checks:
 *   1. the dialog answered (interaction on, Share): zerocast logs input
 *      through portal-remote-desktop with pointer, keyboard and touch,
 *      and a viewer speaking Helix's protocol clicks and types into
 *      zc-input-client (fullscreen on the shell), which records the left
 *      button at the position scaled from the viewer's reference size and
 *      the keys typed (a keycode, then keysyms pressed and released back
 *      to back) in the order sent, and its wheel (a notch, 120 pixels);
 *   2. a second zerocast restores the session from the token the first
 *      one kept, with no dialog: the same input, "(restored)";
 *   3. without a token, the dialog cancelled (Escape): exit 3 and
 *      "cancelled by the user";
 *   4. without a token, Share with "Allow Remote Interaction" off: zerocast
 *      streams view-only, says why in its log and in ConnectionComplete,
 *      and a viewer's pointer, button and key are refused, counted in
 *      /metrics, and never reach the app (which the test's own pointer and
 *      key reach meanwhile), and names the file to remove to be asked
 *      again;
 *   5. the next zerocast restores that choice without a dialog: view-only
 *      again, saying so.
 * Skips (77) where xdg-desktop-portal-gnome or GNOME Shell is missing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <linux/input-event-codes.h>

#include "zc-headless.h"
#include "zc-mutter-session.h"
#include "zc-portal-input.h"
#include "zc-test-check.h"
#include "zc-test-frames.h"
#include "zc-test-input-log.h"

#define XDPG "/usr/libexec/xdg-desktop-portal-gnome"
#define XDP "/usr/libexec/xdg-desktop-portal"
#define WIDTH 1280
#define HEIGHT 720
#define DIALOG_US (40 * G_USEC_PER_SEC)
#define LINE_MS 30000
#define INPUT_US (20 * G_USEC_PER_SEC)
/* The viewer measures its pointer in 1920x1080, as a browser window of
 * that size would; the stream is WIDTH x HEIGHT, so (x, y) of the
 * viewer's is (x, y) * 2/3 of the app's. */
#define REF_WIDTH 1920
#define REF_HEIGHT 1080
#define TOLERANCE 1.5
/* Typed as keysyms: letters whose keysym is their ASCII code. */
#define TYPED "bcdefghijk"

static gint failures;

typedef struct
{
  ZcHeadless *headless;
  gchar **env;
  gchar *dir;
  GSubprocess *xdpg, *xdp;
  ZcMutterSession *eyes; /* this test's RemoteDesktop + ScreenCast */
  GstElement *pipeline;
  GstAppSink *sink;
} Test;

static void
iterate_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (10000);
  }
}

static gboolean
name_owned (GDBusConnection *bus, const gchar *name)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (bus,
      "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  gboolean owned = FALSE;

  if (r)
    g_variant_get (r, "(b)", &owned);
  return owned;
}

static GSubprocess *
spawn_logged (Test *t, const gchar *name, const gchar *const *argv)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree gchar *log = g_strdup_printf ("%s/%s.log", t->dir, name);
  g_autoptr (GError) error = NULL;
  GSubprocess *p;

  g_subprocess_launcher_set_environ (l, t->env);
  g_subprocess_launcher_set_stdout_file_path (l, log);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  if (p == NULL)
    g_print ("# cannot start %s: %s\n", name, error->message);
  return p;
}

static guint32
owner_pid (GDBusConnection *bus, const gchar *name)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (bus,
      "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new ("(s)", name),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  guint32 pid = 0;

  if (r)
    g_variant_get (r, "(u)", &pid);
  return pid;
}

static gboolean
start_portals (Test *t)
{
  const gchar *xdpg_argv[] = { XDPG, "-r", NULL };
  const gchar *xdp_argv[] = { XDP, "-r", NULL };
  const gchar *names[] = { "org.freedesktop.portal.Desktop",
    "org.freedesktop.impl.portal.desktop.gnome" };
  GDBusConnection *bus = zc_headless_get_bus (t->headless);
  GVariantBuilder env;
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  /* GNOME Shell asks for the portal as it starts, so the bus may have
   * activated one already, without this desktop's XDG_CURRENT_DESKTOP:
   * it has no GNOME backend. Activation gets the right environment from
   * now on, and one activated before is replaced by ours. */
  g_variant_builder_init (&env, G_VARIANT_TYPE ("a{ss}"));
  for (const gchar *const *v =
           (const gchar *const[]){ "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE",
               "DBUS_SYSTEM_BUS_ADDRESS", "HOME", "GTK_A11Y", NULL };
       *v; v++)
    g_variant_builder_add (&env, "{ss}", *v, g_environ_getenv (t->env, *v));
  g_clear_pointer (
      &(GVariant *){ g_dbus_connection_call_sync (bus, "org.freedesktop.DBus",
          "/org/freedesktop/DBus", "org.freedesktop.DBus",
          "UpdateActivationEnvironment", g_variant_new ("(a{ss})", &env), NULL,
          G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL) },
      g_variant_unref);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    guint32 pid = owner_pid (bus, names[i]);

    if (pid == 0)
      continue;
    g_print (
        "# %s was activated before (pid %u): replacing it\n", names[i], pid);
    kill ((pid_t) pid, SIGTERM);
    while (name_owned (bus, names[i]) && g_get_monotonic_time () < end)
      iterate_ms (50);
  }

  t->xdpg = spawn_logged (t, "xdg-desktop-portal-gnome", xdpg_argv);
  while (
      t->xdpg && !name_owned (bus, names[1]) && g_get_monotonic_time () < end)
    iterate_ms (50);
  t->xdp = spawn_logged (t, "xdg-desktop-portal", xdp_argv);
  while (t->xdp && !name_owned (bus, names[0]) && g_get_monotonic_time () < end)
    iterate_ms (50);
  return g_get_monotonic_time () < end && t->xdp
      && owner_pid (bus, names[0])
      == (guint32) g_ascii_strtoull (
          g_subprocess_get_identifier (t->xdp), NULL, 10);
}

/* ---- this test's eyes and hands ---- */

static gboolean
start_eyes (Test *t, GError **error)
{
  g_autofree gchar *desc = NULL;
  guint32 node;

  t->eyes = zc_mutter_session_new_remote_desktop (
      zc_headless_get_bus (t->headless), error);
  if (t->eyes == NULL
      || !zc_mutter_session_record_monitor (t->eyes, NULL, 0, error)
      || !zc_mutter_session_start (t->eyes, error))
    return FALSE;
  node = zc_mutter_session_wait_node (t->eyes, 10 * G_USEC_PER_SEC, error);
  if (node == 0)
    return FALSE;
  desc = g_strdup_printf ("pipewirezerocopysrc pipewire-node-id=%u "
                          "keepalive-time=100 ! video/x-raw ! appsink "
                          "name=sink sync=false max-buffers=2 drop=true",
      node);
  t->pipeline = gst_parse_launch (desc, error);
  if (t->pipeline == NULL)
    return FALSE;
  t->sink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (t->pipeline), "sink"));
  gst_element_set_state (t->pipeline, GST_STATE_PLAYING);
  return TRUE;
}

static void
key (Test *t, guint32 code)
{
  const gchar *rd = zc_mutter_session_get_remote_desktop_path (t->eyes);

  for (gint pressed = 1; pressed >= 0; pressed--) {
    g_autoptr (GVariant) r = g_dbus_connection_call_sync (
        zc_headless_get_bus (t->headless), "org.gnome.Mutter.RemoteDesktop", rd,
        "org.gnome.Mutter.RemoteDesktop.Session", "NotifyKeyboardKeycode",
        g_variant_new ("(ub)", code, pressed), NULL, G_DBUS_CALL_FLAGS_NONE,
        5000, NULL, NULL);
    iterate_ms (60);
  }
  /* The dialog is a GTK client: give it a frame to act before the next. */
  iterate_ms (250);
}

static void
rd_call (Test *t, const gchar *method, GVariant *args)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      zc_headless_get_bus (t->headless), "org.gnome.Mutter.RemoteDesktop",
      zc_mutter_session_get_remote_desktop_path (t->eyes),
      "org.gnome.Mutter.RemoteDesktop.Session", method, args, NULL,
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
}

static void
click (Test *t, gdouble x, gdouble y)
{
  const gchar *stream = zc_mutter_session_get_stream_path (t->eyes);

  /* Arrive from the left, as a hand would: GTK wants to see the pointer
   * enter before it takes a press. */
  for (gint dx = -20; dx <= 0; dx += 10) {
    rd_call (t, "NotifyPointerMotionAbsolute",
        g_variant_new ("(sdd)", stream, x + dx, y));
    iterate_ms (100);
  }
  rd_call (t, "NotifyPointerButton", g_variant_new ("(ib)", BTN_LEFT, TRUE));
  iterate_ms (100);
  rd_call (t, "NotifyPointerButton", g_variant_new ("(ib)", BTN_LEFT, FALSE));
  iterate_ms (300);
}

typedef struct
{
  gint share_x, share_y; /* where the Share button's centre was seen */
} Seen;

static Seen seen;

typedef enum
{
  LOOK_DIALOG,         /* the share dialog is up, the overview closed */
  LOOK_INTERACTION,    /* and its "Allow Remote Interaction" switch is on */
  LOOK_NO_INTERACTION, /* or off */
} Look;

static gboolean
rgb_at (const GstVideoFrame *frame, gint x, gint y, guint8 rgb[3], gchar **why)
{
  guint8 argb[4];

  if (!zc_frame_pixel (frame, x, y, argb, why))
    return FALSE;
  memcpy (rgb, argb + 1, 3);
  return TRUE;
}

static gboolean
is_share_blue (const guint8 rgb[3])
{
  return rgb[2] > 200 && rgb[2] > rgb[0] + 100;
}

static gboolean
frame_looks (
    const GstVideoFrame *frame, GstSample *sample, gpointer data, gchar **why)
{
  Look look = GPOINTER_TO_INT (data);
  guint8 rgb[3], bar[3], sw[3];
  gint x0 = G_MAXINT, x1 = -1, y0 = G_MAXINT, y1 = -1, cx, cy;

  /* The top bar is black (grey while the overview is open, which shrinks
   * the dialog). */
  if (!rgb_at (frame, 300, 20, bar, why))
    return FALSE;
  if (MAX (MAX (bar[0], bar[1]), bar[2]) > 12) {
    *why = g_strdup_printf (
        "the overview is open (top bar #%02x%02x%02x)", bar[0], bar[1], bar[2]);
    return FALSE;
  }
  /* The dialog's blue Share button, in its top right corner: where it is
   * depends on the dialog's height. */
  for (gint y = 60; y < 300; y += 2)
    for (gint x = 640; x < 1100; x += 2) {
      if (!rgb_at (frame, x, y, rgb, why))
        return FALSE;
      /* Only the button's own rows: the switch below turns blue too. */
      if (is_share_blue (rgb) && (y1 < 0 || y <= y0 + 50)) {
        x0 = MIN (x0, x), x1 = MAX (x1, x);
        y0 = MIN (y0, y), y1 = MAX (y1, y);
      }
    }
  if (x1 - x0 < 40 || x1 - x0 > 120 || y1 - y0 < 20 || y1 - y0 > 50) {
    *why = g_strdup_printf (
        "no Share button (blue in %d..%d x %d..%d)", x0, x1, y0, y1);
    return FALSE;
  }
  cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  seen.share_x = cx, seen.share_y = cy;
  /* The switch's left half, 40 px left of Share's centre and 135 below,
   * is blue once it is on (the white knob sits there when off). */
  if (look != LOOK_DIALOG) {
    gboolean on;

    if (!rgb_at (frame, cx - 42, cy + 135, sw, why))
      return FALSE;
    on = sw[2] >= sw[0] + 60;
    if (on != (look == LOOK_INTERACTION)) {
      *why = g_strdup_printf ("the interaction switch is %s (#%02x%02x%02x "
                              "at %d,%d)",
          on ? "on" : "off", sw[0], sw[1], sw[2], cx - 42, cy + 135);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
wait_look (Test *t, Look look, gint64 timeout_us)
{
  g_autoptr (GError) error = NULL;
  guint n = 0;

  if (zc_pull_frames (t->pipeline, t->sink, timeout_us, frame_looks,
          GINT_TO_POINTER (look), &n, &error))
    return TRUE;
  g_print ("# %s\n", error->message);
  return FALSE;
}

/* ---- zerocast ---- */

/* Reaped (GLib's child watch runs in the main context we iterate). */
static gboolean
exited (GSubprocess *p)
{
  return g_subprocess_get_identifier (p) == NULL;
}

static GSubprocess *
start_zerocast (Test *t, const gchar *state, const gchar *log)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GError) error = NULL;
  const gchar *root = g_getenv ("ZC_BUILD_ROOT");
  g_autofree gchar *exe =
      g_build_filename (root ? root : ".", "server", "zerocast", NULL);
  GSubprocess *p;

  g_subprocess_launcher_set_environ (l, t->env);
  g_subprocess_launcher_setenv (l, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_set_stdout_file_path (l, log);
  p = g_subprocess_launcher_spawn (l, &error, exe, "--portal", "--listen",
      "127.0.0.1:0", "--video-mode", "shm", NULL);
  if (p == NULL)
    g_print ("# cannot start zerocast: %s\n", error->message);
  return p;
}

static gboolean
log_has (const gchar *log, const gchar *text)
{
  g_autofree gchar *contents = NULL;

  return g_file_get_contents (log, &contents, NULL, NULL)
      && strstr (contents, text) != NULL;
}

static gboolean
wait_log (const gchar *log, const gchar *text, GSubprocess *p)
{
  gint64 end = g_get_monotonic_time () + LINE_MS * 1000;

  while (!log_has (log, text)) {
    if (g_get_monotonic_time () > end || (p && exited (p)))
      return FALSE;
    iterate_ms (50);
  }
  return TRUE;
}

static gint
stop (GSubprocess *p)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  if (p == NULL)
    return -1;
  if (!exited (p))
    g_subprocess_send_signal (p, SIGTERM);
  while (!exited (p) && g_get_monotonic_time () < end)
    iterate_ms (20);
  if (!exited (p)) {
    g_subprocess_force_exit (p);
    g_subprocess_wait (p, NULL, NULL);
    return -1;
  }
  return g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
}

/* ---- a viewer's input and the app ---- */

static gboolean
wait_pointer (ZcApp *app, gsize from, gdouble x, gdouble y, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (!zc_app_has_pointer_at (app, from, x, y, TOLERANCE)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    iterate_ms (20);
  }
  return TRUE;
}

/* Waits for a line from @from on; says what the app got instead. */
static gboolean
app_line (ZcApp *app, const gchar *prefix, gsize from)
{
  g_autofree gchar *line = zc_app_wait_line (app, prefix, from, INPUT_US);
  g_autofree gchar *text = NULL;

  if (line)
    return TRUE;
  text = zc_app_text (app, from);
  g_print ("# the app never received \"%s\"; it got:\n%s", prefix, text);
  return FALSE;
}

static const gchar *
caps_string (JsonObject *caps, const gchar *name)
{
  return json_object_has_member (caps, name)
      ? json_object_get_string_member (caps, name)
      : NULL;
}

/* The app fullscreen on the shell and a viewer of @log's zerocast
 * connected with its capabilities; FALSE (counted) when either fails. */
static gboolean
app_and_viewer (Test *t, const gchar *log, ZcApp **app, ZcViewer **viewer)
{
  g_autofree gchar *base = zc_viewer_base_from_log (log);
  g_autoptr (GError) error = NULL;
  gint w = 0, h = 0;

  CHECK (base, "zerocast names the URL it serves (see %s)", log);
  *app = zc_app_start (t->env, t->dir, &w, &h, INPUT_US, &error);
  CHECK (
      *app, "zc-input-client shows a window on the shell: %s", error->message);
  CHECK (w == WIDTH && h == HEIGHT,
      "its fullscreen window covers the monitor (%dx%d)", w, h);
  *viewer = zc_viewer_connect (base, REF_WIDTH, REF_HEIGHT, INPUT_US, &error);
  CHECK (*viewer, "a viewer connects to zerocast: %s", error->message);
  return TRUE;

out:
  return FALSE;
}

/* The keys the app got from @from on, "a+ a- ..." (zc_input_log_keys). */
static gchar *
keys_typed (ZcApp *app, gsize from, guint *n)
{
  g_autofree gchar *text = zc_app_text (app, from);

  return zc_input_log_keys (text, n);
}

/* Interaction allowed: the viewer's pointer lands where it pointed,
 * scaled from its reference size; its click is the left button there and
 * repaints the app; its key and keysym arrive as the right keysyms. */
static gboolean
check_input_lands (Test *t, const gchar *log)
{
  ZcApp *app = NULL;
  ZcViewer *v = NULL;
  JsonObject *caps;
  gboolean ok = FALSE;
  gint64 end;
  gsize mark;
  gdouble x = -1, y = -1;
  gint i;
  guint n = 0;
  g_autofree gchar *keys = NULL;
  g_autofree gchar *want_keys = NULL;
  GString *want = g_string_new ("a+ a-");

  for (const gchar *c = TYPED; *c; c++)
    g_string_append_printf (want, " %c+ %c-", *c, *c);
  want_keys = g_string_free (want, FALSE);
  if (!app_and_viewer (t, log, &app, &v))
    goto out;
  caps = zc_viewer_get_capabilities (v);
  CHECK (json_object_get_boolean_member_with_default (caps, "control", FALSE)
          && json_object_get_boolean_member_with_default (
              caps, "pointer", FALSE)
          && json_object_get_boolean_member_with_default (
              caps, "keyboard", FALSE)
          && g_strcmp0 (caps_string (caps, "input"), "portal-remote-desktop")
              == 0
          && !json_object_has_member (caps, "view_only"),
      "ConnectionComplete offers control through the portal (input %s, "
      "view_only %s)",
      caps_string (caps, "input"), caps_string (caps, "view_only"));

  /* The middle of the viewer's picture is the middle of the app. Mutter
   * may drop a new session's first motions: point again, a client pixel
   * either way, until the app has the pointer there. */
  mark = zc_app_mark (app);
  end = g_get_monotonic_time () + INPUT_US;
  for (i = 0; !zc_app_has_pointer_at (app, mark, 640, 360, TOLERANCE); i++) {
    CHECK (g_get_monotonic_time () < end && zc_viewer_is_open (v),
        "the viewer's pointer reaches the app at (640, 360)");
    zc_viewer_pointer (v, 960 + i % 2, 540 + i % 2);
    iterate_ms (200);
  }

  /* Elsewhere and a left click there at once, as a browser sends them:
   * the button must not overtake the motion. */
  mark = zc_app_mark (app);
  zc_viewer_pointer (v, 480, 270);
  zc_viewer_button (v, 1, TRUE);
  zc_viewer_button (v, 1, FALSE);
  CHECK (app_line (app, "BUTTON 272 PRESSED", mark)
          && app_line (app, "BUTTON 272 RELEASED", mark),
      "the viewer's button 1 reaches the app as BTN_LEFT");
  CHECK (zc_app_pointer_before (app, mark, "BUTTON 272 PRESSED", &x, &y)
          && fabs (x - 320) <= TOLERANCE && fabs (y - 180) <= TOLERANCE,
      "the click is at (320, 180), (480, 270) of 1920x1080 (the pointer "
      "was at %.2f, %.2f)",
      x, y);
  CHECK (app_line (app, "PAINTED #ff0000 1", mark),
      "the app repaints on the click");

  /* The click gave it the keyboard: an evdev key, then keysyms typed
   * faster than anyone types, each pressed and released back to back.
   * The app must see them all in the order sent, no release before its
   * press (that key would stay down). */
  CHECK (app_line (app, "KEYBOARD_ENTER", 0), "the app has the keyboard");
  mark = zc_app_mark (app);
  zc_viewer_key (v, KEY_A, TRUE);
  zc_viewer_key (v, KEY_A, FALSE);
  for (const gchar *c = TYPED; *c; c++) {
    zc_viewer_keysym (v, (guint32) *c, TRUE); /* Latin-1 keysyms */
    zc_viewer_keysym (v, (guint32) *c, FALSE);
  }
  CHECK (app_line (app, "KEY 30 0x61 a PRESSED", mark),
      "the viewer's KEY_A reaches the app as the keysym a");
  end = g_get_monotonic_time () + INPUT_US;
  while (!(keys = keys_typed (app, mark, &n), n >= 2 * (strlen (TYPED) + 1))
      && g_get_monotonic_time () < end) {
    g_free (keys);
    iterate_ms (50);
  }
  CHECK (g_strcmp0 (keys, want_keys) == 0,
      "the viewer's keys reach the app in order:\n# want %s\n# got  %s",
      want_keys, keys);

  /* The wheel: a notch down, then 120 browser pixels down (a notch too,
   * about 12 wl_pointer units). */
  mark = zc_app_mark (app);
  zc_viewer_wheel (v, 1);
  CHECK (app_line (app, "AXIS v ", mark), "the viewer's wheel notch scrolls");
  {
    g_autofree gchar *line = zc_app_wait_line (app, "AXIS v ", mark, 0);
    CHECK (line && g_ascii_strtod (line + 7, NULL) > 0, "down (%s)", line);
  }
  mark = zc_app_mark (app);
  zc_viewer_wheel_smooth (v, 120.f);
  CHECK (app_line (app, "AXIS v ", mark), "the viewer's smooth wheel scrolls");
  {
    g_autofree gchar *line = zc_app_wait_line (app, "AXIS v ", mark, 0);
    CHECK (line && fabs (g_ascii_strtod (line + 7, NULL) - 12) < 1.0,
        "by about 12 units (%s)", line);
  }
  CHECK (zc_viewer_is_open (v), "the viewer is still connected");
  ok = TRUE;

out:
  zc_viewer_free (v);
  zc_app_stop (app);
  return ok;
}

/* Interaction not allowed: the viewer is told it cannot control, and its
 * pointer, button and key are refused, counted, and never reach the app,
 * which the test's own hands reach meanwhile (so it could have seen
 * them). */
static gboolean
check_input_refused (Test *t, const gchar *log)
{
  g_autofree gchar *base = zc_viewer_base_from_log (log);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  ZcApp *app = NULL;
  ZcViewer *v = NULL;
  JsonObject *caps;
  gboolean ok = FALSE;
  gdouble before = -1, now = -1;
  gint64 end;
  gsize mark;

  if (!app_and_viewer (t, log, &app, &v))
    goto out;
  caps = zc_viewer_get_capabilities (v);
  CHECK (!json_object_get_boolean_member_with_default (caps, "control", TRUE)
          && !json_object_get_boolean_member_with_default (
              caps, "pointer", TRUE)
          && !json_object_get_boolean_member_with_default (
              caps, "keyboard", TRUE)
          && g_strcmp0 (caps_string (caps, "input"), "none") == 0
          && caps_string (caps, "view_only")
          && strstr (
              caps_string (caps, "view_only"), "granted no input devices"),
      "ConnectionComplete says view-only and why (input %s, view_only %s)",
      caps_string (caps, "input"), caps_string (caps, "view_only"));

  /* The test's hands give the app the keyboard, so that a key would
   * show. */
  click (t, 1000, 600);
  CHECK (app_line (app, "KEYBOARD_ENTER", 0), "the app has the keyboard");
  CHECK (
      zc_viewer_metric (base, "zerocast_input_refused_total", &before, &error),
      "/metrics answers: %s", error->message);

  mark = zc_app_mark (app);
  zc_viewer_pointer (v, 960, 540);
  zc_viewer_button (v, 1, TRUE);
  zc_viewer_button (v, 1, FALSE);
  zc_viewer_key (v, KEY_A, TRUE);
  zc_viewer_key (v, KEY_A, FALSE);
  end = g_get_monotonic_time () + INPUT_US;
  do {
    iterate_ms (50);
    CHECK (
        zc_viewer_metric (base, "zerocast_input_refused_total", &now, &error),
        "/metrics answers: %s", error->message);
  } while (now < before + 5 && g_get_monotonic_time () < end);
  CHECK (now == before + 5,
      "zerocast refused and counted the viewer's 5 "
      "input messages (%g, was %g)",
      now, before);
  CHECK (log_has (log, "zerocast: ignoring input from viewer"),
      "and says it ignores them (see %s)", log);
  CHECK (zc_viewer_is_open (v), "the viewer is still connected");

  /* Then the test's own pointer and key: once the app has them, anything
   * sent before would have come too. */
  rd_call (t, "NotifyPointerMotionAbsolute",
      g_variant_new (
          "(sdd)", zc_mutter_session_get_stream_path (t->eyes), 1100.0, 650.0));
  key (t, KEY_Z);
  CHECK (wait_pointer (app, mark, 1100, 650, INPUT_US)
          && app_line (app, "KEY 44 0x7a z RELEASED", mark),
      "the test's own pointer and key reach the app");
  text = zc_app_text (app, mark);
  CHECK (strstr (text, "BUTTON ") == NULL && strstr (text, "KEY 30 ") == NULL
          && !zc_app_has_pointer_at (app, mark, 640, 360, TOLERANCE),
      "none of the viewer's input reached the app; it got:\n%s", text);
  ok = TRUE;

out:
  zc_viewer_free (v);
  zc_app_stop (app);
  return ok;
}

static void
run (Test *t)
{
  ZcHeadlessOptions hopts = {
    .mutter = TRUE,
    .shell = TRUE,
    .width = WIDTH,
    .height = HEIGHT,
    .timeout_us = 30 * G_USEC_PER_SEC,
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *state = g_build_filename (t->dir, "state", NULL);
  g_autofree gchar *state2 = g_build_filename (t->dir, "state2", NULL);
  g_autofree gchar *log1 = g_build_filename (t->dir, "zerocast-1.log", NULL);
  g_autofree gchar *log2 = g_build_filename (t->dir, "zerocast-2.log", NULL);
  g_autofree gchar *log3 = g_build_filename (t->dir, "zerocast-3.log", NULL);
  g_autofree gchar *state3 = g_build_filename (t->dir, "state3", NULL);
  g_autofree gchar *log4 = g_build_filename (t->dir, "zerocast-4.log", NULL);
  g_autofree gchar *log5 = g_build_filename (t->dir, "zerocast-5.log", NULL);
  const gchar *view_only_line = "zerocast: view-only: the portal's "
                                "RemoteDesktop granted no input devices";
  g_autofree gchar *token3 = g_build_filename (
      state3, "zerocast", "portal-restore-token-remote-desktop", NULL);
  g_autofree gchar *hint_kept =
      g_strdup_printf ("zerocast: the portal keeps this choice to share the "
                       "screen without remote interaction; to be asked "
                       "again, remove %s\n",
          token3);
  g_autofree gchar *hint_restored = g_strdup_printf (
      "zerocast: the portal restored an earlier choice to share the screen "
      "without remote interaction; to be asked again, remove %s\n",
      token3);
  const gchar *input_line =
      "zerocast: input through portal-remote-desktop (pointer,keyboard,touch)";
  GSubprocess *zc = NULL;
  gint64 t0 = g_get_monotonic_time (), end;
  gint rc;

  t->headless = zc_headless_start (&hopts, &error);
  CHECK (t->headless, "headless GNOME Shell starts: %s", error->message);
  t->env = zc_headless_environ (t->headless, NULL);
  /* xdg-desktop-portal-gnome offers only its settings elsewhere
   * ("Non-compatible display server"). */
  t->env = g_environ_setenv (t->env, "XDG_CURRENT_DESKTOP", "GNOME", TRUE);
  t->env = g_environ_setenv (t->env, "XDG_SESSION_TYPE", "wayland", TRUE);
  /* A HOME of its own: the permission store (restore data) lives there. */
  {
    g_autofree gchar *home = g_build_filename (t->dir, "home", NULL);
    g_mkdir (home, 0700);
    t->env = g_environ_setenv (t->env, "HOME", home, TRUE);
  }
  /* It also wants a system bus: the shell's stand-in (zc-headless keeps
   * it beside the session bus), never the host's. */
  {
    g_autofree gchar *sys = g_strdup_printf ("unix:path=%s/system_bus",
        zc_headless_get_env (t->headless, "XDG_RUNTIME_DIR"));
    t->env = g_environ_setenv (t->env, "DBUS_SYSTEM_BUS_ADDRESS", sys, TRUE);
  }
  t->env = g_environ_setenv (t->env, "GTK_A11Y", "none", TRUE);
  /* This process's own PipeWire client (the eyes) talks to the desktop's. */
  for (gchar **e = t->env; *e; e++) {
    g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
    if (g_str_has_prefix (*e, "XDG_RUNTIME_DIR=")
        || g_str_has_prefix (*e, "PIPEWIRE_"))
      g_setenv (kv[0], kv[1], TRUE);
  }
  CHECK (start_portals (t),
      "xdg-desktop-portal-gnome and xdg-desktop-portal "
      "take their names on the bus");
  CHECK (start_eyes (t, &error),
      "the test's own RemoteDesktop session "
      "starts: %s",
      error->message);
  g_print ("# desktop, portals and the test's session up in %.1f s\n",
      (g_get_monotonic_time () - t0) / 1e6);

  /* 1. A person shares the screen and allows interaction. */
  zc = start_zerocast (t, state, log1);
  CHECK (zc, "zerocast --portal starts");
  CHECK (
      wait_look (t, LOOK_DIALOG, DIALOG_US), "GNOME's share dialog comes up");
  /* Switch "Allow Remote Interaction" on (26 px left of Share's centre,
   * 135 below), then Share. A click may be lost to a virtual pointer
   * Mutter only just created: look, and click again. */
  for (guint tries = 0; tries < 3; tries++) {
    g_autoptr (GError) look_error = NULL;
    guint n = 0;

    click (t, seen.share_x - 26, seen.share_y + 135);
    if (zc_pull_frames (t->pipeline, t->sink, 3 * G_USEC_PER_SEC, frame_looks,
            GINT_TO_POINTER (LOOK_INTERACTION), &n, &look_error))
      break;
    g_print ("# %s; again\n", look_error->message);
  }
  CHECK (wait_look (t, LOOK_INTERACTION, 5 * G_USEC_PER_SEC),
      "\"Allow Remote Interaction\" is switched on");
  click (t, seen.share_x, seen.share_y);
  CHECK (wait_log (log1, input_line, zc),
      "zerocast injects through the portal's RemoteDesktop (see %s)", log1);
  CHECK (wait_log (log1, "zerocast: serving ", zc), "zerocast serves");
  g_print ("ok - shared with interaction: input through "
           "portal-remote-desktop (pointer, keyboard, touch)\n");
  if (!check_input_lands (t, log1))
    goto out;
  rc = stop (zc);
  g_clear_object (&zc);
  CHECK (rc == 0, "zerocast stops with 0 (got %d)", rc);
  g_print ("ok - a viewer's click lands in the app at the scaled position "
           "with the left button, its keys in the order typed, its wheel\n");

  /* 2. The next run asks nobody. */
  zc = start_zerocast (t, state, log2);
  CHECK (zc, "zerocast --portal starts again");
  CHECK (wait_log (log2, input_line, zc),
      "the second zerocast gets input without a dialog (see %s)", log2);
  CHECK (log_has (log2, "ScreenCast (restored)"),
      "the second session was restored from the token");
  /* Before SIGTERM: zerocast handles it once it serves. */
  CHECK (wait_log (log2, "zerocast: serving ", zc), "zerocast serves");
  rc = stop (zc);
  g_clear_object (&zc);
  CHECK (rc == 0, "zerocast stops with 0 (got %d)", rc);
  g_print ("ok - the restore token reopens screen and input without "
           "asking\n");

  /* 3. No token, and the person says no. */
  zc = start_zerocast (t, state2, log3);
  CHECK (zc, "zerocast --portal starts a third time");
  CHECK (wait_look (t, LOOK_DIALOG, DIALOG_US),
      "the dialog comes up again without a token");
  key (t, KEY_LEFTSHIFT); /* a new session's first key is dropped */
  key (t, KEY_ESC);
  end = g_get_monotonic_time () + LINE_MS * 1000;
  while (!exited (zc) && g_get_monotonic_time () < end)
    iterate_ms (50);
  CHECK (exited (zc) && g_subprocess_get_if_exited (zc)
          && g_subprocess_get_exit_status (zc) == 3,
      "a cancelled dialog ends zerocast with exit 3");
  CHECK (log_has (log3, "cancelled by the user"),
      "and says the user cancelled (see %s)", log3);
  g_print ("ok - a cancelled dialog: exit 3, \"cancelled by the user\"\n");
  g_clear_object (&zc);

  /* 4. The screen shared, the input not: "Allow Remote Interaction" left
   * (or switched) off. */
  zc = start_zerocast (t, state3, log4);
  CHECK (zc, "zerocast --portal starts a fourth time");
  CHECK (wait_look (t, LOOK_DIALOG, DIALOG_US),
      "the dialog comes up again without a token");
  for (guint tries = 0; tries < 3; tries++) {
    g_autoptr (GError) look_error = NULL;
    guint n = 0;

    if (zc_pull_frames (t->pipeline, t->sink, 3 * G_USEC_PER_SEC, frame_looks,
            GINT_TO_POINTER (LOOK_NO_INTERACTION), &n, &look_error))
      break;
    g_print ("# %s; switching it off\n", look_error->message);
    click (t, seen.share_x - 26, seen.share_y + 135);
  }
  CHECK (wait_look (t, LOOK_NO_INTERACTION, 5 * G_USEC_PER_SEC),
      "\"Allow Remote Interaction\" is off");
  click (t, seen.share_x, seen.share_y);
  CHECK (wait_log (log4, view_only_line, zc),
      "zerocast streams view-only and says why (see %s)", log4);
  CHECK (wait_log (log4, "zerocast: serving ", zc), "zerocast serves");
  CHECK (
      !log_has (log4, "zerocast: input through"), "and has no input backend");
  CHECK (log_has (log4, hint_kept), "and says how to be asked again");
  if (!check_input_refused (t, log4))
    goto out;
  rc = stop (zc);
  g_clear_object (&zc);
  CHECK (rc == 0, "zerocast stops with 0 (got %d)", rc);
  g_print ("ok - shared without interaction: view-only in the log and in "
           "ConnectionComplete, a viewer's input refused, counted and not "
           "seen by the app\n");

  /* 5. The next run restores that choice without asking, and says so. */
  zc = start_zerocast (t, state3, log5);
  CHECK (zc, "zerocast --portal starts a fifth time");
  CHECK (wait_log (log5, view_only_line, zc),
      "the restored session is view-only again (see %s)", log5);
  CHECK (log_has (log5, hint_restored),
      "and says the choice was restored and how to be asked again");
  CHECK (wait_log (log5, "zerocast: serving ", zc), "zerocast serves");
  rc = stop (zc);
  g_clear_object (&zc);
  CHECK (rc == 0, "zerocast stops with 0 (got %d)", rc);
  g_print ("ok - the view-only choice is restored without a dialog, with "
           "the file to remove to be asked again\n");

out:
  if (zc)
    stop (zc);
  g_clear_object (&zc);
}

static void
remove_tree (const gchar *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree gchar *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR)
        && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      remove_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  Test t = { 0 };
  g_autoptr (GError) error = NULL;

  gst_init (&argc, &argv);
  if (!g_file_test (XDPG, G_FILE_TEST_IS_EXECUTABLE)
      || !g_file_test (XDP, G_FILE_TEST_IS_EXECUTABLE)
      || !zc_headless_shell_available (NULL)) {
    g_print ("# skip: needs xdg-desktop-portal, xdg-desktop-portal-gnome "
             "and GNOME Shell (scripts/test-release.sh sid)\n");
    return 77;
  }
  t.dir = g_dir_make_tmp ("zc-portal-gnome-XXXXXX", &error);
  g_assert_no_error (error);
  run (&t);
  if (t.pipeline)
    gst_element_set_state (t.pipeline, GST_STATE_NULL);
  gst_clear_object (&t.sink);
  gst_clear_object (&t.pipeline);
  g_clear_pointer (&t.eyes, zc_mutter_session_free);
  stop (t.xdp);
  stop (t.xdpg);
  g_clear_object (&t.xdp);
  g_clear_object (&t.xdpg);
  g_clear_pointer (&t.headless, zc_headless_stop);
  g_strfreev (t.env);
  if (failures == 0)
    remove_tree (t.dir);
  else
    g_print ("# failed; logs kept in %s\n", t.dir);
  g_free (t.dir);
  return failures ? 1 : 0;
}
