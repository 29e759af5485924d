/* zerocast server: how often a lost desktop may be re-created.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-recovery.h"

#include "zc-server-error.h"

struct _ZcRecovery
{
  ZcRecoveryLimits limits;
  GArray *times; /* gint64 start of each recovery within the window */
};

void
zc_recovery_limits_init_default (ZcRecoveryLimits *limits)
{
  /* A Mutter or PipeWire that crashes once an hour is recovered every
   * time; one that crashes at start-up is given up on within about 15 s
   * of waiting, rather than restarted forever. */
  limits->max_attempts = 5;
  limits->window_us = 120 * G_USEC_PER_SEC;
  limits->first_delay_ms = 1000;
  limits->max_delay_ms = 8000;
}

ZcRecovery *
zc_recovery_new (const ZcRecoveryLimits *limits)
{
  ZcRecovery *self = g_new0 (ZcRecovery, 1);

  self->limits = *limits;
  self->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  return self;
}

void
zc_recovery_free (ZcRecovery *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->times);
  g_free (self);
}

static void
forget_old (ZcRecovery *self, gint64 now_us)
{
  while (self->times->len > 0
      && now_us - g_array_index (self->times, gint64, 0)
          >= self->limits.window_us)
    g_array_remove_index (self->times, 0);
}

gboolean
zc_recovery_next (
    ZcRecovery *self, gint64 now_us, guint *delay_ms, GError **error)
{
  guint n;

  forget_old (self, now_us);
  n = self->times->len;
  if (n >= self->limits.max_attempts) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "the desktop was lost %u times within %" G_GINT64_FORMAT
        " s; giving up instead of restarting it again. Find out why it "
        "keeps dying (the compositor's and PipeWire's own messages; "
        "G_MESSAGES_DEBUG=all for ours)",
        n + 1, self->limits.window_us / G_USEC_PER_SEC);
    return FALSE;
  }
  /* 0, first, 2 x first, ... : the first recovery is immediate. */
  *delay_ms = n == 0 ? 0
                     : MIN (self->limits.first_delay_ms << MIN (n - 1, 16),
                         self->limits.max_delay_ms);
  g_array_append_val (self->times, now_us);
  return TRUE;
}

guint
zc_recovery_get_attempts (ZcRecovery *self)
{
  return self->times->len;
}
