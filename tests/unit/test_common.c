/* Unit tests for common/: errors, parsing, file helpers, the log. */
#include "agtest.h"
#include "common/common.h"
#include "common/log.h"

#include <fcntl.h>
#include <sys/stat.h>

Test(error, set_formats_message_and_appends_strerror)
{
	struct ag_error err = {0};
	int r = ag_error_set(&err, ENOENT, "open `%s`", "/nope");
	cr_assert_eq(r, -ENOENT);
	cr_assert_eq(err.code, ENOENT);
	cr_assert_str_eq(err.msg, "open `/nope`: No such file or directory");
}

Test(error, validation_error_without_errno_returns_einval)
{
	struct ag_error err = {0};
	int r = ag_error_set(&err, 0, "linux.resources.memory.limit: must be a positive integer");
	cr_assert_eq(r, -EINVAL);
	cr_assert_eq(err.code, 0);
	cr_assert_str_eq(err.msg, "linux.resources.memory.limit: must be a positive integer");
}

Test(error, msg_keeps_the_code_without_appending_strerror)
{
	struct ag_error err = {0};
	int r = ag_error_msg(&err, EEXIST, "container `%s` already exists", "c1");
	cr_assert_eq(r, -EEXIST);
	cr_assert_eq(err.code, EEXIST);
	cr_assert_str_eq(err.msg, "container `c1` already exists");
	cr_assert_eq(ag_error_msg(&err, 0, "plain"), -EINVAL);
	cr_assert_eq(ag_error_msg(NULL, -EPERM, "x"), -EPERM, "a negative errno is accepted");
}

Test(error, wrap_prefixes_context_and_keeps_code)
{
	struct ag_error err = {0};
	ag_error_set(&err, EACCES, "mount proc");
	int r = ag_error_wrap(&err, "create container `%s`", "c1");
	cr_assert_eq(r, -EACCES);
	cr_assert_str_eq(err.msg, "create container `c1`: mount proc: Permission denied");
}

Test(error, long_messages_are_truncated_not_overflowed)
{
	struct ag_error err = {0};
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ag_error_set(&err, EIO, "%s", big);
	cr_assert_eq(strlen(err.msg), sizeof(err.msg) - 1);
	ag_error_wrap(&err, "ctx");
	cr_assert_eq(strncmp(err.msg, "ctx: xxx", 8), 0);
	cr_assert_eq(strlen(err.msg), sizeof(err.msg) - 1);
}

Test(error, null_error_pointer_is_allowed)
{
	cr_assert_eq(ag_error_set(NULL, EPERM, "x"), -EPERM);
	cr_assert_eq(ag_error_wrap(NULL, "y"), -EINVAL);
}

Test(parse, u64_accepts_digits_and_one_trailing_newline)
{
	uint64_t v = 0;
	cr_assert_eq(ag_parse_u64("12345", &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(ag_parse_u64("42\n", &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(ag_parse_u64("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(parse, u64_rejects_sign_garbage_and_overflow)
{
	uint64_t v = 7;
	cr_assert_eq(ag_parse_u64("-1", &v), -EINVAL);
	cr_assert_eq(ag_parse_u64("1g", &v), -EINVAL);
	cr_assert_eq(ag_parse_u64("", &v), -EINVAL);
	cr_assert_eq(ag_parse_u64(" 1", &v), -EINVAL);
	cr_assert_eq(ag_parse_u64("4\n\n", &v), -EINVAL);
	cr_assert_eq(ag_parse_u64("18446744073709551616", &v), -ERANGE);
	cr_assert_eq(v, 7, "output must be untouched on failure");
}

Test(parse, i64_handles_negative_values)
{
	int64_t v = 0;
	cr_assert_eq(ag_parse_i64("-1000", &v), 0);
	cr_assert_eq(v, -1000);
	cr_assert_eq(ag_parse_i64("-", &v), -EINVAL);
	cr_assert_eq(ag_parse_i64("--1", &v), -EINVAL);
}

static char *make_tmpdir(void)
{
	char *t = ag_strdup("/tmp/agora-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(t));
	return t;
}

Test(fileio, atomic_write_then_read_round_trips)
{
	_cleanup_free_ char *dir = make_tmpdir();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);

	const char data[] = "{\"state\":\"running\"}";
	cr_assert_eq(ag_write_file_atomic_at(dfd, "state.json", data, strlen(data), 0600), 0);

	char *buf = NULL;
	size_t len = 0;
	cr_assert_eq(ag_read_file_at(dfd, "state.json", 1 << 20, &buf, &len), 0);
	cr_assert_eq(len, strlen(data));
	cr_assert_str_eq(buf, data);
	free(buf);

	struct stat st;
	cr_assert_eq(fstatat(dfd, "state.json", &st, 0), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	/* No temporary file is left behind. */
	cr_assert_eq(faccessat(dfd, "state.json.tmp", F_OK, 0), -1);
	unlinkat(dfd, "state.json", 0);
	rmdir(dir);
}

Test(fileio, durable_write_replaces_the_old_content)
{
	_cleanup_free_ char *dir = make_tmpdir();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_eq(ag_write_file_durable_at(dfd, "f", "old", 3, 0644), 0);
	cr_assert_eq(ag_write_file_durable_at(dfd, "f", "new!", 4, 0644), 0);
	char *buf = NULL;
	cr_assert_eq(ag_read_file_at(dfd, "f", 100, &buf, NULL), 0);
	cr_assert_str_eq(buf, "new!");
	free(buf);
	unlinkat(dfd, "f", 0);
	rmdir(dir);
}

Test(fileio, read_refuses_files_over_the_limit_and_symlinks)
{
	_cleanup_free_ char *dir = make_tmpdir();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char big[10000];
	memset(big, 'a', sizeof(big));
	cr_assert_eq(ag_write_file_atomic_at(dfd, "big", big, sizeof(big), 0600), 0);

	char *buf = NULL;
	cr_assert_eq(ag_read_file_at(dfd, "big", 5000, &buf, NULL), -EFBIG);
	cr_assert_null(buf);
	cr_assert_eq(ag_read_file_at(dfd, "big", sizeof(big), &buf, NULL), 0);
	free(buf);

	cr_assert_eq(symlinkat("big", dfd, "link"), 0);
	buf = NULL;
	cr_assert_eq(ag_read_file_at(dfd, "link", 1 << 20, &buf, NULL), -ELOOP);
	cr_assert_eq(ag_write_file_at(dfd, "link", "x", 1), -ELOOP);

	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "big", 0);
	rmdir(dir);
}

Test(cleanup, take_fd_hands_off_ownership)
{
	int kept;
	{
		_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		cr_assert_geq(fd, 0);
		kept = TAKE_FD(fd);
		cr_assert_eq(fd, -1);
	}
	/* Still open: the cleanup saw -1. */
	cr_assert_eq(fcntl(kept, F_GETFD), FD_CLOEXEC);
	close(kept);
	cr_assert_eq(fcntl(kept, F_GETFD), -1);
}

Test(log, levels_parse_in_any_case_and_have_names)
{
	enum ag_log_level l = AG_LOG_ERROR;
	cr_assert_eq(ag_log_level_parse("DEBUG", &l), 0);
	cr_assert_eq(l, AG_LOG_DEBUG);
	cr_assert_eq(ag_log_level_parse("warning", &l), 0);
	cr_assert_eq(l, AG_LOG_WARN);
	cr_assert_eq(ag_log_level_parse("Warn", &l), 0);
	cr_assert_eq(l, AG_LOG_WARN);
	cr_assert_eq(ag_log_level_parse("loud", &l), -EINVAL);
	cr_assert_eq(ag_log_level_parse(NULL, &l), -EINVAL);
	cr_assert_eq(l, AG_LOG_WARN, "written only on success");
	cr_assert_str_eq(ag_log_level_name(AG_LOG_INFO), "INFO");
	cr_assert_str_eq(ag_log_level_name((enum ag_log_level)42), "?");
}

/* One timestamped line per message, below the level nothing. */
Test(log, lines_carry_a_utc_timestamp_and_the_level)
{
	char path[] = "/tmp/agora-log-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ag_log_set_level(AG_LOG_INFO);
	ag_debug("not shown");
	errno = EAGAIN;
	ag_info("task `%s`: %s", "t1", "TASK_RUNNING");
	cr_expect_eq(errno, EAGAIN, "errno is preserved");
	ag_log_set_level(AG_LOG_DEBUG);
	ag_debug("shown");
	ag_warn("task `%s`: %s", "a\nb", "x\r\t\x7f\xc3\xa9");
	dup2(saved, STDERR_FILENO);
	close(saved);
	char buf[512] = {0};
	cr_assert(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	close(fd);
	unlink(path);
	int y, mo, d, h, mi, s, ms, n = 0;
	cr_assert_eq(
	        sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &y, &mo, &d, &h, &mi, &s, &ms, &n),
	        7, "%s", buf);
	cr_expect_eq(n, 25, "%s", buf);
	const char *second = strchr(buf, '\n');
	cr_assert(second, "%s", buf);
	cr_expect_eq(strncmp(buf + 25, "INFO  task `t1`: TASK_RUNNING\n", 30), 0, "%s", buf);
	const char *third = strchr(second + 1, '\n');
	cr_assert(third, "%s", buf);
	cr_expect_eq(strncmp(second + 1 + 25, "DEBUG shown\n", 12), 0, "%s", buf);
	/* a control character in what the message quotes cannot start a line */
	cr_expect_str_eq(third + 1 + 25, "WARN  task `a?b`: x???\xc3\xa9\n", "%s", buf);
	cr_expect(!strstr(buf, "not shown"), "%s", buf);
}
