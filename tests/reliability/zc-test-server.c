/* Reliability tests: a real zerocast process on loopback.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-test-server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

struct _ZcTestServer
{
  GSubprocess *proc;
  GDataInputStream *out;
  GCancellable *cancel;
  GString *log;
  gchar *url, *ws_url;
  gboolean exited;
  gint status;
};

static void read_next_line (ZcTestServer *self);

static void
on_line (GObject *stream, GAsyncResult *res, gpointer data)
{
  ZcTestServer *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8 (
      G_DATA_INPUT_STREAM (stream), res, NULL, &error);
  const gchar *serving;

  if (line == NULL)
    return; /* end of output or cancelled at stop */
  g_printerr ("[zerocast] %s\n", line);
  g_string_append (self->log, line);
  g_string_append_c (self->log, '\n');
  serving = strstr (line, "zerocast: serving ");
  if (serving && self->url == NULL) {
    self->url = g_strdup (serving + strlen ("zerocast: serving "));
    g_strstrip (self->url);
    if (g_str_has_prefix (self->url, "http://"))
      self->ws_url =
          g_strdup_printf ("ws://%sws", self->url + strlen ("http://"));
  }
  read_next_line (self);
}

static void
read_next_line (ZcTestServer *self)
{
  g_data_input_stream_read_line_async (
      self->out, G_PRIORITY_DEFAULT, self->cancel, on_line, self);
}

static void
on_process_exit (GObject *proc, GAsyncResult *res, gpointer data)
{
  ZcTestServer *self = data;

  if (g_subprocess_wait_finish (G_SUBPROCESS (proc), res, NULL)) {
    self->exited = TRUE;
    self->status = g_subprocess_get_status (G_SUBPROCESS (proc));
  }
}

/* The server must not outlive a test that crashes or is killed by its
 * timeout. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

gboolean
zc_test_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!cond (data)) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    /* Wakes at least every 50 ms to look at the clock and the condition;
     * conditions that read /proc change without a main-loop event. */
    if (!g_main_context_pending (NULL))
      g_usleep (10000);
    g_main_context_iteration (NULL, FALSE);
  }
  return TRUE;
}

static gboolean
started_or_exited (gpointer data)
{
  ZcTestServer *self = data;

  return self->ws_url != NULL || self->exited;
}

ZcTestServer *
zc_test_server_start (const gchar *const *args, guint timeout_s, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  const gchar *build_root = g_getenv ("ZC_BUILD_ROOT");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  ZcTestServer *self;

  if (build_root == NULL) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "ZC_BUILD_ROOT is not set: run through meson test");
    return NULL;
  }
  g_ptr_array_add (
      argv, g_build_filename (build_root, "server", "zerocast", NULL));
  for (guint i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1:0"));
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self = g_new0 (ZcTestServer, 1);
  self->log = g_string_new (NULL);
  self->cancel = g_cancellable_new ();
  self->proc = g_subprocess_launcher_spawnv (
      launcher, (const gchar *const *) argv->pdata, error);
  if (self->proc == NULL) {
    zc_test_server_stop (self);
    return NULL;
  }
  self->out =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->proc));
  read_next_line (self);
  g_subprocess_wait_async (self->proc, self->cancel, on_process_exit, self);

  if (!zc_test_wait (started_or_exited, self, timeout_s * 1000)
      || self->ws_url == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "zerocast did not print \"serving\" within %u s (%s); its output "
        "is above",
        timeout_s, self->exited ? "it exited" : "still running");
    zc_test_server_stop (self);
    return NULL;
  }
  return self;
}

const gchar *
zc_test_server_get_ws_url (ZcTestServer *self)
{
  return self->ws_url;
}

GPid
zc_test_server_get_pid (ZcTestServer *self)
{
  const gchar *id = g_subprocess_get_identifier (self->proc);

  return id ? atoi (id) : 0;
}

guint
zc_test_server_fd_count (ZcTestServer *self)
{
  g_autofree gchar *path =
      g_strdup_printf ("/proc/%d/fd", zc_test_server_get_pid (self));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

guint64
zc_test_server_rss_kb (ZcTestServer *self)
{
  g_autofree gchar *path =
      g_strdup_printf ("/proc/%d/status", zc_test_server_get_pid (self));
  g_autofree gchar *status = NULL;
  const gchar *line;

  if (!g_file_get_contents (path, &status, NULL, NULL))
    return 0;
  line = strstr (status, "\nVmRSS:");
  return line ? g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10) : 0;
}

gboolean
zc_test_server_metric (ZcTestServer *self, SoupSession *session,
    const gchar *name, gdouble *value, GError **error)
{
  g_autofree gchar *url = g_strdup_printf ("%smetrics", self->url);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *needle = g_strdup_printf ("\n%s ", name);
  const gchar *at;

  body = soup_session_send_and_read (session, msg, NULL, error);
  if (body == NULL)
    return FALSE;
  text = g_strdup_printf ("\n%.*s", (int) g_bytes_get_size (body),
      (const gchar *) g_bytes_get_data (body, NULL));
  at = strstr (text, needle);
  if (at == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "/metrics has no %s (HTTP %u)", name, soup_message_get_status (msg));
    return FALSE;
  }
  *value = g_ascii_strtod (at + strlen (needle), NULL);
  return TRUE;
}

const gchar *
zc_test_server_get_output (ZcTestServer *self)
{
  return self->log->str;
}

gboolean
zc_test_server_output_contains (ZcTestServer *self, const gchar *text)
{
  return strstr (self->log->str, text) != NULL;
}

gboolean
zc_test_server_is_running (ZcTestServer *self, gint *status)
{
  g_main_context_iteration (NULL, FALSE);
  if (status)
    *status = self->status;
  return !self->exited;
}

static gboolean
has_exited (gpointer data)
{
  return ((ZcTestServer *) data)->exited;
}

gint
zc_test_server_stop (ZcTestServer *self)
{
  gint code = -1;

  if (self == NULL)
    return -1;
  if (self->proc && !self->exited) {
    g_subprocess_send_signal (self->proc, SIGTERM);
    if (!zc_test_wait (has_exited, self, 10000)) {
      g_printerr ("zerocast did not stop within 10 s of SIGTERM: killing "
                  "it\n");
      g_subprocess_force_exit (self->proc);
      g_subprocess_wait (self->proc, NULL, NULL);
    }
  }
  if (self->proc && g_subprocess_get_if_exited (self->proc))
    code = g_subprocess_get_exit_status (self->proc);
  /* Pending reads hold self: cancel, then let them finish before freeing. */
  g_cancellable_cancel (self->cancel);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&self->out);
  g_clear_object (&self->proc);
  g_clear_object (&self->cancel);
  g_string_free (self->log, TRUE);
  g_free (self->url);
  g_free (self->ws_url);
  g_free (self);
  return code;
}

GPid
zc_test_child_of (GPid parent, const gchar *name)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  const gchar *entry;

  while (dir && (entry = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *stat_path = g_strdup_printf ("/proc/%s/stat", entry);
    g_autofree gchar *cmd_path = g_strdup_printf ("/proc/%s/cmdline", entry);
    g_autofree gchar *stat = NULL, *cmd = NULL, *comm = NULL;
    const gchar *open, *close;
    gint ppid;

    /* The command name sits between the first '(' and the last ')': it
     * may hold either. */
    if (!g_ascii_isdigit (entry[0])
        || !g_file_get_contents (stat_path, &stat, NULL, NULL)
        || (open = strchr (stat, '(')) == NULL
        || (close = strrchr (stat, ')')) == NULL
        || sscanf (close + 1, " %*c %d", &ppid) != 1 || ppid != parent)
      continue;
    comm = g_strndup (open + 1, close - open - 1);
    if (g_strcmp0 (comm, name) == 0
        || (g_file_get_contents (cmd_path, &cmd, NULL, NULL)
            && g_strcmp0 (cmd, name) == 0))
      return (GPid) g_ascii_strtoll (entry, NULL, 10);
  }
  return 0;
}

gchar *
zc_test_environ_of (GPid pid, const gchar *var)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/environ", pid);
  g_autofree gchar *env = NULL;
  g_autofree gchar *prefix = g_strdup_printf ("%s=", var);
  gsize len;

  if (!g_file_get_contents (path, &env, &len, NULL))
    return NULL;
  for (gsize i = 0; i < len; i += strlen (env + i) + 1)
    if (g_str_has_prefix (env + i, prefix))
      return g_strdup (env + i + strlen (prefix));
  return NULL;
}
