/* zerocast server: per-viewer input (rights, rate, scaling, held state).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-input-client.h"

#include <string.h>
#include <linux/input-event-codes.h>

/* Keysyms a tap wraps around its key for each modifier bit. */
#define XK_Shift_L 0xffe1
#define XK_Control_L 0xffe3
#define XK_Alt_L 0xffe9
#define XK_Super_L 0xffeb
/* Browser wheel pixels per wl_pointer.axis unit: a notch is about 100 to
 * 120 pixels in browsers and 10 units on Wayland. */
#define WHEEL_PIXELS_PER_UNIT 10.0
#define MAX_HELD_KEYSYMS 16
#define N_TOUCH_SLOTS 256

struct _ZcInputHub
{
  ZcInput *backend;
  gchar *why_none;  /* without a backend: why (the log, ConnectionComplete) */
  guint generation; /* bumped with each backend: held state is per backend */
  guint width, height;
  ZcInputStats stats;
};

struct _ZcInputClient
{
  ZcInputHub *hub;
  gboolean may_control;
  gchar *peer;
  gboolean refused_logged, throttled_logged;
  /* Token bucket, in tokens scaled by 1000 to stay in integers. */
  gint64 tokens;
  gint64 last_refill_us;
  /* What this viewer holds, valid for backend generation @generation. */
  guint generation;
  guint8 buttons; /* bit i: BTN_LEFT + i */
  guint32 keys[(KEY_MAX + 1) / 32];
  guint32 keysyms[MAX_HELD_KEYSYMS];
  guint n_keysyms;
  guint32 touches[N_TOUCH_SLOTS / 32];
};

ZcInputHub *
zc_input_hub_new (void)
{
  return g_new0 (ZcInputHub, 1);
}

void
zc_input_hub_free (ZcInputHub *self)
{
  if (self == NULL)
    return;
  zc_input_destroy (self->backend);
  g_free (self->why_none);
  g_free (self);
}

void
zc_input_hub_set_backend (
    ZcInputHub *self, ZcInput *backend, const gchar *why_none)
{
  if (self->backend)
    zc_input_release_all (self->backend);
  zc_input_destroy (self->backend);
  self->backend = backend;
  self->generation++;
  g_free (self->why_none);
  self->why_none =
      backend ? NULL : g_strdup (why_none ? why_none : "no input backend");
  if (backend)
    g_print ("zerocast: input through %s (%s)\n", backend->name,
        zc_input_caps_to_string (backend->caps));
  else
    g_print ("zerocast: view-only: %s (viewers' input is ignored)\n",
        self->why_none);
}

const gchar *
zc_input_hub_get_no_input_reason (ZcInputHub *self)
{
  return self->why_none;
}

ZcInput *
zc_input_hub_get_backend (ZcInputHub *self)
{
  return self->backend;
}

void
zc_input_hub_set_stream_size (ZcInputHub *self, guint width, guint height)
{
  self->width = width;
  self->height = height;
}

void
zc_input_hub_get_stream_size (ZcInputHub *self, guint *width, guint *height)
{
  *width = self->width;
  *height = self->height;
}

void
zc_input_hub_get_stats (ZcInputHub *self, ZcInputStats *stats)
{
  *stats = self->stats;
}

ZcInputClient *
zc_input_client_new (ZcInputHub *hub, gboolean may_control, const gchar *peer)
{
  ZcInputClient *self = g_new0 (ZcInputClient, 1);

  self->hub = hub;
  self->may_control = may_control;
  self->peer = g_strdup (peer ? peer : "(unknown)");
  self->tokens = ZC_INPUT_BURST * 1000;
  self->last_refill_us = g_get_monotonic_time ();
  self->generation = hub->generation;
  return self;
}

gboolean
zc_input_client_may_control (ZcInputClient *self)
{
  return self->may_control;
}

ZcInputCaps
zc_input_client_get_caps (ZcInputClient *self)
{
  if (!self->may_control || self->hub->backend == NULL)
    return ZC_INPUT_CAP_NONE;
  return self->hub->backend->caps;
}

static gboolean
bit_get (const guint32 *set, guint i)
{
  return (set[i / 32] >> (i % 32)) & 1;
}

static void
bit_set (guint32 *set, guint i, gboolean on)
{
  if (on)
    set[i / 32] |= 1u << (i % 32);
  else
    set[i / 32] &= ~(1u << (i % 32));
}

static void
forget_held (ZcInputClient *self)
{
  self->buttons = 0;
  memset (self->keys, 0, sizeof (self->keys));
  self->n_keysyms = 0;
  memset (self->touches, 0, sizeof (self->touches));
}

/* One call into the backend, counted. */
#define INJECT(self, call)                                                     \
  G_STMT_START                                                                 \
  {                                                                            \
    call;                                                                      \
    (self)->hub->stats.events++;                                               \
  }                                                                            \
  G_STMT_END

void
zc_input_client_release_all (ZcInputClient *self)
{
  ZcInput *in = self->hub->backend;
  guint n = 0;

  if (self->generation != self->hub->generation || in == NULL) {
    forget_held (self);
    return;
  }
  for (guint i = 0; i < 8; i++)
    if (self->buttons & (1u << i)) {
      INJECT (self, zc_input_button (in, BTN_LEFT + i, FALSE));
      n++;
    }
  for (guint k = 0; k <= KEY_MAX; k++)
    if (bit_get (self->keys, k)) {
      INJECT (self, zc_input_key (in, k, FALSE));
      n++;
    }
  for (guint i = 0; i < self->n_keysyms; i++) {
    INJECT (self, zc_input_keysym (in, self->keysyms[i], FALSE));
    n++;
  }
  for (guint s = 0; s < N_TOUCH_SLOTS; s++)
    if (bit_get (self->touches, s)) {
      INJECT (self, zc_input_touch_up (in, s));
      n++;
    }
  forget_held (self);
  if (n > 0) {
    self->hub->stats.released += n;
    g_print ("zerocast: released %u key(s)/button(s)/touch(es) viewer %s "
             "still held\n",
        n, self->peer);
  }
}

void
zc_input_client_free (ZcInputClient *self)
{
  if (self == NULL)
    return;
  zc_input_client_release_all (self);
  g_free (self->peer);
  g_free (self);
}

/* TRUE if a token was left: the message may go on. */
static gboolean
take_token (ZcInputClient *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 elapsed = now - self->last_refill_us;

  /* tokens are milli-tokens: RATE tokens a second is RATE per 1000 us *
   * 1000 milli-tokens / 1000 us. */
  if (elapsed > 0) {
    self->tokens = MIN (self->tokens + elapsed * ZC_INPUT_RATE / 1000,
        (gint64) ZC_INPUT_BURST * 1000);
    self->last_refill_us = now;
  }
  if (self->tokens < 1000)
    return FALSE;
  self->tokens -= 1000;
  return TRUE;
}

static gboolean
is_release (const ZcInputMsg *msg)
{
  switch (msg->kind) {
    case ZC_INPUT_MSG_KEY:
    case ZC_INPUT_MSG_KEYSYM:
    case ZC_INPUT_MSG_BUTTON:
      return !msg->pressed;
    case ZC_INPUT_MSG_TOUCH:
      return msg->touch_phase == ZC_TOUCH_UP;
    default:
      return FALSE;
  }
}

static void
keysym_tap (ZcInputClient *self, ZcInput *in, guint32 sym, guint8 mods)
{
  static const struct
  {
    guint8 bit;
    guint32 sym;
  } mod_syms[] = {
    { ZC_INPUT_MOD_SHIFT, XK_Shift_L },
    { ZC_INPUT_MOD_CTRL, XK_Control_L },
    { ZC_INPUT_MOD_ALT, XK_Alt_L },
    { ZC_INPUT_MOD_META, XK_Super_L },
  };

  for (guint i = 0; i < G_N_ELEMENTS (mod_syms); i++)
    if (mods & mod_syms[i].bit)
      INJECT (self, zc_input_keysym (in, mod_syms[i].sym, TRUE));
  INJECT (self, zc_input_keysym (in, sym, TRUE));
  INJECT (self, zc_input_keysym (in, sym, FALSE));
  for (guint i = G_N_ELEMENTS (mod_syms); i-- > 0;)
    if (mods & mod_syms[i].bit)
      INJECT (self, zc_input_keysym (in, mod_syms[i].sym, FALSE));
}

static void
handle_keysym (ZcInputClient *self, ZcInput *in, guint32 sym, gboolean down)
{
  guint i;

  for (i = 0; i < self->n_keysyms && self->keysyms[i] != sym; i++)
    ;
  if (down) {
    if (i < self->n_keysyms)
      return; /* already down: a repeat, Wayland repeats by itself */
    if (self->n_keysyms == MAX_HELD_KEYSYMS) {
      self->hub->stats.throttled++;
      return; /* nobody holds 16 keys: refuse rather than grow */
    }
    self->keysyms[self->n_keysyms++] = sym;
  } else {
    if (i == self->n_keysyms)
      return; /* not held by this viewer */
    self->keysyms[i] = self->keysyms[--self->n_keysyms];
  }
  INJECT (self, zc_input_keysym (in, sym, down));
}

void
zc_input_client_handle (ZcInputClient *self, const ZcInputMsg *msg)
{
  ZcInputHub *hub = self->hub;
  ZcInput *in = hub->backend;
  guint w = hub->width, h = hub->height;

  if (!self->may_control || in == NULL) {
    hub->stats.refused++;
    if (!self->refused_logged) {
      self->refused_logged = TRUE;
      g_print ("zerocast: ignoring input from viewer %s: %s\n", self->peer,
          self->may_control ? "this source is view-only"
                            : "it has no right to control (view-only)");
    }
    return;
  }
  if (self->generation != hub->generation) {
    forget_held (self);
    self->generation = hub->generation;
  }
  if (!is_release (msg) && !take_token (self)) {
    hub->stats.throttled++;
    if (!self->throttled_logged) {
      self->throttled_logged = TRUE;
      g_print ("zerocast: viewer %s sends input faster than %d events/s: "
               "dropping the excess\n",
          self->peer, ZC_INPUT_RATE);
    }
    return;
  }

  switch (msg->kind) {
    case ZC_INPUT_MSG_KEY:
      if (msg->code == 0 || bit_get (self->keys, msg->code) == msg->pressed)
        return; /* no key, a repeat, or a release of a key not held */
      bit_set (self->keys, msg->code, msg->pressed);
      INJECT (self, zc_input_key (in, msg->code, msg->pressed));
      break;
    case ZC_INPUT_MSG_KEYSYM:
      if (msg->code != 0)
        handle_keysym (self, in, msg->code, msg->pressed);
      break;
    case ZC_INPUT_MSG_KEYSYM_TAP:
      if (msg->code != 0)
        keysym_tap (self, in, msg->code, msg->modifiers);
      break;
    case ZC_INPUT_MSG_BUTTON: {
      guint8 bit = 1u << (msg->code - BTN_LEFT);

      if (!!(self->buttons & bit) == msg->pressed)
        return;
      self->buttons ^= bit;
      INJECT (self, zc_input_button (in, msg->code, msg->pressed));
      break;
    }
    case ZC_INPUT_MSG_WHEEL_SMOOTH:
      INJECT (self,
          zc_input_axis (in, msg->fx / WHEEL_PIXELS_PER_UNIT,
              msg->fy / WHEEL_PIXELS_PER_UNIT));
      break;
    case ZC_INPUT_MSG_WHEEL_DISCRETE:
      if (msg->x != 0 || msg->y != 0)
        INJECT (self, zc_input_axis_discrete (in, msg->x, msg->y));
      break;
    case ZC_INPUT_MSG_ABSOLUTE:
      /* Pixel centres: the client's pixel x of ref_width maps to the
       * stream pixel that covers the same fraction of the picture. */
      INJECT (self,
          zc_input_pointer_absolute (in,
              (msg->x + 0.5) * w / msg->ref_width - 0.5,
              (msg->y + 0.5) * h / msg->ref_height - 0.5, w, h));
      break;
    case ZC_INPUT_MSG_RELATIVE:
      INJECT (self, zc_input_pointer_relative (in, msg->x, msg->y));
      break;
    case ZC_INPUT_MSG_TOUCH: {
      gdouble x = CLAMP (msg->fx, 0.f, 1.f) * w;
      gdouble y = CLAMP (msg->fy, 0.f, 1.f) * h;
      gboolean down = bit_get (self->touches, msg->slot);

      if (msg->touch_phase == ZC_TOUCH_DOWN) {
        if (down)
          INJECT (self, zc_input_touch_up (in, msg->slot));
        bit_set (self->touches, msg->slot, TRUE);
        INJECT (self, zc_input_touch_down (in, msg->slot, x, y, w, h));
      } else if (!down) {
        return; /* motion or up of a touch this viewer did not start */
      } else if (msg->touch_phase == ZC_TOUCH_MOTION) {
        INJECT (self, zc_input_touch_motion (in, msg->slot, x, y, w, h));
      } else {
        bit_set (self->touches, msg->slot, FALSE);
        INJECT (self, zc_input_touch_up (in, msg->slot));
      }
      break;
    }
  }
}
