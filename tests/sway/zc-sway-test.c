/* Sway tests: dropping root, what must be installed, waiting.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-sway-test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#define NOBODY_UID 65534
#define NOBODY_GID 65534

gint
zc_sway_test_drop_root (gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *home = NULL, *state = NULL, *registry = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  if (geteuid () != 0)
    return 0;
  home = g_dir_make_tmp ("zc-sway-test-XXXXXX", &error);
  if (home == NULL || chown (home, NOBODY_UID, NOBODY_GID) != 0) {
    g_printerr ("# cannot make a home for nobody: %s\n",
        error ? error->message : g_strerror (errno));
    return 1;
  }
  state = g_build_filename (home, "state", NULL);
  registry = g_build_filename (home, "gst-registry.bin", NULL);
  g_setenv ("HOME", home, TRUE);
  g_setenv ("ZC_SWAY_TEST_HOME", home, TRUE);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_setenv ("XDG_CACHE_HOME", home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  /* The build tree's registry is root's: nobody keeps one of its own. */
  g_setenv ("GST_REGISTRY", registry, TRUE);
  g_unsetenv ("XDG_RUNTIME_DIR");
  g_printerr ("# Sway refuses root: running again as nobody (HOME %s)\n", home);

  g_ptr_array_add (args, (gpointer) "setpriv");
  g_ptr_array_add (args, (gpointer) "--reuid=65534");
  g_ptr_array_add (args, (gpointer) "--regid=65534");
  g_ptr_array_add (args, (gpointer) "--clear-groups");
  g_ptr_array_add (args, (gpointer) "--");
  for (guint i = 0; argv[i]; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);
  execvp ("setpriv", (gchar **) args->pdata);
  g_printerr ("# cannot run setpriv (util-linux): %s\n", g_strerror (errno));
  return 1;
}

void
zc_sway_test_cleanup (void)
{
  const gchar *home = g_getenv ("ZC_SWAY_TEST_HOME");
  g_autofree gchar *base = home ? g_path_get_basename (home) : NULL;

  /* Only the directory drop_root() made, never a real home. */
  if (base && g_str_has_prefix (base, "zc-sway-test-"))
    zc_remove_tree (home);
}

gint
zc_sway_test_check_installed (void)
{
  const gchar *programs[] = { "sway", "foot", "dbus-daemon", "pipewire",
    "wireplumber" };
  g_autofree gchar *version = NULL;
  guint major = 0, minor = 0;

  for (guint i = 0; i < G_N_ELEMENTS (programs); i++) {
    g_autofree gchar *path = g_find_program_in_path (programs[i]);
    if (path == NULL) {
      g_print ("# SKIP: %s is not installed (the Sway tests need sway, "
               "foot, xdg-desktop-portal and xdg-desktop-portal-wlr 0.8 or "
               "later: Debian sid, scripts/test-release.sh sid)\n",
          programs[i]);
      return ZC_SWAY_TEST_SKIP;
    }
  }
  if (!g_file_test ("/usr/libexec/xdg-desktop-portal-wlr", G_FILE_TEST_EXISTS)
      || !g_file_test ("/usr/libexec/xdg-desktop-portal", G_FILE_TEST_EXISTS)) {
    g_print ("# SKIP: xdg-desktop-portal or xdg-desktop-portal-wlr is not "
             "installed\n");
    return ZC_SWAY_TEST_SKIP;
  }
  /* Before 0.8 the backend fails Start without a DMA-BUF capable GPU
   * (upstream issue 289): nothing of ours could pass there. */
  if (g_spawn_command_line_sync ("dpkg-query -W -f=${Version} "
                                 "xdg-desktop-portal-wlr",
          &version, NULL, NULL, NULL)
      && sscanf (version, "%u.%u", &major, &minor) == 2 && major == 0
      && minor < 8) {
    g_print ("# SKIP: xdg-desktop-portal-wlr %s cannot capture without a GPU "
             "(its issue 289, fixed in 0.8): the Sway tests run on Debian sid "
             "(scripts/test-release.sh sid --suite sway)\n",
        version);
    return ZC_SWAY_TEST_SKIP;
  }
  return 0;
}

static gboolean
on_tick (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
zc_sway_test_wait (
    gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  gint64 deadline =
      g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);

  while (!cond (data)) {
    gboolean ticked = FALSE;
    guint id;

    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    id = g_timeout_add (10, on_tick, &ticked);
    while (!ticked)
      g_main_context_iteration (NULL, TRUE);
    (void) id;
  }
  return TRUE;
}

gboolean
zc_sway_test_file_has_line (const gchar *path, const gchar *prefix)
{
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return TRUE;
  return FALSE;
}
