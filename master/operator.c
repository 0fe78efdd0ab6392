/* operator.c: the operator API, POST /api/v1 (reference §5), and /health.
 *
 * Only GET_HEALTH and GET_VERSION for now; the rest of the calls arrive with
 * the proto/ codec. The transport checks (Content-Type, Accept, JSON) are
 * already those the full API keeps. */
#include "master/log.h"
#include "master/master.h"

#include <string.h>

#include <jansson.h>

/* The master.Call types of the subset: a known type not served yet gets
 * 501, an unknown one 400. */
static const char *const ms__operator_calls[] = {
        "GET_HEALTH",     "GET_VERSION",   "GET_MASTER",      "GET_STATE", "GET_AGENTS",
        "GET_FRAMEWORKS", "GET_EXECUTORS", "GET_TASKS",       "GET_ROLES", "GET_WEIGHTS",
        "UPDATE_WEIGHTS", "TEARDOWN",      "MARK_AGENT_GONE", "SUBSCRIBE",
};

static void ms__reply_json_value(struct evhttp_request *req, json_t *v)
{
	/* One line, ASCII only: npm mesos-framework compares lengths in UTF-16
	 * units (reference §7). */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		abort();
	ms_http_reply_json(req, HTTP_OK, s, strlen(s));
	free(s);
}

static void ms__operator(struct evhttp_request *req, void *arg)
{
	struct ms_master *m = arg;
	(void)m;
	if (!ms_http_require_json_body(req) || !ms_http_require_json_accept(req))
		return;

	size_t len;
	const char *body = ms_http_body(req, &len);
	json_error_t jerr;
	json_t *call = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!call) {
		ms_http_reply_error(req, HTTP_BADREQUEST,
		                    "Failed to parse body into JSON: %s (line %d, column %d)",
		                    jerr.text, jerr.line, jerr.column);
		return;
	}
	json_t *type = json_object_get(call, "type");
	if (!json_is_object(call)) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Expecting a JSON object for the call");
	} else if (!type || json_is_null(type)) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Missing required fields: type");
	} else if (!json_is_string(type)) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Expecting 'type' to be a string");
	} else if (strcmp(json_string_value(type), "GET_HEALTH") == 0) {
		json_t *r = json_pack("{s:s, s:{s:b}}", "type", "GET_HEALTH", "get_health",
		                      "healthy", 1);
		ms__reply_json_value(req, r);
		json_decref(r);
	} else if (strcmp(json_string_value(type), "GET_VERSION") == 0) {
		json_t *r = json_pack("{s:s, s:{s:{s:s}}}", "type", "GET_VERSION", "get_version",
		                      "version_info", "version", AGORA_VERSION);
		ms__reply_json_value(req, r);
		json_decref(r);
	} else {
		const char *t = json_string_value(type);
		bool known = false;
		for (size_t i = 0; i < AG_ARRAY_SIZE(ms__operator_calls); i++)
			known |= strcmp(t, ms__operator_calls[i]) == 0;
		if (known)
			ms_http_reply_error(req, 501, "Call type '%s' is not implemented yet", t);
		else
			/* The name is quoted back with its length bounded: it is
			 * the client's text. */
			ms_http_reply_error(req, HTTP_BADREQUEST, "Unknown call type '%.128s'", t);
	}
	json_decref(call);
}

static void ms__health(struct evhttp_request *req, void *arg)
{
	(void)arg;
	ms_http_reply_empty(req, HTTP_OK);
}

int ms_operator_routes(struct ms_master *m)
{
	int r = ms_http_route(m->http, "/api/v1", EVHTTP_REQ_POST, ms__operator, m);
	if (r == 0)
		r = ms_http_route(m->http, "/health", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, ms__health,
		                  m);
	return r;
}
