/* The id maps of a framework's own user namespace (issue 15, a hole of
 * part 1): every host id a map reaches becomes the task's, with Docker's 14
 * capabilities over it, so no map may reach a host user's uid, a
 * subordinate range of /etc/subuid or /etc/subgid (another user's), or the
 * agent's --userns_range pool (other tasks' ids), unless the role is in
 * --policy_allow_host_ids; refused naming the map and the flag. */
#include "containerizer/policy.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *spec(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert(j, "%s: %s", text, je.text);
	return j;
}

static int check(const struct ctz_pol_config *p, const char *text, struct ag_error *err)
{
	json_t *j = spec(text);
	int r = ctz_pol_check_oci(p, "web", j, err);
	json_decref(j);
	return r;
}

static void refused(const struct ctz_pol_config *p, const char *text, const char *needle)
{
	struct ag_error err = {0};
	cr_expect_eq(check(p, text, &err), -EPERM, "%s: allowed", text);
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
	cr_expect(strstr(err.msg, "(agent flag --policy_allow_host_ids)"), "%s", err.msg);
}

static void allowed(const struct ctz_pol_config *p, const char *text)
{
	struct ag_error err = {0};
	cr_expect_eq(check(p, text, &err), 0, "%s: %s", text, err.msg);
}

/* A spec of uid 0 in a user namespace of its own with these maps. */
static char *maps(unsigned uh, unsigned us, unsigned gh, unsigned gs)
{
	static char text[1024];
	snprintf(text, sizeof(text),
	         "{\"process\":{\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{"
	         "\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":"
	         "%u}],\"gidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":%u}]}}",
	         uh, us, gh, gs);
	return text;
}

/* A host user other than root: its uid. */
static uid_t some_user(char *name, size_t n)
{
	struct passwd *pw = getpwnam("nobody");
	if (!pw) {
		setpwent();
		while ((pw = getpwent()) && pw->pw_uid == 0)
			;
	}
	cr_assert(pw, "no host user but root");
	snprintf(name, n, "%s", pw->pw_name);
	uid_t u = pw->pw_uid;
	endpwent();
	return u;
}

/* Unowned ids on any host: no user, no subordinate range, no pool. */
#define FREE_ID 3000000000u

Test(host_ids, a_map_onto_a_host_user_is_refused)
{
	struct ctz_pol_config p = {0};
	char name[64], needle[256];
	uid_t u = some_user(name, sizeof(name));
	/* containerID 0 -> that user, size 1: the task would be that user */
	snprintf(needle, sizeof(needle),
	         "container.oci.linux.uidMappings[0]: host ids %u-%u reach the uid %u of the "
	         "host's user `%s`, not allowed for role \"web\"",
	         (unsigned)u, (unsigned)u, (unsigned)u, name);
	refused(&p, maps(u, 1, FREE_ID, 1), needle);
	/* a wide range over it, from below */
	snprintf(needle, sizeof(needle), "host ids %u-%u reach the uid", (unsigned)u - 10,
	         (unsigned)u + 9);
	refused(&p, maps(u - 10, 20, FREE_ID, 1), needle);
	/* unowned ids are anyone's */
	allowed(&p, maps(FREE_ID, 65536, FREE_ID, 65536));
	p.allow_host_ids = "db,web";
	allowed(&p, maps(u, 1, FREE_ID, 1));
}

Test(host_ids, a_map_into_the_agents_pool_is_refused)
{
	struct ctz_pol_config p = {.userns_first = 1879048192u, .userns_count = 67108864u};
	/* the last id of the pool, for uids and for gids */
	refused(&p, maps(1946157055u, 10, FREE_ID, 1),
	        "container.oci.linux.uidMappings[0]: host ids 1946157055-1946157064 reach the "
	        "agent's pool of ids for root tasks (--userns_range 1879048192-1946157055: "
	        "other tasks' ids)");
	refused(&p, maps(FREE_ID, 1, 1879048000u, 65536),
	        "container.oci.linux.gidMappings[0]: host ids 1879048000-1879113535 reach the "
	        "agent's pool");
	/* next to it is free */
	allowed(&p, maps(1946157056u, 65536, 1879048192u - 65536, 65536));
	p.allow_host_ids = "*";
	allowed(&p, maps(1879048192u, 65536, 1879048192u, 65536));
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/agora-hostids-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(host_ids, a_map_over_a_subordinate_range_is_refused)
{
	char *subuid = write_tmp("alice:100000:65536\n# nothing\nbob:165536:65536\n");
	char *subgid = write_tmp("alice:300000:65536\n");
	struct ctz_pol_config p = {.subuid_path = subuid, .subgid_path = subgid};
	char needle[512];
	snprintf(needle, sizeof(needle),
	         "container.oci.linux.uidMappings[0]: host ids 200000-200009 reach the "
	         "subordinate ids of `%s` line 3 (`bob:165536:65536`: that user's)",
	         subuid);
	refused(&p, maps(200000, 10, FREE_ID, 1), needle);
	snprintf(needle, sizeof(needle),
	         "container.oci.linux.gidMappings[0]: host ids 365535-365535 reach the "
	         "subordinate ids of `%s` line 1",
	         subgid);
	refused(&p, maps(FREE_ID, 1, 365535, 1), needle);
	/* the uid files's range for gids and the other way round: free */
	allowed(&p, maps(300000, 65536, 100000, 65536));
	p.allow_host_ids = "web";
	allowed(&p, maps(100000, 65536, 300000, 65536));
	unlink(subuid);
	unlink(subgid);
	free(subuid);
	free(subgid);
}

Test(host_ids, the_first_map_that_reaches_one_is_named)
{
	struct ctz_pol_config p = {.userns_first = 2000000000u, .userns_count = 65536};
	refused(&p,
	        "{\"process\":{\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{"
	        "\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":3000000000,"
	        "\"size\":1000},{\"containerID\":1000,\"hostID\":2000065535,\"size\":1}],"
	        "\"gidMappings\":[{\"containerID\":0,\"hostID\":3000000000,\"size\":1001}]}}",
	        "container.oci.linux.uidMappings[1]: host ids 2000065535-2000065535 reach the "
	        "agent's pool");
}

Test(host_ids, a_namespace_without_maps_or_a_joined_one_is_not_this_checks)
{
	struct ctz_pol_config p = {.userns_first = 1879048192u, .userns_count = 67108864u};
	/* no maps: the agent gives it a range of the pool */
	allowed(&p, "{\"process\":{\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{"
	            "\"type\":\"user\"}]}}");
	/* no user namespace: its uid is the host's, as before */
	allowed(&p, "{\"process\":{\"user\":{\"uid\":3000000000,\"gid\":3000000000}}}");
}
