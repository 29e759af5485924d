/* zerocast server: input from viewers, between the wire and a backend.
 *
 * The hub holds what all viewers share: the current backend (replaced
 * when the desktop is re-created, or NULL: view-only), the stream's size
 * and the counters /metrics reports. Each viewer has a client, which
 * - drops input from a viewer without the right to control (counted);
 * - throttles: a token bucket per viewer (ZC_INPUT_RATE a second, bursts
 *   of ZC_INPUT_BURST). Over it, presses, motion and scrolling are dropped
 *   and counted; releases still pass, but only of what this viewer holds,
 *   so a flood costs neither memory nor more calls into the compositor;
 * - scales absolute positions from the client's reference size (and touch
 *   from 0..1) to the stream's pixels;
 * - records the keys, buttons and touch points it holds down and releases
 *   them when the viewer leaves (also in the middle of a drag).
 * Everything runs in the main context.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "zc-input-msg.h"
#include "zc-input.h"

G_BEGIN_DECLS

#define ZC_INPUT_RATE 500
#define ZC_INPUT_BURST 250

typedef struct _ZcInputHub ZcInputHub;
typedef struct _ZcInputClient ZcInputClient;

typedef struct
{
  guint64 events;    /* calls made into the backend */
  guint64 refused;   /* input from viewers without the right to control */
  guint64 throttled; /* dropped by a viewer's rate limit */
  guint64 released;  /* keys/buttons/touches released for viewers that left */
} ZcInputStats;

ZcInputHub *zc_input_hub_new (void);
void zc_input_hub_free (ZcInputHub *self);

/* Takes @backend (NULL: no input, for the reason @why_none, logged). The
 * old one is destroyed; what viewers held through it is forgotten (its
 * session is gone, and the compositor released it). */
void zc_input_hub_set_backend (
    ZcInputHub *self, ZcInput *backend, const gchar *why_none);
ZcInput *zc_input_hub_get_backend (ZcInputHub *self);
/* Without a backend: the reason given (static until the next
 * set_backend), else NULL. */
const gchar *zc_input_hub_get_no_input_reason (ZcInputHub *self);
void zc_input_hub_set_stream_size (ZcInputHub *self, guint width, guint height);
void zc_input_hub_get_stream_size (
    ZcInputHub *self, guint *width, guint *height);
void zc_input_hub_get_stats (ZcInputHub *self, ZcInputStats *stats);

/* @may_control: this viewer's right (see zc-http.c). @peer names it in
 * the log. */
ZcInputClient *zc_input_client_new (
    ZcInputHub *hub, gboolean may_control, const gchar *peer);

/* What this viewer can do: nothing without the right or a backend. */
ZcInputCaps zc_input_client_get_caps (ZcInputClient *self);
gboolean zc_input_client_may_control (ZcInputClient *self);

void zc_input_client_handle (ZcInputClient *self, const ZcInputMsg *msg);

/* Releases everything this viewer holds down. */
void zc_input_client_release_all (ZcInputClient *self);

/* Releases what it holds, then frees; NULL is ok. */
void zc_input_client_free (ZcInputClient *self);

G_END_DECLS
