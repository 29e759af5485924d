/* A handle on zc-test-producer, our own PipeWire video source, for tests.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/video/video.h>

typedef struct
{
  GSubprocess *proc;
  gint out_fd;
  GString *line;
  guint node_id;
} TestProducer;

/* Starts the producer (path in $ZC_TEST_PRODUCER) and waits, with a
 * deadline, for its READY line. */
TestProducer *test_producer_start (
    const gchar *format, const gchar *size, gint fps);
/* The same, with a producer that allows at most @max_buffers buffers. */
TestProducer *test_producer_start_full (
    const gchar *format, const gchar *size, gint fps, gint max_buffers);
/* The same, with one more producer option (NULL: none), e.g.
 * "--sync-timeline". */
TestProducer *test_producer_start_with (const gchar *format, const gchar *size,
    gint fps, gint max_buffers, const gchar *option);
/* Sends a command and waits, with a deadline, for its OK line. */
void test_producer_command (TestProducer *p, const gchar *command);
/* The same, returning the OK line (free it). */
gchar *test_producer_query (TestProducer *p, const gchar *command);
/* Kills it at once (SIGKILL): the node vanishes as with a crash. */
void test_producer_kill (TestProducer *p);
/* Asks it to quit and reaps it, killing it after a deadline. NULL ok. */
void test_producer_stop (TestProducer *p);

/* Checks a captured frame: the four quadrant colours at their places (read
 * through the buffer's own format, so a red/blue swap fails) and the frame
 * number painted at its first and last pixels (a torn frame has two).
 * Returns the frame number. */
guint32 test_check_frame (GstBuffer *buf, GstVideoFormat format);
