/* Flow waits on the I/O thread (flow/io.h). Submitted waits go through a mutex-protected queue.
 * libcurl is loaded lazily with dlopen the first time an HTTP wait is performed (most
 * installations never make a remote call, and linking it costs ~5 MB of idle RSS): until then the
 * thread handles sleeps with a condition-variable timed wait; afterwards it owns a curl multi
 * handle, HTTP waits are easy handles in the multi, sleeps are timers of the same loop and
 * submits wake it with curl_multi_wakeup. Sleeps are kept sorted by their due time. Every wait
 * ends with exactly one callback on the I/O thread: its outcome, or {"error": "shutting down"}
 * on stop; when libcurl cannot be loaded, HTTP waits end with
 * {"error": "libcurl is not available: <dlerror text>"}. The blocking variant
 * (cdp_flow_io_run_sync) shares the request setup and the outcome.
 *
 * The environment variable CDPD_LIBCURL names the library file to dlopen (default
 * "libcurl.so.4"); the tests use it to simulate a missing libcurl. */
#include "flow/io.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef CDPD_VERSION
#define CDPD_VERSION "0"
#endif

#define IO_MAX_RESPONSE   ((size_t)1 << 20) /* response bodies larger than this are refused */
#define IO_MAX_DEPTH      64                /* deepest JSON response parsed */
#define IO_DEFAULT_TMO_MS 30000L
#define IO_MAX_RETRIES    10
#define IO_MAX_SLEEP_S    (86400.0 * 365)
#define IO_MAX_POLL_MS    1000

/* One wait in flight (or one sync call). */
struct job {
    struct job *next, *prev; /* queue, active list or timer list */
    struct cdp_flow_wait w;  /* a copy of what was submitted */
    void *token;
    const char *fail; /* set when the copy failed: completed with this error */
    CURL *easy;       /* HTTP */
    struct curl_slist *hdrs;
    struct cdp_buf body; /* response body */
    cJSON *rhead;        /* response headers, lower-case names */
    bool too_large;
    int tries_left;
    int64_t due_ms; /* SLEEP: monotonic due time */
    char errbuf[CURL_ERROR_SIZE];
};

struct cdp_flow_io {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the thread while it runs without libcurl (CLOCK_MONOTONIC) */
    CURLM *multi;      /* set (under mu) by the thread on the first HTTP wait */
    cdp_flow_io_done done;
    void *ud;
    struct job *queue, *queue_tail; /* submitted, not yet taken by the thread (mu) */
    bool stopping;                  /* mu */
    bool closed;                    /* mu: the thread has stopped taking waits */
    /* owned by the I/O thread */
    struct job *active; /* HTTP transfers in the multi handle */
    struct job *timers; /* sleeps, sorted by due_ms */
};

/* --- libcurl, loaded on first use --- */

/* The libcurl functions used here, resolved with dlsym (prototypes from <curl/curl.h>). */
static struct {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_timeout) *multi_timeout;
    __typeof__(curl_multi_poll) *multi_poll;
    __typeof__(curl_multi_wakeup) *multi_wakeup;
} cu;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static const char *curl_fail = "libcurl is not available"; /* NULL once loaded and initialised */
static char curl_fail_buf[512];

static void curl_not_available(const char *why)
{
    snprintf(curl_fail_buf, sizeof(curl_fail_buf), "libcurl is not available: %s",
             why ? why : "unknown error");
    curl_fail = curl_fail_buf;
}

static void curl_load_once(void)
{
    const char *file = getenv("CDPD_LIBCURL");
    if (!file || !*file)
        file = "libcurl.so.4";
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        curl_not_available(dlerror());
        return;
    }
    bool ok = true;
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        if (ok && !(cu.field = (__typeof__(cu.field))dlsym(h, name))) {                            \
            curl_not_available(dlerror());                                                         \
            ok = false;                                                                            \
        }                                                                                          \
    } while (0)
    SYM(global_init, "curl_global_init");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_perform, "curl_easy_perform");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(slist_append, "curl_slist_append");
    SYM(slist_free_all, "curl_slist_free_all");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_cleanup, "curl_multi_cleanup");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_perform, "curl_multi_perform");
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(multi_timeout, "curl_multi_timeout");
    SYM(multi_poll, "curl_multi_poll");
    SYM(multi_wakeup, "curl_multi_wakeup");
#undef SYM
    if (!ok) {
        memset(&cu, 0, sizeof(cu));
        dlclose(h);
        return;
    }
    if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        curl_fail = "cannot initialise libcurl"; /* the library stays loaded, unused */
        return;
    }
    curl_fail = NULL;
}

/* Loads libcurl on the first call (any thread); NULL when usable, else the error message. */
static const char *curl_load(void)
{
    pthread_once(&curl_once, curl_load_once);
    return curl_fail;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static cJSON *error_outcome(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "error", msg)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static double sleep_seconds(double s)
{
    if (!(s > 0)) /* also NaN */
        return 0;
    return s > IO_MAX_SLEEP_S ? IO_MAX_SLEEP_S : s;
}

/* --- jobs --- */

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static struct job *job_new(const struct cdp_flow_wait *w, void *token)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->token = token;
    cdp_buf_init(&j->body, IO_MAX_RESPONSE);
    if (!w) {
        j->fail = "no wait";
        return j;
    }
    bool oom = false;
    j->w.kind = w->kind;
    j->w.seconds = w->seconds;
    j->w.timeout_ms = w->timeout_ms;
    j->w.retries = w->retries;
    j->w.ssl_check = w->ssl_check;
    j->w.method = dup_or_null(w->method, &oom);
    j->w.url = dup_or_null(w->url, &oom);
    j->w.body = dup_or_null(w->body, &oom);
    if (w->headers && !(j->w.headers = cJSON_Duplicate(w->headers, true)))
        oom = true;
    if (oom)
        j->fail = "out of memory";
    return j;
}

static void job_free(struct job *j)
{
    if (!j)
        return;
    if (j->easy)
        cu.easy_cleanup(j->easy);
    if (j->hdrs)
        cu.slist_free_all(j->hdrs);
    cdp_buf_fini(&j->body);
    cJSON_Delete(j->rhead);
    cdp_flow_wait_clear(&j->w);
    free(j);
}

/* --- request setup and callbacks --- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct job *j = ud;
    size_t len = size * n;
    if (j->body.len + len > IO_MAX_RESPONSE) {
        j->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (cdp_buf_append(&j->body, p, len) != 0)
        return 0;
    return len;
}

/* Adds one header line to the response headers: repeated headers are joined with ", " as
 * RFC 9110 allows, except set-cookie, whose repeats become an array of strings (RFC 6265). */
static void add_header(cJSON *h, const char *name, const char *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(h, name);
    if (!old) {
        cJSON_AddStringToObject(h, name, value);
        return;
    }
    if (strcmp(name, "set-cookie") == 0) {
        if (cJSON_IsString(old)) {
            cJSON *a = cJSON_CreateArray();
            if (!a)
                return;
            cJSON_AddItemToArray(a, cJSON_CreateString(old->valuestring));
            cJSON_ReplaceItemInObjectCaseSensitive(h, name, a);
            old = a;
        }
        cJSON_AddItemToArray(old, cJSON_CreateString(value));
        return;
    }
    if (!cJSON_IsString(old))
        return;
    size_t n = strlen(old->valuestring) + 2 + strlen(value) + 1;
    char *joined = malloc(n);
    if (!joined)
        return;
    snprintf(joined, n, "%s, %s", old->valuestring, value);
    cJSON_ReplaceItemInObjectCaseSensitive(h, name, cJSON_CreateString(joined));
    free(joined);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct job *j = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100 Continue): its headers only */
        cJSON_Delete(j->rhead);
        j->rhead = cJSON_CreateObject();
        return len;
    }
    if (!j->rhead)
        j->rhead = cJSON_CreateObject();
    const char *colon = memchr(p, ':', len);
    if (!j->rhead || !colon || colon == p || len > 16384)
        return len;
    size_t nlen = (size_t)(colon - p);
    char name[256];
    if (nlen >= sizeof(name))
        return len;
    for (size_t i = 0; i < nlen; i++)
        name[i] = (char)tolower((unsigned char)p[i]);
    name[nlen] = '\0';
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char *value = strndup(v, (size_t)(end - v));
    if (value)
        add_header(j->rhead, name, value);
    free(value);
    return len;
}

static bool method_ok(const char *m)
{
    if (!m || !*m || strlen(m) > 16)
        return false;
    for (const char *s = m; *s; s++)
        if (!isupper((unsigned char)*s))
            return false;
    return true;
}

static bool header_text_ok(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

/* Builds the request headers; NULL message on success. */
static const char *build_headers(struct job *j)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, j->w.headers)
    {
        const char *name = h->string;
        if (!name || !*name || strchr(name, ':') || strchr(name, ' ') || !header_text_ok(name))
            return "invalid header name";
        char *printed = NULL;
        const char *value;
        if (cJSON_IsString(h))
            value = h->valuestring;
        else if (cJSON_IsNull(h))
            value = "";
        else if (!(value = printed = cdp_json_print(h)))
            return "out of memory";
        if (!header_text_ok(value)) {
            free(printed);
            return "invalid header value";
        }
        size_t n = strlen(name) + strlen(value) + 3;
        char *line = malloc(n);
        if (!line) {
            free(printed);
            return "out of memory";
        }
        if (*value)
            snprintf(line, n, "%s: %s", name, value);
        else
            snprintf(line, n, "%s;", name); /* curl's way to send an empty header */
        free(printed);
        struct curl_slist *l = cu.slist_append(j->hdrs, line);
        free(line);
        if (!l)
            return "out of memory";
        j->hdrs = l;
    }
    return NULL;
}

/* Creates and configures the easy handle; NULL message on success. */
static const char *setup_easy(struct job *j)
{
    const char *fail = curl_load();
    if (fail)
        return fail;
    if (!j->w.url || !*j->w.url)
        return "no URL";
    const char *method = j->w.method ? j->w.method : "GET";
    if (!method_ok(method))
        return "invalid method";
    const char *msg = build_headers(j);
    if (msg)
        return msg;
    CURL *e = j->easy = cu.easy_init();
    if (!e)
        return "out of memory";
    long tmo = j->w.timeout_ms > 0 ? j->w.timeout_ms : IO_DEFAULT_TMO_MS;
    j->tries_left = j->w.retries < 0                ? 0
                    : j->w.retries > IO_MAX_RETRIES ? IO_MAX_RETRIES
                                                    : j->w.retries;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = cu.easy_setopt(e, opt, val);                                                      \
    } while (0)
    SET(CURLOPT_PRIVATE, (void *)j);
    SET(CURLOPT_URL, j->w.url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, 5L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, tmo);
    SET(CURLOPT_CONNECTTIMEOUT_MS, tmo);
    SET(CURLOPT_ERRORBUFFER, j->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)j);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)j);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)IO_MAX_RESPONSE);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_USERAGENT, "cdpd/" CDPD_VERSION);
    SET(CURLOPT_SSL_VERIFYPEER, j->w.ssl_check ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, j->w.ssl_check ? 2L : 0L);
    if (j->hdrs)
        SET(CURLOPT_HTTPHEADER, j->hdrs);
    bool is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
    if (strcmp(method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (is_get && !j->w.body) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        /* POST and methods with a body send it as it is; other methods get their name */
        const char *body = j->w.body ? j->w.body : "";
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        SET(CURLOPT_POSTFIELDS, body);
        if (!is_post)
            SET(CURLOPT_CUSTOMREQUEST, method);
    }
#undef SET
    if (rc != CURLE_OK)
        return cu.easy_strerror(rc);
    return NULL;
}

/* Forgets what an attempt received, before the next one. */
static void reset_attempt(struct job *j)
{
    j->body.len = 0;
    if (j->body.data)
        j->body.data[0] = '\0';
    j->body.failed = false;
    cJSON_Delete(j->rhead);
    j->rhead = NULL;
    j->too_large = false;
    j->errbuf[0] = '\0';
}

static bool retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return true;
    default:
        return false;
    }
}

/* The outcome of a finished attempt. */
static cJSON *http_outcome(struct job *j, CURLcode rc)
{
    if (j->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return error_outcome("response too large");
    if (rc != CURLE_OK)
        return error_outcome(j->errbuf[0] ? j->errbuf : cu.easy_strerror(rc));
    long status = 0;
    cu.easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "status", (double)status);
    cJSON *h = j->rhead ? j->rhead : cJSON_CreateObject();
    j->rhead = NULL;
    if (h)
        cJSON_AddItemToObject(o, "headers", h);
    const char *text = j->body.data ? j->body.data : "";
    cJSON *content = NULL;
    if (j->body.len && cdp_json_depth_ok(text, j->body.len, IO_MAX_DEPTH))
        content = cdp_json_parse(text, j->body.len, NULL);
    if (!content)
        content = cJSON_CreateString(text);
    if (!content || !h) {
        cJSON_Delete(content);
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddItemToObject(o, "content", content);
    return o;
}

/* --- blocking --- */

cJSON *cdp_flow_io_run_sync(const struct cdp_flow_wait *w)
{
    if (!w || w->kind == CDP_WAIT_NONE)
        return error_outcome("no wait");
    if (w->kind == CDP_WAIT_SLEEP) {
        double s = sleep_seconds(w->seconds);
        struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return cJSON_CreateObject();
    }
    struct job *j = job_new(w, NULL);
    if (!j)
        return error_outcome("out of memory");
    cJSON *out;
    const char *msg = j->fail ? j->fail : setup_easy(j);
    if (msg) {
        out = error_outcome(msg);
    } else {
        CURLcode rc;
        for (;;) {
            rc = cu.easy_perform(j->easy);
            if (!retryable(rc) || j->tries_left <= 0)
                break;
            j->tries_left--;
            reset_attempt(j);
        }
        out = http_outcome(j, rc);
    }
    job_free(j);
    return out;
}

/* --- the I/O thread --- */

static void finish(struct cdp_flow_io *io, struct job *j, cJSON *outcome)
{
    void *token = j->token;
    job_free(j);
    io->done(io->ud, token, outcome);
}

static void list_unlink(struct job **head, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        *head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
}

static void list_push(struct job **head, struct job *j)
{
    j->prev = NULL;
    j->next = *head;
    if (*head)
        (*head)->prev = j;
    *head = j;
}

/* Inserts a sleep after those due no later (equal durations complete in submit order). */
static void timer_insert(struct cdp_flow_io *io, struct job *j)
{
    struct job *prev = NULL, *cur = io->timers;
    while (cur && cur->due_ms <= j->due_ms) {
        prev = cur;
        cur = cur->next;
    }
    j->prev = prev;
    j->next = cur;
    if (prev)
        prev->next = j;
    else
        io->timers = j;
    if (cur)
        cur->prev = j;
}

/* Loads libcurl and switches the thread to the curl multi loop; NULL message on success. */
static const char *ensure_multi(struct cdp_flow_io *io)
{
    if (io->multi)
        return NULL;
    const char *msg = curl_load();
    if (msg)
        return msg;
    CURLM *m = cu.multi_init();
    if (!m)
        return "out of memory";
    pthread_mutex_lock(&io->mu);
    io->multi = m; /* from now on submit and stop wake the thread with curl_multi_wakeup */
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

static void begin(struct cdp_flow_io *io, struct job *j)
{
    j->next = j->prev = NULL;
    if (j->fail) {
        finish(io, j, error_outcome(j->fail));
        return;
    }
    if (j->w.kind == CDP_WAIT_SLEEP) {
        j->due_ms = now_ms() + (int64_t)(sleep_seconds(j->w.seconds) * 1000.0 + 0.5);
        timer_insert(io, j);
        return;
    }
    if (j->w.kind != CDP_WAIT_HTTP) {
        finish(io, j, error_outcome("no wait"));
        return;
    }
    const char *msg = ensure_multi(io);
    if (!msg)
        msg = setup_easy(j);
    if (!msg && cu.multi_add_handle(io->multi, j->easy) != CURLM_OK)
        msg = "cannot start the request";
    if (msg) {
        finish(io, j, error_outcome(msg));
        return;
    }
    list_push(&io->active, j);
}

static void reap_transfers(struct cdp_flow_io *io)
{
    CURLMsg *m;
    int left;
    while ((m = cu.multi_info_read(io->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        void *p = NULL;
        cu.easy_getinfo(e, CURLINFO_PRIVATE, &p);
        struct job *j = p;
        cu.multi_remove_handle(io->multi, e);
        if (retryable(rc) && j->tries_left > 0) {
            j->tries_left--;
            reset_attempt(j);
            if (cu.multi_add_handle(io->multi, e) == CURLM_OK)
                continue;
        }
        list_unlink(&io->active, j);
        finish(io, j, http_outcome(j, rc));
    }
}

static void expire_timers(struct cdp_flow_io *io)
{
    int64_t now = now_ms();
    while (io->timers && io->timers->due_ms <= now) {
        struct job *j = io->timers;
        list_unlink(&io->timers, j);
        finish(io, j, cJSON_CreateObject());
    }
}

static void *io_main(void *arg)
{
    struct cdp_flow_io *io = arg;
    for (;;) {
        pthread_mutex_lock(&io->mu);
        struct job *batch = io->queue;
        io->queue = io->queue_tail = NULL;
        bool stop = io->stopping;
        if (stop)
            io->closed = true; /* later submits complete at once */
        pthread_mutex_unlock(&io->mu);
        while (batch) {
            struct job *j = batch;
            batch = j->next;
            if (stop)
                finish(io, j, error_outcome("shutting down"));
            else
                begin(io, j);
        }
        if (stop)
            break;
        if (!io->multi) {
            /* without libcurl (no HTTP wait yet): sleeps only */
            expire_timers(io);
            pthread_mutex_lock(&io->mu);
            if (!io->queue && !io->stopping) {
                if (io->timers) {
                    int64_t due = io->timers->due_ms;
                    struct timespec until = {(time_t)(due / 1000), (long)(due % 1000) * 1000000};
                    pthread_cond_timedwait(&io->cv, &io->mu, &until);
                } else {
                    pthread_cond_wait(&io->cv, &io->mu);
                }
            }
            pthread_mutex_unlock(&io->mu);
            continue;
        }
        int running = 0;
        cu.multi_perform(io->multi, &running);
        reap_transfers(io);
        expire_timers(io);

        long wait = IO_MAX_POLL_MS;
        if (io->active) {
            long t = -1;
            cu.multi_timeout(io->multi, &t);
            if (t >= 0 && t < wait)
                wait = t;
        }
        if (io->timers) {
            int64_t d = io->timers->due_ms - now_ms();
            if (d < 0)
                d = 0;
            if (d < wait)
                wait = (long)d;
        }
        cu.multi_poll(io->multi, NULL, 0, (int)wait, NULL);
    }
    while (io->active) {
        struct job *j = io->active;
        list_unlink(&io->active, j);
        cu.multi_remove_handle(io->multi, j->easy);
        finish(io, j, error_outcome("shutting down"));
    }
    while (io->timers) {
        struct job *j = io->timers;
        list_unlink(&io->timers, j);
        finish(io, j, error_outcome("shutting down"));
    }
    return NULL;
}

int cdp_flow_io_start(struct cdp_flow_io **out, cdp_flow_io_done done, void *ud)
{
    *out = NULL;
    if (!done)
        return CDP_E_INVALID;
    struct cdp_flow_io *io = calloc(1, sizeof(*io));
    if (!io)
        return CDP_E_NOMEM;
    io->done = done;
    io->ud = ud;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(io);
        return CDP_E_NOMEM;
    }
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* due_ms is monotonic */
    if (rc == 0)
        rc = pthread_cond_init(&io->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(io);
        return CDP_E_INTERNAL;
    }
    pthread_mutex_init(&io->mu, NULL);
    if (pthread_create(&io->thread, NULL, io_main, io) != 0) {
        pthread_mutex_destroy(&io->mu);
        pthread_cond_destroy(&io->cv);
        free(io);
        return CDP_E_INTERNAL;
    }
    *out = io;
    return 0;
}

/* Wakes the thread, whichever loop it runs (call with mu held). */
static void wake(struct cdp_flow_io *io)
{
    if (io->multi)
        cu.multi_wakeup(io->multi);
    else
        pthread_cond_signal(&io->cv);
}

void cdp_flow_io_submit(struct cdp_flow_io *io, const struct cdp_flow_wait *w, void *token)
{
    struct job *j = job_new(w, token);
    if (!io) {
        job_free(j);
        return;
    }
    if (!j) {
        /* cannot queue anything: answer at once, on the caller's thread */
        io->done(io->ud, token, error_outcome("out of memory"));
        return;
    }
    pthread_mutex_lock(&io->mu);
    bool closed = io->closed;
    if (!closed) {
        if (io->queue_tail)
            io->queue_tail->next = j;
        else
            io->queue = j;
        io->queue_tail = j;
        /* under the lock: a stop racing with this submit cannot free the multi handle before
         * the wakeup is done (the thread must take the lock once more to exit) */
        wake(io);
    }
    pthread_mutex_unlock(&io->mu);
    if (closed) {
        /* after stop (or from a callback during it): the thread takes nothing more */
        job_free(j);
        io->done(io->ud, token, error_outcome("shutting down"));
    }
}

void cdp_flow_io_stop(struct cdp_flow_io *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->mu);
    io->stopping = true;
    wake(io);
    pthread_mutex_unlock(&io->mu);
    pthread_join(io->thread, NULL);
    if (io->multi)
        cu.multi_cleanup(io->multi);
    pthread_mutex_destroy(&io->mu);
    pthread_cond_destroy(&io->cv);
    free(io);
}
