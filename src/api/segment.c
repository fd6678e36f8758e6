/* Segments: POST /segment, GET|DELETE /segment/{id}, GET /segments. A segment is checked (its
 * condition parsed) when it is saved; the collector evaluates the enabled ones after every
 * request (live segmentation, flow/segment.h) and picks up changes from the next batch.
 * POST /segments/run runs the batch job (job/segment.h) at once. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/segment.h"
#include "http/http.h"
#include "job/segment.h"
#include "store/store.h"

#define KIND "segment"

void cdp_api_segment_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "segment", cdp_segment_normalize);
}

/* Adds "count", the number of profiles in the segment, to each segment document of list. */
static int add_counts(struct cdp_http_req *req, struct cdp_api *api, cJSON *list)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return CDP_E_UNAVAILABLE;
    cJSON *counts = NULL;
    int rc = s->ops->segment_counts(s, &counts);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "segment counts");
        return rc;
    }
    cJSON *seg;
    cJSON_ArrayForEach(seg, list)
    {
        const cJSON *n =
            cJSON_GetObjectItemCaseSensitive(counts, cdp_json_str(seg, "machine_name"));
        cdp_json_put_num(seg, "count", cJSON_IsNumber(n) ? n->valuedouble : 0);
    }
    cJSON_Delete(counts);
    return 0;
}

void cdp_api_segment_get(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *doc = NULL;
    int rc = s->ops->entity_get(s, KIND, cdp_http_param(req, 0), &doc);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "segment");
        return;
    }
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, doc);
    rc = add_counts(req, app, one);
    cJSON_DetachItemViaPointer(one, doc);
    cJSON_Delete(one);
    if (rc)
        cJSON_Delete(doc);
    else
        cdp_http_reply_json(req, 200, doc);
}

void cdp_api_segment_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "segment");
}

void cdp_api_segment_list(struct cdp_http_req *req, void *app)
{
    long total = 0;
    cJSON *list = cdp_api_list_page(req, app, KIND, "segments", NULL, NULL, &total);
    if (!list)
        return;
    if (add_counts(req, app, list)) {
        cJSON_Delete(list);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

/* POST /segments/run: batch segmentation of every stored profile now, on the request's context,
 * rather than at the next --segment-interval; the answer is the job's summary, as `cdpd job
 * segment` prints it. Runs while the request waits (its writes commit in steps, so collection
 * goes on). */
void cdp_api_segments_run(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    struct cdp_segment_job_opts o = {.now_us = cdp_clock_now_us()};
    cJSON *sum = NULL;
    char err[512];
    int rc = cdp_segment_job_run(s, &o, &sum, err, sizeof(err));
    cdp_api_store_put(app, s);
    if (rc)
        cdp_http_reply_error(req, cdp_err_status(rc), "%s", err);
    else
        cdp_http_reply_json(req, 200, sum);
}
