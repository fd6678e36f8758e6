/* libFuzzer target: the urlencoded form/query parser (used by /user/token and /collect). */
#include "http/http.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field(void *ud, const char *k, const char *v)
{
    size_t *n = ud;
    *n += strlen(k) + strlen(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    int rc = cdp_http_form_parse((const char *)data, size, field, &n);
    assert(rc == 0 || rc == -1);
    assert(n <= size);
    return 0;
}
