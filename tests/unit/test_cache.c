/* Unit tests of the cache-and-lock seam: one conformance suite run against the in-process
 * backend and against a real redis-server started here on a free loopback port (skipped,
 * saying why, when redis-server is not installed), then what only Redis can do: go down
 * (CDP_E_UNAVAILABLE) and come back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache/cache.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char url[128];      /* the backend under test */
static bool redis_missing; /* the Redis half is skipped */
static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static bool redis_answers(void)
{
    struct cdp_cache *c;
    char err[256];
    if (cdp_cache_open(&c, url, "probe", err, sizeof(err)) != 0)
        return false;
    cJSON *got = NULL;
    int rc = c->ops->get(c, "probe", &got);
    cdp_cache_close(c);
    return rc == CDP_E_NOT_FOUND;
}

static int redis_start(void)
{
    char port[16], log[96];
    snprintf(port, sizeof(port), "%d", redis_port);
    snprintf(log, sizeof(log), "%s/redis.log", redis_dir);
    redis_pid = fork();
    if (redis_pid < 0)
        return -1;
    if (redis_pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", redis_dir, "--logfile", log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        if (redis_answers())
            return 0;
        sleep_ms(50);
    }
    return -1;
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
    redis_pid = -1;
}

static int setup_local(void **state)
{
    (void)state;
    snprintf(url, sizeof(url), "local:");
    return 0;
}

static int setup_redis(void **state)
{
    (void)state;
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        redis_missing = true;
        printf("redis-server is not installed (apt-get install redis-server): "
               "skipping the Redis backend\n");
        return 0;
    }
    snprintf(redis_dir, sizeof(redis_dir), "/tmp/cdpd-redis-XXXXXX");
    if (!mkdtemp(redis_dir))
        return -1;
    redis_port = free_port();
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", redis_port);
    return redis_port > 0 ? redis_start() : -1;
}

static int teardown_redis(void **state)
{
    (void)state;
    redis_stop();
    if (redis_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", redis_dir);
        if (system(cmd) != 0)
            return -1;
    }
    return 0;
}

static struct cdp_cache *open_ns(const char *ns)
{
    if (redis_missing)
        skip();
    struct cdp_cache *c = NULL;
    char err[256];
    int rc = cdp_cache_open(&c, url, ns, err, sizeof(err));
    if (rc)
        fail_msg("open %s: %s", url, err);
    return c;
}

static cJSON *doc(const char *text)
{
    cJSON *d = cJSON_Parse(text);
    assert_non_null(d);
    return d;
}

static void assert_doc(struct cdp_cache *c, const char *key, const char *want)
{
    cJSON *got = NULL;
    assert_int_equal(c->ops->get(c, key, &got), 0);
    char *text = cJSON_PrintUnformatted(got);
    assert_string_equal(text, want);
    free(text);
    cJSON_Delete(got);
}

static void test_get_put_del_ttl(void **state)
{
    (void)state;
    struct cdp_cache *c = open_ns("docs"), *other = open_ns("docs-other");
    cJSON *got = NULL, *d = doc("{\"id\":\"p-1\",\"traits\":{\"n\":1}}");
    assert_int_equal(c->ops->get(c, "p-1", &got), CDP_E_NOT_FOUND);
    assert_null(got);
    assert_int_equal(c->ops->put(c, "p-1", d, 0), 0);
    cJSON_ReplaceItemInObject(d, "id", cJSON_CreateString("changed")); /* put copied it */
    assert_doc(c, "p-1", "{\"id\":\"p-1\",\"traits\":{\"n\":1}}");
    /* namespaces are apart */
    assert_int_equal(other->ops->get(other, "p-1", &got), CDP_E_NOT_FOUND);
    assert_int_equal(c->ops->del(c, "p-1"), 0);
    assert_int_equal(c->ops->get(c, "p-1", &got), CDP_E_NOT_FOUND);
    assert_int_equal(c->ops->del(c, "p-1"), 0); /* deleting nothing is fine */

    assert_int_equal(c->ops->put(c, "s-1", d, 1), 0);
    assert_doc(c, "s-1", "{\"id\":\"changed\",\"traits\":{\"n\":1}}");
    sleep_ms(1200);
    assert_int_equal(c->ops->get(c, "s-1", &got), CDP_E_NOT_FOUND);
    assert_int_equal(c->ops->put(c, "s-1", d, -1), CDP_E_INVALID);
    cJSON_Delete(d);
    cdp_cache_close(other);
    cdp_cache_close(c);
}

static void test_lock_exclusive_and_unlock(void **state)
{
    (void)state;
    struct cdp_cache *a = open_ns("locks"), *b = open_ns("locks");
    int64_t ta = 0, tb = 0, t2 = 0;
    assert_int_equal(a->ops->lock(a, "p-1", 10000, &ta), 0);
    assert_true(ta > 0);
    assert_int_equal(b->ops->lock(b, "p-1", 10000, &tb), CDP_E_CONFLICT);
    assert_int_equal(tb, 0);
    assert_int_equal(b->ops->lock(b, "p-2", 10000, &tb), 0); /* another key is free */
    /* a non-holder's unlock changes nothing */
    assert_int_equal(b->ops->unlock(b, "p-1", ta + 1), CDP_E_CONFLICT);
    assert_int_equal(b->ops->lock(b, "p-1", 10000, &tb), CDP_E_CONFLICT);
    assert_int_equal(a->ops->unlock(a, "p-1", ta), 0);
    assert_int_equal(a->ops->unlock(a, "p-1", ta), CDP_E_CONFLICT); /* not twice */
    assert_int_equal(b->ops->lock(b, "p-1", 10000, &t2), 0);
    assert_true(t2 > ta);
    assert_int_equal(b->ops->unlock(b, "p-1", t2), 0);
    assert_int_equal(a->ops->lock(a, "p-1", 0, &ta), CDP_E_INVALID);
    cdp_cache_close(a);
    cdp_cache_close(b);
}

static void test_lease_and_fencing(void **state)
{
    (void)state;
    struct cdp_cache *a = open_ns("fence"), *b = open_ns("fence");
    int64_t ta = 0, tb = 0;
    cJSON *old = doc("{\"v\":\"old\"}"), *nu = doc("{\"v\":\"new\"}");

    assert_int_equal(a->ops->lock(a, "p-1", 200, &ta), 0);
    assert_int_equal(a->ops->fenced_put(a, "p-1", old, ta, 0), 0); /* the holder writes */
    assert_int_equal(b->ops->lock(b, "p-1", 200, &tb), CDP_E_CONFLICT);
    sleep_ms(300); /* a stalls past its lease: b gets in, with a higher token */
    assert_int_equal(b->ops->lock(b, "p-1", 10000, &tb), 0);
    assert_true(tb > ta);
    assert_int_equal(b->ops->fenced_put(b, "p-1", nu, tb, 60), 0);
    /* a wakes up: its write is refused, its unlock does nothing */
    assert_int_equal(a->ops->fenced_put(a, "p-1", old, ta, 0), CDP_E_CONFLICT);
    assert_doc(b, "p-1", "{\"v\":\"new\"}");
    assert_int_equal(a->ops->unlock(a, "p-1", ta), CDP_E_CONFLICT);
    int64_t tc;
    assert_int_equal(a->ops->lock(a, "p-1", 10000, &tc), CDP_E_CONFLICT);
    /* b's lease is still its own after its unlock the key is free again */
    assert_int_equal(b->ops->unlock(b, "p-1", tb), 0);
    assert_int_equal(a->ops->lock(a, "p-1", 10000, &tc), 0);
    assert_true(tc > tb);
    assert_int_equal(b->ops->fenced_put(b, "p-1", old, tb, 0), CDP_E_CONFLICT);
    assert_int_equal(a->ops->fenced_put(a, "p-1", old, tc, 0), 0);
    assert_doc(a, "p-1", "{\"v\":\"old\"}");
    assert_int_equal(a->ops->unlock(a, "p-1", tc), 0);
    cJSON_Delete(old);
    cJSON_Delete(nu);
    cdp_cache_close(a);
    cdp_cache_close(b);
}

/* The batches: lock_many takes what is free and reads it; finish_many writes under each token
 * (refusing a stale one) and releases every lock. */
static void test_lock_many_and_finish_many(void **state)
{
    (void)state;
    struct cdp_cache *a = open_ns("many"), *b = open_ns("many");
    cJSON *d1 = doc("{\"v\":1}"), *d2 = doc("{\"v\":2}");
    int64_t tb = 0;
    assert_int_equal(a->ops->put(a, "k1", d1, 0), 0);
    assert_int_equal(b->ops->lock(b, "k2", 10000, &tb), 0);
    struct cdp_cache_item it[3] = {{.key = "k1"}, {.key = "k2"}, {.key = "k3"}};
    assert_int_equal(a->ops->lock_many(a, it, 3, 200), 0);
    assert_true(it[0].token > 0 && it[2].token > 0);
    assert_int_equal(it[1].token, 0); /* b holds it */
    assert_non_null(it[0].got);
    assert_null(it[1].got);
    assert_null(it[2].got);
    char *text = cJSON_PrintUnformatted(it[0].got);
    assert_string_equal(text, "{\"v\":1}");
    free(text);
    cJSON_Delete(it[0].got);

    /* k3's lease runs out and b takes it: a's write to k3 is refused, k1's goes through */
    sleep_ms(300);
    int64_t t3 = 0;
    assert_int_equal(b->ops->lock(b, "k3", 10000, &t3), 0);
    it[0].put = d2, it[1] = it[2], it[1].put = d2;
    assert_int_equal(a->ops->finish_many(a, it, 2, 60), 0);
    assert_int_equal(it[0].rc, 0);
    assert_int_equal(it[1].rc, CDP_E_CONFLICT);
    assert_doc(a, "k1", "{\"v\":2}");
    cJSON *got = NULL;
    assert_int_equal(a->ops->get(a, "k3", &got), CDP_E_NOT_FOUND);
    /* a's locks are gone, b's are not */
    int64_t t = 0;
    assert_int_equal(b->ops->lock(b, "k1", 10000, &t), 0);
    assert_int_equal(a->ops->lock(a, "k3", 10000, &t), CDP_E_CONFLICT);
    assert_int_equal(a->ops->lock(a, "k2", 10000, &t), CDP_E_CONFLICT);
    cJSON_Delete(d1);
    cJSON_Delete(d2);
    cdp_cache_close(a);
    cdp_cache_close(b);
}

static void test_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "redis://",     "redis://:6379",   "redis://h:0",         "redis://h:99999", "redis://h:x",
        "redis://h/x",  "redis://u:p@h:1", "redis://h:1?db=2",    "rediss://h:1",    "redis:/h:1",
        "redis://[::1", "local:x",         "memcached://h:11211", "nothing",
    };
    struct cdp_cache *c = NULL;
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(cdp_cache_open(&c, bad[i], "ns", err, sizeof(err)), CDP_E_CONFIG);
        assert_null(c);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(cdp_cache_open(&c, "local:", "bad ns", err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_cache_open(&c, "local:", "", err, sizeof(err)), CDP_E_CONFIG);
}

/* Redis only: stopped mid-use it is unavailable (to open handles and new ones), and once it is
 * back the same handle works again, with tokens still above those issued before it went down
 * (it restarted empty: no persistence). */
static void test_redis_down_and_back(void **state)
{
    (void)state;
    struct cdp_cache *c = open_ns("down");
    int64_t before = 0, after = 0;
    cJSON *got = NULL, *d = doc("{\"a\":1}");
    assert_int_equal(c->ops->lock(c, "p-1", 60000, &before), 0);
    assert_int_equal(c->ops->put(c, "p-1", d, 0), 0);

    redis_stop();
    assert_int_equal(c->ops->get(c, "p-1", &got), CDP_E_UNAVAILABLE);
    assert_int_equal(c->ops->put(c, "p-1", d, 0), CDP_E_UNAVAILABLE);
    assert_int_equal(c->ops->lock(c, "p-2", 1000, &after), CDP_E_UNAVAILABLE);
    assert_int_equal(c->ops->fenced_put(c, "p-1", d, before, 0), CDP_E_UNAVAILABLE);
    struct cdp_cache *n = NULL;
    char err[256];
    assert_int_equal(cdp_cache_open(&n, url, "down", err, sizeof(err)), CDP_E_UNAVAILABLE);
    assert_null(n);
    assert_non_null(strstr(err, "cannot connect"));

    assert_int_equal(redis_start(), 0);
    assert_int_equal(c->ops->get(c, "p-1", &got), CDP_E_NOT_FOUND); /* empty, but answering */
    assert_int_equal(c->ops->lock(c, "p-1", 60000, &after), 0);
    assert_true(after > before);
    assert_int_equal(c->ops->fenced_put(c, "p-1", d, after, 0), 0);
    assert_int_equal(c->ops->fenced_put(c, "p-1", d, before, 0), CDP_E_CONFLICT);
    assert_int_equal(c->ops->unlock(c, "p-1", after), 0);
    cJSON_Delete(d);
    cdp_cache_close(c);
}

#define CONFORMANCE                                                                                \
    cmocka_unit_test(test_get_put_del_ttl), cmocka_unit_test(test_lock_exclusive_and_unlock),      \
        cmocka_unit_test(test_lease_and_fencing), cmocka_unit_test(test_lock_many_and_finish_many)

int main(void)
{
    const struct CMUnitTest local[] = {CONFORMANCE, cmocka_unit_test(test_urls)};
    const struct CMUnitTest redis[] = {CONFORMANCE, cmocka_unit_test(test_redis_down_and_back)};
    int failed = cmocka_run_group_tests_name("cache local", local, setup_local, NULL);
    failed += cmocka_run_group_tests_name("cache redis", redis, setup_redis, teardown_redis);
    return failed;
}
