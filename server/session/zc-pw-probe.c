/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-pw-probe.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pipewire/pipewire.h>

#include "zc-error.h"

struct _ZcPwProbe
{
  struct pw_loop *loop;
  struct pw_context *context;
  struct pw_core *core;
  struct spa_hook core_listener;
  struct pw_registry *registry;
  struct spa_hook registry_listener;
  GHashTable *clients; /* global id -> application.name */
  int pending_seq;
  gboolean synced;
  gchar *error; /* a core error, if one came */
};

static void
on_core_done (void *data, uint32_t id, int seq)
{
  ZcPwProbe *self = data;

  if (id == PW_ID_CORE && seq == self->pending_seq)
    self->synced = TRUE;
}

static void
on_core_error (void *data, uint32_t id, int seq, int res, const char *message)
{
  ZcPwProbe *self = data;

  if (id == PW_ID_CORE && self->error == NULL)
    self->error = g_strdup_printf ("%s (%s)", message, strerror (-res));
}

static const struct pw_core_events core_events = {
  PW_VERSION_CORE_EVENTS,
  .done = on_core_done,
  .error = on_core_error,
};

static void
on_global (void *data, uint32_t id, uint32_t permissions, const char *type,
    uint32_t version, const struct spa_dict *props)
{
  ZcPwProbe *self = data;
  const char *name;

  if (strcmp (type, PW_TYPE_INTERFACE_Client) != 0 || props == NULL)
    return;
  name = spa_dict_lookup (props, PW_KEY_APP_NAME);
  g_hash_table_replace (
      self->clients, GUINT_TO_POINTER (id), g_strdup (name ? name : ""));
}

static void
on_global_remove (void *data, uint32_t id)
{
  ZcPwProbe *self = data;

  g_hash_table_remove (self->clients, GUINT_TO_POINTER (id));
}

static const struct pw_registry_events registry_events = {
  PW_VERSION_REGISTRY_EVENTS,
  .global = on_global,
  .global_remove = on_global_remove,
};

ZcPwProbe *
zc_pw_probe_connect (const gchar *socket_path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  ZcPwProbe *self;
  int fd;

  if (strlen (socket_path) >= sizeof (addr.sun_path)) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_FAILED,
        "PipeWire socket path too long: %s", socket_path);
    return NULL;
  }
  strcpy (addr.sun_path, socket_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
    int saved = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
        "cannot connect to PipeWire at %s: %s", socket_path,
        g_strerror (saved));
    return NULL;
  }

  /* pw_init() may be called any number of times. pw_deinit() is never
   * called here: in PipeWire 0.3 it is not reference counted and would
   * unload the plugins of any other PipeWire user in this process (the
   * server's pipewiresrc). */
  pw_init (NULL, NULL);
  self = g_new0 (ZcPwProbe, 1);
  self->clients = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->loop = pw_loop_new (NULL);
  self->context = pw_context_new (self->loop, NULL, 0);
  /* pw_context_connect_fd takes the fd, also when it fails. */
  self->core = pw_context_connect_fd (self->context, fd, NULL, 0);
  if (self->core == NULL) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
        "cannot set up a PipeWire connection on %s: %s", socket_path,
        g_strerror (errno));
    zc_pw_probe_free (self);
    return NULL;
  }
  pw_core_add_listener (self->core, &self->core_listener, &core_events, self);
  self->registry = pw_core_get_registry (self->core, PW_VERSION_REGISTRY, 0);
  pw_registry_add_listener (
      self->registry, &self->registry_listener, &registry_events, self);
  return self;
}

void
zc_pw_probe_iterate (ZcPwProbe *self, gint timeout_ms)
{
  pw_loop_enter (self->loop);
  pw_loop_iterate (self->loop, timeout_ms);
  pw_loop_leave (self->loop);
}

gboolean
zc_pw_probe_sync (ZcPwProbe *self, gint64 timeout_us, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  self->synced = FALSE;
  self->pending_seq = pw_core_sync (self->core, PW_ID_CORE, 0);
  while (!self->synced && self->error == NULL) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0) {
      g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
          "PipeWire did not answer a sync within %" G_GINT64_FORMAT " ms",
          timeout_us / 1000);
      return FALSE;
    }
    zc_pw_probe_iterate (self, (gint) MAX (1, MIN (left / 1000, 100)));
  }
  if (self->error) {
    g_set_error (error, ZC_ERROR, ZC_ERROR_NO_DAEMON,
        "PipeWire reported an error: %s", self->error);
    return FALSE;
  }
  return TRUE;
}

gboolean
zc_pw_probe_has_client (ZcPwProbe *self, const gchar *name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (value, name) == 0)
      return TRUE;
  return FALSE;
}

void
zc_pw_probe_free (ZcPwProbe *self)
{
  if (self == NULL)
    return;
  if (self->registry) {
    spa_hook_remove (&self->registry_listener);
    pw_proxy_destroy ((struct pw_proxy *) self->registry);
  }
  if (self->core) {
    spa_hook_remove (&self->core_listener);
    pw_core_disconnect (self->core);
  }
  if (self->context)
    pw_context_destroy (self->context);
  if (self->loop)
    pw_loop_destroy (self->loop);
  g_hash_table_unref (self->clients);
  g_free (self->error);
  g_free (self);
}
