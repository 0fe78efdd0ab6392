/* scheduler.c: POST /api/v1/scheduler (reference §1-§3): decoding, the
 * status-code rules in the order Mesos checks them, and dispatch. */
#include "common/log.h"
#include "master/master.h"

#include <string.h>

static void scheduler(struct evhttp_request *req, void *arg)
{
	struct ms_master *m = arg;
	if (!ms_http_require_json_body(req))
		return;
	size_t len;
	const char *body = ms_http_body(req, &len);
	struct pb_call call = {0};
	struct ag_error err = {0};
	int rc = pb_call_decode_lean(body, len, &call, &err);
	if (rc < 0) {
		ms_reply_decode_error(req, rc, &err, body, len);
		return;
	}
	if (ms_check_call_text(&call, &err) < 0) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "%s", err.msg);
		pb_call_free(&call);
		return;
	}
	if (call.type == PB_CALL_SUBSCRIBE) {
		ms_framework_subscribe(m, req, &call);
		pb_call_free(&call);
		return;
	}
	struct ms_framework *fw = ms_framework_find(m, call.framework_id);
	const char *sid = ms_http_header(req, "Mesos-Stream-Id");
	if (!call.framework_id) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Expecting 'framework_id' to be present");
	} else if (!fw) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Framework cannot be found");
	} else if (!fw->stream) {
		ms_http_reply_error(req, 403, "Framework is not subscribed");
	} else if (!sid) {
		ms_http_reply_error(req, HTTP_BADREQUEST,
		                    "All non-subscribe calls should include the 'Mesos-Stream-Id' "
		                    "header");
	} else if (strcmp(sid, fw->stream_id) != 0) {
		ms_http_reply_error(req, HTTP_BADREQUEST,
		                    "The stream ID '%.128s' included in this request didn't match "
		                    "the stream ID currently associated with framework ID %s",
		                    sid, fw->id);
	} else if (call.type == PB_CALL_ACKNOWLEDGE && call.acknowledge.uuid.len != PB_UUID_LEN) {
		ms_http_reply_error(req, HTTP_BADREQUEST,
		                    "'acknowledge.uuid' must be %d bytes, not %zu", PB_UUID_LEN,
		                    call.acknowledge.uuid.len);
	} else {
		switch (call.type) {
		case PB_CALL_TEARDOWN: {
			/* Accepted only once recorded (`fw` is gone after). */
			if (ms_framework_remove(m, fw, "TEARDOWN by the framework", &err) < 0)
				ms_reply_unwritable(req, "Cannot record the framework's removal",
				                    &err);
			else
				ms_http_reply_empty(req, 202);
			pb_call_free(&call);
			return;
		}
		case PB_CALL_ACCEPT:
			ms_accept(m, fw, &call.accept, false);
			break;
		case PB_CALL_DECLINE:
			ms_accept(m, fw, &call.decline, true);
			break;
		case PB_CALL_REVIVE:
			if (!call.revive.n_roles)
				ms_alloc_check(drf_framework_revive(m->alloc, fw->id, NULL),
				               "revive framework", fw->id);
			/* As Mesos: a role it does not subscribe to is ignored. */
			for (size_t i = 0; i < call.revive.n_roles; i++)
				if (drf_framework_revive(m->alloc, fw->id, call.revive.roles[i]) <
				    0)
					ag_warn("framework %s: REVIVE of role `%s`, not one of its "
					        "roles: ignored",
					        fw->id, call.revive.roles[i]);
			ms_allocate_soon(m);
			break;
		case PB_CALL_SUPPRESS:
			if (!call.suppress.n_roles)
				ms_alloc_check(drf_framework_suppress(m->alloc, fw->id, NULL),
				               "suppress framework", fw->id);
			for (size_t i = 0; i < call.suppress.n_roles; i++)
				if (drf_framework_suppress(m->alloc, fw->id,
				                           call.suppress.roles[i]) < 0)
					ag_warn("framework %s: SUPPRESS of role `%s`, not one of "
					        "its "
					        "roles: ignored",
					        fw->id, call.suppress.roles[i]);
			break;
		case PB_CALL_KILL:
			ms_kill(m, fw, &call);
			break;
		case PB_CALL_ACKNOWLEDGE:
			if (ms_task_acknowledge(m, fw, call.acknowledge.task_id,
			                        call.acknowledge.uuid.data) < 0)
				ag_debug("framework %s: acknowledgement of an unknown update of "
				         "task %s",
				         fw->id, call.acknowledge.task_id);
			break;
		case PB_CALL_RECONCILE:
			ms_reconcile(m, fw, &call);
			break;
		case PB_CALL_MESSAGE:
			/* Best effort, as in Mesos (answered 202 either way). */
			ms_executor_message(m, fw, &call);
			break;
		case PB_CALL_SHUTDOWN:
			ms_executor_shutdown(m, fw, &call);
			break;
		case PB_CALL_REQUEST:
			/* Ignored by Mesos too. */
			break;
		default:
			ms_http_reply_error(req, 501, "Call type %s is not supported",
			                    pb_call_type_name(call.type));
			pb_call_free(&call);
			return;
		}
		ms_http_reply_empty(req, 202);
	}
	pb_call_free(&call);
}

int ms_scheduler_routes(struct ms_master *m)
{
	return ms_http_route(m->http, "/api/v1/scheduler", EVHTTP_REQ_POST, scheduler, m);
}
