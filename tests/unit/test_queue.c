/* Conformance suite of the queue seam, run on the embedded outbox and on Redis Streams. The
 * Redis half starts a real redis-server on a free loopback port (no persistence, its own
 * directory) and kills it by pid at the end; it is skipped, saying why, when redis-server is
 * not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "queue/queue.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LEASE_MS     150
#define MAX_ATTEMPTS 3

struct backend {
    char url[256];
    bool is_redis;
};

static char tmpdir[64];
static int redis_port;
static pid_t redis_pid;
static int stream_seq;

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static bool redis_pings(void)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

static bool redis_start(void)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    if (redis_pid < 0)
        return false;
    if (redis_pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", tmpdir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        if (redis_pings())
            return true;
        sleep_ms(50);
    }
    return false;
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
    }
    redis_pid = 0;
}

static bool have_redis_server(void)
{
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

static struct cdp_queue *open_queue(const struct backend *b)
{
    struct cdp_queue *q;
    char err[256];
    struct cdp_queue_opts o = {.max_attempts = MAX_ATTEMPTS, .timeout_ms = 1000};
    int rc = cdp_queue_open(&q, b->url, &o, err, sizeof(err));
    if (rc)
        fail_msg("open %s: %s", b->url, err);
    return q;
}

/* A stream of its own for each test, so tests share one server and one outbox. */
static void new_stream(char *out, size_t len)
{
    snprintf(out, len, "s%d-%ld", ++stream_seq, (long)getpid());
}

static void publish_n(struct cdp_queue *q, const char *stream, int n, char ids[][CDP_QUEUE_ID_MAX])
{
    for (int i = 0; i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "n", i);
        char id[CDP_QUEUE_ID_MAX];
        assert_int_equal(q->ops->publish(q, stream, d, id, sizeof(id)), 0);
        assert_true(id[0] != '\0');
        if (ids)
            memcpy(ids[i], id, sizeof(id));
        cJSON_Delete(d);
    }
}

static int doc_n(const struct cdp_queue_entry *e)
{
    return cJSON_GetObjectItemCaseSensitive(e->doc, "n")->valueint;
}

static void ack_all(struct cdp_queue *q, const char *stream, const char *group,
                    struct cdp_queue_entry *e, size_t n)
{
    const char *ids[64];
    for (size_t i = 0; i < n; i++)
        ids[i] = e[i].id;
    assert_int_equal(q->ops->ack(q, stream, group, ids, n), 0);
}

static void test_publish_consume_ack(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64], ids[3][CDP_QUEUE_ID_MAX];
    new_stream(stream, sizeof(stream));
    publish_n(q, stream, 3, ids);

    struct cdp_queue_entry e[8];
    size_t n;
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 8, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].id, ids[i]);
        assert_int_equal(doc_n(&e[i]), (int)i);
        assert_int_equal(e[i].deliveries, 1);
    }
    ack_all(q, stream, "g", e, n);
    cdp_queue_entries_free(e, n);

    /* acknowledged: never again, not even after the lease */
    sleep_ms(LEASE_MS + 50);
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 8, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 0);

    /* a second group reads the stream from its start */
    assert_int_equal(q->ops->consume(q, stream, "g2", "c1", 2, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].id, ids[0]);
    cdp_queue_entries_free(e, n);

    /* blocking waits and comes back empty */
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 8, 100, 60000, e, &n), 0);
    assert_int_equal(n, 0);
    const char *unknown[] = {"999999-0", "nonsense"};
    assert_int_equal(q->ops->ack(q, stream, "g", unknown, 2), 0);
    cdp_queue_close(q);
}

static void test_two_consumers_share(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q1 = open_queue(b), *q2 = open_queue(b);
    char stream[64];
    new_stream(stream, sizeof(stream));
    publish_n(q1, stream, 10, NULL);

    int seen[10] = {0};
    struct cdp_queue_entry e[4];
    size_t n, total = 0;
    for (int round = 0; round < 10 && total < 10; round++) {
        struct cdp_queue *q = round % 2 ? q2 : q1;
        assert_int_equal(
            q->ops->consume(q, stream, "g", round % 2 ? "c2" : "c1", 3, 0, 60000, e, &n), 0);
        for (size_t i = 0; i < n; i++)
            seen[doc_n(&e[i])]++;
        total += n;
        ack_all(q, stream, "g", e, n);
        cdp_queue_entries_free(e, n);
    }
    assert_int_equal(total, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
    cdp_queue_close(q1);
    cdp_queue_close(q2);
}

static void test_redelivery_and_dead_letter(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64], ids[1][CDP_QUEUE_ID_MAX], dead[96];
    new_stream(stream, sizeof(stream));
    publish_n(q, stream, 1, ids);

    struct cdp_queue_entry e[4];
    size_t n;
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].deliveries, 1);
    cdp_queue_entries_free(e, n);

    /* within the lease another consumer gets nothing */
    assert_int_equal(q->ops->consume(q, stream, "g", "c2", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 0);

    /* after it, the entry goes to c2 with a higher count, up to max_attempts */
    for (long attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
        sleep_ms(LEASE_MS + 50);
        assert_int_equal(q->ops->consume(q, stream, "g", "c2", 4, 0, LEASE_MS, e, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].id, ids[0]);
        assert_int_equal(e[0].deliveries, attempt);
        assert_int_equal(doc_n(&e[0]), 0);
        cdp_queue_entries_free(e, n);
    }
    struct cdp_queue_backlog bl;
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.pending, 1);

    /* one more lease: dead-lettered, acknowledged, never delivered again */
    sleep_ms(LEASE_MS + 50);
    assert_int_equal(q->ops->consume(q, stream, "g", "c3", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.pending, 0);
    sleep_ms(LEASE_MS + 50);
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 0);

    assert_int_equal(cdp_queue_dead_name(stream, dead, sizeof(dead)), 0);
    assert_int_equal(q->ops->consume(q, dead, "ops", "c1", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 1);
    const cJSON *d = e[0].doc;
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(d, "id")->valuestring, ids[0]);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(d, "stream")->valuestring, stream);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(d, "group")->valuestring, "g");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(d, "deliveries")->valueint, MAX_ATTEMPTS + 1);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(d, "reason")->valuestring);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "doc"), "n")->valueint,
        0);
    cdp_queue_entries_free(e, n);
    cdp_queue_close(q);
}

static void *publish_later(void *arg)
{
    const char **a = arg; /* url, stream */
    struct backend b = {0};
    snprintf(b.url, sizeof(b.url), "%s", a[0]);
    struct cdp_queue *q = open_queue(&b);
    sleep_ms(150);
    publish_n(q, a[1], 1, NULL);
    cdp_queue_close(q);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A blocked consume wakes for an entry published meanwhile, through another connection. */
static void test_blocking_consume(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64];
    new_stream(stream, sizeof(stream));
    struct cdp_queue_entry e[2];
    size_t n;
    /* the group exists before the publish, as a running worker's would */
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 2, 0, 60000, e, &n), 0);
    assert_int_equal(n, 0);
    const char *arg[] = {b->url, stream};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, publish_later, arg), 0);
    int64_t start = mono_ms();
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 2, 3000, 60000, e, &n), 0);
    int64_t waited = mono_ms() - start;
    pthread_join(t, NULL);
    assert_int_equal(n, 1);
    assert_true(waited >= 100 && waited < 2500);
    cdp_queue_entries_free(e, n);
    cdp_queue_close(q);
}

static void test_backlog(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64];
    new_stream(stream, sizeof(stream));
    struct cdp_queue_backlog bl;
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 0);
    assert_int_equal(bl.pending, 0);
    assert_int_equal(bl.lag, 0);

    publish_n(q, stream, 5, NULL);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 5);
    assert_int_equal(bl.pending, 0);
    assert_int_equal(bl.lag, 5);

    struct cdp_queue_entry e[4];
    size_t n;
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 3, 0, 60000, e, &n), 0);
    assert_int_equal(n, 3);
    ack_all(q, stream, "g", e, 1);
    cdp_queue_entries_free(e, n);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 5);
    assert_int_equal(bl.pending, 2);
    assert_int_equal(bl.lag, 2);
    cdp_queue_close(q);
}

/* The barrier: settled once every entry up to the tail taken is acknowledged, whatever came
 * after it. */
static void test_settled(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64], tail[CDP_QUEUE_ID_MAX];
    new_stream(stream, sizeof(stream));
    bool ok = false;
    assert_int_equal(q->ops->tail(q, stream, tail, sizeof(tail)), 0);
    assert_string_equal(tail, "");
    assert_int_equal(q->ops->settled(q, stream, "g", tail, &ok), 0);
    assert_true(ok);

    char ids[3][CDP_QUEUE_ID_MAX];
    publish_n(q, stream, 3, ids);
    assert_int_equal(q->ops->tail(q, stream, tail, sizeof(tail)), 0);
    assert_string_equal(tail, ids[2]);
    assert_int_equal(q->ops->settled(q, stream, "g", tail, &ok), 0);
    assert_false(ok); /* no group yet */

    struct cdp_queue_entry e[3];
    size_t n;
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 3, 0, 60000, e, &n), 0);
    assert_int_equal(n, 3);
    ack_all(q, stream, "g", e, 2); /* the first two */
    assert_int_equal(q->ops->settled(q, stream, "g", tail, &ok), 0);
    assert_false(ok);              /* delivered, not all acknowledged */
    publish_n(q, stream, 1, NULL); /* after the tail: does not matter */
    ack_all(q, stream, "g", e + 2, 1);
    assert_int_equal(q->ops->settled(q, stream, "g", tail, &ok), 0);
    assert_true(ok);
    cdp_queue_entries_free(e, n);
    cdp_queue_close(q);
}

/* Trimming drops what each named group acknowledged, and nothing while one of them needs it or
 * has not been made yet (it would lose what it has not read). */
static void test_trim(void **state)
{
    const struct backend *b = *state;
    struct cdp_queue *q = open_queue(b);
    char stream[64];
    new_stream(stream, sizeof(stream));
    static const char *const both[] = {"g", "h"};
    struct cdp_queue_backlog bl;
    publish_n(q, stream, 5, NULL);
    assert_int_equal(q->ops->trim(q, stream, both, 2), 0); /* no group yet: everything stays */
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 5);

    struct cdp_queue_entry e[5], f[5];
    size_t n, m;
    assert_int_equal(q->ops->consume(q, stream, "h", "c1", 5, 0, 60000, f, &m), 0);
    assert_int_equal(m, 5);
    ack_all(q, stream, "h", f, 5); /* h has everything; g is not made yet */
    assert_int_equal(q->ops->trim(q, stream, both, 2), 0);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 5);

    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 3, 0, 60000, e, &n), 0);
    assert_int_equal(n, 3);
    ack_all(q, stream, "g", e, 2); /* g: 1 and 2 done, 3 pending, 4 and 5 not read */
    assert_int_equal(q->ops->trim(q, stream, both, 2), 0);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 3);
    assert_int_equal(bl.pending, 1);
    assert_int_equal(bl.lag, 2);
    ack_all(q, stream, "g", e + 2, 1);
    cdp_queue_entries_free(e, n);
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 5, 0, 60000, e, &n), 0);
    assert_int_equal(n, 2);
    ack_all(q, stream, "g", e, n);
    cdp_queue_entries_free(e, n);
    cdp_queue_entries_free(f, m);
    assert_int_equal(q->ops->trim(q, stream, both, 2), 0);
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), 0);
    assert_int_equal(bl.length, 0);
    publish_n(q, stream, 1, NULL); /* and new entries come after */
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 5, 0, 60000, e, &n), 0);
    assert_int_equal(n, 1);
    cdp_queue_entries_free(e, n);
    cdp_queue_close(q);
}

static void test_unavailable_and_recovery(void **state)
{
    const struct backend *b = *state;
    if (!b->is_redis)
        skip();
    struct cdp_queue *q = open_queue(b);
    char stream[64], id[CDP_QUEUE_ID_MAX];
    new_stream(stream, sizeof(stream));
    publish_n(q, stream, 1, NULL);

    redis_stop();
    cJSON *d = cJSON_CreateObject();
    assert_int_equal(q->ops->publish(q, stream, d, id, sizeof(id)), CDP_E_UNAVAILABLE);
    assert_int_equal(cdp_err_status(CDP_E_UNAVAILABLE), 503);
    struct cdp_queue_entry e[4];
    size_t n = 7;
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 4, 0, LEASE_MS, e, &n),
                     CDP_E_UNAVAILABLE);
    assert_int_equal(n, 0);
    struct cdp_queue_backlog bl;
    assert_int_equal(q->ops->backlog(q, stream, "g", &bl), CDP_E_UNAVAILABLE);

    assert_true(redis_start());
    /* the same queue connects again (the server kept nothing: it has no persistence) */
    assert_int_equal(q->ops->publish(q, stream, d, id, sizeof(id)), 0);
    assert_int_equal(q->ops->consume(q, stream, "g", "c1", 4, 0, LEASE_MS, e, &n), 0);
    assert_int_equal(n, 1);
    cdp_queue_entries_free(e, n);
    cJSON_Delete(d);
    cdp_queue_close(q);
}

static void test_bad_urls(void **state)
{
    (void)state;
    struct cdp_queue *q;
    char err[256];
    assert_int_equal(cdp_queue_open(&q, "kafka://x", NULL, err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_queue_open(&q, "redis://", NULL, err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_queue_open(&q, "redis://h:0", NULL, err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_queue_open(&q, "redis://h:6379/x", NULL, err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_queue_open(&q, "redis://h:6379/2", NULL, err, sizeof(err)), 0);
    cdp_queue_close(q);
}

#define CONFORMANCE(b)                                                                             \
    cmocka_unit_test_prestate(test_publish_consume_ack, b),                                        \
        cmocka_unit_test_prestate(test_two_consumers_share, b),                                    \
        cmocka_unit_test_prestate(test_redelivery_and_dead_letter, b),                             \
        cmocka_unit_test_prestate(test_backlog, b), cmocka_unit_test_prestate(test_settled, b),    \
        cmocka_unit_test_prestate(test_trim, b),                                                   \
        cmocka_unit_test_prestate(test_blocking_consume, b),                                       \
        cmocka_unit_test_prestate(test_unavailable_and_recovery, b)

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/cdpd-queue-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    static struct backend local, redis = {.is_redis = true};
    snprintf(local.url, sizeof(local.url), "local:%s/data", tmpdir);

    const struct CMUnitTest local_tests[] = {cmocka_unit_test(test_bad_urls), CONFORMANCE(&local)};
    int failed = cmocka_run_group_tests_name("queue local", local_tests, NULL, NULL);

    if (!have_redis_server()) {
        printf("skipping the Redis queue tests: redis-server is not installed\n");
    } else {
        redis_port = free_port();
        if (redis_port <= 0 || !redis_start()) {
            printf("redis-server did not start on 127.0.0.1:%d\n", redis_port);
            redis_stop();
            return 1;
        }
        snprintf(redis.url, sizeof(redis.url), "redis://127.0.0.1:%d/1", redis_port);
        const struct CMUnitTest redis_tests[] = {CONFORMANCE(&redis)};
        failed += cmocka_run_group_tests_name("queue redis", redis_tests, NULL, NULL);
        redis_stop();
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
