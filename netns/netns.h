/* netns.h: network namespaces for containers and test hosts.
 *
 * Built on rtnetlink through libmnl: no shelling out to ip(8). All functions
 * act on the network namespace of the calling thread unless they take a
 * namespace fd. Return 0 or -errno.
 */
#ifndef AGORA_NETNS_H
#define AGORA_NETNS_H

#include "common/common.h"

#include <stdbool.h>

/* Bring the loopback interface of the current network namespace up (a new
 * namespace starts with `lo` down). */
AG_WARN_UNUSED int nns_loopback_up(void);

/* Whether link `ifname` in the current namespace is up (IFF_UP); the result
 * goes to *ret_up. -ENODEV when there is no such link. */
AG_WARN_UNUSED int nns_link_is_up(const char *ifname, bool *ret_up);

/* Count the links in the current network namespace into *ret_count. */
AG_WARN_UNUSED int nns_link_count(unsigned *ret_count);

#endif
