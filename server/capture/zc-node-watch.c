/* zerocast server: watching the streamed PipeWire node.
 *
 * Threads: PipeWire events arrive on the watch's own pw_thread_loop; the
 * only thing that crosses to the main context is the "gone" notification,
 * through an idle source attached to it. The registry is read under the loop
 * lock. SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-node-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <pipewire/pipewire.h>

#include "zc-server-error.h"

#define SYNC_TIMEOUT_US (5 * G_USEC_PER_SEC)

struct _ZcNodeWatch
{
  guint32 node_id;
  ZcNodeGoneFunc gone;
  gpointer user_data;
  GMainContext *context;
  struct pw_thread_loop *loop;
  struct pw_context *pw_context;
  struct pw_core *core;
  struct pw_registry *registry;
  struct spa_hook core_listener, registry_listener;
  gboolean seen, synced, core_error;
  gboolean gone_posted; /* PipeWire thread only */
  gint sync_seq;
  /* Cleared by zc_node_watch_free(): a notification still on its way to
   * the main context then finds nobody to tell. */
  gint *alive;
};

typedef struct
{
  gint *alive;
  guint32 node_id;
  ZcNodeGoneFunc gone;
  gpointer user_data;
} GoneNotice;

static gboolean
notify_gone (gpointer data)
{
  GoneNotice *n = data;

  if (*n->alive)
    n->gone (n->node_id, n->user_data);
  return G_SOURCE_REMOVE;
}

static void
gone_notice_free (gpointer data)
{
  GoneNotice *n = data;

  g_atomic_rc_box_release (n->alive);
  g_free (n);
}

static void
on_global (void *data, uint32_t id, uint32_t permissions, const char *type,
    uint32_t version, const struct spa_dict *props)
{
  ZcNodeWatch *self = data;

  if (id == self->node_id)
    self->seen = TRUE;
}

/* Runs in the PipeWire thread: hands the news to the main context, once. */
static void
post_gone (ZcNodeWatch *self)
{
  GoneNotice *n;
  GSource *idle;

  if (self->gone_posted)
    return;
  self->gone_posted = TRUE;
  n = g_new0 (GoneNotice, 1);
  n->alive = g_atomic_rc_box_acquire (self->alive);
  n->node_id = self->node_id;
  n->gone = self->gone;
  n->user_data = self->user_data;
  /* An idle source, not g_main_context_invoke(): invoke runs the function
   * right here, on this PipeWire thread, whenever nobody holds the main
   * context at this instant (between two iterations of a nested wait, as
   * the portal handshake does), and recovery would then run on the wrong
   * thread. */
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, notify_gone, n, gone_notice_free);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
}

static void
on_global_remove (void *data, uint32_t id)
{
  ZcNodeWatch *self = data;

  if (id == self->node_id && self->synced)
    post_gone (self);
}

static const struct pw_registry_events registry_events = {
  PW_VERSION_REGISTRY_EVENTS,
  .global = on_global,
  .global_remove = on_global_remove,
};

static void
on_core_done (void *data, uint32_t id, int seq)
{
  ZcNodeWatch *self = data;

  if (id == PW_ID_CORE && seq == self->sync_seq) {
    self->synced = TRUE;
    pw_thread_loop_signal (self->loop, FALSE);
  }
}

static void
on_core_error (void *data, uint32_t id, int seq, int res, const char *message)
{
  ZcNodeWatch *self = data;

  if (id == PW_ID_CORE) {
    self->core_error = TRUE;
    pw_thread_loop_signal (self->loop, FALSE);
    /* A broken connection (the daemon died) takes the node with it: no
     * global_remove will ever say so. */
    if (self->synced && res == -EPIPE)
      post_gone (self);
  }
}

static const struct pw_core_events core_events = {
  PW_VERSION_CORE_EVENTS,
  .done = on_core_done,
  .error = on_core_error,
};

ZcNodeWatch *
zc_node_watch_new (guint32 node_id, gint fd, ZcNodeGoneFunc gone,
    gpointer user_data, GError **error)
{
  ZcNodeWatch *self = g_new0 (ZcNodeWatch, 1);
  gint64 deadline;

  pw_init (NULL, NULL);
  self->node_id = node_id;
  self->gone = gone;
  self->user_data = user_data;
  self->context = g_main_context_ref_thread_default ();
  self->alive = g_atomic_rc_box_new (gint);
  *self->alive = 1;
  self->loop = pw_thread_loop_new ("zc-node-watch", NULL);
  self->pw_context =
      pw_context_new (pw_thread_loop_get_loop (self->loop), NULL, 0);
  if (pw_thread_loop_start (self->loop) < 0)
    goto failed;

  pw_thread_loop_lock (self->loop);
  /* The core owns the fd it is given: give it a copy. */
  self->core = fd >= 0 ? pw_context_connect_fd (
                   self->pw_context, fcntl (fd, F_DUPFD_CLOEXEC, 3), NULL, 0)
                       : pw_context_connect (self->pw_context, NULL, 0);
  if (self->core == NULL) {
    pw_thread_loop_unlock (self->loop);
    goto failed;
  }
  pw_core_add_listener (self->core, &self->core_listener, &core_events, self);
  self->registry = pw_core_get_registry (self->core, PW_VERSION_REGISTRY, 0);
  pw_registry_add_listener (
      self->registry, &self->registry_listener, &registry_events, self);
  /* After this round trip every existing global has been announced. */
  self->sync_seq = pw_core_sync (self->core, PW_ID_CORE, 0);
  deadline = g_get_monotonic_time () + SYNC_TIMEOUT_US;
  while (
      !self->synced && !self->core_error && g_get_monotonic_time () < deadline)
    pw_thread_loop_timed_wait (self->loop, 1);
  pw_thread_loop_unlock (self->loop);

  if (!self->synced)
    goto failed;
  if (!self->seen) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
        "PipeWire has no node %u: list the video sources with "
        "`pw-cli ls Node` or pw-dump",
        node_id);
    zc_node_watch_free (self);
    return NULL;
  }
  return self;

failed:
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_SOURCE,
      "cannot reach PipeWire to watch node %u: is the daemon running "
      "(XDG_RUNTIME_DIR, PIPEWIRE_REMOTE)?",
      node_id);
  zc_node_watch_free (self);
  return NULL;
}

void
zc_node_watch_free (ZcNodeWatch *self)
{
  if (self == NULL)
    return;
  /* Stop the PipeWire thread first: until it is joined it may post a
   * notice, which takes a reference on @alive (from that thread: hence the
   * atomic box). Only then is @alive cleared and our reference dropped. */
  if (self->loop)
    pw_thread_loop_stop (self->loop);
  *self->alive = 0;
  g_atomic_rc_box_release (self->alive);
  if (self->registry) {
    spa_hook_remove (&self->registry_listener);
    pw_proxy_destroy ((struct pw_proxy *) self->registry);
  }
  if (self->core) {
    spa_hook_remove (&self->core_listener);
    pw_core_disconnect (self->core);
  }
  if (self->pw_context)
    pw_context_destroy (self->pw_context);
  if (self->loop)
    pw_thread_loop_destroy (self->loop);
  g_main_context_unref (self->context);
  g_free (self);
}
