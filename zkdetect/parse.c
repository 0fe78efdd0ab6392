/* parse.c: the ZooKeeper URL, MasterInfo JSON and the leading contender
 * (zkdetect.h). Pure: no I/O. */
#include "zkdetect/zkdetect.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ZKD_PREFIX      "zk://"
#define ZKD_INFO        "json.info_"
#define ZKD_URL_MAX     4096
#define ZKD_SERVERS_MAX 64

bool zkd_is_url(const char *s)
{
	return s && strncmp(s, ZKD_PREFIX, strlen(ZKD_PREFIX)) == 0;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* One HOST:PORT of `len` bytes at `s`. */
static int check_server(const char *flag, const char *text, const char *s, size_t len,
                        struct ag_error *err)
{
	const char *end = s + len, *colon;
	if (len == 0)
		return ag_error_msg(err, EINVAL, "%s: `%s`: an empty server in the list", flag,
		                    text);
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || close == s + 1)
			return ag_error_msg(
			        err, EINVAL,
			        "%s: `%s`: `%.*s`: an IPv6 address needs [ADDRESS]:PORT", flag,
			        text, (int)len, s);
		char ip6[64];
		size_t n = (size_t)(close - s - 1);
		struct in6_addr a;
		if (n >= sizeof(ip6) ||
		    (memcpy(ip6, s + 1, n), ip6[n] = '\0', inet_pton(AF_INET6, ip6, &a) != 1))
			return ag_error_msg(err, EINVAL, "%s: `%s`: `%.*s` is not an IPv6 address",
			                    flag, text, (int)n, s + 1);
		colon = close + 1;
		if (colon == end || *colon != ':')
			return ag_error_msg(err, EINVAL, "%s: `%s`: `%.*s` has no :PORT", flag,
			                    text, (int)len, s);
	} else {
		colon = memchr(s, ':', len);
		if (!colon)
			return ag_error_msg(err, EINVAL,
			                    "%s: `%s`: `%.*s` has no :PORT (ZooKeeper servers are "
			                    "HOST:PORT, e.g. h1:2181)",
			                    flag, text, (int)len, s);
		if (colon == s)
			return ag_error_msg(err, EINVAL, "%s: `%s`: `%.*s` has no host", flag, text,
			                    (int)len, s);
		for (const char *p = s; p < colon; p++)
			if (!host_char(*p))
				return ag_error_msg(
				        err, EINVAL,
				        "%s: `%s`: the host `%.*s` has a character that "
				        "is not allowed in a host name or address",
				        flag, text, (int)(colon - s), s);
	}
	const char *p = colon + 1;
	unsigned port = 0;
	if (p == end)
		return ag_error_msg(err, EINVAL, "%s: `%s`: `%.*s` has an empty port", flag, text,
		                    (int)len, s);
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return ag_error_msg(err, EINVAL,
			                    "%s: `%s`: the port of `%.*s` is not 1-65535", flag,
			                    text, (int)len, s);
		port = port * 10 + (unsigned)(*p - '0');
	}
	if (port == 0 || port > 65535)
		return ag_error_msg(err, EINVAL, "%s: `%s`: the port of `%.*s` is not 1-65535",
		                    flag, text, (int)len, s);
	return 0;
}

static int check_path(const char *flag, const char *text, const char *path, struct ag_error *err)
{
	if (path[0] != '/' || path[1] == '\0')
		return ag_error_msg(err, EINVAL,
		                    "%s: `%s`: no path after the servers (the masters' path in "
		                    "ZooKeeper, e.g. zk://h1:2181/agora)",
		                    flag, text);
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '?' || c == '#')
			return ag_error_msg(
			        err, EINVAL,
			        "%s: `%s`: the path has a character ZooKeeper paths may "
			        "not have here (control, '?' or '#')",
			        flag, text);
	}
	const char *comp = path + 1;
	for (;;) {
		const char *slash = strchr(comp, '/');
		size_t n = slash ? (size_t)(slash - comp) : strlen(comp);
		if (n == 0)
			return ag_error_msg(err, EINVAL,
			                    "%s: `%s`: the path has an empty component%s", flag,
			                    text, slash ? "" : " (a trailing '/')");
		if ((n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return ag_error_msg(err, EINVAL,
			                    "%s: `%s`: the path has a `.` or `..` component", flag,
			                    text);
		if (!slash)
			return 0;
		comp = slash + 1;
	}
}

int zkd_url_parse(const char *flag, const char *text, struct zkd_url *ret, struct ag_error *err)
{
	if (!text || !zkd_is_url(text))
		return ag_error_msg(err, EINVAL,
		                    "%s: `%s` is not a ZooKeeper URL (zk://HOST:PORT/PATH)", flag,
		                    text ? text : "");
	if (strlen(text) > ZKD_URL_MAX)
		return ag_error_msg(err, EINVAL, "%s: the ZooKeeper URL is longer than %d bytes",
		                    flag, ZKD_URL_MAX);
	const char *auth = text + strlen(ZKD_PREFIX);
	const char *slash = strchr(auth, '/');
	size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
	if (memchr(auth, '@', alen))
		return ag_error_msg(err, EINVAL,
		                    "%s: `%s`: credentials in the URL (user:password@) are not "
		                    "supported",
		                    flag, text);
	if (alen == 0)
		return ag_error_msg(err, EINVAL,
		                    "%s: `%s`: no ZooKeeper server (zk://HOST:PORT/PATH)", flag,
		                    text);
	int count = 0;
	for (const char *s = auth; s < auth + alen;) {
		const char *comma = memchr(s, ',', (size_t)(auth + alen - s));
		const char *e = comma ? comma : auth + alen;
		int r = check_server(flag, text, s, (size_t)(e - s), err);
		if (r < 0)
			return r;
		if (++count > ZKD_SERVERS_MAX)
			return ag_error_msg(err, EINVAL, "%s: `%s`: more than %d ZooKeeper servers",
			                    flag, text, ZKD_SERVERS_MAX);
		if (!comma)
			break;
		s = comma + 1;
		if (s == auth + alen)
			return ag_error_msg(err, EINVAL, "%s: `%s`: an empty server in the list",
			                    flag, text);
	}
	int r = check_path(flag, text, slash ? slash : "", err);
	if (r < 0)
		return r;
	ret->servers = strndup(auth, alen);
	ret->path = ag_strdup(slash);
	if (!ret->servers)
		abort();
	return 0;
}

void zkd_url_free(struct zkd_url *u)
{
	if (!u)
		return;
	free(u->servers);
	free(u->path);
	u->servers = u->path = NULL;
}

void zkd_leader_free(struct zkd_leader *l)
{
	if (!l)
		return;
	free(l->host);
	free(l->id);
	free(l->znode);
	*l = (struct zkd_leader){0};
}

static bool port_ok(json_t *p)
{
	return json_is_integer(p) && json_integer_value(p) > 0 && json_integer_value(p) <= 65535;
}

static bool nonempty(json_t *s)
{
	return json_is_string(s) && json_string_length(s) > 0 &&
	       strlen(json_string_value(s)) == json_string_length(s);
}

/* "master@IP:PORT" (Mesos's pid): host and port, or false. */
static bool from_pid(const char *pid, char **host, int *port)
{
	const char *at = strchr(pid, '@');
	const char *colon = strrchr(pid, ':');
	if (!at || !colon || colon < at + 2)
		return false;
	uint64_t v;
	if (ag_parse_u64(colon + 1, &v) < 0 || v == 0 || v > 65535)
		return false;
	*host = strndup(at + 1, (size_t)(colon - at - 1));
	*port = (int)v;
	return *host != NULL;
}

int zkd_parse_master_info(const char *json, size_t len, const char *znode, struct zkd_leader *ret,
                          struct ag_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return ag_error_msg(err, EBADMSG, "the MasterInfo in `%s` is not a JSON object%s%s",
		                    znode, root ? "" : ": ", root ? "" : jerr.text);
	}
	struct zkd_leader l = {0};
	json_t *addr = json_object_get(root, "address");
	json_t *aport = json_object_get(addr, "port");
	if (json_is_object(addr) && port_ok(aport) && nonempty(json_object_get(addr, "ip"))) {
		l.host = ag_strdup(json_string_value(json_object_get(addr, "ip")));
		l.port = (int)json_integer_value(aport);
	} else if (json_is_object(addr) && port_ok(aport) &&
	           nonempty(json_object_get(addr, "hostname"))) {
		l.host = ag_strdup(json_string_value(json_object_get(addr, "hostname")));
		l.port = (int)json_integer_value(aport);
	} else if (port_ok(json_object_get(root, "port")) &&
	           json_is_integer(json_object_get(root, "ip")) &&
	           json_integer_value(json_object_get(root, "ip")) > 0 &&
	           json_integer_value(json_object_get(root, "ip")) <= 0xffffffffLL) {
		/* Mesos's ip: the in_addr's s_addr (network order) as a number. */
		struct in_addr a = {
		        .s_addr = (uint32_t)json_integer_value(json_object_get(root, "ip"))};
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, buf, sizeof(buf));
		l.host = ag_strdup(buf);
		l.port = (int)json_integer_value(json_object_get(root, "port"));
	} else if (port_ok(json_object_get(root, "port")) &&
	           nonempty(json_object_get(root, "hostname"))) {
		l.host = ag_strdup(json_string_value(json_object_get(root, "hostname")));
		l.port = (int)json_integer_value(json_object_get(root, "port"));
	} else if (!nonempty(json_object_get(root, "pid")) ||
	           !from_pid(json_string_value(json_object_get(root, "pid")), &l.host, &l.port)) {
		json_decref(root);
		return ag_error_msg(err, EBADMSG,
		                    "the MasterInfo in `%s` has no address (address.ip or "
		                    "address.hostname with address.port, ip or hostname with port, "
		                    "or pid)",
		                    znode);
	}
	if (nonempty(json_object_get(root, "id")))
		l.id = ag_strdup(json_string_value(json_object_get(root, "id")));
	l.znode = ag_strdup(znode);
	json_decref(root);
	*ret = l;
	return 0;
}

/* The sequence of a json.info_<digits> name, or -1. */
static long long sequence(const char *name)
{
	size_t n = strlen(ZKD_INFO);
	if (strncmp(name, ZKD_INFO, n) != 0 || !name[n])
		return -1;
	uint64_t v;
	if (name[n] < '0' || name[n] > '9' || ag_parse_u64(name + n, &v) < 0 || v > INT64_MAX)
		return -1;
	return (long long)v;
}

int zkd_pick_leader(const char *const *children, int n)
{
	int best = -1;
	long long best_seq = 0;
	for (int i = 0; i < n; i++) {
		long long s = sequence(children[i]);
		if (s >= 0 && (best < 0 || s < best_seq)) {
			best = i;
			best_seq = s;
		}
	}
	return best;
}
