/* libFuzzer target: the JSON Schema compiler and validator. The input is a schema and an
 * instance, split at the first NUL byte or newline; both are parsed as cdpd parses request
 * bodies, the schema is compiled and, when it compiles, the instance validated. Neither may
 * crash, leak or run away (limits in jsonschema.h), and a message must come with every "no". */
#include "core/err.h"
#include "core/json.h"
#include "model/jsonschema.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    cJSON *schema = parse(data, cut);
    if (!schema)
        return 0;
    const uint8_t *rest = cut < size ? data + cut + 1 : data + size;
    cJSON *doc = parse(rest, (size_t)(data + size - rest));

    struct cdp_jsonschema *s = NULL;
    char err[256];
    int rc = cdp_jsonschema_compile(schema, &s, err, sizeof(err));
    if (rc == 0) {
        assert(s != NULL);
        if (doc && !cdp_jsonschema_validate(s, doc, err, sizeof(err)))
            assert(err[0] != '\0');
        /* The schema itself as an instance: another shape of input for free. */
        (void)cdp_jsonschema_validate(s, schema, err, sizeof(err));
        cdp_jsonschema_free(s);
    } else {
        assert(s == NULL);
        assert(rc == CDP_E_INVALID || rc == CDP_E_NOMEM);
        assert(err[0] != '\0');
    }
    cJSON_Delete(doc);
    cJSON_Delete(schema);
    return 0;
}
