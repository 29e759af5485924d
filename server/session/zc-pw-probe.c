/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-pw-probe.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pipewire/pipewire.h>

#include "zc-error.h"

/* A connection of the session manager, bound to read its properties:
 * those it sets once running (session.services) reach the registry's global
 * only at connection time, so they are read from the client's info. */
typedef struct
{
  ZcPwProbe *probe;
  uint32_t id;
  struct pw_client *proxy;
  struct spa_hook listener;
  gboolean export; /* WirePlumber's "[export]" connection */
  gchar *services; /* session.services, once announced */
  gchar *version;  /* application.version, if given */
} SmClient;

struct _ZcPwProbe
{
  struct pw_loop *loop;
  struct pw_context *context;
  struct pw_core *core;
  struct spa_hook core_listener;
  struct pw_registry *registry;
  struct spa_hook registry_listener;
  GHashTable *clients; /* global id -> application.name */
  GHashTable *sm;      /* global id -> SmClient *: the session manager's */
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
sm_client_free (SmClient *c)
{
  spa_hook_remove (&c->listener);
  pw_proxy_destroy ((struct pw_proxy *) c->proxy);
  g_free (c->services);
  g_free (c->version);
  g_free (c);
}

static void
on_sm_client_info (void *data, const struct pw_client_info *info)
{
  SmClient *c = data;
  const char *v;

  if (info->props == NULL)
    return;
  if ((v = spa_dict_lookup (info->props, "session.services")) != NULL) {
    g_free (c->services);
    c->services = g_strdup (v);
  }
  if ((v = spa_dict_lookup (info->props, PW_KEY_APP_VERSION)) != NULL) {
    g_free (c->version);
    c->version = g_strdup (v);
  }
}

static const struct pw_client_events sm_client_events = {
  PW_VERSION_CLIENT_EVENTS,
  .info = on_sm_client_info,
};

/* WirePlumber marks every connection of its daemon (0.4 to 0.5.18 at
 * least); the name is the fallback. */
static gboolean
is_session_manager (const struct spa_dict *props, const char *name)
{
  const char *daemon = spa_dict_lookup (props, "wireplumber.daemon");

  return (daemon && strcmp (daemon, "true") == 0)
      || (name && g_str_has_prefix (name, "WirePlumber"));
}

static void
on_global (void *data, uint32_t id, uint32_t permissions, const char *type,
    uint32_t version, const struct spa_dict *props)
{
  ZcPwProbe *self = data;
  const char *name;
  SmClient *c;

  if (strcmp (type, PW_TYPE_INTERFACE_Client) != 0 || props == NULL)
    return;
  name = spa_dict_lookup (props, PW_KEY_APP_NAME);
  g_hash_table_replace (
      self->clients, GUINT_TO_POINTER (id), g_strdup (name ? name : ""));
  if (!is_session_manager (props, name))
    return;
  c = g_new0 (SmClient, 1);
  c->probe = self;
  c->id = id;
  c->export = name && g_str_has_suffix (name, "[export]");
  c->proxy = pw_registry_bind (
      self->registry, id, PW_TYPE_INTERFACE_Client, PW_VERSION_CLIENT, 0);
  if (c->proxy == NULL) {
    g_free (c);
    return;
  }
  pw_client_add_listener (c->proxy, &c->listener, &sm_client_events, c);
  g_hash_table_replace (self->sm, GUINT_TO_POINTER (id), c);
}

static void
on_global_remove (void *data, uint32_t id)
{
  ZcPwProbe *self = data;

  g_hash_table_remove (self->clients, GUINT_TO_POINTER (id));
  g_hash_table_remove (self->sm, GUINT_TO_POINTER (id));
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
  self->sm =
      g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) sm_client_free);
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

gboolean
zc_pw_probe_session_manager_ready (ZcPwProbe *self, gchar **status)
{
  GHashTableIter iter;
  gpointer value;
  const SmClient *main = NULL, *export = NULL;

  g_hash_table_iter_init (&iter, self->sm);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    const SmClient *c = value;

    /* Published once the daemon's components are loaded (WirePlumber
     * 0.5): "policy.linking.standard" is what links a consumer to Mutter's
     * node. */
    if (c->services && strstr (c->services, "policy.linking")) {
      if (status)
        *status = g_strdup_printf ("WirePlumber %s runs %s",
            c->version ? c->version : "", c->services);
      return TRUE;
    }
    if (c->export)
      export = c;
    else if (main == NULL || c->services)
      main = c;
  }
  /* WirePlumber 0.4 publishes no services; its export connection opens
   * once its core is set up, and the policy it loads later still links
   * streams that exist by then. */
  if (export && (main == NULL || main->services == NULL)) {
    if (status)
      *status = g_strdup ("WirePlumber's export connection is up");
    return TRUE;
  }
  if (status) {
    if (main == NULL && export == NULL)
      *status = g_strdup ("no WirePlumber connection in PipeWire's registry");
    else
      *status = g_strdup_printf ("WirePlumber %s is connected but has "
                                 "announced no linking policy (services: %s)",
          main && main->version ? main->version : "",
          main && main->services ? main->services : "none yet");
  }
  return FALSE;
}

void
zc_pw_probe_free (ZcPwProbe *self)
{
  if (self == NULL)
    return;
  /* Client proxies first: they belong to the core disconnected below. */
  g_clear_pointer (&self->sm, g_hash_table_unref);
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
