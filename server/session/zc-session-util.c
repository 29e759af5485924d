/* Small helpers the session code, the server and the tests share.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-session-util.h"

#include <glib/gstdio.h>

void
zc_remove_tree (const gchar *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        zc_remove_tree (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
zc_iterate_for_ms (guint ms)
{
  GMainContext *ctx = g_main_context_get_thread_default ();
  gboolean fired = FALSE;
  GSource *timeout = g_timeout_source_new (ms);

  g_source_set_callback (timeout, on_timeout, &fired, NULL);
  g_source_attach (timeout, ctx);
  while (!fired)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}
