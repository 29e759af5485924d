/* zerocast GPU library: its GError domain.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GPU library is a static library of its own (tests and the benchmark
 * link it without the element), so it cannot call zc_error_quark(), which
 * lives in the element's library.  Its quark is made from the same string,
 * so GPU errors are in the ZC_ERROR domain and use the ZcError codes:
 * g_error_matches (err, ZC_ERROR, ZC_ERROR_UNSUPPORTED) works on them. */
#pragma once

#include <glib.h>
#include "../zc-error.h"

G_BEGIN_DECLS

#define ZC_GPU_ERROR (zc_gpu_error_quark ())
GQuark zc_gpu_error_quark (void);

G_END_DECLS
