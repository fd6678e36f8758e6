/* libFuzzer target: hostile User-Agent headers against uap-core's regexes (every new session's
 * user agent goes through them). The database is loaded once. */
#include "model/useragent.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cdp_ua_db *db;
    if (!db) {
        char err[256];
        if (cdp_ua_db_open(&db, CDP_UA_DEFAULT_REGEXES, err, sizeof(err)) != 0)
            abort();
    }
    struct cdp_ua ua;
    cdp_ua_parse(db, (const char *)data, size, &ua);
    assert(ua.device_type != NULL);
    assert(memchr(ua.browser, '\0', sizeof(ua.browser)) != NULL);
    assert(memchr(ua.os_version, '\0', sizeof(ua.os_version)) != NULL);
    return 0;
}
