/* A TAP check for the C tests that print their own TAP lines (Sway,
 * portal): prints "not ok - ..." and jumps to the test's `out:` label,
 * counting into the file's `failures`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#define CHECK(cond, ...)                                                       \
  G_STMT_START                                                                 \
  {                                                                            \
    if (!(cond)) {                                                             \
      g_print ("not ok - " __VA_ARGS__);                                       \
      g_print ("\n");                                                          \
      failures++;                                                              \
      goto out;                                                                \
    }                                                                          \
  }                                                                            \
  G_STMT_END
