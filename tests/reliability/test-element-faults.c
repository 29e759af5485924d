/* Element faults the element tests do not cover: the node is destroyed by
 * another client (the session manager, pw-cli) while its producer keeps
 * running, and the PipeWire daemon itself dies mid-stream. Either must be
 * an element error within 5 s, never a hang, and the pipeline must go to
 * NULL afterwards. (A producer that dies is tests/element's
 * /element/error-node-gone.)
 *
 * Runs under zc-run-session: the daemon it kills is the private one that
 * zc-run-session started, found as our sibling process. The daemon test
 * runs last, since nothing is left to stream to after it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

#include "producer.h"

typedef struct
{
  GstElement *pipe;
  GstElement *sink;
  GstBus *bus;
} Capture;

static void
capture_start (Capture *c, guint node_id)
{
  g_autofree gchar *desc = g_strdup_printf (
      "pipewirezerocopysrc "
      "pipewire-node-id=%u keepalive-time=100 ! appsink name=sink "
      "max-buffers=2 drop=true",
      node_id);
  GError *error = NULL;
  GstSample *sample = NULL;

  c->pipe = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  c->sink = gst_bin_get_by_name (GST_BIN (c->pipe), "sink");
  c->bus = gst_element_get_bus (c->pipe);
  gst_element_set_state (c->pipe, GST_STATE_PLAYING);
  g_signal_emit_by_name (c->sink, "try-pull-sample", 10 * GST_SECOND, &sample);
  g_assert_nonnull (sample);
  gst_sample_unref (sample);
}

/* Waits for the element's error; returns its text. */
static gchar *
capture_wait_error (Capture *c, gint64 *elapsed_us)
{
  gint64 start = g_get_monotonic_time ();
  GstMessage *msg =
      gst_bus_timed_pop_filtered (c->bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  GError *error = NULL;
  gchar *text;

  g_assert_nonnull (msg);
  *elapsed_us = g_get_monotonic_time () - start;
  gst_message_parse_error (msg, &error, NULL);
  g_assert_true (GST_MESSAGE_SRC (msg) != NULL
      && g_str_has_prefix (
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), "pipewirezerocopysrc"));
  text = g_strdup (error->message);
  g_error_free (error);
  gst_message_unref (msg);
  return text;
}

static void
capture_stop (Capture *c)
{
  /* A hang here is the bug this test looks for; meson's timeout ends it. */
  g_assert_cmpint (gst_element_set_state (c->pipe, GST_STATE_NULL), !=,
      GST_STATE_CHANGE_FAILURE);
  gst_object_unref (c->bus);
  gst_object_unref (c->sink);
  gst_object_unref (c->pipe);
}

static void
test_node_destroyed (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  g_autofree gchar *id = g_strdup_printf ("%u", p->node_id);
  const gchar *argv[] = { "pw-cli", "destroy", id, NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *text = NULL;
  GError *error = NULL;
  gint status;
  gint64 t;
  Capture c;

  capture_start (&c, p->node_id);
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL,
      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
      &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  text = capture_wait_error (&c, &t);
  g_test_message ("error after %" G_GINT64_FORMAT " ms: %s", t / 1000, text);
  g_assert_nonnull (strstr (text, id));
  capture_stop (&c);
  test_producer_stop (p);
}

/* The private pipewire daemon: a child of our parent, zc-run-session. */
static GPid
find_sibling (const gchar *comm)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const gchar *name;

  while (proc && (name = g_dir_read_name (proc)) != NULL) {
    g_autofree gchar *path = g_build_filename ("/proc", name, "stat", NULL);
    g_autofree gchar *stat = NULL;
    g_autofree gchar *want = g_strdup_printf ("(%s) ", comm);
    const gchar *p;
    gint ppid;

    if (!g_ascii_isdigit (name[0])
        || !g_file_get_contents (path, &stat, NULL, NULL))
      continue;
    p = strstr (stat, want);
    if (p == NULL || sscanf (p + strlen (want), "%*c %d", &ppid) != 1)
      continue;
    if (ppid == getppid ())
      return atoi (name);
  }
  return 0;
}

static void
test_daemon_killed (void)
{
  TestProducer *p = test_producer_start ("BGRx", "160x120", 30);
  g_autofree gchar *text = NULL;
  GPid daemon = find_sibling ("pipewire");
  gint64 t;
  Capture c;

  if (daemon == 0) {
    g_test_skip ("no pipewire daemon started by our parent: run under "
                 "zc-run-session");
    test_producer_stop (p);
    return;
  }
  capture_start (&c, p->node_id);
  g_assert_cmpint (kill (daemon, SIGKILL), ==, 0);

  text = capture_wait_error (&c, &t);
  g_test_message ("error after %" G_GINT64_FORMAT " ms: %s", t / 1000, text);
  g_assert_nonnull (strstr (text, "PipeWire"));
  capture_stop (&c);
  test_producer_kill (p);
  test_producer_stop (p);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/element-faults/node-destroyed", test_node_destroyed);
  /* Last: it takes the daemon down for good. */
  g_test_add_func ("/element-faults/daemon-killed", test_daemon_killed);
  return g_test_run ();
}
