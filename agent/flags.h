/* flags.h: the agent's flag values in the Mesos formats, and its log level
 * (pure: no I/O), unit-tested in tests/unit/test_agent_flags.c. */
#ifndef AGORA_AGENT_FLAGS_H
#define AGORA_AGENT_FLAGS_H

#include "common/common.h"
#include "common/log.h"

#include <jansson.h>
#include <stdint.h>

/* Mesos agent attributes, "name:value;name:value" (';' or newline apart),
 * each value typed as Mesos's values::parse types it (spaces removed):
 *   [a-b,c-d]  RANGES (non-negative integers, sorted and coalesced)
 *   {x,y}      SET
 *   a number   SCALAR
 *   else       TEXT
 * *ret is a new JSON array of mesos.v1.Attribute objects (for AgentInfo),
 * owned by the caller; an empty text gives an empty array. Errors name the
 * attribute (or its position when the name is what is wrong). */
AG_WARN_UNUSED int flg_parse_attributes(const char *text, json_t **ret, struct ag_error *err);

/* --log_level: debug, info, warning (or warn), error, in any case, as the
 * master takes it. 0 with *ret set; -EINVAL with a message naming the flag
 * (*ret untouched). */
AG_WARN_UNUSED int flg_parse_log_level(const char *text, enum ag_log_level *ret,
                                       struct ag_error *err);

#endif
