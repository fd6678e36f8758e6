/* Unit tests of the store's contexts: where each context's store is, that opening staging
 * makes it apart from production, and that it takes production's salt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"

#include "pg_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_url(const char *url, enum cdp_store_context c, const char *want)
{
    char out[256], err[256];
    assert_int_equal(cdp_store_context_url(url, c, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, want);
}

static void test_context_urls(void **state)
{
    (void)state;
    expect_url("./data", CDP_STORE_PRODUCTION, "./data");
    expect_url("./data", CDP_STORE_STAGING, "./data/staging");
    expect_url("/var/lib/cdpd/", CDP_STORE_STAGING, "/var/lib/cdpd/staging");
    expect_url("sqlite:/srv/cdpd", CDP_STORE_STAGING, "sqlite:/srv/cdpd/staging");
    expect_url("/srv/one.db", CDP_STORE_STAGING, "/srv/one-staging.db");
    expect_url("postgres://u@h:5432/db", CDP_STORE_PRODUCTION, "postgres://u@h:5432/db");
    expect_url("postgres://u@h:5432/db", CDP_STORE_STAGING, "postgres://u@h:5432/db#staging");
    expect_url("postgresql://h/db#staging", CDP_STORE_STAGING, "postgresql://h/db#staging");
    char out[8], err[256];
    assert_int_equal(
        cdp_store_context_url("nosuch://x", CDP_STORE_STAGING, out, sizeof(out), err, sizeof(err)),
        CDP_E_CONFIG);
    assert_int_equal(cdp_store_context_url("/a/very/long/path", CDP_STORE_STAGING, out, sizeof(out),
                                           err, sizeof(err)),
                     CDP_E_CONFIG);

    enum cdp_store_context c = CDP_STORE_PRODUCTION;
    assert_true(cdp_store_context_parse("staging", &c));
    assert_int_equal(c, CDP_STORE_STAGING);
    assert_true(cdp_store_context_parse("production", &c));
    assert_int_equal(c, CDP_STORE_PRODUCTION);
    assert_false(cdp_store_context_parse("Staging", &c));
    assert_false(cdp_store_context_parse("", &c));
    assert_false(cdp_store_context_parse(NULL, &c));
    assert_string_equal(cdp_store_context_name(CDP_STORE_STAGING), "staging");
}

static void test_staging_is_apart_and_salted(void **state)
{
    (void)state;
    char tmp[64], dir[96], path[160], err[256], salt[128];
    snprintf(tmp, sizeof(tmp), "/tmp/cdpd-unit-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    snprintf(dir, sizeof(dir), "%s/data", tmp); /* not made yet: staging's open makes both */

    struct cdp_store *stg, *prod;
    struct cdp_store_opts so = {.context = CDP_STORE_STAGING};
    assert_int_equal(cdp_store_open(&stg, dir, &so, err, sizeof(err)), 0);
    assert_int_equal(stg->context, CDP_STORE_STAGING);
    struct stat sb;
    snprintf(path, sizeof(path), "%s/staging/cdpd.db", dir);
    assert_int_equal(stat(path, &sb), 0);
    /* No salt in production yet: staging stays without one. */
    assert_int_equal(stg->ops->meta_get(stg, "salt", salt, sizeof(salt)), CDP_E_NOT_FOUND);
    cJSON *doc = cJSON_Parse("{\"id\":\"web\"}");
    assert_int_equal(stg->ops->entity_put(stg, "event-source", "web", doc), 0);
    cJSON_Delete(doc);
    cdp_store_close(stg);

    assert_int_equal(cdp_store_open(&prod, dir, NULL, err, sizeof(err)), 0);
    assert_int_equal(prod->context, CDP_STORE_PRODUCTION);
    cJSON *got = NULL;
    assert_int_equal(prod->ops->entity_get(prod, "event-source", "web", &got), CDP_E_NOT_FOUND);
    assert_int_equal(prod->ops->meta_put(prod, "salt", "abc123"), 0);
    cdp_store_close(prod);

    /* The next open of staging takes production's salt, and keeps it. */
    assert_int_equal(cdp_store_open(&stg, dir, &so, err, sizeof(err)), 0);
    assert_int_equal(stg->ops->meta_get(stg, "salt", salt, sizeof(salt)), 0);
    assert_string_equal(salt, "abc123");
    assert_int_equal(stg->ops->entity_get(stg, "event-source", "web", &got), 0);
    cJSON_Delete(got);
    cdp_store_close(stg);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    assert_int_equal(system(cmd), 0);
}

/* PostgreSQL keeps each context in a schema of its name in the same database. */
static void test_pg_staging(void **state)
{
    (void)state;
    char url[256], err[256], salt[128];
    if (pg_fixture_db(url, sizeof(url)))
        skip();
    struct cdp_store *stg, *prod;
    struct cdp_store_opts so = {.context = CDP_STORE_STAGING};
    assert_int_equal(cdp_store_open(&stg, url, &so, err, sizeof(err)), 0);
    assert_int_equal(stg->context, CDP_STORE_STAGING);
    assert_int_equal(stg->ops->meta_get(stg, "salt", salt, sizeof(salt)), CDP_E_NOT_FOUND);
    cJSON *doc = cJSON_Parse("{\"id\":\"web\"}");
    assert_int_equal(stg->ops->entity_put(stg, "event-source", "web", doc), 0);
    cJSON_Delete(doc);
    cdp_store_close(stg);

    assert_int_equal(cdp_store_open(&prod, url, NULL, err, sizeof(err)), 0);
    assert_int_equal(prod->context, CDP_STORE_PRODUCTION);
    cJSON *got = NULL;
    assert_int_equal(prod->ops->entity_get(prod, "event-source", "web", &got), CDP_E_NOT_FOUND);
    assert_int_equal(prod->ops->meta_put(prod, "salt", "abc123"), 0);
    cdp_store_close(prod);

    assert_int_equal(cdp_store_open(&stg, url, &so, err, sizeof(err)), 0);
    assert_int_equal(stg->ops->meta_get(stg, "salt", salt, sizeof(salt)), 0);
    assert_string_equal(salt, "abc123");
    assert_int_equal(stg->ops->entity_get(stg, "event-source", "web", &got), 0);
    cJSON_Delete(got);
    cdp_store_close(stg);

    /* The URL of staging, handed to whoever takes one URL only, opens staging. */
    char surl[300];
    assert_int_equal(
        cdp_store_context_url(url, CDP_STORE_STAGING, surl, sizeof(surl), err, sizeof(err)), 0);
    assert_int_equal(cdp_store_open(&stg, surl, NULL, err, sizeof(err)), 0);
    assert_int_equal(stg->ops->entity_get(stg, "event-source", "web", &got), 0);
    cJSON_Delete(got);
    cdp_store_close(stg);

    /* Malformed URLs are configuration errors; a server not there is unavailable. */
    assert_int_equal(cdp_store_open(&stg, "postgres:nohost", NULL, err, sizeof(err)), CDP_E_CONFIG);
    snprintf(surl, sizeof(surl), "%s#nosuch", url);
    assert_int_equal(cdp_store_open(&stg, surl, NULL, err, sizeof(err)), CDP_E_CONFIG);
    assert_int_equal(cdp_store_open(&stg, "postgres://u@h:5432/db?bogus=1", NULL, err, sizeof(err)),
                     CDP_E_CONFIG);
    assert_int_equal(cdp_store_open(&stg, "postgres://cdpd@127.0.0.1:1/db", NULL, err, sizeof(err)),
                     CDP_E_UNAVAILABLE);
    assert_non_null(strstr(err, "127.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_urls),
        cmocka_unit_test(test_staging_is_apart_and_salted),
        cmocka_unit_test(test_pg_staging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
