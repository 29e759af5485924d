/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>
#include <gst/video/video.h>

#include "producer.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#define LINE_DEADLINE_US (10 * G_USEC_PER_SEC)

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Reads one line from the producer's stdout, failing the test when none
 * comes before the deadline or the producer exits. */
static gchar *
read_line (TestProducer *p)
{
  gint64 deadline = g_get_monotonic_time () + LINE_DEADLINE_US;

  for (;;) {
    gchar *nl = strchr (p->line->str, '\n');
    struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
    gint64 left;
    gchar c[256];
    gssize n;

    if (nl) {
      gchar *out = g_strndup (p->line->str, nl - p->line->str);
      g_string_erase (p->line, 0, nl - p->line->str + 1);
      return out;
    }
    left = deadline - g_get_monotonic_time ();
    if (left <= 0)
      g_error ("zc-test-producer said nothing for %d s",
          (int) (LINE_DEADLINE_US / G_USEC_PER_SEC));
    if (poll (&pfd, 1, (int) (left / 1000) + 1) < 0 && errno != EINTR)
      g_error ("poll: %s", g_strerror (errno));
    if (!(pfd.revents & (POLLIN | POLLHUP)))
      continue;
    n = read (p->out_fd, c, sizeof (c));
    if (n == 0)
      g_error ("zc-test-producer exited before answering");
    if (n > 0)
      g_string_append_len (p->line, c, n);
  }
}

TestProducer *
test_producer_start (const gchar *format, const gchar *size, gint fps)
{
  return test_producer_start_full (format, size, fps, 16);
}

TestProducer *
test_producer_start_full (
    const gchar *format, const gchar *size, gint fps, gint max_buffers)
{
  return test_producer_start_with (format, size, fps, max_buffers, NULL);
}

TestProducer *
test_producer_start_with (const gchar *format, const gchar *size, gint fps,
    gint max_buffers, const gchar *option)
{
  const gchar *path = g_getenv ("ZC_TEST_PRODUCER");
  GSubprocessLauncher *launcher;
  TestProducer *p = g_new0 (TestProducer, 1);
  gchar *fps_str = g_strdup_printf ("%d", fps);
  gchar *max_str = g_strdup_printf ("%d", max_buffers);
  gchar *name = g_strdup_printf ("zc-test-%d-%u", getpid (), g_random_int ());
  GError *error = NULL;
  gchar *line;

  g_assert_nonnull (path);
  launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  p->proc = g_subprocess_launcher_spawn (launcher, &error, path, "--name", name,
      "--format", format, "--size", size, "--fps", fps_str, "--max-buffers",
      max_str, option, NULL);
  g_assert_no_error (error);
  g_object_unref (launcher);
  g_free (fps_str);
  g_free (max_str);
  g_free (name);
  p->out_fd = g_unix_input_stream_get_fd (
      G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (p->proc)));
  p->line = g_string_new (NULL);

  line = read_line (p);
  g_assert_true (g_str_has_prefix (line, "READY "));
  p->node_id = (guint) g_ascii_strtoull (line + 6, NULL, 10);
  g_assert_cmpuint (p->node_id, >, 0);
  g_free (line);
  return p;
}

void
test_producer_command (TestProducer *p, const gchar *command)
{
  g_free (test_producer_query (p, command));
}

gchar *
test_producer_query (TestProducer *p, const gchar *command)
{
  GOutputStream *in = g_subprocess_get_stdin_pipe (p->proc);
  gchar *msg = g_strdup_printf ("%s\n", command);
  GError *error = NULL;
  gchar *line;

  g_output_stream_write_all (in, msg, strlen (msg), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_flush (in, NULL, NULL);
  g_free (msg);
  line = read_line (p);
  if (!g_str_has_prefix (line, "OK "))
    g_error ("producer answered '%s' to '%s'", line, command);
  return line;
}

/* GLib reaps the child on its worker thread; the identifier goes NULL then. */
static void
reap (TestProducer *p)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_subprocess_get_identifier (p->proc)
      && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
}

void
test_producer_kill (TestProducer *p)
{
  g_subprocess_force_exit (p->proc);
  g_subprocess_wait (p->proc, NULL, NULL);
}

void
test_producer_stop (TestProducer *p)
{
  if (p == NULL)
    return;
  if (g_subprocess_get_identifier (p->proc)) {
    g_output_stream_close (g_subprocess_get_stdin_pipe (p->proc), NULL, NULL);
    reap (p);
    if (g_subprocess_get_identifier (p->proc))
      test_producer_kill (p);
  }
  g_object_unref (p->proc);
  g_string_free (p->line, TRUE);
  g_free (p);
}

static void
pixel_rgb (GstVideoFrame *f, gint x, gint y, guint8 rgb[3])
{
  const guint8 *px = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 0)
      + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (f, 0) + (gsize) x * 4;

  for (int c = 0; c < 3; c++)
    rgb[c] = px[GST_VIDEO_FRAME_COMP_POFFSET (f, c)];
}

guint32
test_check_frame (GstBuffer *buf, GstVideoFormat format)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  GstVideoInfo info;
  GstVideoFrame f;
  static const guint8 expect[4][3] = { { 255, 0, 0 }, { 0, 255, 0 },
    { 0, 0, 255 }, { 255, 255, 255 } };
  guint32 first = 0, last = 0;
  gint w, h;

  g_assert_nonnull (meta);
  g_assert_cmpint (meta->format, ==, format);
  gst_video_info_set_format (&info, format, meta->width, meta->height);
  g_assert_true (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  w = meta->width;
  h = meta->height;
  for (int q = 0; q < 4; q++) {
    guint8 rgb[3];
    gint x = (q % 2) ? 3 * w / 4 : w / 4, y = (q / 2) ? 3 * h / 4 : h / 4;
    pixel_rgb (&f, x, y, rgb);
    if (rgb[0] != expect[q][0] || rgb[1] != expect[q][1]
        || rgb[2] != expect[q][2])
      g_error ("%s %dx%d: pixel (%d,%d) is %d,%d,%d; expected %d,%d,%d",
          gst_video_format_to_string (format), w, h, x, y, rgb[0], rgb[1],
          rgb[2], expect[q][0], expect[q][1], expect[q][2]);
  }
  for (int i = 0; i < 4; i++) {
    guint8 a[3], b[3];
    pixel_rgb (&f, i, 0, a);
    pixel_rgb (&f, w - 4 + i, h - 1, b);
    first = (first << 8) | a[0];
    last = (last << 8) | b[0];
  }
  gst_video_frame_unmap (&f);
  if (first != last)
    g_error ("torn frame: starts as frame %u, ends as frame %u", first, last);
  return first;
}
