/* libFuzzer target: the bulk body splitter (core/ndjson.h). Every document it returns lies in
 * the body, is not empty and has no blanks around it; NDJSON documents are one line each, in
 * order; and when the body is one JSON array that cJSON reads, the splitter finds exactly its
 * elements, each reading back as the same kind of value. */
#include "core/json.h"
#include "core/ndjson.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void split(const char *body, size_t size, bool as_array, cJSON *whole)
{
    struct cdp_ndjson it;
    cdp_ndjson_init(&it, body, size, as_array);
    const char *doc;
    size_t len;
    long at, last = -1, n = 0;
    int r;
    while ((r = cdp_ndjson_next(&it, &doc, &len, &at)) == 1) {
        assert(doc >= body && len > 0 && doc + len <= body + size);
        assert(!blank(doc[0]) && !blank(doc[len - 1]));
        assert(at > last);
        last = at;
        if (it.array) {
            assert(at == n);
            cJSON *item = cJSON_GetArrayItem(whole, (int)n);
            if (whole) {
                /* (not printed and compared: cJSON's number reading differs in the details
                 * the printer keeps, such as leading zeros, between a value alone and inside) */
                cJSON *mine = cdp_json_parse(doc, len, NULL);
                assert(item && mine && (item->type & 0xFF) == (mine->type & 0xFF));
                assert(cJSON_GetArraySize(item) == cJSON_GetArraySize(mine));
                cJSON_Delete(mine);
            }
        } else {
            assert(!memchr(doc, '\n', len));
        }
        assert(++n <= (long)size);
    }
    if (r < 0) {
        assert(it.array && !whole && at >= 0 && at <= (long)size);
        assert(cdp_ndjson_next(&it, &doc, &len, &at) == -1);
    } else {
        assert(cdp_ndjson_next(&it, &doc, &len, &at) == 0);
        if (whole)
            assert(n == cJSON_GetArraySize(whole));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1); /* exactly the input: reading past it is caught */
    if (!body)
        return 0;
    memcpy(body, data, size);
    /* The oracle: cJSON, on texts that are JSON by the standard's white space too (cJSON takes
     * any control byte for a blank, the splitter only JSON's four). */
    bool plain = true;
    for (size_t i = 0; i < size && plain; i++)
        plain = (unsigned char)body[i] >= 0x20 || blank(body[i]);
    cJSON *whole = NULL;
    if (size && plain && cdp_json_depth_ok(body, size, 64)) {
        whole = cdp_json_parse(body, size, NULL);
        if (!cJSON_IsArray(whole)) {
            cJSON_Delete(whole);
            whole = NULL;
        }
    }
    split(body, size, true, whole);
    split(body, size, false, NULL);
    cJSON_Delete(whole);
    free(body);
    return 0;
}
