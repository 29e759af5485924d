/* zerocast server: the error domain.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-server-error.h"

G_DEFINE_QUARK (zc - server - error - quark, zc_server_error)
