/* Reading what the collector built: GET /profile/{id} (by id or any of ids), /session/{id},
 * /event/{id}, /events/profile/{id}. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

enum doc_kind { DOC_PROFILE, DOC_SESSION, DOC_EVENT };

static void get_doc(struct cdp_http_req *req, struct cdp_api *api, enum doc_kind kind,
                    const char *what)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    const char *id = cdp_http_param(req, 0);
    cJSON *doc = NULL;
    int rc = kind == DOC_PROFILE   ? s->ops->profile_get(s, id, &doc)
             : kind == DOC_SESSION ? s->ops->session_get(s, id, &doc)
                                   : s->ops->event_get(s, id, &doc);
    cdp_api_store_put(api, s);
    if (rc)
        cdp_api_reply_err(req, rc, what);
    else
        cdp_http_reply_json(req, 200, doc);
}

void cdp_api_profile_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_PROFILE, "profile");
}

void cdp_api_session_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_SESSION, "session");
}

void cdp_api_event_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_EVENT, "event");
}

void cdp_api_events_by_profile(struct cdp_http_req *req, void *app)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    /* Resolve through ids[] first, so an old or merged id finds the survivor's events. */
    cJSON *profile = NULL, *list = NULL;
    long total = 0;
    int rc = s->ops->profile_get(s, cdp_http_param(req, 0), &profile);
    const char *pid = rc ? cdp_http_param(req, 0) : cdp_json_str(profile, "id");
    rc = s->ops->events_by_profile(s, pid, start, limit, &list, &total);
    cdp_api_store_put(app, s);
    cJSON_Delete(profile);
    if (rc) {
        cdp_api_reply_err(req, rc, "events");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_profile_delete(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}

void cdp_api_profile_export(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}
