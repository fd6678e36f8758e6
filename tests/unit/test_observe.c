/* Unit tests of observability: src/api/openapi.c describes every route of both routers (a new
 * route without a row in its description table fails here) with references that resolve, and
 * src/core/metrics.c counts requests by route and status and renders Prometheus's text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"
#include "collect/collect.h"
#include "core/json.h"
#include "core/metrics.h"
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_every_route_documented(void **state)
{
    (void)state;
    const struct cdp_route *missing[64];
    size_t n = cdp_api_openapi_undocumented(missing, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        print_error("no summary in src/api/openapi.c's op_docs for \"%s %s\"\n", missing[i]->method,
                    missing[i]->pattern);
    assert_int_equal(n, 0);
}

/* Every {"$ref": "#/components/<kind>/<name>"} under j names something that exists. */
static void check_refs(const cJSON *doc, const cJSON *j)
{
    if (cJSON_IsString(j) && strncmp(j->valuestring, "malformed", 9) == 0)
        print_error("%s at %s\n", j->valuestring, j->string ? j->string : "?");
    assert_false(cJSON_IsString(j) && strncmp(j->valuestring, "malformed", 9) == 0);
    if (cJSON_IsString(j) && j->string && strcmp(j->string, "$ref") == 0) {
        const char *ref = j->valuestring;
        assert_true(strncmp(ref, "#/components/", 13) == 0);
        char path[256];
        snprintf(path, sizeof(path), "components.%s", ref + 13);
        for (char *p = path; *p; p++)
            if (*p == '/')
                *p = '.';
        if (!cdp_json_get(doc, path))
            print_error("dangling $ref %s\n", ref);
        assert_non_null(cdp_json_get(doc, path));
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        check_refs(doc, c);
    }
}

static void check_routes(const cJSON *paths, const struct cdp_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cdp_route *rt = &routes[i];
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, rt->pattern);
        assert_non_null(item);
        char method[16];
        size_t k = 0;
        for (; rt->method[k] && k + 1 < sizeof(method); k++)
            method[k] = (char)(rt->method[k] - 'A' + 'a');
        method[k] = '\0';
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(item, method);
        assert_non_null(op);
        const char *summary = cdp_json_str(op, "summary");
        assert_non_null(summary);
        assert_true(*summary);
        /* one path parameter per {name}, in order */
        int want = 0;
        for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{'))
            want++;
        int got = 0;
        const cJSON *prm;
        cJSON_ArrayForEach(prm, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
        {
            const char *in = cdp_json_str(prm, "in");
            if (in && strcmp(in, "path") == 0) {
                char brace[80];
                snprintf(brace, sizeof(brace), "{%s}", cdp_json_str(prm, "name"));
                assert_non_null(strstr(rt->pattern, brace));
                got++;
            }
        }
        assert_int_equal(got, want);
        const cJSON *security = cJSON_GetObjectItemCaseSensitive(op, "security");
        assert_true(cJSON_IsArray(security));
        assert_int_equal(cJSON_GetArraySize(security), (rt->roles & CDP_ROLES_ALL) ? 1 : 0);
    }
}

static void test_document(void **state)
{
    (void)state;
    cJSON *doc = cdp_api_openapi_doc(NULL);
    assert_non_null(doc);
    assert_string_equal(cdp_json_str(doc, "openapi"), "3.0.3");
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    check_routes(paths, cdp_api_routes, cdp_api_nroutes);
    check_routes(paths, cdp_collect_routes, cdp_collect_nroutes);
    check_refs(doc, doc);
    /* operation ids are unique */
    cJSON *ids = cJSON_CreateObject();
    const cJSON *item, *op;
    cJSON_ArrayForEach(item, paths)
    {
        cJSON_ArrayForEach(op, item)
        {
            const char *id = cdp_json_str(op, "operationId");
            if (strcmp(op->string, "servers") == 0)
                continue;
            assert_non_null(id);
            assert_null(cJSON_GetObjectItemCaseSensitive(ids, id));
            cJSON_AddTrueToObject(ids, id);
        }
    }
    cJSON_Delete(ids);
    /* the collector's paths name its server; the management paths use the document's */
    const cJSON *servers = cdp_json_get(doc, "paths./track.servers");
    assert_true(cJSON_IsArray(servers));
    assert_non_null(cdp_json_str(cJSON_GetArrayItem(servers, 0), "url"));
    assert_null(cdp_json_get(doc, "paths./profile/{id}.servers"));
    cJSON_Delete(doc);
}

/* The value of the exposition line that starts with prefix (a name and its labels). */
static double metric(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    print_error("no line %s in:\n%s\n", prefix, text);
    fail();
    return -1;
}

static void test_metrics(void **state)
{
    (void)state;
    struct cdp_metrics_http *m = cdp_metrics_http_new("test", 2);
    assert_non_null(m);
    cdp_metrics_http_name(m, 0, "POST", "/track");
    cdp_metrics_http_name(m, 1, "GET", "/profile/{id}");
    cdp_metrics_http_observe(m, 0, 200, 0.003);
    cdp_metrics_http_observe(m, 0, 200, 0.02);
    cdp_metrics_http_observe(m, 0, 422, 0.0001);
    cdp_metrics_http_observe(m, 1, 418, 0.5);
    cdp_metrics_http_observe(m, 2, 404, 0.0);
    cdp_metrics_http_observe(m, 99, 999, -1.0);
    long flows = cdp_metric_get(CDP_METRIC_FLOWS);
    cdp_metric_add(CDP_METRIC_FLOWS, 3);
    cdp_metric_add(CDP_METRIC_PIPELINE, 2);
    cdp_metric_add(CDP_METRIC_PIPELINE, -2);
    cdp_metric_commit_seconds(0.004);

    size_t len;
    char *text = cdp_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    const char *track = "{listener=\"test\",method=\"POST\",route=\"/track\"";
    char key[256];
    snprintf(key, sizeof(key), "cdpd_http_requests_total%s,code=\"200\"}", track);
    assert_true(metric(text, key) == 2);
    snprintf(key, sizeof(key), "cdpd_http_requests_total%s,code=\"422\"}", track);
    assert_true(metric(text, key) == 1);
    assert_true(metric(text, "cdpd_http_requests_total{listener=\"test\",method=\"GET\","
                             "route=\"/profile/{id}\",code=\"4xx\"}") == 1);
    assert_true(metric(text, "cdpd_http_requests_total{listener=\"test\",method=\"\","
                             "route=\"unmatched\",code=\"404\"}") == 1);
    assert_true(metric(text, "cdpd_http_requests_total{listener=\"test\",method=\"\","
                             "route=\"unmatched\",code=\"other\"}") == 1);
    /* cumulative buckets */
    snprintf(key, sizeof(key), "cdpd_http_request_duration_seconds_bucket%s,le=\"0.0025\"}", track);
    assert_true(metric(text, key) == 1);
    snprintf(key, sizeof(key), "cdpd_http_request_duration_seconds_bucket%s,le=\"0.005\"}", track);
    assert_true(metric(text, key) == 2);
    snprintf(key, sizeof(key), "cdpd_http_request_duration_seconds_bucket%s,le=\"+Inf\"}", track);
    assert_true(metric(text, key) == 3);
    snprintf(key, sizeof(key), "cdpd_http_request_duration_seconds_count%s}", track);
    assert_true(metric(text, key) == 3);
    snprintf(key, sizeof(key), "cdpd_http_request_duration_seconds_sum%s}", track);
    double sum = metric(text, key);
    assert_true(sum > 0.0230 && sum < 0.0232);
    assert_true(metric(text, "cdpd_flows_run_total") == (double)(flows + 3));
    assert_true(metric(text, "cdpd_pipeline_jobs") == 0);
    assert_true(metric(text, "cdpd_store_commit_duration_seconds_bucket{le=\"0.005\"}") >= 1);
    assert_true(metric(text, "process_resident_memory_bytes") > 0);
    assert_true(metric(text, "cdpd_uptime_seconds") >= 0);
    free(text);

    /* a listener that stopped is no longer shown */
    cdp_metrics_http_free(m);
    text = cdp_metrics_render(&len);
    assert_null(strstr(text, "listener=\"test\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
