/* The listening socket: taken from systemd (sd_listen_fds) or bound to the
 * configured path, accepting clients and tracking their connections. */
#ifndef ISOL8D_SERVER_H
#define ISOL8D_SERVER_H

struct daemon;
struct server;

int server_start(struct daemon *d, struct server **out);
/* The path of the socket being served. */
const char *server_path(const struct server *s);
/* Closes every connection and the listener; removes a socket file that
 * this process bound (never one systemd passed in). */
void server_stop(struct server *s);

#endif
