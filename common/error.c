/* error.c: ag_error, an errno with a message that a user can act on. */
#include "common/common.h"

#include <string.h>

static int error_ret(const struct ag_error *err, int errnum)
{
	int code = err ? err->code : errnum;
	return code ? -code : -EINVAL;
}

/* Both setters: format the message, and with `with_strerror` append
 * ": <strerror(errnum)>" when there is room and an errno. */
AG_PRINTF(4, 0)
static int error_vset(struct ag_error *err, int errnum, bool with_strerror, const char *fmt,
                      va_list ap)
{
	if (errnum < 0)
		errnum = -errnum;
	if (!err)
		return errnum ? -errnum : -EINVAL;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		err->msg[0] = '\0';
	else if ((size_t)n >= sizeof(err->msg))
		n = (int)sizeof(err->msg) - 1;
	if (with_strerror && errnum && n >= 0 && (size_t)n < sizeof(err->msg) - 1)
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	err->code = errnum;
	return error_ret(err, errnum);
}

int ag_error_set(struct ag_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, errnum, true, fmt, ap);
	va_end(ap);
	return r;
}

int ag_error_msg(struct ag_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, errnum, false, fmt, ap);
	va_end(ap);
	return r;
}

int ag_error_wrap(struct ag_error *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;

	char prefix[AG_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_ret(err, err->code);

	/* Truncation is fine (the start of the message matters most); build
	 * "prefix: old" by hand so the compiler sees no overflow. */
	size_t plen = (size_t)n < sizeof(prefix) ? (size_t)n : sizeof(prefix) - 1;
	if (plen > sizeof(err->msg) - 3)
		plen = sizeof(err->msg) - 3;
	size_t olen = strnlen(err->msg, sizeof(err->msg) - 1);
	size_t room = sizeof(err->msg) - 1 - plen - 2;
	if (olen > room)
		olen = room;
	memmove(err->msg + plen + 2, err->msg, olen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen] = ':';
	err->msg[plen + 1] = ' ';
	err->msg[plen + 2 + olen] = '\0';
	return error_ret(err, err->code);
}

void ag_error_clear(struct ag_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
