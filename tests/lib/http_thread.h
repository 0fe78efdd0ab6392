/* http_thread.h: master/http.c's server in-process for host tests, its
 * event loop on a thread, and a raw loopback socket to it. One server at a
 * time per test process. */
#ifndef AGORA_TEST_HTTP_THREAD_H
#define AGORA_TEST_HTTP_THREAD_H

#include "master/http.h"

/* Creates an event base and a server with `o` (its ip and port: 127.0.0.1
 * and 0 when unset), calls `routes(http)` to add routes, then runs the loop
 * on a thread; every millisecond the loop calls `tick` (may be NULL) and
 * stops once ht_stop() asked it to. Asserts on any failure. Returns the
 * server (freed by ht_stop()). */
struct ms_http *ht_start(const struct ms_http_options *o, void (*routes)(struct ms_http *http),
                         void (*tick)(struct ms_http *http));
/* Stops the loop and waits for its thread, which frees the server, its
 * tick and the event base. */
void ht_stop(void);
/* A loopback TCP socket connected to the server (close-on-exec, reads time
 * out after 5 s) on which all of `request` was sent. Asserts. */
int ht_send(const char *request);

#endif
