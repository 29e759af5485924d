/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-error.h"

G_DEFINE_QUARK (zerocast - error - quark, zc_error)
