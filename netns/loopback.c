/* loopback.c: `lo` up in a new network namespace.
 *
 * On every container launch, so it is the cheapest way there is: one
 * datagram socket and two ioctls, no netlink round trip, and no library
 * (the launcher links nothing else of this folder, so it needs no libmnl).
 */
#include "netns/netns.h"
#include "common/common.h"

#include <linux/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int nns_loopback_up(void)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}
