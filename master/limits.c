/* limits.c: size bounds on the free text clients send (names, labels,
 * hostnames, URLs), checked before anything is recorded, kept, logged or
 * broadcast. Without them one SUBSCRIBE with a megabyte name costs a
 * megabyte in the registry, in every GET_FRAMEWORKS and in every operator
 * subscriber's queue. Ids have their own rules (tasks.c, proto). The bounds
 * and why they were chosen: docs/operator-api.md, "Bounds". */
#include "master/master.h"

#include <string.h>

/* Check one string against `max` bytes; `what` and `field` name it. */
static int check_len(const char *s, size_t max, const char *what, const char *field,
                     struct ag_error *err)
{
	size_t n = s ? strlen(s) : 0;
	if (n <= max)
		return 0;
	return ag_error_msg(err, EINVAL, "'%s.%s' is %zu bytes long; at most %zu are accepted",
	                    what, field, n, max);
}

static int check_labels(const struct pb_label *l, size_t n, const char *what, struct ag_error *err)
{
	if (n > MS_MAX_LABELS)
		return ag_error_msg(err, EINVAL,
		                    "'%s.labels' has %zu labels; at most %d are accepted", what, n,
		                    MS_MAX_LABELS);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(l[i].key), v = l[i].value ? strlen(l[i].value) : 0;
		if (k > MS_MAX_LABEL_KEY || v > MS_MAX_LABEL_VALUE)
			return ag_error_msg(err, EINVAL,
			                    "'%s.labels.labels[%zu].%s' is %zu bytes long; at most "
			                    "%d are accepted",
			                    what, i, k > MS_MAX_LABEL_KEY ? "key" : "value",
			                    k > MS_MAX_LABEL_KEY ? k : v,
			                    k > MS_MAX_LABEL_KEY ? MS_MAX_LABEL_KEY
			                                         : MS_MAX_LABEL_VALUE);
		total += k + v;
	}
	if (total > MS_MAX_LABELS_BYTES)
		return ag_error_msg(err, EINVAL,
		                    "'%s.labels' hold %zu bytes of keys and values; at most %d are "
		                    "accepted",
		                    what, total, MS_MAX_LABELS_BYTES);
	return 0;
}

int ms_check_framework_info_text(const struct pb_framework_info *fi, const char *what,
                                 struct ag_error *err)
{
	int r = check_len(fi->name, MS_MAX_NAME, what, "name", err);
	if (r == 0)
		r = check_len(fi->user, MS_MAX_USER, what, "user", err);
	if (r == 0)
		r = check_len(fi->hostname, MS_MAX_HOSTNAME, what, "hostname", err);
	if (r == 0)
		r = check_len(fi->principal, MS_MAX_PRINCIPAL, what, "principal", err);
	if (r == 0)
		r = check_len(fi->webui_url, MS_MAX_URL, what, "webui_url", err);
	if (r == 0)
		r = check_labels(fi->labels, fi->n_labels, what, err);
	return r;
}

int ms_check_task_info_text(const struct pb_task_info *ti, const char *what, struct ag_error *err)
{
	int r = check_len(ti->name, MS_MAX_NAME, what, "name", err);
	if (r == 0)
		r = check_labels(ti->labels, ti->n_labels, what, err);
	return r;
}

int ms_check_call_text(const struct pb_call *call, struct ag_error *err)
{
	if (call->type == PB_CALL_SUBSCRIBE)
		return ms_check_framework_info_text(&call->subscribe.framework_info,
		                                    "subscribe.framework_info", err);
	if (call->type == PB_CALL_UPDATE_FRAMEWORK)
		return ms_check_framework_info_text(&call->subscribe.framework_info,
		                                    "update_framework.framework_info", err);
	if (call->type != PB_CALL_ACCEPT)
		return 0;
	for (size_t i = 0; i < call->accept.n_operations; i++) {
		const struct pb_operation *op = &call->accept.operations[i];
		for (size_t j = 0; j < op->n_tasks; j++) {
			char what[96];
			snprintf(what, sizeof(what),
			         op->type == PB_OPERATION_LAUNCH_GROUP
			                 ? "accept.operations[%zu].launch_group.task_group.tasks[%"
			                   "zu]"
			                 : "accept.operations[%zu].launch.task_infos[%zu]",
			         i, j);
			int r = ms_check_task_info_text(&op->tasks[j], what, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ms_check_agent_text(const struct pb_agent_msg *msg, struct ag_error *err)
{
	const char *what =
	        msg->type == PB_AGENT_REREGISTER ? "reregister.agent_info" : "register.agent_info";
	const struct pb_agent_info *ai = &msg->reg.agent_info;
	int r = check_len(ai->hostname, MS_MAX_HOSTNAME, what, "hostname", err);
	if (r == 0 && ai->n_attributes > MS_MAX_LABELS)
		r = ag_error_msg(err, EINVAL,
		                 "'%s.attributes' has %zu attributes; at most %d are accepted",
		                 what, ai->n_attributes, MS_MAX_LABELS);
	for (size_t i = 0; r == 0 && i < ai->n_attributes; i++) {
		char field[48];
		snprintf(field, sizeof(field), "attributes[%zu].name", i);
		r = check_len(ai->attributes[i].name, MS_MAX_LABEL_KEY, what, field, err);
		if (r == 0) {
			snprintf(field, sizeof(field), "attributes[%zu].text.value", i);
			r = check_len(ai->attributes[i].text, MS_MAX_LABEL_VALUE, what, field, err);
		}
	}
	return r;
}

char *ms_text_truncate(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return ag_strdup(s);
	size_t keep = max;
	/* Back off UTF-8 continuation bytes: never half a character. */
	while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	return ag_asprintf("%.*s... [%zu bytes cut by the master]", (int)keep, s, n - keep);
}
