/* libmicrohttpd glue. A request's body is gathered up to the limit, then the route runs on the
 * daemon's thread; long work suspends the connection and resumes it from the worker thread. */
#include "http/http.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PARAMS  4
#define MAX_HEADERS 8

struct cdp_http_server {
    struct MHD_Daemon *daemon;
    struct cdp_http_opts opts;
    unsigned port;
    struct cdp_metrics_http *metrics; /* requests by route and status, latency */
};

enum req_state { REQ_NEW, REQ_BODY, REQ_SUSPENDED, REQ_READY, REQ_QUEUED };

struct cdp_http_req {
    struct cdp_http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    enum req_state state;
    bool too_large;
    bool guarded; /* the guard ran before the body was read (CDP_ROUTE_BULK) */
    /* the route it ran, NULL when none (for metrics) */
    const struct cdp_route *route;
    size_t max_body;
    struct cdp_buf body;
    double start;
    char *params[MAX_PARAMS];
    unsigned nparams;
    char ip[INET6_ADDRSTRLEN];
    void *user;
    void (*user_free)(void *);
    void (*on_reply)(struct cdp_http_req *r, void *ud);
    void *on_reply_ud;
    /* reply */
    int status;
    char *resp;
    size_t resp_len;
    const char *ctype;
    unsigned nheaders;
    char *hname[MAX_HEADERS], *hvalue[MAX_HEADERS];
};

/* --- request accessors --- */

const char *cdp_http_method(const struct cdp_http_req *r)
{
    return r->method;
}

const char *cdp_http_path(const struct cdp_http_req *r)
{
    return r->path;
}

const char *cdp_http_param(const struct cdp_http_req *r, unsigned i)
{
    return i < r->nparams ? r->params[i] : NULL;
}

unsigned cdp_http_nparams(const struct cdp_http_req *r)
{
    return r->nparams;
}

const char *cdp_http_header(const struct cdp_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *cdp_http_query(const struct cdp_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *cdp_http_body(const struct cdp_http_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

const char *cdp_http_client_ip(const struct cdp_http_req *r)
{
    return r->ip;
}

struct each_ctx {
    void (*fn)(void *ud, const char *k, const char *v);
    void *ud;
    bool lower;
};

static enum MHD_Result each_value(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    struct each_ctx *c = cls;
    char name[128];
    if (c->lower) {
        size_t i = 0;
        for (; k[i] && i + 1 < sizeof(name); i++)
            name[i] = (char)tolower((unsigned char)k[i]);
        name[i] = '\0';
        k = name;
    }
    c->fn(c->ud, k, v ? v : "");
    return MHD_YES;
}

void cdp_http_each_header(const struct cdp_http_req *r,
                          void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    struct each_ctx c = {fn, ud, true};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, each_value, &c);
}

void cdp_http_each_query(const struct cdp_http_req *r,
                         void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    struct each_ctx c = {fn, ud, false};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_value, &c);
}

void cdp_http_set_user(struct cdp_http_req *r, void *user, void (*free_fn)(void *))
{
    if (r->user && r->user_free)
        r->user_free(r->user);
    r->user = user;
    r->user_free = free_fn;
}

void *cdp_http_user(const struct cdp_http_req *r)
{
    return r->user;
}

void cdp_http_on_reply(struct cdp_http_req *r, void (*fn)(struct cdp_http_req *r, void *ud),
                       void *ud)
{
    r->on_reply = fn;
    r->on_reply_ud = ud;
}

int cdp_http_status(const struct cdp_http_req *r)
{
    return r->status;
}

static void run_on_reply(struct cdp_http_req *r)
{
    void (*fn)(struct cdp_http_req *, void *) = r->on_reply;
    r->on_reply = NULL;
    if (fn)
        fn(r, r->on_reply_ud);
}

/* --- replies --- */

void cdp_http_reply(struct cdp_http_req *r, int status, const char *ctype, char *body, size_t len)
{
    free(r->resp);
    r->status = status;
    r->ctype = ctype;
    r->resp = body;
    r->resp_len = len;
}

void cdp_http_reply_json(struct cdp_http_req *r, int status, cJSON *json)
{
    char *s = json ? cdp_json_print(json) : NULL;
    cJSON_Delete(json);
    if (!s) {
        static const char oom[] = "{\"detail\":\"out of memory\"}";
        cdp_http_reply(r, 500, "application/json", strdup(oom), sizeof(oom) - 1);
        return;
    }
    cdp_http_reply(r, status, "application/json", s, strlen(s));
}

void cdp_http_reply_error(struct cdp_http_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cdp_http_reply_json(r, status, cdp_json_detail("%s", msg));
}

void cdp_http_add_header(struct cdp_http_req *r, const char *name, const char *value)
{
    if (r->nheaders >= MAX_HEADERS)
        return;
    r->hname[r->nheaders] = strdup(name);
    r->hvalue[r->nheaders] = strdup(value);
    r->nheaders++;
}

void cdp_http_suspend(struct cdp_http_req *r)
{
    r->state = REQ_SUSPENDED;
    MHD_suspend_connection(r->conn);
}

void cdp_http_resume(struct cdp_http_req *r)
{
    r->state = REQ_READY;
    MHD_resume_connection(r->conn);
}

#ifndef CDPD_VERSION
#define CDPD_VERSION "0.0.0"
#endif

void cdp_http_healthcheck(struct cdp_http_req *r, void *app)
{
    (void)app;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", "ok");
    cJSON_AddStringToObject(j, "listener", r->srv->opts.name);
    cdp_http_reply_json(r, 200, j);
}

void cdp_http_version(struct cdp_http_req *r, void *app)
{
    (void)app;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", "cdpd");
    cJSON_AddStringToObject(j, "version", CDPD_VERSION);
    cJSON_AddStringToObject(j, "api", "tracardi 0.8.2 compatible");
    cJSON_AddStringToObject(j, "listener", r->srv->opts.name);
    cdp_http_reply_json(r, 200, j);
}

/* --- form / query parsing --- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int url_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%') {
            int h = p[1] ? hexval((unsigned char)p[1]) : -1;
            int l = h >= 0 && p[2] ? hexval((unsigned char)p[2]) : -1;
            if (l < 0)
                return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return 0;
}

int cdp_http_form_parse(const char *s, size_t len,
                        void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    int rc = 0;
    for (char *p = copy; p && *p;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (*p) {
            char *eq = strchr(p, '=');
            char *v = p + strlen(p); /* a key without '=' has an empty (writable) value */
            if (eq) {
                *eq = '\0';
                v = eq + 1;
            }
            if (url_decode(p) || url_decode(v)) {
                rc = -1;
                break;
            }
            fn(ud, p, v);
        }
        p = amp ? amp + 1 : NULL;
    }
    free(copy);
    return rc;
}

/* --- routing --- */

static void free_params(struct cdp_http_req *r)
{
    for (unsigned i = 0; i < r->nparams; i++)
        free(r->params[i]);
    r->nparams = 0;
}

/* Matches path against pattern, filling r->params. */
static bool route_match(struct cdp_http_req *r, const char *pattern, const char *path)
{
    free_params(r);
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *ue = strchr(u, '/');
            size_t n = ue ? (size_t)(ue - u) : strlen(u);
            if (!pe || n == 0 || r->nparams >= MAX_PARAMS)
                return false;
            r->params[r->nparams++] = strndup(u, n);
            p = pe + 1;
            u += n;
        } else if (*p == *u) {
            p++;
            u++;
        } else {
            return false;
        }
    }
    return *p == '\0' && *u == '\0';
}

static void dispatch(struct cdp_http_req *r)
{
    const struct cdp_http_opts *o = &r->srv->opts;
    char allow[128] = "";
    size_t alen = 0;
    const struct cdp_route *hit = NULL;
    for (size_t i = 0; i < o->nroutes && !hit; i++) {
        const struct cdp_route *rt = &o->routes[i];
        if (!route_match(r, rt->pattern, r->path))
            continue;
        if (strcmp(rt->method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            hit = rt;
        } else if (!strstr(allow, rt->method) && alen + strlen(rt->method) + 3 < sizeof(allow)) {
            alen += (size_t)snprintf(allow + alen, sizeof(allow) - alen, "%s%s", alen ? ", " : "",
                                     rt->method);
        }
    }
    if (!hit) {
        free_params(r);
        if (strcmp(r->method, "OPTIONS") == 0 && o->cors) {
            cdp_http_add_header(r, "Access-Control-Allow-Methods",
                                "GET, POST, PUT, DELETE, PATCH, OPTIONS");
            const char *h = cdp_http_header(r, "Access-Control-Request-Headers");
            cdp_http_add_header(r, "Access-Control-Allow-Headers", h ? h : "*");
            cdp_http_add_header(r, "Access-Control-Max-Age", "600");
            cdp_http_reply(r, 200, "text/plain", strdup("OK"), 2);
        } else if (alen) {
            cdp_http_add_header(r, "Allow", allow);
            cdp_http_reply_error(r, 405, "method %s not allowed on %s", r->method, r->path);
        } else if (o->fallback &&
                   (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)) {
            o->fallback(r, o->app);
        } else {
            cdp_http_reply_error(r, 404, "Not Found");
        }
        return;
    }
    r->route = hit;
    if (hit->roles && o->guard && !r->guarded && !o->guard(r, hit, o->app))
        return;
    hit->fn(r, o->app);
}

/* The route a request will run, known from its method and path alone; NULL when none. */
static const struct cdp_route *route_of(struct cdp_http_req *r)
{
    const struct cdp_http_opts *o = &r->srv->opts;
    for (size_t i = 0; i < o->nroutes; i++) {
        const struct cdp_route *rt = &o->routes[i];
        if (strcmp(rt->method, r->method) == 0 && route_match(r, rt->pattern, r->path))
            return rt;
    }
    return NULL;
}

/* --- libmicrohttpd callbacks --- */

static enum MHD_Result send_reply(struct cdp_http_req *r)
{
    if (!r->resp && r->status == 0)
        cdp_http_reply_error(r, 500, "handler gave no reply");
    run_on_reply(r);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (char *)"",
                                        r->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    r->resp = NULL;
    if (r->ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    for (unsigned i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->hname[i], r->hvalue[i]);
    if (r->srv->opts.cors) {
        const char *origin = cdp_http_header(r, "Origin");
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin ? origin : "*");
        MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    char pt[32];
    double took = cdp_clock_mono() - r->start;
    snprintf(pt, sizeof(pt), "%.6f", took);
    const struct cdp_http_opts *o = &r->srv->opts;
    size_t route = r->route ? (size_t)(r->route - o->routes) : o->nroutes;
    cdp_metrics_http_observe(r->srv->metrics, route, r->status, took);
    MHD_add_response_header(resp, "X-Process-Time", pt);
    const char *ctx = cdp_http_header(r, "X-Context");
    if (ctx)
        MHD_add_response_header(resp, "X-Context", ctx);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->state = REQ_QUEUED;
    return ret;
}

static void req_init(struct cdp_http_req *r, struct cdp_http_server *srv,
                     struct MHD_Connection *conn, const char *url, const char *method)
{
    r->srv = srv;
    r->conn = conn;
    r->method = method;
    r->path = url;
    r->start = cdp_clock_mono();
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->ip,
                      sizeof(r->ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->ip,
                      sizeof(r->ip));
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct cdp_http_server *srv = cls;
    struct cdp_http_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        req_init(r, srv, conn, url, method);
        *con_cls = r;
        const struct cdp_route *rt = r->route = route_of(r);
        bool bulk = rt && (rt->roles & CDP_ROUTE_BULK) && srv->opts.max_bulk_body;
        r->max_body = bulk ? srv->opts.max_bulk_body : srv->opts.max_body;
        cdp_buf_init(&r->body, r->max_body);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > r->max_body) {
            cdp_http_reply_error(r, 413, "request body exceeds the limit of %zu bytes",
                                 r->max_body);
            return send_reply(r);
        }
        if (bulk && srv->opts.guard) {
            if (!srv->opts.guard(r, rt, srv->opts.app))
                return send_reply(r);
            r->guarded = true;
        }
        r->state = REQ_BODY;
        return MHD_YES;
    }
    if (r->state == REQ_QUEUED) { /* answered early (413): drop the rest of the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_READY)
        return send_reply(r);
    if (*upload_size) {
        if (!r->too_large && cdp_buf_append(&r->body, upload_data, *upload_size))
            r->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_SUSPENDED)
        return MHD_YES;
    if (r->too_large) {
        cdp_http_reply_error(r, 413, "request body exceeds the limit of %zu bytes", r->max_body);
        return send_reply(r);
    }
    dispatch(r);
    if (r->state == REQ_SUSPENDED)
        return MHD_YES;
    return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct cdp_http_req *r = *con_cls;
    if (!r)
        return;
    run_on_reply(r); /* a request that ended before its reply went out */
    free_params(r);
    cdp_buf_fini(&r->body);
    free(r->resp);
    for (unsigned i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    if (r->user && r->user_free)
        r->user_free(r->user);
    free(r);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct cdp_http_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cdp_debug("%s: %s", srv->opts.name, msg);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    size_t hn = (size_t)(colon - s);
    if (hn >= sizeof(host))
        return -1;
    memcpy(host, s, hn);
    host[hn] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535 || end == colon + 1)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[' && hn > 2 && host[hn - 1] == ']') {
        host[hn - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *v6 = false;
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", 10);
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

int cdp_http_start(struct cdp_http_server **out, const struct cdp_http_opts *o, char *err,
                   size_t errlen)
{
    struct sockaddr_storage ss;
    bool v6;
    if (parse_listen(o->listen, &ss, &v6)) {
        snprintf(err, errlen, "%s: bad listen address '%s' (want host:port)", o->name, o->listen);
        return CDP_E_CONFIG;
    }
    struct cdp_http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->opts = *o;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)o->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "%s: cannot listen on %s (address in use or not local?)", o->name,
                 o->listen);
        free(s);
        return CDP_E_IO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    s->metrics = cdp_metrics_http_new(o->name, o->nroutes);
    for (size_t i = 0; i < o->nroutes; i++)
        cdp_metrics_http_name(s->metrics, i, o->routes[i].method, o->routes[i].pattern);
    *out = s;
    return 0;
}

void cdp_http_quiesce(struct cdp_http_server *s)
{
    if (!s)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void cdp_http_stop(struct cdp_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    cdp_metrics_http_free(s->metrics);
    free(s);
}

unsigned cdp_http_port(const struct cdp_http_server *s)
{
    return s->port;
}
