/* Unit tests of the flow I/O thread (src/flow/io.c) and the Remote API call plugin
 * (src/flow/plugins/remote.c) against a real HTTP server started inside the test with
 * libmicrohttpd on 127.0.0.1 (a free port): echo, slow, any status, text, large and cookie
 * handlers; the server counts the hits of the slow handler so retries can be checked. Only
 * ordering is asserted about time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "flow/flow.h"
#include "flow/io.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- the test server --- */

static struct MHD_Daemon *srv;
static unsigned short port;
static int refused_fd = -1; /* bound, never listening: connections to it are refused */
static unsigned short refused_port;
static atomic_int slow_hits;
static atomic_bool quitting;

struct req {
    char *body;
    size_t len;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    cJSON *o = cls;
    char name[256];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)key[i]);
    name[i] = '\0';
    cdp_json_put_str(o, name, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_json(struct MHD_Connection *con, unsigned status, cJSON *j)
{
    char *s = cdp_json_print(j);
    cJSON_Delete(j);
    enum MHD_Result rc = reply(con, status, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    return rc;
}

static long arg_num(struct MHD_Connection *con, const char *key, long def)
{
    const char *v = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, key);
    return v ? strtol(v, NULL, 10) : def;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof(*r))))
            return MHD_NO;
        *con_cls = r;
        if (strcmp(url, "/slow") == 0)
            atomic_fetch_add(&slow_hits, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        char *p = realloc(r->body, r->len + *upload_size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + r->len, upload, *upload_size);
        r->len += *upload_size;
        p[r->len] = '\0';
        r->body = p;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/echo") == 0) {
        cJSON *j = cJSON_CreateObject();
        cdp_json_put_str(j, "method", method);
        cJSON *h = cdp_json_obj(j, "headers"), *q = cdp_json_obj(j, "query");
        MHD_get_connection_values(con, MHD_HEADER_KIND, collect_kv, h);
        MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, collect_kv, q);
        cdp_json_put_str(j, "body", r->body ? r->body : "");
        return reply_json(con, 200, j);
    }
    if (strcmp(url, "/slow") == 0) {
        long ms = arg_num(con, "ms", 1500);
        for (long t = 0; t < ms && !atomic_load(&quitting); t += 10)
            usleep(10000);
        cJSON *j = cJSON_CreateObject();
        cdp_json_put_bool(j, "slow", true);
        return reply_json(con, 200, j);
    }
    if (strcmp(url, "/status") == 0) {
        long code = arg_num(con, "code", 500);
        cJSON *j = cJSON_CreateObject();
        cdp_json_put_num(j, "code", (double)code);
        return reply_json(con, (unsigned)code, j);
    }
    if (strcmp(url, "/text") == 0)
        return reply(con, 200, "text/plain", "hello, world", 12);
    if (strcmp(url, "/large") == 0) {
        size_t n = (size_t)arg_num(con, "n", 2000000);
        char *big = malloc(n);
        if (!big)
            return MHD_NO;
        memset(big, 'a', n);
        enum MHD_Result rc = reply(con, 200, "text/plain", big, n);
        free(big);
        return rc;
    }
    if (strcmp(url, "/cookie") == 0) {
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(2, (void *)(uintptr_t) "{}", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Set-Cookie", "a=1; Path=/; HttpOnly");
        MHD_add_response_header(resp, "Set-Cookie", "b=two; Expires=Wed, 21 Oct 2037 07:28:00 GMT");
        enum MHD_Result rc = MHD_queue_response(con, 200, resp);
        MHD_destroy_response(resp);
        return rc;
    }
    return reply(con, 404, "text/plain", "not found", 9);
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    struct req *r = *con_cls;
    if (r) {
        free(r->body);
        free(r);
    }
    *con_cls = NULL;
}

static int server_up(void **state)
{
    (void)state;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    srv = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                           NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                           MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!srv)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    port = info->port;
    refused_fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof(sa);
    if (refused_fd < 0 || bind(refused_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(refused_fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    refused_port = ntohs(sa.sin_port);
    return 0;
}

static int server_down(void **state)
{
    (void)state;
    atomic_store(&quitting, true);
    if (srv)
        MHD_stop_daemon(srv);
    if (refused_fd >= 0)
        close(refused_fd);
    return 0;
}

/* --- helpers --- */

static char urlbuf[512];

static const char *url(const char *path)
{
    snprintf(urlbuf, sizeof(urlbuf), "http://127.0.0.1:%u%s", port, path);
    return urlbuf;
}

/* An HTTP wait (caller clears it). */
static struct cdp_flow_wait http(const char *method, const char *path, const char *body,
                                 long timeout_ms, int retries)
{
    struct cdp_flow_wait w = {0};
    w.kind = CDP_WAIT_HTTP;
    w.method = strdup(method);
    w.url = strdup(url(path));
    w.body = body ? strdup(body) : NULL;
    w.timeout_ms = timeout_ms;
    w.retries = retries;
    w.ssl_check = true;
    return w;
}

static cJSON *sync_call(const char *method, const char *path, const char *body)
{
    struct cdp_flow_wait w = http(method, path, body, 5000, 0);
    cJSON *o = cdp_flow_io_run_sync(&w);
    cdp_flow_wait_clear(&w);
    assert_non_null(o);
    return o;
}

static int status_of(const cJSON *o)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (!cJSON_IsNumber(s)) {
        char *p = cdp_json_print(o);
        fail_msg("no status in %s", p ? p : "?");
    }
    return (int)s->valuedouble;
}

/* --- run_sync --- */

static void test_sync_echo(void **state)
{
    (void)state;
    struct cdp_flow_wait w = http("POST", "/echo?a=1&b=x%20y", "{\"k\":1}", 5000, 0);
    w.headers = cJSON_CreateObject();
    cdp_json_put_str(w.headers, "X-Test", "yes");
    cdp_json_put_str(w.headers, "Content-Type", "application/json");
    cdp_json_put_str(w.headers, "X-Empty", "");
    cJSON *o = cdp_flow_io_run_sync(&w);
    cdp_flow_wait_clear(&w);
    assert_int_equal(status_of(o), 200);
    assert_string_equal(cdp_json_str(o, "content.method"), "POST");
    assert_string_equal(cdp_json_str(o, "content.body"), "{\"k\":1}");
    assert_string_equal(cdp_json_str(o, "content.headers.x-test"), "yes");
    assert_string_equal(cdp_json_str(o, "content.headers.x-empty"), "");
    assert_string_equal(cdp_json_str(o, "content.headers.content-type"), "application/json");
    assert_string_equal(cdp_json_str(o, "content.query.a"), "1");
    assert_string_equal(cdp_json_str(o, "content.query.b"), "x y");
    /* response headers: lower-case names */
    assert_string_equal(cdp_json_str(o, "headers.content-type"), "application/json");
    assert_non_null(cdp_json_get(o, "headers.content-length"));
    cJSON_Delete(o);

    static const char *const methods[] = {"GET", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < 4; i++) {
        o = sync_call(methods[i], "/echo", i ? "data" : NULL);
        assert_int_equal(status_of(o), 200);
        assert_string_equal(cdp_json_str(o, "content.method"), methods[i]);
        assert_string_equal(cdp_json_str(o, "content.body"), i ? "data" : "");
        cJSON_Delete(o);
    }
    o = sync_call("HEAD", "/echo", NULL);
    assert_int_equal(status_of(o), 200);
    assert_string_equal(cdp_json_str(o, "content"), "");
    cJSON_Delete(o);
}

static void test_sync_answers(void **state)
{
    (void)state;
    cJSON *o = sync_call("GET", "/status?code=500", NULL);
    assert_int_equal(status_of(o), 500);
    assert_int_equal((int)cdp_json_get(o, "content.code")->valuedouble, 500);
    cJSON_Delete(o);

    o = sync_call("GET", "/text", NULL);
    assert_int_equal(status_of(o), 200);
    assert_string_equal(cdp_json_str(o, "content"), "hello, world");
    assert_string_equal(cdp_json_str(o, "headers.content-type"), "text/plain");
    cJSON_Delete(o);

    o = sync_call("GET", "/large?n=2000000", NULL);
    assert_string_equal(cdp_json_str(o, "error"), "response too large");
    cJSON_Delete(o);
    o = sync_call("GET", "/large?n=1000", NULL); /* under the cap */
    assert_int_equal(status_of(o), 200);
    assert_int_equal(strlen(cdp_json_str(o, "content")), 1000);
    cJSON_Delete(o);

    o = sync_call("GET", "/cookie", NULL);
    const cJSON *sc = cdp_json_get(o, "headers.set-cookie");
    assert_true(cJSON_IsArray(sc));
    assert_int_equal(cJSON_GetArraySize(sc), 2);
    assert_string_equal(cJSON_GetArrayItem(sc, 0)->valuestring, "a=1; Path=/; HttpOnly");
    cJSON_Delete(o);

    /* no answer: refused, bad schemes, no URL */
    char u[128];
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/", refused_port);
    struct cdp_flow_wait w = {.kind = CDP_WAIT_HTTP, .url = u, .timeout_ms = 2000};
    o = cdp_flow_io_run_sync(&w);
    assert_non_null(cdp_json_str(o, "error"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "status"));
    cJSON_Delete(o);
    static const char *const bad[] = {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://x/",
                                      "noscheme://x/", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        w.url = (char *)(uintptr_t)bad[i];
        o = cdp_flow_io_run_sync(&w);
        if (!cdp_json_str(o, "error"))
            fail_msg("%s: no error", bad[i]);
        cJSON_Delete(o);
    }
    w.url = u;
    w.method = (char *)(uintptr_t) "GET\r\nX: y";
    o = cdp_flow_io_run_sync(&w);
    assert_string_equal(cdp_json_str(o, "error"), "invalid method");
    cJSON_Delete(o);
}

static void test_sync_sleep_timeout_retries(void **state)
{
    (void)state;
    struct cdp_flow_wait s = {.kind = CDP_WAIT_SLEEP, .seconds = 0.05};
    cJSON *o = cdp_flow_io_run_sync(&s);
    assert_true(cJSON_IsObject(o));
    assert_null(o->child);
    cJSON_Delete(o);

    atomic_store(&slow_hits, 0);
    struct cdp_flow_wait w = http("GET", "/slow?ms=1500", NULL, 200, 2);
    o = cdp_flow_io_run_sync(&w);
    cdp_flow_wait_clear(&w);
    const char *e = cdp_json_str(o, "error");
    assert_non_null(e);
    assert_non_null(strstr(e, "timed out"));
    assert_int_equal(atomic_load(&slow_hits), 3); /* the first attempt and two retries */
    cJSON_Delete(o);

    /* an answer, even an error status, is not retried */
    atomic_store(&slow_hits, 0);
    w = http("GET", "/slow?ms=0", NULL, 5000, 3);
    o = cdp_flow_io_run_sync(&w);
    cdp_flow_wait_clear(&w);
    assert_int_equal(status_of(o), 200);
    assert_int_equal(atomic_load(&slow_hits), 1);
    cJSON_Delete(o);
}

/* --- the I/O thread --- */

#define MAX_DONE 64

struct coll {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    intptr_t token[MAX_DONE];
    cJSON *out[MAX_DONE];
};

static void on_done(void *ud, void *token, cJSON *outcome)
{
    struct coll *c = ud;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAX_DONE) {
        c->token[c->n] = (intptr_t)token;
        c->out[c->n++] = outcome;
    } else {
        cJSON_Delete(outcome);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void coll_init(struct coll *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void coll_fini(struct coll *c)
{
    for (int i = 0; i < c->n; i++)
        cJSON_Delete(c->out[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* Waits until n callbacks came (at most secs seconds). */
static void coll_wait(struct coll *c, int n, int secs)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += secs;
    pthread_mutex_lock(&c->mu);
    while (c->n < n)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
            break;
    int got = c->n;
    pthread_mutex_unlock(&c->mu);
    if (got < n)
        fail_msg("%d of %d callbacks", got, n);
}

/* Position of token in the completion order, -1 when absent; fails if it came twice. */
static int pos_of(const struct coll *c, intptr_t token)
{
    int at = -1;
    for (int i = 0; i < c->n; i++)
        if (c->token[i] == token) {
            if (at >= 0)
                fail_msg("token %ld completed twice", (long)token);
            at = i;
        }
    return at;
}

static void submit(struct cdp_flow_io *io, struct cdp_flow_wait w, intptr_t token)
{
    cdp_flow_io_submit(io, &w, (void *)token);
    cdp_flow_wait_clear(&w); /* submit copies */
}

static void submit_sleep(struct cdp_flow_io *io, double secs, intptr_t token)
{
    struct cdp_flow_wait w = {.kind = CDP_WAIT_SLEEP, .seconds = secs};
    cdp_flow_io_submit(io, &w, (void *)token);
}

static void test_async_order(void **state)
{
    (void)state;
    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    submit(io, http("GET", "/slow?ms=1500", NULL, 10000, 0), 1);
    submit(io, http("POST", "/echo", "fast", 10000, 0), 2);
    submit_sleep(io, 0.6, 3);
    submit_sleep(io, 0.2, 4);
    submit_sleep(io, 0.4, 5);
    submit_sleep(io, 0, 6);
    coll_wait(&c, 6, 10);
    /* the slow call does not hold up the fast one submitted after it */
    assert_true(pos_of(&c, 2) < pos_of(&c, 1));
    /* sleeps end in the order of their durations */
    assert_true(pos_of(&c, 6) < pos_of(&c, 4));
    assert_true(pos_of(&c, 4) < pos_of(&c, 5));
    assert_true(pos_of(&c, 5) < pos_of(&c, 3));
    assert_true(pos_of(&c, 3) < pos_of(&c, 1));
    assert_int_equal(status_of(c.out[pos_of(&c, 1)]), 200);
    const cJSON *fast = c.out[pos_of(&c, 2)];
    assert_int_equal(status_of(fast), 200);
    assert_string_equal(cdp_json_str(fast, "content.body"), "fast");
    const cJSON *slept = c.out[pos_of(&c, 3)];
    assert_true(cJSON_IsObject(slept) && !slept->child);
    cdp_flow_io_stop(io);
    coll_fini(&c);
}

static void test_async_many(void **state)
{
    (void)state;
    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    for (intptr_t t = 1; t <= 24; t++) {
        char path[64];
        snprintf(path, sizeof(path), "/echo?t=%ld", (long)t);
        submit(io, http(t % 2 ? "GET" : "POST", path, t % 2 ? NULL : "b", 10000, 0), t);
    }
    coll_wait(&c, 24, 10);
    for (intptr_t t = 1; t <= 24; t++) {
        int at = pos_of(&c, t);
        assert_true(at >= 0);
        char want[16];
        snprintf(want, sizeof(want), "%ld", (long)t);
        assert_string_equal(cdp_json_str(c.out[at], "content.query.t"), want);
    }
    cdp_flow_io_stop(io);
    assert_int_equal(c.n, 24);
    coll_fini(&c);
}

static void test_async_timeout_retries(void **state)
{
    (void)state;
    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    atomic_store(&slow_hits, 0);
    submit(io, http("GET", "/slow?ms=1500", NULL, 200, 1), 1);
    char u[128];
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/", refused_port);
    struct cdp_flow_wait w = {
        .kind = CDP_WAIT_HTTP, .method = "GET", .url = u, .timeout_ms = 2000, .retries = 2};
    cdp_flow_io_submit(io, &w, (void *)2);
    struct cdp_flow_wait bad = {.kind = CDP_WAIT_HTTP, .url = "ftp://127.0.0.1/", .retries = 3};
    cdp_flow_io_submit(io, &bad, (void *)3);
    cdp_flow_io_submit(io, NULL, (void *)4);
    coll_wait(&c, 4, 10);
    const char *e = cdp_json_str(c.out[pos_of(&c, 1)], "error");
    assert_non_null(e);
    assert_non_null(strstr(e, "timed out"));
    assert_int_equal(atomic_load(&slow_hits), 2);
    assert_non_null(cdp_json_str(c.out[pos_of(&c, 2)], "error"));
    assert_non_null(cdp_json_str(c.out[pos_of(&c, 3)], "error"));
    assert_non_null(cdp_json_str(c.out[pos_of(&c, 4)], "error"));
    cdp_flow_io_stop(io);
    coll_fini(&c);
}

static void test_async_stop_pending(void **state)
{
    (void)state;
    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    submit_sleep(io, 30, 1);
    submit_sleep(io, 60, 2);
    submit(io, http("GET", "/slow?ms=2000", NULL, 30000, 0), 3);
    submit(io, http("POST", "/slow?ms=2000", "x", 30000, 5), 4);
    /* give the thread a moment to start some of them; the rest are still queued */
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    submit_sleep(io, 30, 5);
    cdp_flow_io_stop(io);
    assert_int_equal(c.n, 5);
    for (intptr_t t = 1; t <= 5; t++) {
        int at = pos_of(&c, t);
        assert_true(at >= 0);
        assert_string_equal(cdp_json_str(c.out[at], "error"), "shutting down");
    }
    coll_fini(&c);

    /* stop right after start, and stop(NULL) */
    coll_init(&c);
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    cdp_flow_io_stop(io);
    assert_int_equal(c.n, 0);
    cdp_flow_io_stop(NULL);
    coll_fini(&c);
}

/* --- libcurl loaded lazily --- */

/* Whether libcurl is in the process (io.c dlopens it on the first HTTP wait). */
static bool curl_loaded(void)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h);
    return h != NULL;
}

/* Runs first: the thread starts without libcurl, sleeps work, HTTP loads it. */
static void test_lazy_sleeps_then_http(void **state)
{
    (void)state;
    assert_false(curl_loaded());
    struct cdp_flow_wait s = {.kind = CDP_WAIT_SLEEP, .seconds = 0.01};
    cJSON *o = cdp_flow_io_run_sync(&s);
    assert_true(cJSON_IsObject(o) && !o->child);
    cJSON_Delete(o);
    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    submit_sleep(io, 0.3, 1);
    submit_sleep(io, 0.1, 2);
    submit_sleep(io, 0, 3);
    coll_wait(&c, 3, 10);
    assert_true(pos_of(&c, 3) < pos_of(&c, 2));
    assert_true(pos_of(&c, 2) < pos_of(&c, 1));
    for (int i = 0; i < 3; i++)
        assert_true(cJSON_IsObject(c.out[i]) && !c.out[i]->child);
    assert_false(curl_loaded());
    /* the first HTTP wait loads libcurl while a sleep is pending; both loops keep the order */
    submit_sleep(io, 0.5, 4);
    submit(io, http("POST", "/echo", "lazy", 10000, 0), 5);
    submit_sleep(io, 0.1, 6);
    coll_wait(&c, 6, 10);
    assert_true(curl_loaded());
    assert_true(pos_of(&c, 6) < pos_of(&c, 4));
    const cJSON *r = c.out[pos_of(&c, 5)];
    assert_int_equal(status_of(r), 200);
    assert_string_equal(cdp_json_str(r, "content.body"), "lazy");
    submit_sleep(io, 0.05, 7);
    submit(io, http("GET", "/text", NULL, 10000, 0), 8);
    coll_wait(&c, 8, 10);
    assert_int_equal(status_of(c.out[pos_of(&c, 8)]), 200);
    submit_sleep(io, 30, 9);
    cdp_flow_io_stop(io);
    assert_int_equal(c.n, 9);
    assert_string_equal(cdp_json_str(c.out[pos_of(&c, 9)], "error"), "shutting down");
    coll_fini(&c);
}

#define NO_CURL_FILE "libcdpd-no-such-curl.so.4"
#define NO_CURL_MSG  "libcurl is not available: "

static void assert_no_curl_error(const cJSON *o)
{
    const char *e = cdp_json_str(o, "error");
    if (!e || strncmp(e, NO_CURL_MSG, strlen(NO_CURL_MSG)) != 0 || !strstr(e, NO_CURL_FILE))
        fail_msg("unexpected outcome %s", e ? e : "(no error)");
}

/* In a child process with CDPD_LIBCURL naming a missing file: HTTP waits fail, sleeps work. */
static void test_no_curl_waits(void **state)
{
    (void)state;
    struct cdp_flow_wait s = {.kind = CDP_WAIT_SLEEP, .seconds = 0.01};
    cJSON *o = cdp_flow_io_run_sync(&s);
    assert_true(cJSON_IsObject(o) && !o->child);
    cJSON_Delete(o);
    o = sync_call("GET", "/echo", NULL);
    assert_no_curl_error(o);
    cJSON_Delete(o);

    struct coll c;
    coll_init(&c);
    struct cdp_flow_io *io;
    assert_int_equal(cdp_flow_io_start(&io, on_done, &c), 0);
    submit_sleep(io, 0.3, 1);
    submit(io, http("GET", "/echo", NULL, 10000, 0), 2);
    submit_sleep(io, 0.05, 3);
    struct cdp_flow_wait bad = {.kind = CDP_WAIT_HTTP, .url = "ftp://127.0.0.1/"};
    cdp_flow_io_submit(io, &bad, (void *)4);
    cdp_flow_io_submit(io, NULL, (void *)5);
    coll_wait(&c, 5, 10);
    assert_no_curl_error(c.out[pos_of(&c, 2)]);
    assert_no_curl_error(c.out[pos_of(&c, 4)]);
    assert_string_equal(cdp_json_str(c.out[pos_of(&c, 5)], "error"), "no wait");
    assert_true(pos_of(&c, 3) < pos_of(&c, 1));
    assert_true(cJSON_IsObject(c.out[pos_of(&c, 1)]) && !c.out[pos_of(&c, 1)]->child);
    submit_sleep(io, 30, 6);
    cdp_flow_io_stop(io);
    assert_int_equal(c.n, 6);
    assert_string_equal(cdp_json_str(c.out[pos_of(&c, 6)], "error"), "shutting down");
    coll_fini(&c);
    assert_false(curl_loaded());
}

extern char **environ;

/* Runs test_no_curl_waits in a child (this program with --no-curl and CDPD_LIBCURL set). */
static void test_no_curl(void **state)
{
    (void)state;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(*env));
    assert_non_null(env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CDPD_LIBCURL=", 13) != 0)
            env[k++] = environ[i];
    env[k++] = (char *)(uintptr_t) "CDPD_LIBCURL=" NO_CURL_FILE;
    env[k] = NULL;
    char *argv[] = {(char *)(uintptr_t) "test_flow_io", (char *)(uintptr_t) "--no-curl", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, env);
    free(env);
    assert_int_equal(rc, 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* --- the Remote API call plugin --- */

#define REMOTE "tracardi.process_engine.action.v1.connectors.api_call.plugin", "RemoteCallAction"

struct fx {
    struct cdp_flow_ctx ctx;
    char err[512];
};

static int fx_up(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->ctx.profile = cJSON_Parse("{\"id\":\"p1\",\"traits\":{\"token\":\"t0k\",\"name\":\"Ann\"}}");
    f->ctx.event = cJSON_Parse("{\"id\":\"e1\",\"type\":\"purchase\",\"properties\":"
                               "{\"total\":99.5,\"email\":\"ann@example.com\",\"n\":3}}");
    f->ctx.session = cJSON_Parse("{\"id\":\"s1\"}");
    f->ctx.response = cJSON_CreateObject();
    *state = f;
    return 0;
}

static int fx_down(void **state)
{
    struct fx *f = *state;
    cJSON_Delete(f->ctx.profile);
    cJSON_Delete(f->ctx.event);
    cJSON_Delete(f->ctx.session);
    cJSON_Delete(f->ctx.response);
    cJSON_Delete(f->ctx.logs);
    free(f);
    return 0;
}

/* The plugin's config from a printf-style JSON text ("%u" for the port). */
static cJSON *cfg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *cfg(const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fail_msg("bad test config %s", text);
    return j;
}

/* Runs the plugin to its end: the wait (if any) performed with run_sync. Frees init. */
static int run_remote(struct fx *f, cJSON *init, cJSON *payload, cJSON **out, char **wait_url)
{
    const struct cdp_plugin *p = cdp_plugin_find(REMOTE);
    assert_non_null(p);
    struct cdp_plugin_single *s = NULL;
    f->err[0] = '\0';
    int rc = cdp_plugin_run1(p, init, &f->ctx, payload, NULL, out, &s, f->err, sizeof(f->err));
    cJSON_Delete(init);
    if (wait_url)
        *wait_url = NULL;
    if (rc != CDP_FLOW_WAIT)
        return rc;
    const struct cdp_flow_wait *w = cdp_plugin_single_wait(s);
    assert_int_equal(w->kind, CDP_WAIT_HTTP);
    if (wait_url)
        *wait_url = strdup(w->url);
    cJSON *io = cdp_flow_io_run_sync(w);
    rc = cdp_plugin_resume(s, io, out, f->err, sizeof(f->err));
    cJSON_Delete(io);
    cdp_plugin_single_free(s);
    return rc;
}

/* The only result of a run: its port and value. */
static const cJSON *only(const cJSON *out, const char *want)
{
    assert_int_equal(cJSON_GetArraySize(out), 1);
    const cJSON *r = cJSON_GetArrayItem(out, 0);
    if (strcmp(cdp_json_str(r, "port"), want) != 0) {
        char *s = cdp_json_print(out);
        fail_msg("expected port %s: %s", want, s ? s : "?");
    }
    return cJSON_GetObjectItemCaseSensitive(r, "value");
}

static void test_plugin_descriptor(void **state)
{
    (void)state;
    const struct cdp_plugin *p = cdp_plugin_find(REMOTE);
    assert_non_null(p);
    assert_string_equal(p->id, "remote-call");
    assert_ptr_equal(cdp_plugin_find("remote-call", NULL), p);
    assert_string_equal(p->inputs, "payload");
    assert_string_equal(p->outputs, "response,error");
    cJSON *init = cJSON_Parse(p->init), *schema = cJSON_Parse(p->schema);
    assert_true(cJSON_IsObject(init));
    assert_true(cJSON_IsObject(schema));
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *it;
    cJSON_ArrayForEach(it, props)
    {
        if (!cdp_json_str(it, "title") || !cdp_json_str(it, "description"))
            fail_msg("property %s lacks title or description", it->string);
    }
    cJSON_ArrayForEach(it, init)
    {
        if (!cJSON_GetObjectItemCaseSensitive(props, it->string))
            fail_msg("init field %s is not in the schema", it->string);
    }
    cJSON *d = cdp_plugin_describe(p);
    assert_string_equal(cdp_json_str(d, "metadata.name"), "Remote API call");
    assert_string_equal(cdp_json_str(d, "metadata.type"), "condNode");
    cJSON_Delete(d);
    /* the default config with an endpoint filled in is valid */
    cdp_json_put_str(init, "endpoint", "https://example.com/api");
    void *st = NULL;
    char err[256];
    assert_int_equal(p->setup(init, &st, err, sizeof(err)), 0);
    p->free(st);
    cJSON_Delete(init);
    cJSON_Delete(schema);
}

static void test_plugin_get_query(void **state)
{
    struct fx *f = *state;
    cJSON *out, *payload = cJSON_Parse("{\"page\":2}");
    char *wurl;
    int rc = run_remote(
        f,
        cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo?x=1\",\"method\":\"get\","
            "\"body\":{\"type\":\"application/json\",\"content\":"
            "\"{\\\"id\\\":\\\"profile@id\\\",\\\"total\\\":\\\"event@properties.total\\\","
            "\\\"page\\\":\\\"payload@page\\\",\\\"q\\\":\\\"a b&c=d\\\","
            "\\\"deep\\\":{\\\"ok\\\":true,\\\"list\\\":[1,\\\"two\\\"]}}\"}}",
            port),
        payload, &out, &wurl);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(wurl, "?x=1&id=p1&total=99.5&page=2&q=a%20b%26c%3Dd&deep.ok=true"));
    free(wurl);
    const cJSON *v = only(out, "response");
    assert_int_equal(status_of(v), 200);
    assert_string_equal(cdp_json_str(v, "content.method"), "GET");
    assert_string_equal(cdp_json_str(v, "content.query.x"), "1");
    assert_string_equal(cdp_json_str(v, "content.query.id"), "p1");
    assert_string_equal(cdp_json_str(v, "content.query.total"), "99.5");
    assert_string_equal(cdp_json_str(v, "content.query.page"), "2");
    assert_string_equal(cdp_json_str(v, "content.query.q"), "a b&c=d");
    const cJSON *q = cdp_json_get(v, "content.query");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "deep.ok")->valuestring, "true");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(q, "deep.list.1")->valuestring, "two");
    assert_string_equal(cdp_json_str(v, "content.body"), "");
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "headers")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "cookies")));
    cJSON_Delete(out);
}

static void test_plugin_post_json(void **state)
{
    struct fx *f = *state;
    cJSON *out;
    int rc =
        run_remote(f,
                   cfg("{\"endpoint\":\"http://127.0.0.1:%u/{{payload@path}}\",\"method\":\"POST\","
                       "\"timeout\":\"5\",\"headers\":{\"X-Profile\":\"profile@id\","
                       "\"Authorization\":\"Bearer {{ profile@traits.token }}\",\"X-Num\":7},"
                       "\"cookies\":{\"sid\":\"session@id\",\"lang\":\"en\"},"
                       "\"body\":{\"type\":\"application/json\",\"content\":{\"email\":"
                       "\"event@properties.email\",\"who\":{\"name\":\"profile@traits.name\"},"
                       "\"fixed\":\"x\",\"opt?\":\"profile@traits.missing\"}}}",
                       port),
                   cJSON_Parse("{\"path\":\"echo\"}"), &out, NULL);
    assert_int_equal(rc, 0);
    const cJSON *v = only(out, "response");
    assert_string_equal(cdp_json_str(v, "content.method"), "POST");
    assert_string_equal(cdp_json_str(v, "content.headers.x-profile"), "p1");
    assert_string_equal(cdp_json_str(v, "content.headers.authorization"), "Bearer t0k");
    assert_string_equal(cdp_json_str(v, "content.headers.x-num"), "7");
    assert_string_equal(cdp_json_str(v, "content.headers.cookie"), "sid=s1; lang=en");
    assert_string_equal(cdp_json_str(v, "content.headers.content-type"), "application/json");
    const char *body = cdp_json_str(v, "content.body");
    cJSON *sent = cJSON_Parse(body);
    cJSON *want =
        cJSON_Parse("{\"email\":\"ann@example.com\",\"who\":{\"name\":\"Ann\"},\"fixed\":\"x\"}");
    assert_true(cJSON_Compare(sent, want, true));
    cJSON_Delete(sent);
    cJSON_Delete(want);
    cJSON_Delete(out);

    /* text bodies are {{ }} templates with their own content type */
    rc = run_remote(f,
                    cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo\",\"method\":\"put\","
                        "\"body\":{\"type\":\"text/plain\",\"content\":"
                        "\"Hello {{profile@traits.name}}, {{ event@properties.n }}\"}}",
                        port),
                    NULL, &out, NULL);
    assert_int_equal(rc, 0);
    v = only(out, "response");
    assert_string_equal(cdp_json_str(v, "content.method"), "PUT");
    assert_string_equal(cdp_json_str(v, "content.body"), "Hello Ann, 3");
    assert_string_equal(cdp_json_str(v, "content.headers.content-type"), "text/plain");
    cJSON_Delete(out);
}

static void test_plugin_error_ports(void **state)
{
    struct fx *f = *state;
    cJSON *out;
    /* a non-2xx answer: the same shape on "error" */
    int rc = run_remote(f,
                        cfg("{\"endpoint\":\"http://127.0.0.1:%u/status?code=404\","
                            "\"method\":\"GET\"}",
                            port),
                        NULL, &out, NULL);
    assert_int_equal(rc, 0);
    const cJSON *v = only(out, "error");
    assert_int_equal(status_of(v), 404);
    assert_int_equal((int)cdp_json_get(v, "content.code")->valuedouble, 404);
    cJSON_Delete(out);

    /* no answer: {"message"} on "error", and a console error */
    cJSON_Delete(f->ctx.logs);
    f->ctx.logs = NULL;
    rc = run_remote(
        f, cfg("{\"endpoint\":\"http://127.0.0.1:%u/\",\"timeout\":2,\"retries\":1}", refused_port),
        NULL, &out, NULL);
    assert_int_equal(rc, 0);
    v = only(out, "error");
    assert_non_null(cdp_json_str(v, "message"));
    assert_null(cJSON_GetObjectItemCaseSensitive(v, "status"));
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(f->ctx.logs, 0), "type"), "error");
    cJSON_Delete(out);

    /* a timeout */
    rc = run_remote(
        f, cfg("{\"endpoint\":\"http://127.0.0.1:%u/slow?ms=1500\",\"timeout\":0.2}", port), NULL,
        &out, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(cdp_json_str(only(out, "error"), "message"), "timed out"));
    cJSON_Delete(out);

    /* a missing reference: strict by default, null with set_default_null */
    rc = run_remote(f,
                    cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo\",\"method\":\"post\","
                        "\"body\":{\"type\":\"application/json\",\"content\":"
                        "\"{\\\"a\\\":\\\"profile@traits.nope\\\"}\"}}",
                        port),
                    NULL, &out, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(cdp_json_str(only(out, "error"), "message"), "body.content"));
    cJSON_Delete(out);
    rc = run_remote(f,
                    cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo\",\"method\":\"post\","
                        "\"set_default_null\":true,\"headers\":{\"X-Gone\":\"profile@nope\"},"
                        "\"body\":{\"type\":\"application/json\",\"content\":"
                        "\"{\\\"a\\\":\\\"profile@traits.nope\\\"}\"}}",
                        port),
                    NULL, &out, NULL);
    assert_int_equal(rc, 0);
    v = only(out, "response");
    assert_string_equal(cdp_json_str(v, "content.body"), "{\"a\":null}");
    assert_null(cdp_json_get(v, "content.headers.x-gone"));
    cJSON_Delete(out);

    /* a header whose reference is an object; an optional header left out */
    rc = run_remote(f,
                    cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo\",\"headers\":"
                        "{\"X-Opt?\":\"profile@traits.nope\",\"X-Obj\":\"profile@traits\"}}",
                        port),
                    NULL, &out, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(cdp_json_str(only(out, "error"), "message"), "headers.X-Obj"));
    cJSON_Delete(out);
    rc = run_remote(f,
                    cfg("{\"endpoint\":\"http://127.0.0.1:%u/echo\",\"headers\":"
                        "{\"X-Opt?\":\"profile@traits.nope\",\"X-Id\":\"profile@id\"}}",
                        port),
                    NULL, &out, NULL);
    assert_int_equal(rc, 0);
    v = only(out, "response");
    assert_null(cdp_json_get(v, "content.headers.x-opt"));
    assert_string_equal(cdp_json_str(v, "content.headers.x-id"), "p1");
    cJSON_Delete(out);

    /* a templated endpoint that renders to something else than an http URL */
    rc = run_remote(f, cfg("{\"endpoint\":\"{{payload@u}}\"}"),
                    cJSON_Parse("{\"u\":\"file:///etc/passwd\"}"), &out, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(cdp_json_str(only(out, "error"), "message"), "endpoint"));
    cJSON_Delete(out);

    /* cookies the server set */
    rc =
        run_remote(f, cfg("{\"endpoint\":\"http://127.0.0.1:%u/cookie\",\"method\":\"get\"}", port),
                   NULL, &out, NULL);
    assert_int_equal(rc, 0);
    v = only(out, "response");
    assert_string_equal(cdp_json_str(v, "cookies.a"), "1");
    assert_string_equal(cdp_json_str(v, "cookies.b"), "two");
    cJSON_Delete(out);
}

static void test_plugin_config_errors(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *init, *field;
    } bad[] = {
        {"{}", "endpoint"},
        {"{\"endpoint\":null}", "endpoint"},
        {"{\"endpoint\":\"ftp://example.com/\"}", "endpoint"},
        {"{\"endpoint\":\"example.com/api\"}", "endpoint"},
        {"{\"endpoint\":\"ftp://{{payload@host}}/\"}", "endpoint"},
        {"{\"endpoint\":\"http://x/\",\"method\":\"FETCH\"}", "method"},
        {"{\"endpoint\":\"http://x/\",\"method\":1}", "method"},
        {"{\"endpoint\":\"http://x/\",\"timeout\":0}", "timeout"},
        {"{\"endpoint\":\"http://x/\",\"timeout\":600}", "timeout"},
        {"{\"endpoint\":\"http://x/\",\"timeout\":\"soon\"}", "timeout"},
        {"{\"endpoint\":\"http://x/\",\"retries\":9}", "retries"},
        {"{\"endpoint\":\"http://x/\",\"retries\":1.5}", "retries"},
        {"{\"endpoint\":\"http://x/\",\"ssl_check\":\"yes\"}", "ssl_check"},
        {"{\"endpoint\":\"http://x/\",\"set_default_null\":1}", "set_default_null"},
        {"{\"endpoint\":\"http://x/\",\"headers\":[]}", "headers"},
        {"{\"endpoint\":\"http://x/\",\"headers\":{\"X\":{}}}", "headers.X"},
        {"{\"endpoint\":\"http://x/\",\"headers\":{\"Bad Name\":\"v\"}}", "headers"},
        {"{\"endpoint\":\"http://x/\",\"cookies\":\"a=b\"}", "cookies"},
        {"{\"endpoint\":\"http://x/\",\"body\":\"{}\"}", "body"},
        {"{\"endpoint\":\"http://x/\",\"body\":{\"type\":\"json\"}}", "body.type"},
        {"{\"endpoint\":\"http://x/\",\"body\":{\"type\":\"application/json\","
         "\"content\":\"{nope\"}}",
         "body.content"},
        {"{\"endpoint\":\"http://x/\",\"method\":\"get\",\"body\":{\"type\":"
         "\"application/json\",\"content\":\"[1]\"}}",
         "body.content"},
        {"{\"endpoint\":\"http://x/\",\"body\":{\"type\":\"text/plain\",\"content\":{}}}",
         "body.content"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *out = NULL;
        int rc = run_remote(f, cfg("%s", bad[i].init), NULL, &out, NULL);
        if (rc != CDP_E_INVALID || !strstr(f->err, bad[i].field))
            fail_msg("%s: rc %d, message \"%s\"", bad[i].init, rc, f->err);
        assert_null(out);
    }
    /* accepted: the old "url" field, a templated endpoint, seconds as text, retries from the
     * node's on_connection_error_repeat */
    static const char *const good[] = {
        "{\"url\":\"https://example.com/\"}",
        "{\"endpoint\":\"{{payload@url}}\"}",
        "{\"endpoint\":\"https://example.com/{{payload@id}}\",\"timeout\":\"0.5\"}",
        "{\"endpoint\":\"HTTP://example.com\",\"on_connection_error_repeat\":1}",
    };
    const struct cdp_plugin *p = cdp_plugin_find(REMOTE);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cJSON *init = cJSON_Parse(good[i]);
        void *st = NULL;
        char err[256] = "";
        if (p->setup(init, &st, err, sizeof(err)) != 0)
            fail_msg("%s: %s", good[i], err);
        p->free(st);
        cJSON_Delete(init);
    }
}

int main(int argc, char **argv)
{
    /* only 127.0.0.1 traffic, never through a proxy from the environment */
    static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    if (argc > 1 && strcmp(argv[1], "--no-curl") == 0) {
        const struct CMUnitTest no_curl[] = {cmocka_unit_test(test_no_curl_waits)};
        return cmocka_run_group_tests(no_curl, server_up, server_down);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_sleeps_then_http), /* first: libcurl not loaded yet */
        cmocka_unit_test(test_sync_echo),
        cmocka_unit_test(test_sync_answers),
        cmocka_unit_test(test_sync_sleep_timeout_retries),
        cmocka_unit_test(test_async_order),
        cmocka_unit_test(test_async_many),
        cmocka_unit_test(test_async_timeout_retries),
        cmocka_unit_test(test_async_stop_pending),
        cmocka_unit_test(test_no_curl),
        cmocka_unit_test(test_plugin_descriptor),
        cmocka_unit_test_setup_teardown(test_plugin_get_query, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_plugin_post_json, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_plugin_error_ports, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_plugin_config_errors, fx_up, fx_down),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
