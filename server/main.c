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
#include <glib-unix.h>
#include <gst/gst.h>

#include "zc-config.h"
#include "zc-http.h"
#include "zc-node-watch.h"
#include "zc-pipeline.h"
#include "zc-recovery.h"
#include "zc-server-error.h"
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
  ZcNodeWatch *node_watch;
  /* Re-creating a desktop we own (--headless, --mutter) after a fault. */
  ZcRecovery *recovery;
  guint recover_timeout; /* a recovery is scheduled */
  gboolean recovering;   /* from the fault until the new pipeline runs */
  gboolean in_recover;   /* recover() is running (it iterates the loop) */
  gboolean ending;       /* gave up: later faults need no more words */
} App;

/* Command line. */
static gint opt_node_id = -1;
static gboolean opt_mutter, opt_portal;
static gchar *opt_monitor, *opt_virtual, *opt_test_pattern;
static gchar *opt_headless;
static gboolean opt_headless_set;
static gchar *opt_listen, *opt_video_mode, *opt_encoder, *opt_token;
static gchar *opt_tls_cert, *opt_tls_key, *opt_cursor;
static gint opt_bitrate = 4000, opt_fps = 30, opt_gop = -1;
static gint opt_first_frame_timeout = 10, opt_keepalive = 100;
static gint opt_max_viewers = 100;

static gboolean
parse_headless (
    const gchar *name, const gchar *value, gpointer data, GError **error)
{
  opt_headless_set = TRUE;
  g_free (opt_headless);
  opt_headless = g_strdup (value);
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
      " mutter --headless) with a test window and stream it (default "
      "1280x720)",
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
      "Access token viewers must present; generated and printed when "
      "listening off loopback without one",
      "T" },
  { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_cert,
      "Serve HTTPS/WSS with this PEM certificate", "FILE" },
  { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key,
      "The PEM private key of --tls-cert", "FILE" },
  { "first-frame-timeout", 0, 0, G_OPTION_ARG_INT, &opt_first_frame_timeout,
      "Seconds to wait for a first frame before falling back (default 10)",
      "S" },
  { "keepalive", 0, 0, G_OPTION_ARG_INT, &opt_keepalive,
      "Resend the last frame of a still screen every MS milliseconds "
      "(default 100; 0 = off)",
      "MS" },
  { "max-viewers", 0, 0, G_OPTION_ARG_INT, &opt_max_viewers,
      "Refuse viewers beyond this many (default 100; 0 = no limit)", "N" },
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

static gboolean
build_source_options (ZcSourceOptions *o, GError **error)
{
  guint n = (opt_node_id >= 0) + opt_mutter + opt_portal + opt_headless_set
      + (opt_test_pattern != NULL);

  if (n > 1) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "choose one source: --node-id, --mutter, --portal, --headless or "
        "--test-pattern");
    return FALSE;
  }
  if ((opt_monitor || opt_virtual) && !opt_mutter) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_INVALID_ARGS,
        "--monitor and --virtual go with --mutter");
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

/* ZEROCAST_WEB_DIR, else installed next to the binary, else the source
 * tree this binary was built from. */
static gchar *
find_web_dir (const gchar *argv0)
{
  const gchar *env = g_getenv ("ZEROCAST_WEB_DIR");
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *bindir = g_path_get_dirname (exe ? exe : argv0);
  g_autofree gchar *installed =
      g_build_filename (bindir, "..", "share", "zerocast", "web", NULL);

  if (env && *env)
    return g_strdup (env);
  if (g_file_test (installed, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&installed);
  return g_build_filename (ZC_SOURCE_ROOT, "web", NULL);
}

/* Run from the build tree (scripts/run.sh), find the pipewirezerocopysrc
 * built beside us unless GST_PLUGIN_PATH says otherwise; an installed
 * zerocast finds the installed plugin the usual way. */
static void
use_build_tree_plugin (void)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *dir = exe ? g_path_get_dirname (exe) : NULL;
  g_autofree gchar *build_server =
      g_build_filename (ZC_BUILD_ROOT, "server", NULL);
  g_autofree gchar *plugins = g_build_filename (ZC_BUILD_ROOT, "gst", NULL);

  if (g_getenv ("GST_PLUGIN_PATH") || dir == NULL
      || g_strcmp0 (dir, build_server) != 0)
    return;
  gst_registry_scan_path (gst_registry_get (), plugins);
}

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  g_print ("zerocast: stopping\n");
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
  app->node_watch = zc_node_watch_new (zc_source_get_node_id (app->source),
      zc_source_get_pipewire_fd (app->source), on_node_gone, app, error);
  return app->node_watch != NULL;
}

static void schedule_recovery (App *app, const gchar *why);

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
    if (zc_pipeline_restart (app->pipeline, zc_source_get_node_id (app->source),
            zc_source_get_pipewire_fd (app->source), &error)) {
      g_print ("zerocast: recovered in %.1f s: streaming %s\n",
          (g_get_monotonic_time () - started) / 1e6,
          zc_source_describe (app->source));
      app->in_recover = FALSE;
      app->recovering = FALSE;
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

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcSource) source = NULL;
  g_autoptr (ZcFanout) fanout = NULL;
  g_autoptr (ZcHttp) http = NULL;
  g_autoptr (ZcRecovery) recovery = NULL;
  g_autofree gchar *web_dir = NULL;
  ZcRecoveryLimits recovery_limits;
  ZcSourceOptions source_opts = { 0 };
  ZcPipelineConfig config = { 0 };
  ZcHttpOptions http_opts = { 0 };
  ZcFanoutLimits limits;
  App app = { 0 };

  /* Line-buffered even into a pipe: scripts wait for the "serving" line. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  ctx = g_option_context_new ("- stream a Wayland desktop to web browsers");
  g_option_context_set_summary (ctx,
      "Sources (choose one; --headless is "
      "the default):\n  --node-id N | --mutter [--monitor C | --virtual WxH]"
      " | --portal | --headless [WxH] | --test-pattern WxH\n"
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
  use_build_tree_plugin ();
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

  web_dir = find_web_dir (argv[0]);
  http_opts.listen = opt_listen ? opt_listen : "127.0.0.1:8080";
  http_opts.token = opt_token;
  http_opts.tls_cert = opt_tls_cert;
  http_opts.tls_key = opt_tls_key;
  http_opts.web_dir = web_dir;
  http_opts.max_viewers = MAX (opt_max_viewers, 0);
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
  config.pipewire_fd = zc_source_get_pipewire_fd (source);
  zc_source_get_size (source, &config.width, &config.height);
  app.pipeline = zc_pipeline_new (&config, fanout, on_pipeline_failed, &app);
  zc_pipeline_set_source_lost_func (app.pipeline, on_source_lost, &app);
  zc_http_set_pipeline (http, app.pipeline);
  if (!zc_pipeline_start (app.pipeline, &error)) {
    g_printerr ("zerocast: %s\n", error->message);
    app.exit_code = EXIT_PIPELINE;
    goto out;
  }

  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_print ("zerocast: serving %s\n", zc_http_get_url (http));
  g_main_loop_run (app.loop);

out:
  /* Viewers and HTTP first, then the pipeline feeding them, then the
   * desktop session and the processes --headless started. */
  g_clear_handle_id (&app.recover_timeout, g_source_remove);
  g_clear_pointer (&http, zc_http_free);
  g_clear_pointer (&app.pipeline, zc_pipeline_free);
  g_clear_pointer (&app.node_watch, zc_node_watch_free);
  g_clear_pointer (&source, zc_source_close);
  g_clear_pointer (&app.loop, g_main_loop_unref);
  return app.exit_code;
}
