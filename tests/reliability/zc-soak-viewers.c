/* zc-soak-viewers: viewers that join and leave a zerocast server for a
 * while, for scripts/soak.sh (not a test by itself).
 *
 *   zc-soak-viewers WS_URL SECONDS [MAX_VIEWERS]
 *
 * Every second one viewer joins or leaves at random (at most MAX_VIEWERS,
 * default 8, at once); half of those that leave just drop the socket.
 * Each viewer checks the wire format (zc-test-viewer.c). At the end it
 * prints totals and exits non-zero if any viewer saw a malformed message
 * or none got a frame.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "zc-test-viewer.h"

typedef struct
{
  SoupSession *session;
  const gchar *url;
  GPtrArray *viewers;
  GPtrArray *leaving; /* closed last tick, freed this one */
  guint max;
  guint joined, left, errors;
  guint64 frames;
  GMainLoop *loop;
} Soak;

/* Counts what a viewer got and reports a spec violation once. */
static void
retire (Soak *s, ZcTestViewer *v)
{
  const ZcTestViewerState *st = zc_test_viewer_get_state (v);

  s->frames += st->frames;
  if (st->protocol_error) {
    g_printerr ("zc-soak-viewers: %s\n", st->protocol_error);
    s->errors++;
  }
  s->left++;
}

static gboolean
tick (gpointer data)
{
  Soak *s = data;
  gboolean join =
      s->viewers->len == 0 || (s->viewers->len < s->max && g_random_boolean ());

  /* A second is time enough for a close handshake. */
  g_ptr_array_set_size (s->leaving, 0);
  /* Viewers the server closed (a slow one, a restart) leave too. */
  for (guint i = s->viewers->len; i-- > 0;) {
    ZcTestViewer *v = s->viewers->pdata[i];
    if (zc_test_viewer_get_state (v)->closed) {
      retire (s, v);
      g_ptr_array_add (s->leaving, v);
      g_ptr_array_steal_index_fast (s->viewers, i);
    }
  }
  if (join) {
    g_ptr_array_add (s->viewers, zc_test_viewer_new (s->session, s->url));
    s->joined++;
  } else {
    guint i = g_random_int_range (0, s->viewers->len);
    ZcTestViewer *v = s->viewers->pdata[i];

    if (g_random_boolean ())
      zc_test_viewer_close (v);
    retire (s, v);
    g_ptr_array_add (s->leaving, v);
    g_ptr_array_steal_index_fast (s->viewers, i);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
stop (gpointer data)
{
  g_main_loop_quit (((Soak *) data)->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Soak s = { 0 };
  gint seconds;

  if (argc < 3 || (seconds = atoi (argv[2])) <= 0) {
    g_printerr ("usage: %s WS_URL SECONDS [MAX_VIEWERS]\n", argv[0]);
    return 2;
  }
  s.url = argv[1];
  s.max = argc > 3 ? (guint) MAX (atoi (argv[3]), 1) : 8;
  s.session = soup_session_new_with_options (
      "proxy-resolver", NULL, "max-conns-per-host", 64, NULL);
  s.viewers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) zc_test_viewer_free);
  s.leaving =
      g_ptr_array_new_with_free_func ((GDestroyNotify) zc_test_viewer_free);
  s.loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds (1, tick, &s);
  g_timeout_add_seconds (seconds, stop, &s);
  g_main_loop_run (s.loop);

  for (guint i = 0; i < s.viewers->len; i++) {
    retire (&s, s.viewers->pdata[i]);
    zc_test_viewer_close (s.viewers->pdata[i]);
  }
  /* Let the close frames go out before the sockets are dropped. */
  for (guint i = 0; i < 20 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_ptr_array_unref (s.viewers);
  g_ptr_array_unref (s.leaving);
  g_object_unref (s.session);
  g_main_loop_unref (s.loop);
  printf ("viewers joined %u, left %u, frames %" G_GUINT64_FORMAT
          ", protocol errors %u\n",
      s.joined, s.left, s.frames, s.errors);
  return s.errors == 0 && s.frames > 0 ? 0 : 1;
}
