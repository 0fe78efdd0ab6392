/* zkdetect's parsers: the ZooKeeper URL (strict, every refusal names the
 * flag and what is wrong), MasterInfo in agora's and Mesos's forms, and the
 * choice of the leading contender. */
#include "zkdetect/zkdetect.h"

#include <criterion/criterion.h>
#include <string.h>

Test(zkdetect, parses_mesos_urls)
{
	struct zkd_url u;
	struct ag_error err = {0};
	cr_assert_eq(zkd_url_parse("--master", "zk://h1:2181,10.0.0.2:2182,[::1]:2183/agora/x", &u,
	                           &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(u.servers, "h1:2181,10.0.0.2:2182,[::1]:2183");
	cr_assert_str_eq(u.path, "/agora/x");
	zkd_url_free(&u);
	cr_assert(zkd_is_url("zk://a:1/b"));
	cr_assert(!zkd_is_url("127.0.0.1:5050"));
	cr_assert(!zkd_is_url(NULL));
}

static void refused(const char *url, const char *words)
{
	struct zkd_url u = {0};
	struct ag_error err = {0};
	cr_assert_eq(zkd_url_parse("--master", url, &u, &err), -EINVAL, "`%s` was accepted", url);
	cr_assert(strstr(err.msg, "--master"), "`%s`: the flag is not named: %s", url, err.msg);
	cr_assert(strstr(err.msg, words), "`%s`: `%s` is not in: %s", url, words, err.msg);
	cr_assert_null(u.servers);
}

Test(zkdetect, refuses_bad_urls_saying_what_is_wrong)
{
	refused("http://h:1/a", "not a ZooKeeper URL");
	refused("zk://", "no ZooKeeper server");
	refused("zk:///agora", "no ZooKeeper server");
	refused("zk://h1:2181", "no path");
	refused("zk://h1:2181/", "no path");
	refused("zk://h1/agora", "has no :PORT");
	refused("zk://h1:/agora", "empty port");
	refused("zk://h1:0/agora", "not 1-65535");
	refused("zk://h1:65536/agora", "not 1-65535");
	refused("zk://h1:21x1/agora", "not 1-65535");
	refused("zk://:2181/agora", "has no host");
	refused("zk://h 1:2181/agora", "not allowed");
	refused("zk://h1:2181,/agora", "empty server");
	refused("zk://h1:2181,,h2:2181/agora", "empty server");
	refused("zk://user:pw@h1:2181/agora", "credentials");
	refused("zk://h1:2181/agora/", "trailing");
	refused("zk://h1:2181/a//b", "empty component");
	refused("zk://h1:2181/a/../b", "`..`");
	refused("zk://h1:2181/a?x=1", "character");
	refused("zk://[::1/agora", "IPv6");
	refused("zk://[nope]:1/agora", "not an IPv6");
	refused("zk://[::1]/agora", "has no :PORT");
}

static struct zkd_leader info(const char *json)
{
	struct zkd_leader l = {0};
	struct ag_error err = {0};
	cr_assert_eq(zkd_parse_master_info(json, strlen(json), "/a/json.info_1", &l, &err), 0,
	             "%s: %s", json, err.msg);
	cr_assert_str_eq(l.znode, "/a/json.info_1");
	return l;
}

Test(zkdetect, reads_master_info_as_agora_and_mesos_write_it)
{
	/* Mesos 1.x: every field; address.ip wins. */
	struct zkd_leader l = info("{\"id\":\"m1\",\"ip\":16777343,\"port\":5050,"
	                           "\"pid\":\"master@127.0.0.1:5050\",\"hostname\":\"box\","
	                           "\"address\":{\"hostname\":\"box\",\"ip\":\"10.1.2.3\","
	                           "\"port\":5050}}");
	cr_assert_str_eq(l.host, "10.1.2.3");
	cr_assert_eq(l.port, 5050);
	cr_assert_str_eq(l.id, "m1");
	zkd_leader_free(&l);
	l = info("{\"address\":{\"hostname\":\"box\",\"port\":5051}}");
	cr_assert_str_eq(l.host, "box");
	cr_assert_eq(l.port, 5051);
	cr_assert_null(l.id);
	zkd_leader_free(&l);
	/* Only the uint32: 127.0.0.1's s_addr read as a little-endian number. */
	l = info("{\"ip\":16777343,\"port\":5052}");
	cr_assert_str_eq(l.host, "127.0.0.1");
	cr_assert_eq(l.port, 5052);
	zkd_leader_free(&l);
	l = info("{\"hostname\":\"h\",\"port\":5053}");
	cr_assert_str_eq(l.host, "h");
	zkd_leader_free(&l);
	l = info("{\"pid\":\"master@10.0.0.9:5054\"}");
	cr_assert_str_eq(l.host, "10.0.0.9");
	cr_assert_eq(l.port, 5054);
	zkd_leader_free(&l);
}

Test(zkdetect, refuses_master_info_without_an_address)
{
	const char *bad[] = {"",
	                     "[]",
	                     "{",
	                     "{\"address\":{\"ip\":\"1.2.3.4\"}}",
	                     "{\"address\":{\"ip\":\"1.2.3.4\",\"port\":70000}}",
	                     "{\"ip\":16777343}",
	                     "{\"pid\":\"master@:5\"}",
	                     "{\"pid\":\"master@h:0\"}",
	                     "{\"port\":1,\"ip\":-1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zkd_leader l = {0};
		struct ag_error err = {0};
		cr_assert_eq(
		        zkd_parse_master_info(bad[i], strlen(bad[i]), "/a/json.info_7", &l, &err),
		        -EBADMSG, "`%s` was accepted", bad[i]);
		cr_assert(strstr(err.msg, "/a/json.info_7"), "%s", err.msg);
		cr_assert_null(l.host);
	}
}

Test(zkdetect, the_lowest_json_info_sequence_leads)
{
	const char *kids[] = {"json.info_0000000012", "log_replicas", "info_0000000001",
	                      "json.info_0000000010", "json.info_",   "json.info_x1",
	                      "json.info_0000000011"};
	cr_assert_eq(zkd_pick_leader(kids, 7), 3);
	cr_assert_eq(zkd_pick_leader(kids + 1, 2), -1);
	cr_assert_eq(zkd_pick_leader(NULL, 0), -1);
}
