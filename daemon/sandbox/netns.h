/* Network namespaces of boxes, configured over netlink with libnl from the
 * daemon: the box itself never holds CAP_NET_ADMIN when user code runs. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

#include <sys/types.h>

/* Brings up loopback in pid's network namespace. */
int netns_loopback_up(pid_t pid);

#endif
