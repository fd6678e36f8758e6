/* Segments: POST /segment, GET|DELETE /segment/{id}, GET /segments. A segment is checked (its
 * condition parsed) when it is saved; the collector evaluates the enabled ones after every
 * request (live segmentation, flow/segment.h) and picks up changes from the next batch. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/segment.h"
#include "http/http.h"
#include "store/store.h"

#define KIND "segment"

void cdp_api_segment_put(struct cdp_http_req *req, void *app)
{
    cJSON *doc = cdp_api_body_json(req, app);
    if (!doc)
        return;
    char err[300];
    if (cdp_segment_normalize(doc, err, sizeof(err))) {
        cJSON_Delete(doc);
        cdp_http_reply_error(req, 422, "%s", err);
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s) {
        cJSON_Delete(doc);
        return;
    }
    int rc = s->ops->entity_put(s, KIND, cdp_json_str(doc, "id"), doc);
    cdp_api_store_put(app, s);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, "segment");
        return;
    }
    cdp_http_reply_json(req, 200, doc);
}

void cdp_api_segment_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "segment");
}

void cdp_api_segment_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "segment");
}

void cdp_api_segment_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "segments");
}
