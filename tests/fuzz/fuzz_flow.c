/* libFuzzer target: flow JSON through the compiler (plugins found, configs set up, the graph
 * sorted), and every plan that compiles run once against a small fixed event, profile and
 * session, without waits (a waiting node is resumed with an error outcome). Nothing may crash,
 * leak or loop. */
#include "core/json.h"
#include "flow/engine.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cdp_json_depth_ok((const char *)data, size, 64))
        return 0;
    cJSON *doc = cdp_json_parse((const char *)data, size, NULL);
    if (!doc)
        return 0;
    struct cdp_flow_plan *plan = NULL;
    char err[600];
    if (cdp_flow_compile(doc, &plan, err, sizeof(err)) == 0) {
        struct cdp_flow_ctx ctx = {
            .profile = cJSON_Parse("{\"id\":\"p1\",\"traits\":{\"n\":1},\"segments\":[]}"),
            .session = cJSON_Parse("{\"id\":\"s1\",\"context\":{}}"),
            .event = cJSON_Parse("{\"id\":\"e1\",\"type\":\"buy\",\"properties\":{\"t\":5}}"),
            .now_us = (int64_t)1705579200 * 1000000,
            .debug = true,
        };
        struct cdp_flow_run *run = cdp_flow_run_new(plan, &ctx, 1000000, true);
        int rc;
        while (run && (rc = cdp_flow_run_step(run)) == CDP_FLOW_WAIT)
            cdp_flow_run_resume(run, cJSON_Parse("{\"error\":\"fuzzing\"}"));
        cdp_flow_run_free(run);
        cdp_flow_plan_unref(plan);
        cJSON_Delete(ctx.profile);
        cJSON_Delete(ctx.session);
        cJSON_Delete(ctx.event);
        cJSON_Delete(ctx.response);
        cJSON_Delete(ctx.ux);
        cJSON_Delete(ctx.logs);
        cJSON_Delete(ctx.merge);
    } else {
        assert(plan == NULL && err[0]);
    }
    cJSON_Delete(doc);
    return 0;
}
