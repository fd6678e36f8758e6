/* libFuzzer target: the TrackerPayload parser must refuse or accept any input without crashing,
 * and whatever it accepts must have the shape the pipeline relies on. */
#include "collect/payload.h"
#include "core/json.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cdp_payload_limits lim = {.max_depth = 64, .max_events = 1000};
    cJSON *out = NULL, *detail = NULL;
    int rc = cdp_payload_parse((const char *)data, size, &lim, &out, &detail);
    if (rc == 0) {
        assert(out && !detail);
        assert(cdp_json_str(out, "source.id"));
        const cJSON *ev;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(out, "events"))
        {
            const char *type = cdp_json_str(ev, "type");
            assert(type && *type && !strchr(type, ' '));
        }
    } else {
        assert(!out && detail);
    }
    cJSON_Delete(out);
    cJSON_Delete(detail);
    return 0;
}
