/* libFuzzer target: event reshaping schemas and identification points, the user-written
 * configuration that rewrites and identifies events. The input is a document and an event,
 * split at the first NUL byte or newline, both parsed as cdpd parses request bodies. The document
 * goes through the reshaping schema's and the identification point's checks, compiled when it
 * passes, and applied to the event (and a session). Nothing may crash or leak, a refusal must
 * say why, and what passed the checks must compile. */
#include "core/err.h"
#include "core/json.h"
#include "flow/identification.h"
#include "flow/reshape.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *parse(const uint8_t *s, size_t n)
{
    if (!cdp_json_depth_ok((const char *)s, n, 64))
        return NULL;
    return cdp_json_parse((const char *)s, n, NULL);
}

static void reshape(const cJSON *doc, const cJSON *event)
{
    cJSON *d = cJSON_Duplicate(doc, true);
    char err[400] = "";
    int rc = cdp_reshape_normalize(d, err, sizeof(err));
    if (rc) {
        assert(rc == CDP_E_INVALID || rc == CDP_E_NOMEM);
        assert(err[0] != '\0');
        cJSON_Delete(d);
        return;
    }
    struct cdp_reshape *r = NULL;
    rc = cdp_reshape_compile(d, &r, err, sizeof(err));
    assert(rc == 0 || rc == CDP_E_NOMEM);
    if (r && event) {
        cJSON *e = cJSON_Duplicate(event, true);
        cJSON *session = cJSON_CreateObject();
        cJSON_AddItemToObject(session, "context", cJSON_Duplicate(event, true));
        bool changed;
        (void)cdp_reshape_matches(r, cdp_json_str(e, "type"), cdp_json_str(e, "source.id"));
        rc = cdp_reshape_apply(r, e, session, &changed);
        assert(rc >= 0 || rc == CDP_E_NOMEM);
        cJSON_Delete(session);
        cJSON_Delete(e);
    }
    cdp_reshape_free(r);
    cJSON_Delete(d);
}

static void identify(const cJSON *doc, const cJSON *event)
{
    cJSON *d = cJSON_Duplicate(doc, true);
    char err[400] = "";
    int rc = cdp_identification_normalize(d, err, sizeof(err));
    if (rc) {
        assert(rc == CDP_E_INVALID || rc == CDP_E_NOMEM);
        assert(err[0] != '\0');
        cJSON_Delete(d);
        return;
    }
    struct cdp_identification *p = NULL;
    rc = cdp_identification_compile(d, &p, err, sizeof(err));
    assert(rc == 0 || rc == CDP_E_NOMEM);
    if (p && event) {
        cJSON *keys = NULL;
        rc = cdp_identification_keys(p, event, &keys);
        assert((rc == 1) == (keys != NULL));
        cJSON_Delete(keys);
    }
    cdp_identification_free(p);
    cJSON_Delete(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    cJSON *doc = parse(data, cut);
    if (!doc)
        return 0;
    const uint8_t *rest = cut < size ? data + cut + 1 : data + size;
    cJSON *event = parse(rest, (size_t)(data + size - rest));
    reshape(doc, event);
    identify(doc, event);
    cJSON_Delete(event);
    cJSON_Delete(doc);
    return 0;
}
