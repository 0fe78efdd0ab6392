/* Unit tests of the agent secret's pieces (docs/agent-protocol.md, Agent
 * secret): REGISTERED's agent_secret in the agent protocol's codec, and the
 * registry's agents.secret (schema 2 and on, migrated from 1) and file modes. */
#include "master/registry.h"
#include "proto/proto.h"
#include "registry_test.h"
#include "tmpdir.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- proto ------------------------------------------------------------------ */

static int decode_registered(const char *secret_json, struct pb_agent_msg *m, struct ag_error *err)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"REGISTERED\",\"registered\":{\"agent_id\":{\"value\":\"S0\"},"
	         "\"agent_secret\":%s}}",
	         secret_json);
	return pb_agent_msg_decode(buf, strlen(buf), m, err);
}

Test(secrets, registered_carries_the_secret_and_round_trips)
{
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(decode_registered("\"" SECRET "\"", &m, &err), 0, "%s", err.msg);
	cr_expect_str_eq(m.registered.agent_secret, SECRET);
	char *text = pb_agent_msg_encode(&m, NULL);
	cr_expect(strstr(text, "\"agent_secret\":\"" SECRET "\""), "%s", text);
	free(text);
	pb_agent_msg_free(&m);

	/* Optional: a REGISTERED without one has none. */
	const char *none =
	        "{\"type\":\"REGISTERED\",\"registered\":{\"agent_id\":{\"value\":\"S0\"}}}";
	cr_assert_eq(pb_agent_msg_decode(none, strlen(none), &m, &err), 0, "%s", err.msg);
	cr_expect_null(m.registered.agent_secret);
	text = pb_agent_msg_encode(&m, NULL);
	cr_expect_null(strstr(text, "agent_secret"), "%s", text);
	free(text);
	pb_agent_msg_free(&m);
}

Test(secrets, registered_with_a_secret_of_another_form_is_refused_naming_it)
{
	/* It goes into a header and a file as it is: nothing but 64
	 * lower-case hex digits. */
	const char *bad[] = {
	        "\"" SECRET "0\"",      /* 65 */
	        "\"0123456789abcdef\"", /* 16 */
	        "\"\"",                 /* empty */
	        "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"",
	        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\\r\\n\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb_agent_msg m = {0};
		struct ag_error err = {0};
		cr_expect_eq(decode_registered(bad[i], &m, &err), -EINVAL, "%s was taken", bad[i]);
		cr_expect(strstr(err.msg, "registered.agent_secret"), "%s: %s", bad[i], err.msg);
		pb_agent_msg_free(&m);
	}
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_expect_lt(decode_registered("42", &m, &err), 0);
	cr_expect(strstr(err.msg, "agent_secret"), "%s", err.msg);
	pb_agent_msg_free(&m);
	/* A NUL in it does not even parse. */
	cr_expect_lt(decode_registered("\"0123456789abcdef0123456789abcdef0123456789abcdef"
	                               "0123456789abcde\\u0000\"",
	                               &m, &err),
	             0);
	pb_agent_msg_free(&m);
}

Test(secrets, the_form_of_a_secret)
{
	cr_expect(pb_agent_secret_valid(SECRET));
	cr_expect_not(pb_agent_secret_valid(NULL));
	cr_expect_not(pb_agent_secret_valid(""));
	cr_expect_not(pb_agent_secret_valid(SECRET "a"));
	cr_expect_not(pb_agent_secret_valid(&SECRET[1])); /* one digit short */
	cr_expect_not(pb_agent_secret_valid(
	        "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

/* ---- registry ---------------------------------------------------------------- */

static char dir[256];

static void setup(void)
{
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-secrets"), 0);
}

static void teardown(void)
{
	(void)td_remove(dir);
}

static struct ms_registry *open_reg(void)
{
	return rgt_open(dir, MS_REGISTRY_SYNC_FULL, NULL);
}

struct seen {
	char secret[2][80];
	bool null[2];
	int n;
};

static int collect(const struct ms_registry_agent *a, void *arg)
{
	struct seen *s = arg;
	cr_assert_lt(s->n, 2);
	s->null[s->n] = a->secret == NULL;
	snprintf(s->secret[s->n], sizeof(s->secret[0]), "%s", a->secret ? a->secret : "");
	s->n++;
	return 0;
}

static mode_t mode_of(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

Test(secrets, the_registry_keeps_an_agents_secret, .init = setup, .fini = teardown)
{
	struct ms_registry *reg = open_reg();
	struct ag_error err = {0};
	struct ms_registry_agent a = {
	        .id = "S0", .hostname = "h", .info_json = "{}", .secret = SECRET};
	struct ms_registry_agent b = {.id = "S1", .hostname = "h", .info_json = "{}"};
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_agent_put(reg, &b, &err), 0, "%s", err.msg);
	ms_registry_close(reg);

	reg = open_reg();
	struct seen s = {0};
	cr_assert_eq(ms_registry_agents_foreach(reg, collect, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.n, 2);
	cr_expect_str_eq(s.secret[0], SECRET);
	cr_expect(s.null[1], "an agent without a secret read back with one");
	/* Written again (a re-registration), it keeps what it is given. */
	a.hostname = "h2";
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
	s = (struct seen){0};
	cr_assert_eq(ms_registry_agents_foreach(reg, collect, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.secret[0], SECRET);
	cr_expect_eq(mode_of("registry.db"), 0600, "registry.db is %o", mode_of("registry.db"));
	cr_expect_eq(mode_of("registry.db-wal"), 0600, "registry.db-wal is %o",
	             mode_of("registry.db-wal"));
	ms_registry_close(reg);
}

Test(secrets, a_schema_1_registry_is_migrated_and_made_private, .init = setup, .fini = teardown)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/registry.db", dir);
	rgt_create_v1(path, "INSERT INTO agents VALUES ('S-old', 'h', '{}', 7, 0);");

	struct ms_registry *reg = open_reg();
	cr_expect_eq(ms_registry_schema_version(reg), MS_REGISTRY_SCHEMA_VERSION);
	cr_expect_eq(mode_of("registry.db"), 0600, "registry.db is %o", mode_of("registry.db"));
	struct seen s = {0};
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_agents_foreach(reg, collect, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.n, 1, "the agent of schema 1 was lost");
	cr_expect(s.null[0]);
	struct ms_registry_agent a = {.id = "S-old",
	                              .hostname = "h",
	                              .info_json = "{}",
	                              .registered_at_ns = 7,
	                              .secret = SECRET};
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
	s = (struct seen){0};
	cr_assert_eq(ms_registry_agents_foreach(reg, collect, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.secret[0], SECRET);
	ms_registry_close(reg);
}
