/* Event-to-profile mappings (flow/mapping.h): POST /event-to-profile,
 * GET|DELETE /event-to-profile/{id}, GET /event-to-profiles. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/mapping.h"
#include "http/http.h"
#include "store/store.h"

#define KIND "event-to-profile"

void cdp_api_mapping_put(struct cdp_http_req *req, void *app)
{
    cJSON *doc = cdp_api_body_json(req, app);
    if (!doc)
        return;
    char err[300];
    if (cdp_mapping_normalize(doc, err, sizeof(err))) {
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
        cdp_api_reply_err(req, rc, "event-to-profile mapping");
        return;
    }
    cdp_http_reply_json(req, 200, doc);
}

void cdp_api_mapping_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event-to-profile mapping");
}

void cdp_api_mapping_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event-to-profile mapping");
}

void cdp_api_mapping_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event-to-profile mappings");
}
