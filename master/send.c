/* send.c: records out of the master: events on a framework's or an
 * agent's stream, operator events to every subscriber, and the answer to a
 * request body a decoder refused. */
#include "master/master.h"

#include <string.h>

static void stream_send(struct ms_stream *s, json_t *ev)
{
	size_t len;
	char *text = pb_json_dump(ev, &len);
	/* -EPIPE / -ENOBUFS: the stream is closing; its close callback
	 * disconnects the owner. */
	AG_IGNORE_RESULT(ms_stream_send(s, text, len));
	free(text);
}

void ms_framework_send(struct ms_framework *fw, json_t *ev)
{
	if (fw->stream)
		stream_send(fw->stream, ev);
	json_decref(ev);
}

void ms_framework_send_update_text(struct ms_framework *fw, const char *status_text)
{
	if (!fw->stream)
		return;
	static const char head[] = "{\"type\":\"UPDATE\",\"update\":{\"status\":";
	size_t n = strlen(status_text);
	char *text = ag_malloc(sizeof(head) - 1 + n + 3);
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, status_text, n);
	memcpy(text + sizeof(head) - 1 + n, "}}", 3);
	/* Refused: the stream is closing (as in stream_send); the
	 * update stays unacknowledged and the agent sends it again. */
	AG_IGNORE_RESULT(ms_stream_send(fw->stream, text, sizeof(head) - 1 + n + 2));
	free(text);
}

void ms_agent_send(struct ms_agent *a, json_t *msg)
{
	if (a->stream)
		stream_send(a->stream, msg);
	json_decref(msg);
}

void ms_operator_broadcast(struct ms_master *m, json_t *ev)
{
	/* Serialized once for every subscriber, and queued by reference when
	 * large: a thousand subscribers cost one copy of the event. */
	if (m->n_subscribers) {
		size_t len;
		char *text = pb_json_dump(ev, &len);
		struct ms_record *rec = ms_record_new(text, len);
		free(text);
		/* A stream refused here is closed from the loop, later: the
		 * array does not change under this walk. */
		for (size_t i = 0; i < m->n_subscribers; i++)
			AG_IGNORE_RESULT(ms_stream_send_record(m->subscribers[i], rec));
		ms_record_unref(rec);
	}
	json_decref(ev);
}

void ms_reply_decode_error(struct evhttp_request *req, int rc, const struct ag_error *err,
                           const char *body, size_t len)
{
	/* An unknown enum name reads as a missing `type` to the decoders;
	 * name the client's type back (bounded: it is the client's text). */
	json_t *j = rc == -EINVAL && strcmp(err->msg, "Expecting 'type' to be present") == 0
	                    ? json_loadb(body, len, 0, NULL)
	                    : NULL;
	const char *t = json_string_value(json_object_get(j, "type"));
	if (t)
		ms_http_reply_error(req, HTTP_BADREQUEST, "Unknown call type '%.128s'", t);
	else
		ms_http_reply_error(req, rc == -EMSGSIZE ? HTTP_ENTITYTOOLARGE : HTTP_BADREQUEST,
		                    "%s", err->msg);
	json_decref(j);
}
