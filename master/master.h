/* master.h: the master daemon's state, shared by main.c and the endpoint
 * handlers. The scheduler and operator logic will hang off struct ms_master
 * as it arrives. */
#ifndef AGORA_MASTER_MASTER_H
#define AGORA_MASTER_MASTER_H

#include "master/flags.h"
#include "master/http.h"
#include "master/registry.h"

#ifndef AGORA_VERSION
#define AGORA_VERSION "0.0.0"
#endif

struct ms_master {
	struct ms_flags flags;
	struct event_base *base;
	ms_http *http;
	ms_registry *registry;
	char *id; /* kept in the registry: stable across restarts */
	uint64_t start_ns;
	bool stopping;
};

/* Route the operator API (POST /api/v1) and GET /health. */
int ms_operator_routes(struct ms_master *m);

#endif
