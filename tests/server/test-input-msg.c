/* Unit tests: input messages, init/control JSON, ConnectionComplete and
 * the cursor messages, byte for byte as Helix's client writes and reads
 * them (helixml/helix frontend/src/lib/helix-stream/stream/
 * websocket-stream.ts).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <json-glib/json-glib.h>
#include <linux/input-event-codes.h>

#include "zc-control.h"
#include "zc-input-msg.h"
#include "zc-wire.h"

static ZcInputMsg
parse_ok (const guint8 *data, gsize size)
{
  ZcInputMsg msg;
  g_autoptr (GError) error = NULL;

  g_assert_true (zc_input_msg_parse (data, size, &msg, &error));
  g_assert_no_error (error);
  return msg;
}

static void
parse_bad (const guint8 *data, gsize size, const gchar *needle)
{
  ZcInputMsg msg;
  g_autoptr (GError) error = NULL;

  g_assert_false (zc_input_msg_parse (data, size, &msg, &error));
  g_assert_nonnull (error);
  if (needle && !strstr (error->message, needle))
    g_error ("\"%s\" does not say \"%s\"", error->message, needle);
}

static void
test_keyboard (void)
{
  /* sendKey(true, KEY_A=30, shift): 0x10 0 1 mods 0x00 0x1e */
  const guint8 key[] = { 0x10, 0, 1, 1, 0x00, 30 };
  const guint8 keysym[] = { 0x10, 2, 0, 0, 0x00, 0x00, 0xff, 0x0d };
  const guint8 tap[] = { 0x10, 3, ZC_INPUT_MOD_CTRL, 0x00, 0x00, 0x00, 0x61 };
  const guint8 big[] = { 0x10, 0, 1, 0, 0x03, 0x00 };
  const guint8 sub[] = { 0x10, 1, 1, 0, 0, 30 };
  const guint8 sym_big[] = { 0x10, 2, 1, 0, 0x20, 0, 0, 0 };
  ZcInputMsg m;

  m = parse_ok (key, sizeof (key));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_KEY);
  g_assert_true (m.pressed);
  g_assert_cmpuint (m.code, ==, KEY_A);
  g_assert_cmpuint (m.modifiers, ==, 1);
  m = parse_ok (keysym, sizeof (keysym));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_KEYSYM);
  g_assert_false (m.pressed);
  g_assert_cmpuint (m.code, ==, 0xff0d); /* XK_Return */
  m = parse_ok (tap, sizeof (tap));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_KEYSYM_TAP);
  g_assert_cmpuint (m.code, ==, 0x61);
  g_assert_cmpuint (m.modifiers, ==, ZC_INPUT_MOD_CTRL);

  parse_bad (key, 5, "too short");
  parse_bad (keysym, 7, "too short");
  parse_bad (tap, 6, "too short");
  parse_bad (key, 1, "too short");
  parse_bad (big, sizeof (big), "not an evdev key");
  parse_bad (sub, sizeof (sub), "sub-type");
  parse_bad (sym_big, sizeof (sym_big), "not a keysym");
}

static void
test_mouse (void)
{
  const guint8 left[] = { 0x11, 2, 1, 1 };
  const guint8 middle[] = { 0x11, 2, 0, 2 };
  const guint8 right[] = { 0x11, 2, 1, 3 };
  const guint8 none[] = { 0x11, 2, 1, 9 };
  /* setFloat32(1, 1.5, LE), setFloat32(5, -120, LE) */
  const guint8 smooth[] = { 0x11, 3, 0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0xf0,
    0xc2 };
  const guint8 nan[] = { 0x11, 3, 0x00, 0x00, 0xc0, 0x7f, 0, 0, 0, 0 };
  const guint8 notch[] = { 0x11, 4, 0xff, 0x02 };
  /* sendMousePositionImmediate(640, 360, 1280, 720) */
  const guint8 abs[] = { 0x12, 1, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02,
    0xd0 };
  const guint8 abs_zero[] = { 0x12, 1, 0, 1, 0, 1, 0, 0, 0x02, 0xd0 };
  const guint8 abs_neg[] = { 0x12, 1, 0xff, 0xf6, 0, 1, 0x05, 0, 0x02, 0xd0 };
  const guint8 rel[] = { 0x13, 0, 0xff, 0xfe, 0x00, 0x05 };
  ZcInputMsg m;

  m = parse_ok (left, sizeof (left));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_BUTTON);
  g_assert_cmpuint (m.code, ==, BTN_LEFT);
  g_assert_true (m.pressed);
  g_assert_cmpuint (parse_ok (middle, sizeof (middle)).code, ==, BTN_MIDDLE);
  g_assert_cmpuint (parse_ok (right, sizeof (right)).code, ==, BTN_RIGHT);
  parse_bad (none, sizeof (none), "no button 9");

  m = parse_ok (smooth, sizeof (smooth));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_WHEEL_SMOOTH);
  g_assert_cmpfloat (m.fx, ==, 1.5f);
  g_assert_cmpfloat (m.fy, ==, -120.f);
  parse_bad (nan, sizeof (nan), "finite");
  parse_bad (smooth, 9, "too short");

  m = parse_ok (notch, sizeof (notch));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_WHEEL_DISCRETE);
  g_assert_cmpint (m.x, ==, -1);
  g_assert_cmpint (m.y, ==, 2);

  m = parse_ok (abs, sizeof (abs));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_ABSOLUTE);
  g_assert_cmpint (m.x, ==, 640);
  g_assert_cmpint (m.y, ==, 360);
  g_assert_cmpint (m.ref_width, ==, 1280);
  g_assert_cmpint (m.ref_height, ==, 720);
  parse_bad (abs_zero, sizeof (abs_zero), "reference size");
  g_assert_cmpint (parse_ok (abs_neg, sizeof (abs_neg)).x, ==, -10);
  parse_bad (abs, 9, "too short");

  m = parse_ok (rel, sizeof (rel));
  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_RELATIVE);
  g_assert_cmpint (m.x, ==, -2);
  g_assert_cmpint (m.y, ==, 5);
}

static void
test_touch (void)
{
  /* sendTouchImmediate(0, slot 3, 0.25, 0.75) */
  const guint8 down[] = { 0x14, 0, 3, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x40,
    0x3f };
  const guint8 phase[] = { 0x14, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  const guint8 inf[] = { 0x14, 1, 0, 0x00, 0x00, 0x80, 0x7f, 0, 0, 0, 0 };
  ZcInputMsg m = parse_ok (down, sizeof (down));

  g_assert_cmpint (m.kind, ==, ZC_INPUT_MSG_TOUCH);
  g_assert_cmpint (m.touch_phase, ==, ZC_TOUCH_DOWN);
  g_assert_cmpuint (m.slot, ==, 3);
  g_assert_cmpfloat (m.fx, ==, 0.25f);
  g_assert_cmpfloat (m.fy, ==, 0.75f);
  parse_bad (phase, sizeof (phase), "event type");
  parse_bad (inf, sizeof (inf), "finite");
  parse_bad (down, 10, "too short");
}

/* Every kind survives build -> parse, with the builder's exact sizes. */
static void
test_round_trip (void)
{
  const ZcInputMsg msgs[] = {
    { .kind = ZC_INPUT_MSG_KEY, .pressed = TRUE, .code = KEY_Z },
    { .kind = ZC_INPUT_MSG_KEYSYM, .code = 0x20ac, .modifiers = 2 },
    { .kind = ZC_INPUT_MSG_KEYSYM_TAP,
        .pressed = TRUE,
        .code = 0x41,
        .modifiers = ZC_INPUT_MOD_SHIFT },
    { .kind = ZC_INPUT_MSG_BUTTON, .pressed = TRUE, .code = BTN_RIGHT },
    { .kind = ZC_INPUT_MSG_WHEEL_SMOOTH, .fx = -3.25f, .fy = 100.f },
    { .kind = ZC_INPUT_MSG_WHEEL_DISCRETE, .x = 1, .y = -3 },
    { .kind = ZC_INPUT_MSG_ABSOLUTE,
        .x = -5,
        .y = 32000,
        .ref_width = 1,
        .ref_height = 32767 },
    { .kind = ZC_INPUT_MSG_RELATIVE, .x = -32768, .y = 32767 },
    { .kind = ZC_INPUT_MSG_TOUCH,
        .touch_phase = ZC_TOUCH_UP,
        .slot = 9,
        .fx = 1.f,
        .fy = 0.f },
  };
  const gsize sizes[] = { 6, 8, 7, 4, 10, 4, 10, 6, 11 };

  for (guint i = 0; i < G_N_ELEMENTS (msgs); i++) {
    g_autoptr (GBytes) b = zc_input_msg_build (&msgs[i]);
    gsize size;
    const guint8 *d = g_bytes_get_data (b, &size);
    ZcInputMsg m;

    g_assert_cmpuint (size, ==, sizes[i]);
    m = parse_ok (d, size);
    g_assert_true (memcmp (&m, &msgs[i], sizeof (m)) == 0);
  }
}

static void
test_init (void)
{
  /* What Helix's sendInit() writes, in its order. */
  const gchar *helix =
      "{\"type\":\"init\",\"host_id\":0,\"app_id\":0,"
      "\"session_id\":\"ses_1\",\"width\":1920,\"height\":1080,"
      "\"fps\":60,\"bitrate\":10000,\"packet_size\":1024,"
      "\"play_audio_local\":false,\"video_supported_formats\":"
      "3,\"client_unique_id\":\"x\"}";
  const gchar *bad[][2] = {
    { "[1]", "not a JSON object" },
    { "{\"type\":\"hello\"}", "must be the init" },
    { "{\"width\":10}", "must be the init" },
    { "{\"type\":\"init\",\"width\":\"1920\"}", "width" },
    { "{\"type\":\"init\",\"height\":-1}", "height" },
    { "{\"type\":\"init\",\"width\":19.5}", "width" },
    { "{\"type\":\"init\",\"fps\":1000}", "fps" },
    { "{\"type\":\"init\",\"bitrate\":{}}", "bitrate" },
    { "{\"type\":\"init\",\"width\":1e30}", "width" },
    { "{\"type\":", "not JSON" },
    { "\xff\xfe", "UTF-8" },
  };
  ZcInitRequest init;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *huge = g_strnfill (ZC_CONTROL_MAX_INIT + 1, ' ');

  g_assert_true (zc_control_parse_init (helix, strlen (helix), &init, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (init.width, ==, 1920);
  g_assert_cmpuint (init.height, ==, 1080);
  g_assert_cmpuint (init.fps, ==, 60);
  g_assert_cmpuint (init.bitrate_kbps, ==, 10000);
  g_assert_true (init.has_video_supported_formats);
  g_assert_cmpuint (init.video_supported_formats, ==, 3);

  {
    const gchar *t = "{\"type\":\"init\",\"width\":1280.0}";

    g_assert_true (zc_control_parse_init (t, strlen (t), &init, NULL));
  }
  g_assert_cmpuint (init.width, ==, 1280);
  g_assert_cmpuint (init.height, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_clear_error (&error);
    g_assert_false (
        zc_control_parse_init (bad[i][0], strlen (bad[i][0]), &init, &error));
    if (!strstr (error->message, bad[i][1]))
      g_error ("%s: \"%s\" lacks \"%s\"", bad[i][0], error->message, bad[i][1]);
  }
  g_clear_error (&error);
  g_assert_false (zc_control_parse_init (huge, strlen (huge), &init, &error));
  g_assert_nonnull (strstr (error->message, "limit"));
}

/* The size an init may give a desktop zerocast sizes: clamped, even. */
static void
test_fit_size (void)
{
  static const guint cases[][4] = {
    { 800, 600, 800, 600 },
    { 1921, 1081, 1920, 1080 },
    { 100, 5, 320, 200 },
    { 8192, 8192, 3840, 2160 },
    { 321, 201, 320, 200 },
  };
  guint w = 1, h = 1;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_true (zc_control_fit_size (cases[i][0], cases[i][1], &w, &h));
    g_assert_cmpuint (w, ==, cases[i][2]);
    g_assert_cmpuint (h, ==, cases[i][3]);
  }
  /* No size named: the desktop keeps its own. */
  g_assert_false (zc_control_fit_size (0, 0, &w, &h));
  g_assert_false (zc_control_fit_size (800, 0, &w, &h));
}

static gboolean
control (const gchar *json, ZcControlMsg *msg, GError **error)
{
  g_autofree gchar *m = g_strdup_printf ("\x20%s", json);

  return zc_control_parse ((const guint8 *) m, strlen (m), msg, error);
}

static void
test_control (void)
{
  ZcControlMsg msg;
  g_autoptr (GError) error = NULL;

  g_assert_true (control ("{\"set_video_enabled\":false}", &msg, NULL));
  g_assert_true (msg.has_video_enabled);
  g_assert_false (msg.video_enabled);
  g_assert_false (msg.keyframe);
  g_assert_null (msg.unknown);

  g_assert_true (control ("{\"type\":\"keyframe\"}", &msg, NULL));
  g_assert_true (msg.keyframe);
  g_assert_false (msg.has_video_enabled);

  g_assert_true (control ("{\"set_audio_enabled\":true,\"x\":1}", &msg, NULL));
  g_assert_cmpstr (msg.unknown, ==, "\"set_audio_enabled\"");
  zc_control_msg_clear (&msg);
  g_assert_true (control ("{\"type\":\"reboot\"}", &msg, NULL));
  g_assert_cmpstr (msg.unknown, ==, "type \"reboot\"");
  zc_control_msg_clear (&msg);

  g_assert_false (control ("{\"set_video_enabled\":1}", &msg, &error));
  g_assert_nonnull (strstr (error->message, "true or false"));
  g_clear_error (&error);
  g_assert_false (control ("{\"type\":[]}", &msg, &error));
  g_clear_error (&error);
  g_assert_false (control ("nope", &msg, &error));
  g_clear_error (&error);
  g_assert_false (control ("\"keyframe\"", &msg, &error));
  g_assert_nonnull (strstr (error->message, "object"));
}

static void
test_connection_complete (void)
{
  ZcConnectionInfo info = { .width = 1280,
    .height = 720,
    .touch = TRUE,
    .pointer = TRUE,
    .keyboard = TRUE,
    .control = TRUE,
    .input = "mutter-remote-desktop" };
  g_autofree gchar *text = zc_control_connection_complete (&info);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *cc, *caps;

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  cc = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)),
      "ConnectionComplete");
  g_assert_nonnull (cc);
  g_assert_cmpint (json_object_get_int_member (cc, "width"), ==, 1280);
  g_assert_cmpint (json_object_get_int_member (cc, "height"), ==, 720);
  caps = json_object_get_object_member (cc, "capabilities");
  g_assert_true (json_object_get_boolean_member (caps, "touch"));
  g_assert_true (json_object_get_boolean_member (caps, "control"));
  g_assert_cmpstr (json_object_get_string_member (caps, "input"), ==,
      "mutter-remote-desktop");

  /* Without the right to control, no capability is claimed. */
  info.control = FALSE;
  g_free (text);
  text = zc_control_connection_complete (&info);
  g_assert_nonnull (strstr (text, "\"touch\":false"));
  g_assert_nonnull (strstr (text, "\"keyboard\":false"));
}

static void
test_cursor (void)
{
  g_autoptr (GBytes) name = zc_wire_cursor_name ("default", 1, -2);
  const guint8 want_name[] = { 0x51, 0, 0, 0, 0, 1, 0, 0, 0, 0xfe, 0xff, 0xff,
    0xff, 7, 'd', 'e', 'f', 'a', 'u', 'l', 't' };
  const guint8 pixels[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  g_autoptr (GBytes) image =
      zc_wire_cursor_image (10, 20, 3, 4, 0x34325241, 1, 2, 4, pixels);
  g_autoptr (GBytes) move =
      zc_wire_cursor_image (10, 20, 3, 4, 0, 0, 0, 0, NULL);
  g_autofree gchar *long_name = g_strnfill (300, 'x');
  g_autoptr (GBytes) cut = zc_wire_cursor_name (long_name, 0, 0);
  gsize size;
  const guint8 *d;

  d = g_bytes_get_data (name, &size);
  g_assert_cmpmem (d, size, want_name, sizeof (want_name));
  d = g_bytes_get_data (cut, &size);
  g_assert_cmpuint (size, ==, ZC_WIRE_CURSOR_NAME_HEADER + 255);
  g_assert_cmpuint (d[13], ==, 255);

  d = g_bytes_get_data (image, &size);
  g_assert_cmpuint (size, ==, 25 + 16 + 8);
  g_assert_cmpuint (d[0], ==, 0x50);
  g_assert_cmpuint (d[5], ==, 10);
  g_assert_cmpuint (d[9], ==, 20);
  g_assert_cmpuint (d[13], ==, 3);
  g_assert_cmpuint (d[17], ==, 4);
  g_assert_cmpuint (d[21], ==, 24);   /* bitmap size: 16 + 8 */
  g_assert_cmpuint (d[25], ==, 0x41); /* fourcc 'AR24', little-endian */
  g_assert_cmpuint (d[29], ==, 1);
  g_assert_cmpuint (d[33], ==, 2);
  g_assert_cmpuint (d[37], ==, 4);
  g_assert_cmpmem (d + 41, 8, pixels, 8);
  d = g_bytes_get_data (move, &size);
  g_assert_cmpuint (size, ==, 25);
  g_assert_cmpuint (d[21], ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/input-msg/keyboard", test_keyboard);
  g_test_add_func ("/input-msg/mouse", test_mouse);
  g_test_add_func ("/input-msg/touch", test_touch);
  g_test_add_func ("/input-msg/round-trip", test_round_trip);
  g_test_add_func ("/control/init", test_init);
  g_test_add_func ("/control/fit-size", test_fit_size);
  g_test_add_func ("/control/control", test_control);
  g_test_add_func ("/control/connection-complete", test_connection_complete);
  g_test_add_func ("/wire/cursor", test_cursor);
  return g_test_run ();
}
