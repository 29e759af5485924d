/* zerocast server: how often a lost desktop may be re-created.
 *
 * A desktop that keeps dying must not be restarted in a tight loop: the
 * first recovery in a while starts at once, each further one within the
 * window waits twice as long as the one before, and past a bounded number
 * of recoveries within the window zerocast gives up with a clear error.
 * Pure bookkeeping (the caller passes the clock), so it is easy to test.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint max_attempts; /* recoveries allowed within window_us */
  gint64 window_us;
  guint first_delay_ms; /* the delay of the second attempt; doubles after */
  guint max_delay_ms;
} ZcRecoveryLimits;

typedef struct _ZcRecovery ZcRecovery;

/* 5 recoveries in 2 minutes; delays 0, 1, 2, 4, 8 s. */
void zc_recovery_limits_init_default (ZcRecoveryLimits *limits);

ZcRecovery *zc_recovery_new (const ZcRecoveryLimits *limits);
void zc_recovery_free (ZcRecovery *self);

/* Accounts for one more recovery at @now_us (monotonic). TRUE with the
 * delay to wait first, or FALSE with @error saying that the desktop died
 * too often, for how long, and what to check. */
gboolean zc_recovery_next (
    ZcRecovery *self, gint64 now_us, guint *delay_ms, GError **error);

/* Recoveries counted in the current window (for the log). */
guint zc_recovery_get_attempts (ZcRecovery *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcRecovery, zc_recovery_free)

G_END_DECLS
