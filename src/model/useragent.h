/* User-agent parsing with Debian's uap-core regexes (PCRE2, JIT-compiled once at start).
 * The database is immutable after cdp_ua_db_open and safe to share between threads. */
#ifndef CDP_MODEL_USERAGENT_H
#define CDP_MODEL_USERAGENT_H

#include <stdbool.h>
#include <stddef.h>

#define CDP_UA_DEFAULT_REGEXES "/usr/share/uap-core/regexes.yaml"

struct cdp_ua_db;

/* Fields are NUL-terminated and truncated to fit; "" when unknown. Families follow uap-core
 * ("Other" when nothing matched). device_type is "bot", "mobile", "tablet" or "pc". */
struct cdp_ua {
    char browser[64];         /* user_agent family, e.g. "Chrome" */
    char browser_version[32]; /* "120.0.6099" (major.minor.patch, empty parts dropped) */
    char os[64];              /* os family, e.g. "Windows" */
    char os_version[32];      /* "10" */
    char device[64];          /* device family, e.g. "iPhone", "Other" */
    char brand[64];           /* device brand, e.g. "Apple" */
    char model[64];           /* device model */
    const char *device_type;  /* static string */
    bool bot;                 /* device family "Spider" (uap-core's name for crawlers) */
    bool touch;               /* mobile or tablet */
};

/* Loads and compiles the regexes.yaml at path. Returns 0, or -1 with a message in err. */
int cdp_ua_db_open(struct cdp_ua_db **out, const char *path, char *err, size_t errlen);
void cdp_ua_db_free(struct cdp_ua_db *db);

/* Parses ua[0..len) into out. Never fails: unknown parts are "Other"/"". */
void cdp_ua_parse(const struct cdp_ua_db *db, const char *ua, size_t len, struct cdp_ua *out);

#endif
