/* The HTTP front: listeners on libmicrohttpd, a declarative route table, body limits, CORS,
 * JSON replies and suspend/resume for work finished on another thread. It knows nothing of
 * customer data; handlers come from collect/ and api/. */
#ifndef CDP_HTTP_HTTP_H
#define CDP_HTTP_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct cdp_http_server;
struct cdp_http_req;

typedef void (*cdp_http_fn)(struct cdp_http_req *req, void *app);

struct cdp_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/event-source/{id}": {name} matches one path segment */
    cdp_http_fn fn;
    unsigned roles; /* opaque to http: bitmask the guard checks; 0 = public */
};

/* The one bit of roles that http reads: the route takes bodies up to the listener's
 * max_bulk_body (bulk imports), and its guard runs as soon as the headers are in, so only a
 * client the guard lets through can make the listener hold a body that large. */
#define CDP_ROUTE_BULK (1u << 31)

/* Called before a route with roles != 0 runs; returns false after replying (e.g. 401). */
typedef bool (*cdp_http_guard_fn)(struct cdp_http_req *req, const struct cdp_route *route,
                                  void *app);

struct cdp_http_opts {
    const char *name;   /* for logs: "collector", "admin" */
    const char *listen; /* "host:port"; port 0 picks a free one */
    size_t max_body;
    size_t max_bulk_body; /* of CDP_ROUTE_BULK routes; 0 = max_body */
    unsigned threads;     /* 1 = one epoll thread */
    bool cors;            /* answer preflight, allow any origin (the collector, as Tracardi) */
    const struct cdp_route *routes;
    size_t nroutes;
    cdp_http_guard_fn guard;
    cdp_http_fn fallback; /* runs when no route matches a GET or HEAD (static files); may be NULL */
    void *app;
};

int cdp_http_start(struct cdp_http_server **out, const struct cdp_http_opts *o, char *err,
                   size_t errlen);
/* Stops accepting connections; open ones are still served until cdp_http_stop. */
void cdp_http_quiesce(struct cdp_http_server *s);
void cdp_http_stop(struct cdp_http_server *s);
unsigned cdp_http_port(const struct cdp_http_server *s);

/* Request accessors. Strings live as long as the request. */
const char *cdp_http_method(const struct cdp_http_req *r);
const char *cdp_http_path(const struct cdp_http_req *r);
const char *cdp_http_param(const struct cdp_http_req *r, unsigned i); /* {name} values */
unsigned cdp_http_nparams(const struct cdp_http_req *r);
const char *cdp_http_header(const struct cdp_http_req *r, const char *name);
const char *cdp_http_query(const struct cdp_http_req *r, const char *name);
const char *cdp_http_body(const struct cdp_http_req *r, size_t *len); /* NUL-terminated */
const char *cdp_http_client_ip(const struct cdp_http_req *r);
/* Calls fn for each header (names lower-cased) or query argument. */
void cdp_http_each_header(const struct cdp_http_req *r,
                          void (*fn)(void *ud, const char *k, const char *v), void *ud);
void cdp_http_each_query(const struct cdp_http_req *r,
                         void (*fn)(void *ud, const char *k, const char *v), void *ud);
/* Per-request slot for the application (e.g. the authenticated user); freed by free_fn. */
void cdp_http_set_user(struct cdp_http_req *r, void *user, void (*free_fn)(void *));
void *cdp_http_user(const struct cdp_http_req *r);
/* Per-request hook: fn(r, ud) runs once, just before the reply goes out (or, when the request
 * ends without one, as it ends), and may read the status; the last one set wins. */
void cdp_http_on_reply(struct cdp_http_req *r, void (*fn)(struct cdp_http_req *r, void *ud),
                       void *ud);
/* The status of the reply set so far, 0 before any. */
int cdp_http_status(const struct cdp_http_req *r);

/* Replies; each takes ownership of what it is given. The last reply set wins. */
void cdp_http_reply(struct cdp_http_req *r, int status, const char *ctype, char *body, size_t len);
void cdp_http_reply_json(struct cdp_http_req *r, int status, cJSON *json);
/* {"detail": "<message>"} as Tracardi's errors. */
void cdp_http_reply_error(struct cdp_http_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cdp_http_add_header(struct cdp_http_req *r, const char *name, const char *value);

/* A handler that finishes elsewhere calls suspend before returning, and any thread calls resume
 * once the reply is set. */
void cdp_http_suspend(struct cdp_http_req *r);
void cdp_http_resume(struct cdp_http_req *r);

/* Handlers both listeners serve: GET /healthcheck and GET / (version information). */
void cdp_http_healthcheck(struct cdp_http_req *r, void *app);
void cdp_http_version(struct cdp_http_req *r, void *app);

/* Parses application/x-www-form-urlencoded text (also query strings), decoding in a copy;
 * calls fn for each pair. Returns -1 on a malformed escape. */
int cdp_http_form_parse(const char *s, size_t len,
                        void (*fn)(void *ud, const char *k, const char *v), void *ud);

#endif
