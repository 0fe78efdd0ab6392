/* proto_check.h: assertions on proto/'s decoders shared by the unit tests.
 * Header only. */
#ifndef AGORA_TEST_PROTO_CHECK_H
#define AGORA_TEST_PROTO_CHECK_H

#include "proto/proto.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

/* `decode` (a decoder of `type`s) refuses `text` with -EINVAL and exactly
 * the message `msg`. */
#define PT_REFUSED(decode, type, text, msg)                                                        \
	do {                                                                                       \
		type _v = {0};                                                                     \
		struct ag_error _e = {0};                                                          \
		int _r = decode((text), strlen(text), &_v, &_e);                                   \
		cr_assert_eq(_r, -EINVAL, #decode " accepted: %s", (text));                        \
		cr_expect_str_eq(_e.msg, (msg));                                                   \
	} while (0)

/* pb_call_decode refuses `text` with `msg`. */
static inline void pt_call_refused(const char *text, const char *msg)
{
	PT_REFUSED(pb_call_decode, struct pb_call, text, msg);
}

/* pb_call_decode_lean refuses `text` with `msg`. */
static inline void pt_call_refused_lean(const char *text, const char *msg)
{
	PT_REFUSED(pb_call_decode_lean, struct pb_call, text, msg);
}

/* pb_agent_msg_decode_lean refuses `text` with `msg`. */
static inline void pt_agent_msg_refused_lean(const char *text, const char *msg)
{
	PT_REFUSED(pb_agent_msg_decode_lean, struct pb_agent_msg, text, msg);
}

#endif
