/* libFuzzer target: the ISO 8601 parser that reads clients' event times; whatever it accepts
 * must print back as a valid time. */
#include "core/clock.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    if (size >= sizeof(s))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t t;
    if (cdp_clock_parse_iso(s, &t) == 0) {
        char out[CDP_ISO_LEN];
        cdp_clock_iso(t, out);
        assert(strlen(out) == CDP_ISO_LEN - 1);
    }
    return 0;
}
