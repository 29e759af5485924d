/* zerocast: locate installed files relative to the running executable.
 *
 * The executable's own path (/proc/self/exe) is the anchor rather than the
 * configured prefix: the install test runs zerocast from a scratch DESTDIR,
 * and an unpacked tree copied into a container image keeps working.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"
#include "zc-install-dirs.h"

#include <string.h>

static gchar *
exe_dir (void)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);

  return exe ? g_path_get_dirname (exe) : NULL;
}

gboolean
zc_running_from_build_tree (void)
{
  g_autofree gchar *dir = exe_dir ();

  return dir
      && (g_str_equal (dir, ZC_BUILD_ROOT)
          || (g_str_has_prefix (dir, ZC_BUILD_ROOT)
              && dir[strlen (ZC_BUILD_ROOT)] == G_DIR_SEPARATOR));
}

gchar *
zc_install_find (
    const gchar *from_bindir, const gchar *configured, const gchar *name)
{
  g_autofree gchar *dir = exe_dir ();

  if (dir && from_bindir && *from_bindir) {
    g_autofree gchar *path = g_build_filename (dir, from_bindir, name, NULL);
    g_autofree gchar *canonical = g_canonicalize_filename (path, NULL);

    if (g_file_test (canonical, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&canonical);
  }
  if (configured && !zc_running_from_build_tree ()) {
    g_autofree gchar *path = g_build_filename (configured, name, NULL);

    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&path);
  }
  return NULL;
}
