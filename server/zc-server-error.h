/* zerocast server: the error domain every fallible server helper uses.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ZC_SERVER_ERROR (zc_server_error_quark ())

typedef enum
{
  ZC_SERVER_ERROR_FAILED,       /* anything without a more precise code */
  ZC_SERVER_ERROR_INVALID_ARGS, /* a bad command line or option value */
  ZC_SERVER_ERROR_SOURCE,   /* no desktop to capture (session, portal, node) */
  ZC_SERVER_ERROR_PIPELINE, /* no video mode / encoder combination works */
  ZC_SERVER_ERROR_PROTOCOL, /* a malformed or unexpected client message */
  ZC_SERVER_ERROR_HTTP,     /* listening, TLS or the web directory */
} ZcServerError;

GQuark zc_server_error_quark (void);

G_END_DECLS
