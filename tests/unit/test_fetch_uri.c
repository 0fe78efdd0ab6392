/* The fetcher's pure part (fetcher/uri.c): what a URI is, the name it is
 * saved as in the sandbox, archives, cache keys, and the checks that
 * answer a bad CommandInfo.URI with the field named. */
#include "agent/flags.h"
#include "fetcher/fetcher.h"

#include <criterion/criterion.h>
#include <string.h>

Test(fetch_uri, kinds_by_scheme)
{
	cr_expect_eq(fetch_uri_kind("http://h/x"), FETCH_KIND_HTTP);
	cr_expect_eq(fetch_uri_kind("HTTPS://h:8/x?q"), FETCH_KIND_HTTP);
	cr_expect_eq(fetch_uri_kind("file:///a/b"), FETCH_KIND_FILE);
	cr_expect_eq(fetch_uri_kind("/a/b"), FETCH_KIND_FILE);
	cr_expect_eq(fetch_uri_kind("fw/bin.tgz"), FETCH_KIND_RELATIVE);
	cr_expect_eq(fetch_uri_kind("bin"), FETCH_KIND_RELATIVE);
	cr_expect_eq(fetch_uri_kind("ftp://h/x"), FETCH_KIND_BAD);
	cr_expect_eq(fetch_uri_kind("hdfs://nn/x"), FETCH_KIND_BAD);
	cr_expect_eq(fetch_uri_kind("file://host/x"), FETCH_KIND_BAD);
	cr_expect_eq(fetch_uri_kind("http://"), FETCH_KIND_BAD);
	cr_expect_eq(fetch_uri_kind(""), FETCH_KIND_BAD);
	cr_expect_eq(fetch_uri_kind(NULL), FETCH_KIND_BAD);
}

static void expect_name(const char *value, const char *output, const char *want)
{
	struct fetch_uri u = {.value = value, .output_file = output};
	char *got = fetch_output_name(&u);
	if (!want)
		cr_expect_null(got, "%s / %s gave `%s`", value, output ? output : "-", got);
	else
		cr_expect(got && strcmp(got, want) == 0, "%s / %s gave `%s`, not `%s`", value,
		          output ? output : "-", got ? got : "(null)", want);
	free(got);
}

Test(fetch_uri, output_name_is_the_last_path_component_or_output_file)
{
	expect_name("http://h:80/a/b/tool.tar.gz?sig=x#f", NULL, "tool.tar.gz");
	expect_name("http://h/run.sh", NULL, "run.sh");
	expect_name("file:///opt/x/data.zip", NULL, "data.zip");
	expect_name("/opt/x/data", NULL, "data");
	expect_name("fw/exec", NULL, "exec");
	expect_name("http://h/dir/", NULL, NULL);
	expect_name("http://h", NULL, NULL);
	expect_name("http://h/..", NULL, NULL);
	expect_name("http://h/x", "bin/tool", "bin/tool");
	expect_name("http://h/x", "name", "name");
	expect_name("http://h/x", "/etc/passwd", NULL);
	expect_name("http://h/x", "../up", NULL);
	expect_name("http://h/x", "a/../../up", NULL);
	expect_name("http://h/x", "a//b", NULL);
	expect_name("http://h/x", "a/", NULL);
	expect_name("http://h/x", ".", NULL);
	expect_name("http://h/x", "", NULL);
}

Test(fetch_uri, archives_by_suffix)
{
	const char *yes[] = {"a.tar",  "a.tar.gz", "a.TGZ", "a.tar.bz2",
	                     "a.tbz2", "a.tar.xz", "a.txz", "a.zip"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		cr_expect(fetch_is_archive(yes[i]), "%s", yes[i]);
	const char *no[] = {"a.gz", "a.sh", "tar", ".zip", "a.jar", "zip"};
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		cr_expect(!fetch_is_archive(no[i]), "%s", no[i]);
}

Test(fetch_uri, cache_keys_differ_by_user_and_uri)
{
	char *a = fetch_cache_key(1000, "http://h/x");
	char *b = fetch_cache_key(1000, "http://h/x");
	char *c = fetch_cache_key(1001, "http://h/x");
	char *d = fetch_cache_key(1000, "http://h/y");
	cr_expect_eq(strlen(a), 16);
	cr_expect_eq(strspn(a, "0123456789abcdef"), 16);
	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, c);
	cr_expect_str_neq(a, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void expect_refused(const char *value, const char *output, const char *home,
                           const char *needle)
{
	struct fetch_uri u = {.value = value, .output_file = output};
	struct ag_error err = {0};
	cr_expect_eq(fetch_uri_check(&u, home, "task.command.uris[2]", &err), -EINVAL,
	             "%s accepted", value ? value : "(null)");
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
}

Test(fetch_uri, bad_uris_are_refused_naming_the_field)
{
	expect_refused(NULL, NULL, NULL, "task.command.uris[2].value: empty");
	expect_refused("", NULL, NULL, "task.command.uris[2].value: empty");
	expect_refused("ftp://h/x", NULL, NULL,
	               "task.command.uris[2].value: `ftp://h/x`: not supported");
	expect_refused("fw/x", NULL, NULL,
	               "task.command.uris[2].value: `fw/x` is a relative path and "
	               "the agent has no --frameworks_home");
	expect_refused("../x", NULL, "/srv/fw", "must stay under --frameworks_home");
	expect_refused("http://h/x", "../x", NULL, "task.command.uris[2].output_file: `../x`");
	expect_refused("http://h/x", "/abs", NULL, "task.command.uris[2].output_file: `/abs`");
	expect_refused("http://h/", NULL, NULL,
	               "task.command.uris[2].value: `http://h/`: no file name");
	expect_refused("http://h/a\nb", NULL, NULL, "a control character");
}

Test(fetch_uri, good_uris_pass)
{
	struct ag_error err = {0};
	struct fetch_uri ok[] = {
	        {.value = "http://127.0.0.1:8/x.tgz", .extract = true},
	        {.value = "file:///srv/a"},
	        {.value = "/srv/a", .output_file = "b/c"},
	        {.value = "fw/bin", .executable = true},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		cr_expect_eq(fetch_uri_check(&ok[i], "/srv/fw", "u", &err), 0, "%s: %s",
		             ok[i].value, err.msg);
}

/* The agent's fetcher flags (agent/flags.c). */
Test(fetch_uri, agent_fetcher_flags)
{
	struct agent_flags f;
	agent_flags_init(&f);
	struct ag_error err = {0};
	char a0[] = "agora-agent", a1[] = "--frameworks_home=/srv/fw",
	     a2[] = "--fetcher_cache_size", a3[] = "3000B", a4[] = "--fetcher_max_size=1MiB",
	     a5[] = "--fetcher_stall_timeout=2secs", b1[] = "--fetcher_cache_size=lots";
	char *argv[] = {a0, a1, a2, a3, a4, a5};
	cr_assert_eq(agent_flags_parse(&f, 6, argv, &err), 0, "%s", err.msg);
	cr_expect_str_eq(f.frameworks_home, "/srv/fw");
	cr_expect_eq(f.fetcher_cache_size, 3000);
	cr_expect_eq(f.fetcher_max_size, 1 << 20);
	cr_expect_eq(f.fetcher_stall_timeout_ns, 2000000000ULL);
	agent_flags_free(&f);
	agent_flags_init(&f);
	char *bad[] = {a0, b1};
	cr_expect_lt(agent_flags_parse(&f, 2, bad, &err), 0);
	cr_expect(strstr(err.msg, "--fetcher_cache_size"), "%s", err.msg);
	agent_flags_free(&f);
}
