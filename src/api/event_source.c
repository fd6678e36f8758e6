/* Event sources: POST /event-source, GET|DELETE /event-source/{id}, GET /event-sources. */
#include "api/api.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "model/source.h"
#include "store/store.h"

#define KIND "event-source"

void cdp_api_source_put(struct cdp_http_req *req, void *app)
{
    cJSON *doc = cdp_api_body_json(req, app);
    if (!doc)
        return;
    char err[200];
    if (cdp_source_normalize(doc, err, sizeof(err)) != 0) {
        cJSON_Delete(doc);
        cdp_http_reply_error(req, 422, "%s", err);
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s) {
        cJSON_Delete(doc);
        return;
    }
    int rc =
        s->ops->entity_put(s, KIND, cJSON_GetObjectItemCaseSensitive(doc, "id")->valuestring, doc);
    cdp_api_store_put(app, s);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, "event source");
        return;
    }
    cdp_http_reply_json(req, 200, doc);
}

void cdp_api_source_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event source");
}

void cdp_api_source_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event source");
}

void cdp_api_source_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event sources");
}
