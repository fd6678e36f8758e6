/* Event validators (tracardi-api.md §2.11): a JSON Schema per event type that the properties of
 * every event of that type must satisfy. POST /event-validator, GET|DELETE /event-validator/{id},
 * GET /event-validators. The schema is compiled when saved, so a schema the validator cannot
 * use is refused with the JSON pointer of its bad part. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "model/jsonschema.h"
#include "store/store.h"

#include <stdio.h>

#define KIND "event-validator"

int cdp_api_validator_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a validator", err, errlen);
    if (rc)
        return rc;
    if (!cdp_json_named(doc, "event_type")) {
        snprintf(err, errlen, "event_type: required ({\"id\", \"name\"} or an event type id)");
        return CDP_E_INVALID;
    }
    /* Tracardi keeps the schema under validation.json_schema; "schema" is accepted too. */
    cJSON *schema = cJSON_DetachItemFromObjectCaseSensitive(doc, "schema");
    if (!schema)
        schema =
            cJSON_DetachItemFromObjectCaseSensitive(cdp_json_get(doc, "validation"), "json_schema");
    if (!cJSON_IsObject(schema) && !cJSON_IsBool(schema)) {
        cJSON_Delete(schema);
        snprintf(err, errlen, "validation.json_schema: expected a JSON Schema (an object)");
        return CDP_E_INVALID;
    }
    struct cdp_jsonschema *compiled;
    char why[300];
    if (cdp_jsonschema_compile(schema, &compiled, why, sizeof(why))) {
        cJSON_Delete(schema);
        snprintf(err, errlen, "validation.json_schema: %s", why);
        return CDP_E_INVALID;
    }
    cdp_jsonschema_free(compiled);
    cdp_json_put(cdp_json_obj(doc, "validation"), "json_schema", schema);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(err, errlen, "enabled: expected true or false");
        return CDP_E_INVALID;
    }
    if (!en)
        cJSON_AddBoolToObject(doc, "enabled", 1);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        cdp_json_put_str(doc, "description", "");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "tags")))
        cdp_json_put(doc, "tags", cJSON_CreateArray());
    return 0;
}

void cdp_api_validator_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "event validator", cdp_api_validator_normalize);
}

void cdp_api_validator_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event validator");
}

void cdp_api_validator_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event validator");
}

void cdp_api_validator_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event validators");
}
