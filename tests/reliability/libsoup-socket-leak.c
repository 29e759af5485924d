/* Evidence for tests/lsan.supp, not part of the build: a libsoup-only
 * WebSocket server and client in one process that free everything they
 * own, yet LeakSanitizer reports one GSocket (from g_socket_accept) per
 * connection and the listener's local address (libsoup 3.2.3, Debian 12).
 *
 *   gcc -fsanitize=address -g libsoup-socket-leak.c -o /tmp/leak \
 *     $(pkg-config --cflags --libs libsoup-3.0) && G_SLICE=always-malloc \
 *     ASAN_OPTIONS=fast_unwind_on_malloc=0 /tmp/leak
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libsoup/soup.h>

#define N_CLIENTS 20

static int open_conns, done;

static void
on_server_closed (SoupWebsocketConnection *conn, gpointer data)
{
  open_conns--;
  g_object_unref (conn);
}

static void
handle_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *conn, gpointer data)
{
  open_conns++;
  g_object_ref (conn);
  g_signal_connect (conn, "closed", G_CALLBACK (on_server_closed), NULL);
}

static void
on_client (GObject *session, GAsyncResult *res, gpointer data)
{
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (session), res, NULL);

  if (conn) {
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (conn);
  }
  done++;
}

int
main (void)
{
  SoupServer *server = soup_server_new (NULL, NULL);
  /* No proxy: libproxy's C++ aborts under ASan. */
  SoupSession *session =
      soup_session_new_with_options ("proxy-resolver", NULL, NULL);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  GSList *uris;
  char *url;

  soup_server_add_websocket_handler (
      server, "/ws", NULL, NULL, handle_ws, NULL, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("ws://127.0.0.1:%d/ws", g_uri_get_port (uris->data));
  for (int i = 0; i < N_CLIENTS; i++) {
    SoupMessage *msg = soup_message_new ("GET", url);
    soup_session_websocket_connect_async (
        session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_client, NULL);
    g_object_unref (msg);
  }
  while ((done < N_CLIENTS || open_conns > 0)
      && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_print ("%d clients done, %d server connections open\n", done, open_conns);
  g_object_unref (session);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_free (url);
  return 0;
}
