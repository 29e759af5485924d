/* Churn: 200 viewers connect and disconnect 20 at a time, then 50 watch at
 * once; afterwards zerocast's open file descriptors are back at their
 * baseline and its resident memory within 1.5x of it, and it still
 * streams. 50 one-request HTTP clients check the same for plain HTTP. Loopback
 * only, a small test pattern so two cores suffice. SPDX-License-Identifier:
 * LGPL-2.1-or-later */
#include <stdio.h>

#include "zc-test-server.h"
#include "zc-test-viewer.h"

#define CHURN_TOTAL 200
#define CHURN_BATCH 20
#define CONCURRENT 50
#define CONCURRENT_FRAMES 10

typedef struct
{
  ZcTestViewer **viewers;
  guint n;
  guint min_frames;
} Batch;

static gboolean failed;

static void
check (gboolean ok, const gchar *what)
{
  g_print ("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    failed = TRUE;
}

/* Every viewer of the batch has its StreamInit and @min_frames frames, or
 * has closed (which batch_report turns into a failure). */
static gboolean
batch_ready (gpointer data)
{
  Batch *b = data;

  for (guint i = 0; i < b->n; i++) {
    const ZcTestViewerState *s = zc_test_viewer_get_state (b->viewers[i]);
    if (!s->closed && s->frames < b->min_frames)
      return FALSE;
  }
  return TRUE;
}

static gboolean
batch_closed (gpointer data)
{
  Batch *b = data;

  for (guint i = 0; i < b->n; i++)
    if (!zc_test_viewer_get_state (b->viewers[i])->closed)
      return FALSE;
  return TRUE;
}

/* Says what went wrong with the first bad viewer; TRUE when none. */
static gboolean
batch_report (Batch *b, const gchar *what)
{
  for (guint i = 0; i < b->n; i++) {
    const ZcTestViewerState *s = zc_test_viewer_get_state (b->viewers[i]);
    if (s->protocol_error || s->frames < b->min_frames) {
      g_print ("# %s: viewer %u: %u frames (want %u), init %s, %s%s%s\n", what,
          i, s->frames, b->min_frames, s->got_init ? "yes" : "no",
          s->protocol_error ? s->protocol_error : "",
          s->failure ? s->failure : "", s->error_text ? s->error_text : "");
      return FALSE;
    }
  }
  return TRUE;
}

static void
batch_run (SoupSession *session, ZcTestServer *server, Batch *b,
    gboolean abrupt_half, const gchar *what)
{
  gboolean ok;

  for (guint i = 0; i < b->n; i++)
    b->viewers[i] =
        zc_test_viewer_new (session, zc_test_server_get_ws_url (server));
  ok = zc_test_wait (batch_ready, b, 60000);
  check (ok && batch_report (b, what), what);
  /* Half leave with a close handshake, half just drop the socket (a tab
   * that is killed): the server must clean up after both. */
  for (guint i = 0; i < b->n; i++)
    if (!abrupt_half || i % 2 == 0)
      zc_test_viewer_close (b->viewers[i]);
  zc_test_wait (batch_closed, b, abrupt_half ? 2000 : 10000);
  for (guint i = 0; i < b->n; i++)
    g_clear_pointer (&b->viewers[i], zc_test_viewer_free);
}

typedef struct
{
  ZcTestServer *server;
  SoupSession *session;
  guint baseline_fds;
} Settle;

static gboolean
settled (gpointer data)
{
  Settle *s = data;
  gdouble viewers = -1;

  return zc_test_server_metric (
             s->server, s->session, "zerocast_viewers", &viewers, NULL)
      && viewers == 0 && zc_test_server_fd_count (s->server) <= s->baseline_fds;
}

static gboolean
no_viewers (gpointer data)
{
  Settle *s = data;
  gdouble viewers = -1;

  return zc_test_server_metric (
             s->server, s->session, "zerocast_viewers", &viewers, NULL)
      && viewers == 0;
}

int
main (int argc, char **argv)
{
  const gchar *args[] = { "--test-pattern", "320x240", "--fps", "30", "--gop",
    "30", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcTestServer) server = NULL;
  g_autoptr (SoupSession) session = NULL;
  ZcTestViewer *slots[CONCURRENT] = { NULL };
  Batch b = { .viewers = slots };
  Settle settle = { 0 };
  guint64 rss_base, rss_after, rss_peak = 0;
  guint fds_after;
  gdouble metric;

  server = zc_test_server_start (args, 60, &error);
  if (server == NULL) {
    g_print ("FAIL: %s\n", error->message);
    return 1;
  }
  /* A WebSocket leaves the pool after its handshake, but many handshakes
   * run at once here: lift the per-host limit of 2. */
  session = soup_session_new_with_options ("max-conns", 256,
      "max-conns-per-host", 256, "timeout", 30,
      /* Loopback needs no proxy, and libproxy's C++ aborts under ASan. */
      "proxy-resolver", NULL, NULL);
  settle.server = server;
  settle.session = session;

  /* Warm up: the first viewer allocates what every later one reuses
   * (encoder buffers, the GOP replay cache, libsoup's pools). */
  b.n = 2;
  b.min_frames = 5;
  batch_run (session, server, &b, FALSE, "2 warm-up viewers get frames");
  check (zc_test_wait (no_viewers, &settle, 10000),
      "the server counts 0 viewers after the warm-up");
  settle.baseline_fds = zc_test_server_fd_count (server);
  rss_base = zc_test_server_rss_kb (server);
  g_print ("# baseline: %u fds, RSS %" G_GUINT64_FORMAT " kB\n",
      settle.baseline_fds, rss_base);

  b.n = CHURN_BATCH;
  b.min_frames = 1;
  for (guint done = 0; done < CHURN_TOTAL; done += CHURN_BATCH) {
    g_autofree gchar *what =
        g_strdup_printf ("churn: viewers %u-%u "
                         "connect, get a keyframe first, and leave",
            done + 1, done + CHURN_BATCH);
    batch_run (session, server, &b, TRUE, what);
    rss_peak = MAX (rss_peak, zc_test_server_rss_kb (server));
  }

  b.n = CONCURRENT;
  b.min_frames = CONCURRENT_FRAMES;
  for (guint i = 0; i < b.n; i++)
    b.viewers[i] =
        zc_test_viewer_new (session, zc_test_server_get_ws_url (server));
  check (
      zc_test_wait (batch_ready, &b, 90000) && batch_report (&b, "concurrent"),
      "50 concurrent viewers each get 10 well-formed frames");
  check (zc_test_server_metric (
             server, session, "zerocast_viewers", &metric, &error)
          && metric == CONCURRENT,
      "the server counts 50 viewers");
  g_clear_error (&error);
  rss_peak = MAX (rss_peak, zc_test_server_rss_kb (server));
  for (guint i = 0; i < b.n; i++)
    zc_test_viewer_close (b.viewers[i]);
  zc_test_wait (batch_closed, &b, 10000);
  for (guint i = 0; i < b.n; i++)
    g_clear_pointer (&b.viewers[i], zc_test_viewer_free);

  /* Plain HTTP clients come and go too (a page load, a metrics scraper):
   * each request on a connection of its own that the client then closes.
   * Each of these once left a socket in CLOSE_WAIT (libsoup 3.2). */
  for (guint i = 0; i < 50; i++) {
    g_autoptr (SoupSession) once = soup_session_new_with_options (
        "proxy-resolver", NULL, "timeout", 10, NULL);

    if (!zc_test_server_metric (
            server, once, "zerocast_viewers", &metric, &error)) {
      check (FALSE, error->message);
      g_clear_error (&error);
      break;
    }
  }

  /* The server learns of dropped sockets asynchronously: wait for it,
   * with a deadline, instead of sampling at once. */
  check (zc_test_wait (settled, &settle, 20000),
      "0 viewers and fds back at the baseline");
  fds_after = zc_test_server_fd_count (server);
  rss_after = zc_test_server_rss_kb (server);
  g_print ("# after: %u fds (baseline %u), RSS %" G_GUINT64_FORMAT " kB "
           "(baseline %" G_GUINT64_FORMAT ", peak %" G_GUINT64_FORMAT ")\n",
      fds_after, settle.baseline_fds, rss_after, rss_base, rss_peak);
  check (fds_after <= settle.baseline_fds, "no file descriptor leaked");
  if (g_getenv ("ZC_SANITIZERS"))
    g_print ("# RSS not compared under AddressSanitizer: its quarantine "
             "keeps freed memory; LeakSanitizer checks for leaks at exit\n");
  else
    check (rss_after * 2 <= rss_base * 3, "RSS within 1.5x of the baseline");

  /* Still serving after all that. */
  b.n = 1;
  b.min_frames = 3;
  batch_run (session, server, &b, FALSE, "a new viewer still gets frames");
  check (zc_test_server_is_running (server, NULL), "zerocast is running");

  check (zc_test_server_stop (g_steal_pointer (&server)) == 0,
      "zerocast exits 0 on SIGTERM (under sanitizers: no leak or error)");
  return failed ? 1 : 0;
}
