/* zerocast: stream a Wayland desktop to browsers.
 *
 * Exit codes: 0 stopped by SIGINT/SIGTERM, 1 the stream failed while
 * running (and could not be recovered), 2 bad command line, 3 no source
 * (session, portal, node), 4 no working video mode / encoder at start,
 * 5 cannot serve HTTP.
 *
 * A desktop zerocast owns (--headless) or a session it owns (--mutter)
 * is re-created when it is lost; see schedule_recovery().
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include "zc-config.h"
#include "zc-headless.h"
#include "zc-http.h"
#include "zc-install-dirs.h"
#include "zc-node-watch.h"
#include "zc-pipeline.h"
#include "zc-publisher.h"
#include "zc-recovery.h"
#include "zc-server-error.h"
#include "zc-session-util.h"
#include "zc-source.h"

enum
{
  EXIT_STOPPED = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = 2,
  EXIT_SOURCE = 3,
  EXIT_PIPELINE = 4,
  EXIT_HTTP = 5,
};

typedef struct
{
  GMainLoop *loop;
  int exit_code;
  ZcPipeline *pipeline;
  ZcSource *source;
  ZcInputHub *input_hub;
  ZcNodeWatch *node_watch;
  /* Re-creating a desktop we own (--headless, --mutter) after a fault. */
  ZcRecovery *recovery;
  guint recover_timeout; /* a recovery is scheduled */
  gboolean recovering;   /* from the fault until the new pipeline runs */
  gboolean in_recover;   /* recover() is running (it iterates the loop) */
  gboolean ending;       /* gave up: later faults need no more words */
  /* zc_source_finish() runs: a pipeline failure waits for its verdict
   * (a desktop that hung explains a stream that never came). */
  gboolean finishing;
  GError *failed_while_finishing;
} App;

/* Command line. */
static gint opt_node_id = -1;
static gboolean opt_mutter, opt_portal;
static gchar *opt_monitor, *opt_virtual, *opt_test_pattern;
static gchar *opt_headless, *opt_desktop, *opt_sway;
static gboolean opt_headless_set, opt_sway_set;
static gchar *opt_listen, *opt_video_mode, *opt_encoder, *opt_token;
static gchar *opt_tls_cert, *opt_tls_key, *opt_cursor;
static gint opt_bitrate = 4000, opt_fps = 30, opt_gop = -1;
static gint opt_first_frame_timeout = 10, opt_keepalive = 100;
static gint opt_max_viewers = 100;
static gchar **opt_publish;
static gboolean opt_view_only;
static gchar *opt_control_token;

static gboolean
parse_headless (
    const gchar *name, const gchar *value, gpointer data, GError **error)
{
  opt_headless_set = TRUE;
  g_free (opt_headless);
  opt_headless = g_strdup (value);
  return TRUE;
}

static gboolean
parse_sway (
    const gchar *name, const gchar *value, gpointer data, GError **error)
{
  opt_sway_set = TRUE;
  g_free (opt_sway);
  opt_sway = g_strdup (value);
  return TRUE;
}

static const GOptionEntry entries[] = {
  { "node-id", 0, 0, G_OPTION_ARG_INT, &opt_node_id,
      "Stream an existing PipeWire ScreenCast node", "N" },
  { "mutter", 0, 0, G_OPTION_ARG_NONE, &opt_mutter,
      "Create a Mutter ScreenCast session on the session bus", NULL },
  { "monitor", 0, 0, G_OPTION_ARG_STRING, &opt_monitor,
      "With --mutter: the monitor to record (default: the first one)",
      "CONNECTOR" },
  { "virtual", 0, 0, G_OPTION_ARG_STRING, &opt_virtual,
      "With --mutter: record a new virtual monitor of this size", "WxH" },
  { "portal", 0, 0, G_OPTION_ARG_NONE, &opt_portal,
      "Ask xdg-desktop-portal for a screen (the user picks it)", NULL },
  { "headless", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
      parse_headless,
      "Start a private headless GNOME desktop (dbus, PipeWire, WirePlumber,"
      " GNOME Shell with a terminal, or bare Mutter: see --desktop) and "
      "stream it (default 1280x720)",
      "WxH" },
  { "desktop", 0, 0, G_OPTION_ARG_STRING, &opt_desktop,
      "With --headless: auto (default: shell when gnome-shell and "
      "gnome-terminal are installed, else mutter), shell (GNOME Shell and a "
      "terminal) or mutter (bare Mutter and a window of known colours, for "
      "tests)",
      "KIND" },
  { "sway", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_sway,
      "Start a private headless Sway desktop (dbus, PipeWire, WirePlumber,"
      " sway, foot, xdg-desktop-portal-wlr) as this user and stream it "
      "through its ScreenCast portal, with input (default 1280x720; not as "
      "root)",
      "WxH" },
  { "test-pattern", 0, 0, G_OPTION_ARG_STRING, &opt_test_pattern,
      "Stream a moving videotestsrc pattern (tests, benchmarks)", "WxH" },
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
      "Address to serve on (default 127.0.0.1:8080; port 0 picks one)",
      "HOST:PORT" },
  { "video-mode", 0, 0, G_OPTION_ARG_STRING, &opt_video_mode,
      "auto (default), zerocopy, native or shm; also ZEROCAST_VIDEO_MODE "
      "or HELIX_VIDEO_MODE",
      "MODE" },
  { "encoder", 0, 0, G_OPTION_ARG_STRING, &opt_encoder,
      "auto (default: the first that works of nvh264enc, qsvh264enc, "
      "vah264enc, openh264enc, x264enc) or one of them",
      "NAME" },
  { "bitrate", 'b', 0, G_OPTION_ARG_INT, &opt_bitrate,
      "Video bitrate in kbit/s (default 4000)", "KBPS" },
  { "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps,
      "Frame rate the encoder plans for (default 30)", "N" },
  { "gop", 0, 0, G_OPTION_ARG_INT, &opt_gop,
      "Frames between keyframes (default: 2 seconds' worth)", "N" },
  { "cursor", 0, 0, G_OPTION_ARG_STRING, &opt_cursor,
      "Cursor: hidden, embedded (default) or metadata", "MODE" },
  { "token", 't', 0, G_OPTION_ARG_STRING, &opt_token,
      "Access token viewers must present (also ZEROCAST_TOKEN); generated "
      "and printed when listening off loopback without one",
      "T" },
  { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_cert,
      "Serve HTTPS/WSS with this PEM certificate", "FILE" },
  { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key,
      "The PEM private key of --tls-cert", "FILE" },
  { "first-frame-timeout", 0, 0, G_OPTION_ARG_INT, &opt_first_frame_timeout,
      "Seconds to wait for a first frame (connecting again every 2 s "
      "meanwhile) before falling back (default 10)",
      "S" },
  { "keepalive", 0, 0, G_OPTION_ARG_INT, &opt_keepalive,
      "Resend the last frame of a still screen every MS milliseconds "
      "(default 100; 0 = off)",
      "MS" },
  { "max-viewers", 0, 0, G_OPTION_ARG_INT, &opt_max_viewers,
      "Refuse viewers beyond this many (default 100; 0 = no limit)", "N" },
  { "publish", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_publish,
      "Also send the encode to a media server (repeatable): "
      "rtp://HOST:PORT (RTP H.264 pt 96, RTCP on PORT+1), "
      "rtsp://HOST:PORT/PATH (RECORD) or srt://HOST:PORT (MPEG-TS, caller)",
      "URL" },
  { "view-only", 0, 0, G_OPTION_ARG_NONE, &opt_view_only,
      "Nobody may control the desktop: viewers' input is ignored", NULL },
  { "control-token", 0, 0, G_OPTION_ARG_STRING, &opt_control_token,
      "With a token in use (off loopback, or --token): the token that also "
      "grants control (also ZEROCAST_CONTROL_TOKEN; generated and printed "
      "when not given)",
      "T" },
  { NULL }
};

static gboolean
parse_size (
    const gchar *option, const gchar *str, guint *w, guint *h, GError **error)
{
  guint64 a, b;
  g_auto (GStrv) parts = g_strsplit (str, "x", 2);

  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 16, 8192, &a, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 16, 8192, &b, NULL)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "%s wants WIDTHxHEIGHT between 16 and 8192, e.g. 1280x720, not "
        "\"%s\"",
        option, str);
    return FALSE;
  }
  *w = a;
  *h = b;
  return TRUE;
}

/* --headless: GNOME Shell when it is there (a desktop people can use),
 * else bare Mutter with the test window. */
static gboolean
choose_desktop (ZcSourceOptions *o, GError **error)
{
  const gchar *desktop = opt_desktop ? opt_desktop : "auto";
  const gchar *missing = NULL;
  gboolean available = zc_headless_shell_available (&missing);

  if (g_str_equal (desktop, "auto")) {
    o->shell = available;
    if (!available)
      g_print ("zerocast: %s is not installed: the headless desktop is bare "
               "Mutter with a test window (apt-get install gnome-shell "
               "gnome-terminal for a usable desktop)\n",
          missing);
  } else if (g_str_equal (desktop, "shell")) {
    if (!available) {
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
          "--desktop shell needs %s: apt-get install %s", missing, missing);
      return FALSE;
    }
    o->shell = TRUE;
  } else if (g_str_equal (desktop, "mutter")) {
    o->shell = FALSE;
  } else {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--desktop must be auto, shell or mutter, not \"%s\"", desktop);
    return FALSE;
  }
  return TRUE;
}

static gboolean
build_source_options (ZcSourceOptions *o, GError **error)
{
  guint n = (opt_node_id >= 0) + opt_mutter + opt_portal + opt_headless_set
      + opt_sway_set + (opt_test_pattern != NULL);

  /* No RemoteDesktop session at all when nobody may control. */
  o->view_only = opt_view_only;

  if (n > 1) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "choose one source: --node-id, --mutter, --portal, --headless, "
        "--sway or --test-pattern");
    return FALSE;
  }
  if ((opt_monitor || opt_virtual) && !opt_mutter) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--monitor and --virtual go with --mutter");
    return FALSE;
  }
  if (opt_desktop
      && (opt_node_id >= 0 || opt_mutter || opt_portal
          || opt_test_pattern != NULL)) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--desktop goes with --headless");
    return FALSE;
  }
  if (opt_monitor && opt_virtual) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--monitor and --virtual exclude each other");
    return FALSE;
  }

  o->timeout_us = 30 * G_USEC_PER_SEC;
  o->cursor_mode = 1;
  if (opt_cursor) {
    const gchar *modes[] = { "hidden", "embedded", "metadata" };
    guint i;
    for (i = 0; i < G_N_ELEMENTS (modes); i++)
      if (g_str_equal (opt_cursor, modes[i]))
        break;
    if (i == G_N_ELEMENTS (modes)) {
      g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
          "--cursor must be hidden, embedded or metadata, not \"%s\"",
          opt_cursor);
      return FALSE;
    }
    o->cursor_mode = i;
  }

  if (opt_node_id >= 0) {
    o->kind = ZC_SOURCE_NODE;
    o->node_id = opt_node_id;
  } else if (opt_mutter) {
    o->kind = ZC_SOURCE_MUTTER;
    o->monitor = opt_monitor;
    o->virtual_monitor = opt_virtual != NULL;
    if (opt_virtual
        && !parse_size ("--virtual", opt_virtual, &o->width, &o->height, error))
      return FALSE;
  } else if (opt_portal) {
    o->kind = ZC_SOURCE_PORTAL;
    o->timeout_us = 120 * G_USEC_PER_SEC; /* a person picks a screen */
  } else if (opt_sway_set) {
    o->kind = ZC_SOURCE_SWAY;
    o->width = 1280;
    o->height = 720;
    if (opt_sway
        && !parse_size ("--sway", opt_sway, &o->width, &o->height, error))
      return FALSE;
  } else if (opt_test_pattern) {
    o->kind = ZC_SOURCE_TEST_PATTERN;
    if (!parse_size (
            "--test-pattern", opt_test_pattern, &o->width, &o->height, error))
      return FALSE;
  } else {
    /* --headless is the default: a bare machine can serve at once. */
    o->kind = ZC_SOURCE_HEADLESS;
    o->width = 1280;
    o->height = 720;
    if (opt_headless
        && !parse_size (
            "--headless", opt_headless, &o->width, &o->height, error))
      return FALSE;
    if (!choose_desktop (o, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
build_pipeline_config (ZcPipelineConfig *c, GError **error)
{
  const gchar *mode = opt_video_mode;

  if (mode == NULL)
    mode = g_getenv ("ZEROCAST_VIDEO_MODE");
  if (mode == NULL || *mode == '\0')
    mode = g_getenv ("HELIX_VIDEO_MODE");
  if (mode == NULL || *mode == '\0')
    mode = "auto";
  if (!zc_video_mode_from_string (mode, &c->mode, error))
    return FALSE;

  c->encoder = opt_encoder ? opt_encoder : "auto";
  if (g_strcmp0 (c->encoder, "auto") != 0
      && !zc_encoder_is_known (c->encoder)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "unknown --encoder \"%s\": use auto, nvh264enc, qsvh264enc, "
        "vah264enc, openh264enc or x264enc",
        c->encoder);
    return FALSE;
  }
  if (opt_bitrate < 100 || opt_bitrate > 200000 || opt_fps < 1 || opt_fps > 240
      || opt_gop == 0 || opt_gop > 10000 || opt_first_frame_timeout < 1
      || opt_keepalive < 0) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "out of range: --bitrate 100..200000 kbit/s, --fps 1..240, "
        "--gop 1..10000, --first-frame-timeout >= 1 s, --keepalive >= 0");
    return FALSE;
  }
  c->encoder_settings.bitrate_kbps = opt_bitrate;
  c->encoder_settings.fps = opt_fps;
  c->encoder_settings.gop = opt_gop > 0 ? (guint) opt_gop : 2u * opt_fps;
  c->keepalive_ms = opt_keepalive;
  c->first_frame_timeout_us = (gint64) opt_first_frame_timeout * G_USEC_PER_SEC;
  return TRUE;
}

/* ZEROCAST_WEB_DIR, else the source tree when run from the build tree,
 * else the installed viewer (datadir/zerocast/web, found relative to the
 * binary first), else the source tree this binary was built from. */
static gchar *
find_web_dir (void)
{
  const gchar *env = g_getenv ("ZEROCAST_WEB_DIR");
  gchar *installed;

  if (env && *env)
    return g_strdup (env);
  if (!zc_running_from_build_tree ()
      && (installed =
              zc_install_find (ZC_WEB_DIR_FROM_BINDIR, ZC_WEB_DIR, NULL)))
    return installed;
  return g_build_filename (ZC_SOURCE_ROOT, "web", NULL);
}

/* Run from the build tree (scripts/run.sh), find the pipewirezerocopysrc
 * built beside us; installed under a prefix GStreamer does not search
 * (/usr/local, a DESTDIR), the one installed with us. GST_PLUGIN_PATH
 * still wins; an install into /usr is found the usual way. */
static void
use_own_plugin (void)
{
  g_autofree gchar *plugins = NULL;
  g_autoptr (GstPlugin) found = NULL;

  if (g_getenv ("GST_PLUGIN_PATH"))
    return;
  if (zc_running_from_build_tree ())
    plugins = g_build_filename (ZC_BUILD_ROOT, "gst", NULL);
  else
    plugins = zc_install_find (ZC_PLUGIN_DIR_FROM_BINDIR, ZC_PLUGIN_DIR, NULL);
  if (plugins == NULL)
    return;
  found = gst_registry_find_plugin (gst_registry_get (), "pipewirezerocopy");
  if (found == NULL)
    gst_registry_scan_path (gst_registry_get (), plugins);
}

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  g_print ("zerocast: stopping\n");
  /* What ends with the desktop from here on is no fault to recover. */
  app->ending = TRUE;
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

static void on_node_gone (guint32 node_id, gpointer data);

/* Watches the streamed node where only PipeWire can tell that it went
 * away (a bare node, the portal), and for a desktop we own, where it is
 * the quickest sign of a dead PipeWire or Mutter. */
static gboolean
watch_node (App *app, GError **error)
{
  gint fd = -1;

  /* The watch is a PipeWire client of its own: with the portal it needs
   * its own connection (it dups this one; ours is closed here). */
  if (!zc_source_open_pipewire_fd (app->source, &fd, error))
    return FALSE;
  app->node_watch = zc_node_watch_new (
      zc_source_get_node_id (app->source), fd, on_node_gone, app, error);
  if (fd >= 0)
    close (fd);
  return app->node_watch != NULL;
}

/* Each pipeline attempt connects through a connection of its own. */
static gint
open_pipewire_fd (gpointer data, GError **error)
{
  App *app = data;
  gint fd = -1;

  zc_source_open_pipewire_fd (app->source, &fd, error);
  return fd;
}

static void schedule_recovery (App *app, const gchar *why);
static void on_pipeline_failed (
    ZcPipeline *pipeline, const GError *error, gpointer data);

/* zc_source_finish() with the pipeline running: a desktop that hung is
 * the error (and explains a stream that never came); else a pipeline
 * failure meanwhile is kept for report_late_failure(). */
static gboolean
finish_source (App *app, GError **error)
{
  gboolean ok;

  app->finishing = TRUE;
  zc_pipeline_set_source_starting (app->pipeline, TRUE);
  ok = zc_source_finish (app->source, error);
  zc_pipeline_set_source_starting (app->pipeline, FALSE);
  app->finishing = FALSE;
  if (!ok)
    g_clear_error (&app->failed_while_finishing);
  return ok;
}

static void
report_late_failure (App *app)
{
  g_autoptr (GError) error = g_steal_pointer (&app->failed_while_finishing);

  if (error)
    on_pipeline_failed (app->pipeline, error, app);
}

/* Runs from a timeout: re-creates the desktop and restarts the pipeline
 * on its new node. While it waits it iterates the main loop (viewers stay
 * served); faults reported meanwhile belong to the old desktop and are
 * ignored through in_recover. */
static gboolean
recover (gpointer data)
{
  App *app = data;
  g_autoptr (GError) error = NULL;
  gint64 started = g_get_monotonic_time ();

  app->recover_timeout = 0;
  app->in_recover = TRUE;
  g_clear_pointer (&app->node_watch, zc_node_watch_free);
  g_print ("zerocast: re-creating the source (was %s)\n",
      zc_source_describe (app->source));
  if (zc_source_restart (app->source, &error) && watch_node (app, &error)) {
    if (zc_pipeline_restart (
            app->pipeline, zc_source_get_node_id (app->source), -1, &error)
        && finish_source (app, &error)) {
      /* The old backend belonged to the old session. */
      zc_input_hub_set_backend (app->input_hub,
          zc_source_create_input (app->source),
          zc_source_no_input_reason (app->source));
      g_print ("zerocast: recovered in %.1f s: streaming %s\n",
          (g_get_monotonic_time () - started) / 1e6,
          zc_source_describe (app->source));
      app->in_recover = FALSE;
      app->recovering = FALSE;
      report_late_failure (app);
      return G_SOURCE_REMOVE;
    }
  }
  app->in_recover = FALSE;
  app->recovering = FALSE;
  schedule_recovery (app, error->message);
  return G_SOURCE_REMOVE;
}

/* Every fault ends here: a desktop we own is re-created (with backoff, and
 * not forever); anything else ends the process as before. */
static void
schedule_recovery (App *app, const gchar *why)
{
  g_autoptr (GError) error = NULL;
  guint delay_ms;

  if (app->in_recover || app->recovering || app->ending)
    return;
  if (!zc_source_can_restart (app->source)) {
    g_printerr ("zerocast: %s; exiting\n", why);
    app->ending = TRUE;
    app->exit_code = EXIT_RUNTIME;
    g_main_loop_quit (app->loop);
    return;
  }
  if (!zc_recovery_next (
          app->recovery, g_get_monotonic_time (), &delay_ms, &error)) {
    g_printerr ("zerocast: %s. Then %s\n", why, error->message);
    app->ending = TRUE;
    app->exit_code = EXIT_RUNTIME;
    g_main_loop_quit (app->loop);
    return;
  }
  g_printerr ("zerocast: recovering: %s (attempt %u, in %u ms)\n", why,
      zc_recovery_get_attempts (app->recovery), delay_ms);
  app->recovering = TRUE;
  /* Nothing of the old desktop is held while waiting. */
  zc_pipeline_stop (app->pipeline);
  g_clear_pointer (&app->node_watch, zc_node_watch_free);
  app->recover_timeout = g_timeout_add (delay_ms, recover, app);
}

static void
on_pipeline_failed (ZcPipeline *pipeline, const GError *error, gpointer data)
{
  App *app = data;
  ZcPipelineStats stats;

  if (app->finishing) {
    if (app->failed_while_finishing == NULL)
      app->failed_while_finishing = g_error_copy (error);
    return;
  }
  /* Never having sent a frame is a start-up failure, not a lost stream. */
  zc_pipeline_get_stats (pipeline, &stats);
  if (stats.frames_encoded == 0) {
    g_printerr ("zerocast: %s\n", error->message);
    app->exit_code = EXIT_PIPELINE;
    g_main_loop_quit (app->loop);
    return;
  }
  schedule_recovery (app, error->message);
}

static void
on_source_lost (ZcPipeline *pipeline, const GError *error, gpointer data)
{
  App *app = data;
  g_autofree gchar *why =
      g_strdup_printf ("the capture lost its source: %s", error->message);

  schedule_recovery (app, why);
}

static void
on_source_closed (ZcSource *source, gpointer data)
{
  App *app = data;
  g_autofree gchar *why = g_strdup_printf (
      "the desktop went away (%s)", zc_source_describe (source));

  schedule_recovery (app, why);
}

static void
on_node_gone (guint32 node_id, gpointer data)
{
  App *app = data;
  g_autofree gchar *why = g_strdup_printf ("PipeWire node %u went away (its "
                                           "producer stopped, the screencast "
                                           "ended or PipeWire died)",
      node_id);

  schedule_recovery (app, why);
}

static void
request_keyframe (gpointer data)
{
  App *app = data;

  if (app->pipeline)
    zc_pipeline_request_keyframe (app->pipeline);
}

static gboolean
still_waiting (App *app, gint64 deadline)
{
  return g_get_monotonic_time () < deadline && !app->ending
      && app->exit_code == EXIT_STOPPED;
}

/* The headless desktop became ready (its window mapped, the shell set up)
 * after the stream started, and Mutter fades new windows in: once the
 * desktop is still (the capture made a keepalive copy: no change for a
 * keepalive period; at most 3 s), a keyframe and two frames out, so a
 * viewer told "serving" starts from the ready desktop rather than
 * replaying its start-up from an older keyframe. */
static void
start_fresh_gop (App *app)
{
  ZcPipelineStats stats;
  guint64 from, resent_from = 0, resent = 0;
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gboolean counts = zc_pipeline_get_frames_resent (app->pipeline, &resent_from);

  while (counts && still_waiting (app, deadline)) {
    zc_iterate_for_ms (20);
    if (!zc_pipeline_get_frames_resent (app->pipeline, &resent)
        || resent > resent_from)
      break;
  }
  zc_pipeline_get_stats (app->pipeline, &stats);
  from = stats.frames_encoded;
  zc_pipeline_request_keyframe (app->pipeline);
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (still_waiting (app, deadline)) {
    zc_iterate_for_ms (20);
    zc_pipeline_get_stats (app->pipeline, &stats);
    if (stats.frames_encoded >= from + 2)
      break;
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcSource) source = NULL;
  g_autoptr (ZcFanout) fanout = NULL;
  g_autoptr (ZcHttp) http = NULL;
  g_autoptr (ZcRecovery) recovery = NULL;
  ZcInputHub *input_hub = NULL;
  g_autofree gchar *web_dir = NULL;
  ZcRecoveryLimits recovery_limits;
  ZcSourceOptions source_opts = { 0 };
  ZcPipelineConfig config = { 0 };
  ZcHttpOptions http_opts = { 0 };
  ZcFanoutLimits limits;
  App app = { 0 };
  g_autoptr (GPtrArray) publish_urls = NULL;
  g_autoptr (ZcPublisher) publisher = NULL;

  /* Line-buffered even into a pipe: scripts wait for the "serving" line. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  ctx = g_option_context_new ("- stream a Wayland desktop to web browsers");
  g_option_context_set_summary (ctx,
      "Sources (choose one; --headless is "
      "the default):\n  --node-id N | --mutter [--monitor C | --virtual WxH]"
      " | --portal | --headless [WxH] [--desktop auto|shell|mutter]"
      " | --sway [WxH] | --test-pattern WxH\n"
      "Open the printed URL in a browser with WebCodecs (Chromium, "
      "Firefox 130+, Safari 17+).");
  g_option_context_set_description (ctx,
      "Exit codes: 0 stopped by a "
      "signal, 1 stream failed while running, 2 bad command line, 3 no "
      "source, 4 no working video mode/encoder, 5 cannot serve HTTP.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("zerocast: %s (see --help)\n", error->message);
    return EXIT_USAGE;
  }
  if (argc > 1) {
    g_printerr ("zerocast: unexpected argument \"%s\" (see --help)\n", argv[1]);
    return EXIT_USAGE;
  }
  if (!build_source_options (&source_opts, &error)
      || !build_pipeline_config (&config, &error)) {
    g_printerr ("zerocast: %s\n", error->message);
    return EXIT_USAGE;
  }
  publish_urls =
      g_ptr_array_new_with_free_func ((GDestroyNotify) zc_publish_url_free);
  for (gchar **u = opt_publish; u && *u; u++) {
    ZcPublishUrl *url = zc_publish_url_parse (*u, &error);
    if (url == NULL) {
      g_printerr ("zerocast: %s\n", error->message);
      return EXIT_USAGE;
    }
    g_ptr_array_add (publish_urls, url);
  }

  /* The source first: --headless exports its session's environment,
   * which must happen before GStreamer starts threads. */
  source = zc_source_open (&source_opts, &error);
  if (source == NULL) {
    g_printerr ("zerocast: %s\n", error->message);
    return g_error_matches (
               error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS)
        ? EXIT_USAGE
        : EXIT_SOURCE;
  }
  g_print ("zerocast: source: %s\n", zc_source_describe (source));

  gst_init (NULL, NULL);
  use_own_plugin ();
  app.loop = g_main_loop_new (NULL, FALSE);
  app.exit_code = EXIT_STOPPED;
  app.source = source;
  zc_recovery_limits_init_default (&recovery_limits);
  recovery = zc_recovery_new (&recovery_limits);
  app.recovery = recovery;
  zc_source_set_closed_func (source, on_source_closed, &app);
  /* Mutter sources also report their end through the session; a bare node
   * or the portal's only through the PipeWire registry. */
  if (source_opts.kind != ZC_SOURCE_TEST_PATTERN
      && !watch_node (&app, &error)) {
    g_printerr ("zerocast: %s\n", error->message);
    app.exit_code = EXIT_SOURCE;
    goto out;
  }

  zc_fanout_limits_init_default (&limits);
  fanout = zc_fanout_new (&limits, request_keyframe, &app);

  web_dir = find_web_dir ();
  http_opts.listen = opt_listen ? opt_listen : "127.0.0.1:8080";
  /* Containers pass secrets in the environment: --token wins. */
  http_opts.token = opt_token ? opt_token : g_getenv ("ZEROCAST_TOKEN");
  if (http_opts.token && *http_opts.token == '\0')
    http_opts.token = NULL;
  http_opts.tls_cert = opt_tls_cert;
  http_opts.tls_key = opt_tls_key;
  http_opts.web_dir = web_dir;
  http_opts.max_viewers = MAX (opt_max_viewers, 0);
  http_opts.view_only = opt_view_only;
  http_opts.control_token = opt_control_token
      ? opt_control_token
      : g_getenv ("ZEROCAST_CONTROL_TOKEN");
  input_hub = zc_input_hub_new ();
  app.input_hub = input_hub;
  zc_input_hub_set_backend (input_hub,
      opt_view_only ? NULL : zc_source_create_input (source),
      zc_source_no_input_reason (source));
  http_opts.input_hub = input_hub;
  http = zc_http_new (&http_opts, fanout, &error);
  if (http == NULL) {
    g_printerr ("zerocast: %s\n", error->message);
    app.exit_code =
        g_error_matches (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS)
        ? EXIT_USAGE
        : EXIT_HTTP;
    goto out;
  }

  config.test_pattern = source_opts.kind == ZC_SOURCE_TEST_PATTERN;
  config.node_id = zc_source_get_node_id (source);
  config.pipewire_fd = -1;
  config.open_pipewire_fd = open_pipewire_fd;
  config.open_pipewire_fd_data = &app;
  zc_source_get_size (source, &config.width, &config.height);
  config.resizable = zc_source_is_resizable (source);
  app.pipeline = zc_pipeline_new (&config, fanout, on_pipeline_failed, &app);
  zc_pipeline_set_source_lost_func (app.pipeline, on_source_lost, &app);
  zc_http_set_pipeline (http, app.pipeline);
  if (publish_urls->len > 0) {
    /* The same encode leaves for each media server; they ask for
     * keyframes the way viewers do. */
    publisher = zc_publisher_new (publish_urls, request_keyframe, &app);
    zc_pipeline_set_au_func (app.pipeline, zc_publisher_push, publisher);
    zc_http_set_extra_metrics (http, zc_publisher_append_metrics, publisher);
  }
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  if (!zc_pipeline_start (app.pipeline, &error)) {
    g_printerr ("zerocast: %s\n", error->message);
    app.exit_code = EXIT_PIPELINE;
    goto out;
  }
  /* The URL once the desktop is ready to use (GNOME Shell: started on
   * the stream's monitor, its terminal open). A desktop that hung on the
   * way is started again like one lost later. */
  if (!finish_source (&app, &error)) {
    schedule_recovery (&app, error->message);
    g_clear_error (&error);
  } else if (source_opts.kind == ZC_SOURCE_HEADLESS) {
    start_fresh_gop (&app);
  }
  report_late_failure (&app);
  /* What ended while the desktop started (a signal, a failed pipeline)
   * quit a loop that was not running yet. */
  if (app.ending || app.exit_code != EXIT_STOPPED)
    goto out;
  g_print ("zerocast: serving %s\n", zc_http_get_url (http));
  if (zc_http_get_view_url (http))
    g_print ("zerocast: view-only URL %s (the URL above also controls)\n",
        zc_http_get_view_url (http));
  g_main_loop_run (app.loop);

out:
  /* Viewers and HTTP first, then the pipeline feeding them, then the
   * desktop session and the processes --headless started. */
  g_clear_handle_id (&app.recover_timeout, g_source_remove);
  g_clear_pointer (&http, zc_http_free);
  /* After the viewers (they release what they hold through it), before
   * the session it injects into. */
  g_clear_pointer (&input_hub, zc_input_hub_free);
  g_clear_pointer (&app.pipeline, zc_pipeline_free);
  /* After the pipeline that pushes into it. */
  g_clear_pointer (&publisher, zc_publisher_free);
  g_clear_pointer (&app.node_watch, zc_node_watch_free);
  g_clear_pointer (&source, zc_source_close);
  g_clear_pointer (&app.loop, g_main_loop_unref);
  return app.exit_code;
}
