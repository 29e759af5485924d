/* Reading zc-input-client's record: see zc-test-input-log.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-test-input-log.h"

#include <string.h>

/* The lines of @text that are complete: the client may be writing the
 * last one. */
static gchar **
complete_lines (const gchar *text)
{
  const gchar *end = strrchr (text, '\n');
  g_autofree gchar *done = g_strndup (text, end ? (gsize) (end - text) : 0);

  return end ? g_strsplit (done, "\n", -1) : g_new0 (gchar *, 1);
}

gboolean
zc_input_log_pointer (const gchar *line, gdouble *x, gdouble *y)
{
  g_auto (GStrv) f = NULL;

  if (!g_str_has_prefix (line, "ENTER ") && !g_str_has_prefix (line, "MOTION "))
    return FALSE;
  f = g_strsplit (line, " ", -1);
  if (g_strv_length (f) < 3)
    return FALSE;
  *x = g_ascii_strtod (f[1], NULL);
  *y = g_ascii_strtod (f[2], NULL);
  return TRUE;
}

gboolean
zc_input_log_pointer_before (
    const gchar *text, const gchar *prefix, gdouble *x, gdouble *y)
{
  g_auto (GStrv) lines = complete_lines (text);
  gboolean seen = FALSE;

  for (guint i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], prefix))
      return seen;
    if (zc_input_log_pointer (lines[i], x, y))
      seen = TRUE;
  }
  return FALSE;
}

gchar *
zc_input_log_keys (const gchar *text, guint *n)
{
  g_auto (GStrv) lines = complete_lines (text);
  GString *keys = g_string_new (NULL);

  *n = 0;
  for (guint i = 0; lines[i]; i++) {
    g_auto (GStrv) f = NULL;

    /* KEY code keysym name PRESSED|RELEASED */
    if (!g_str_has_prefix (lines[i], "KEY "))
      continue;
    f = g_strsplit (lines[i], " ", -1);
    if (g_strv_length (f) != 5)
      continue;
    g_string_append_printf (keys, "%s%s%c", keys->len ? " " : "", f[3],
        g_str_equal (f[4], "PRESSED") ? '+' : '-');
    (*n)++;
  }
  return g_string_free (keys, FALSE);
}
