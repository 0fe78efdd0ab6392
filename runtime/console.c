/* console.c: process.terminal: the container's pseudo-terminal, how its
 * master reaches the caller (the OCI console socket), and the relay that
 * `run` does when there is no socket.
 *
 * The pty is made by the container's init after pivot_root, from the
 * container's own devpts (/dev/ptmx, checked to be the 5:2 multiplexer),
 * and its peer opened with TIOCGPTPEER (4.13): no /dev/pts/N path is looked
 * up, so nothing in the container can swap the peer for another file. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

int rt__console_open(const struct rt_process *p, int *ret_master, int *ret_peer,
                     struct ag_error *err)
{
	_cleanup_close_ int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return ag_error_set(err, errno,
		                    "process.terminal: open /dev/ptmx in the container (is devpts "
		                    "mounted on /dev/pts?)");
	struct stat st;
	if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2)
		return ag_error_set(err, 0,
		                    "process.terminal: /dev/ptmx in the container is not the pty "
		                    "multiplexer (5:2)");
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return ag_error_set(err, errno, "process.terminal: unlock the pty");
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = p->console_rows, .ws_col = p->console_cols};
		if (ioctl(m, TIOCSWINSZ, &ws) < 0)
			return ag_error_set(err, errno, "process.consoleSize: TIOCSWINSZ");
	}
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		return ag_error_set(err, errno,
		                    "process.terminal: open the pty's peer (TIOCGPTPEER, Linux "
		                    "4.13)");
	*ret_master = TAKE_FD(m);
	*ret_peer = peer;
	return 0;
}

int rt__console_handover(const struct rt_process *p, int sync_fd, int *ret_peer,
                         struct ag_error *err)
{
	_cleanup_close_ int master = -1, peer = -1;
	int r = rt__console_open(p, &master, &peer, err);
	if (r < 0)
		return r;
	struct rt__msg m = {.type = RT_MSG_CONSOLE};
	r = rt__fd_send(sync_fd, &m, offsetof(struct rt__msg, text), master);
	if (r < 0)
		return ag_error_set(err, -r, "process.terminal: hand the terminal over");
	*ret_peer = TAKE_FD(peer);
	return 0;
}

int rt__console_attach(int peer, struct ag_error *err)
{
	int r = 0;
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		r = ag_error_set(err, errno, "process.terminal: TIOCSCTTY");
	for (int i = 0; i < 3 && r == 0; i++)
		if (dup2(peer, i) < 0)
			r = ag_error_set(err, errno, "process.terminal: dup2");
	if (peer > 2)
		close(peer);
	return r;
}

int rt__fd_send(int sock, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

ssize_t rt__fd_recv(int sock, void *data, size_t len, int *ret_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	*ret_fd = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *ret_fd < 0)
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

int rt__console_send(int sock, int master, struct ag_error *err)
{
	char name[64] = "";
	int n = -1;
	if (ioctl(master, TIOCGPTN, &n) == 0)
		snprintf(name, sizeof(name), "/dev/pts/%d", n);
	int r = rt__fd_send(sock, name, strlen(name) + 1, master);
	if (r < 0)
		return ag_error_set(err, -r, "send the terminal to the console socket");
	return 0;
}

/* Writes all of buf; a terminal gone away (EIO) is not an error here. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

static volatile sig_atomic_t winch_pending;

void rt__console_note_winch(void)
{
	winch_pending = 1;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

int rt__console_relay(int master, int in, int out, int pidfd, bool follow_size)
{
	bool tty = isatty(in);
	struct termios saved;
	if (tty && tcgetattr(in, &saved) == 0) {
		/* Raw: ^C, ^Z and line editing are the container's terminal's
		 * business, not ours. */
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(in, TCSANOW, &raw);
	} else {
		tty = false;
	}
	if (tty && follow_size)
		copy_winsize(in, master);
	int fl = fcntl(master, F_GETFL);
	fcntl(master, F_SETFL, fl | O_NONBLOCK);
	bool in_open = true, master_open = true, exited = false;
	char buf[16384];
	while (master_open && !exited) {
		if (winch_pending) {
			winch_pending = 0;
			if (tty && follow_size)
				copy_winsize(in, master);
		}
		struct pollfd p[3] = {{.fd = master, .events = POLLIN},
		                      {.fd = pidfd, .events = POLLIN},
		                      {.fd = in_open ? in : -1, .events = POLLIN}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0)
				write_all(out, buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				master_open = false; /* EIO: every peer closed */
		}
		if (p[2].revents) {
			ssize_t n = read(in, buf, sizeof(buf));
			if (n > 0)
				write_all(master, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				in_open = false;
		}
		if (p[1].revents)
			exited = true;
	}
	/* The process is gone: what it wrote last may still be on its way
	 * through the tty layer (pushed to the master by a worker), so read
	 * until EIO (no peer left), or a pause if something still holds one. */
	while (master_open) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			break;
		ssize_t n = read(master, buf, sizeof(buf));
		if (n > 0)
			write_all(out, buf, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	if (tty)
		tcsetattr(in, TCSAFLUSH, &saved);
	return 0;
}
