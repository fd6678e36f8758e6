/* libFuzzer target: the condition-language parser, and the evaluator for whatever parses, run
 * against a small fixed document set; both must stay inside the input and free what they take. */
#include "flow/path.h"
#include "flow/tql.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cdp_refs refs;

static void init_refs(void)
{
    refs.profile =
        cJSON_Parse("{\"id\":\"p1\",\"segments\":[\"vip\",\"eu\"],\"stats\":{\"visits\":3},"
                    "\"traits\":{\"email\":\"A@b.c\",\"nick\":null,\"age\":41,"
                    "\"joined\":\"2024-01-10T12:00:00Z\",\"My key\":\"x\",\"e\":{}}}");
    refs.event = cJSON_Parse("{\"type\":\"purchase\",\"properties\":{\"items\":[{\"sku\":\"A1\"}],"
                             "\"total\":9.5,\"ts\":1704888000}}");
    refs.session = cJSON_Parse("{\"id\":\"s1\",\"context\":{\"tz\":\"Europe/Warsaw\"}}");
    refs.payload = cJSON_Parse("{\"n\":1,\"list\":[1,2,\"a\"],\"off\":\"-15m\"}");
    refs.flow = cJSON_Parse("{\"id\":\"f1\"}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!refs.profile)
        init_refs();
    /* The parser takes a NUL-terminated string; an exact-size copy lets ASan catch overreads. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct cdp_tql *q = NULL;
    char err[128];
    if (cdp_tql_parse(s, &q, err, sizeof(err)) == 0) {
        bool res;
        int rc = cdp_tql_eval(q, &refs, (int64_t)1705579200 * 1000000, &res, err, sizeof(err));
        assert(rc == 0);
        rc = cdp_tql_eval(q, NULL, INT64_MAX, &res, err, sizeof(err));
        assert(rc == 0);
        cdp_tql_free(q);
    } else {
        assert(q == NULL);
        assert(strncmp(err, "at ", 3) == 0 || strcmp(err, "out of memory") == 0);
    }
    /* The same text as a reference must not crash the path reader either. */
    (void)cdp_path_get(&refs, s);
    free(s);
    return 0;
}
