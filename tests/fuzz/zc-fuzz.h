/* The entry point every fuzz target defines. libFuzzer calls it; without
 * libFuzzer, regress-main.c calls it once per file so that crashes found
 * while fuzzing stay fixed (suite fuzz-regress, any compiler).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A g_return_if_fail() or a GLib/GStreamer warning reached from the input
 * is a bug too (a critical in production just returns garbage): abort so
 * the fuzzer reports it as a crash and saves the input. abort(), not
 * GLib's fatal-log trap: libFuzzer catches SIGABRT but not SIGTRAP. */
static inline void
zc_fuzz_log_handler (const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer data)
{
  g_log_default_handler (domain, level, message, data);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
}

/* Called first by every target. */
static inline void
zc_fuzz_init (void)
{
  static gboolean done;

  if (!done) {
    g_log_set_default_handler (zc_fuzz_log_handler, NULL);
    done = TRUE;
  }
}
