/* Replays fuzz inputs without libFuzzer: each argument is a file, or a
 * directory whose files are replayed in name order. A crash or a failed
 * assertion in the target fails the test; an empty or missing directory
 * is an error, so a wrong path cannot make the test pass vacuously.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "zc-fuzz.h"

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static gboolean
replay_file (const gchar *path, guint *count, GError **error)
{
  gchar *contents;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;
  printf ("# %s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const guint8 *) contents, length);
  g_free (contents);
  (*count)++;
  return TRUE;
}

static gboolean
replay_dir (const gchar *path, guint *count, GError **error)
{
  GDir *dir = g_dir_open (path, 0, error);
  GPtrArray *names;
  const gchar *name;
  gboolean ok = TRUE;

  if (dir == NULL)
    return FALSE;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; ok && i < names->len; i++)
    ok = replay_file (names->pdata[i], count, error);
  g_ptr_array_unref (names);
  return ok;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  guint count = 0;

  if (argc < 2) {
    fprintf (stderr,
        "usage: %s FILE|DIR...: replays fuzz inputs through "
        "the target\n",
        argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    gboolean ok = g_file_test (argv[i], G_FILE_TEST_IS_DIR)
        ? replay_dir (argv[i], &count, &error)
        : replay_file (argv[i], &count, &error);
    if (!ok) {
      fprintf (stderr, "cannot replay %s: %s\n", argv[i], error->message);
      g_error_free (error);
      return 1;
    }
  }
  if (count == 0) {
    fprintf (stderr,
        "no inputs found in the given paths: add seed files "
        "under tests/fuzz/corpus/<target>/\n");
    return 1;
  }
  printf ("replayed %u inputs\n", count);
  return 0;
}
