/* Integration test of ZcMutterSession against a real headless Mutter:
 * monitor and virtual streams, misuse answered with errors, and the
 * closed callback when Mutter goes away.
 *
 * Run under `zc-run-session --mutter 320x240`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "zc-error.h"
#include "zc-mutter-session.h"

#define NODE_TIMEOUT_US (G_GINT64_CONSTANT (20) * G_USEC_PER_SEC)

static GDBusConnection *bus;

static void
test_monitor (void)
{
  const gchar *connectors[] = { NULL, "", "Meta-0" };

  for (guint i = 0; i < G_N_ELEMENTS (connectors); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (ZcMutterSession) sc = zc_mutter_session_new (bus, &error);

    g_assert_no_error (error);
    g_assert_true (zc_mutter_session_record_monitor (
        sc, connectors[i], ZC_CURSOR_MODE_HIDDEN, &error));
    g_assert_no_error (error);
    g_assert_true (zc_mutter_session_start (sc, &error));
    g_assert_cmpuint (
        zc_mutter_session_wait_node (sc, NODE_TIMEOUT_US, &error), >, 0);
    g_assert_no_error (error);
    g_assert_false (zc_mutter_session_is_closed (sc));
  }
}

static void
test_virtual (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcMutterSession) sc = zc_mutter_session_new (bus, &error);

  g_assert_no_error (error);
  g_assert_true (
      zc_mutter_session_record_virtual (sc, ZC_CURSOR_MODE_EMBEDDED, &error));
  g_assert_no_error (error);
  g_assert_true (zc_mutter_session_start (sc, &error));
  g_assert_cmpuint (
      zc_mutter_session_wait_node (sc, NODE_TIMEOUT_US, &error), >, 0);
  g_assert_no_error (error);
}

static void
test_misuse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcMutterSession) sc = zc_mutter_session_new (bus, &error);

  g_assert_no_error (error);
  /* Nothing recorded yet. */
  g_assert_false (zc_mutter_session_start (sc, &error));
  g_assert_error (error, ZC_ERROR, ZC_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpuint (
      zc_mutter_session_wait_node (sc, NODE_TIMEOUT_US, &error), ==, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* A monitor that does not exist: Mutter's answer names it. */
  g_assert_false (zc_mutter_session_record_monitor (
      sc, "NO-SUCH-MONITOR", ZC_CURSOR_MODE_HIDDEN, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "NO-SUCH-MONITOR"));
  g_clear_error (&error);

  /* One stream per session. */
  g_assert_true (zc_mutter_session_record_monitor (
      sc, NULL, ZC_CURSOR_MODE_HIDDEN, &error));
  g_assert_false (
      zc_mutter_session_record_virtual (sc, ZC_CURSOR_MODE_HIDDEN, &error));
  g_assert_nonnull (strstr (error->message, "already records"));
}

static void
on_closed (ZcMutterSession *sc, gpointer data)
{
  (*(guint *) data)++;
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Last: it takes Mutter down. */
static void
test_closed_when_mutter_dies (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ZcMutterSession) sc = zc_mutter_session_new (bus, &error);
  g_auto (GStrv) pids = g_strsplit (g_getenv ("ZC_SESSION_PIDS"), " ", -1);
  g_autofree gchar *comm_path = NULL, *comm = NULL;
  gboolean expired = FALSE;
  guint closed = 0, timer;
  pid_t mutter;

  g_assert_no_error (error);
  g_assert_true (zc_mutter_session_record_monitor (
      sc, NULL, ZC_CURSOR_MODE_HIDDEN, &error));
  g_assert_true (zc_mutter_session_start (sc, &error));
  g_assert_cmpuint (
      zc_mutter_session_wait_node (sc, NODE_TIMEOUT_US, &error), >, 0);
  zc_mutter_session_set_closed_callback (sc, on_closed, &closed);

  /* zc-run-session lists dbus, pipewire, wireplumber, mutter in order. */
  g_assert_cmpuint (g_strv_length (pids), >=, 4);
  mutter = (pid_t) g_ascii_strtoll (pids[3], NULL, 10);
  comm_path = g_strdup_printf ("/proc/%d/comm", mutter);
  g_assert_true (g_file_get_contents (comm_path, &comm, NULL, NULL));
  g_assert_cmpstr (g_strstrip (comm), ==, "mutter");
  g_assert_cmpint (kill (mutter, SIGKILL), ==, 0);

  timer = g_timeout_add_seconds (20, on_deadline, &expired);
  while (closed == 0 && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (closed, ==, 1);
  g_source_remove (timer);
  g_assert_true (zc_mutter_session_is_closed (sc));
  g_assert_false (zc_mutter_session_start (sc, &error));
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("WAYLAND_DISPLAY") == NULL
      || g_getenv ("ZC_SESSION_PIDS") == NULL) {
    g_printerr ("run this test under zc-run-session --mutter WxH\n");
    return 1;
  }
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL) {
    g_printerr ("cannot reach the session bus: %s\n", error->message);
    return 1;
  }
  g_test_add_func ("/mutter-session/monitor", test_monitor);
  g_test_add_func ("/mutter-session/virtual", test_virtual);
  g_test_add_func ("/mutter-session/misuse", test_misuse);
  g_test_add_func (
      "/mutter-session/closed-when-mutter-dies", test_closed_when_mutter_dies);
  ret = g_test_run ();
  g_object_unref (bus);
  return ret;
}
