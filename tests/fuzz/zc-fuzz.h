/* The entry point every fuzz target defines. libFuzzer calls it; without
 * libFuzzer, regress-main.c calls it once per file so that crashes found
 * while fuzzing stay fixed (suite fuzz-regress, any compiler).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
