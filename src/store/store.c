/* Chooses a store backend by URL, and the store of a context (production or staging) within an
 * installation. */
#include "store/store.h"
#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct cdp_store_ops *const backends[] = {&cdp_store_sqlite_ops, &cdp_store_pg_ops,
                                                       &cdp_store_postgresql_ops};

static const char *const context_names[CDP_STORE_NCONTEXTS] = {
    [CDP_STORE_PRODUCTION] = "production",
    [CDP_STORE_STAGING] = "staging",
};

const char *cdp_store_context_name(enum cdp_store_context c)
{
    return (unsigned)c < CDP_STORE_NCONTEXTS ? context_names[c] : "?";
}

bool cdp_store_context_parse(const char *name, enum cdp_store_context *out)
{
    for (unsigned i = 0; name && i < CDP_STORE_NCONTEXTS; i++)
        if (strcmp(name, context_names[i]) == 0) {
            *out = (enum cdp_store_context)i;
            return true;
        }
    return false;
}

/* The backend of url and where its location starts; NULL for an unknown scheme. A URL without
 * a scheme (no ':' before the first '/') is a path of the embedded store. */
static const struct cdp_store_ops *backend_of(const char *url, const char **location)
{
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (!colon || colon == url || (slash && slash < colon)) {
        *location = url;
        return &cdp_store_sqlite_ops;
    }
    size_t n = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strlen(backends[i]->scheme) == n && strncmp(backends[i]->scheme, url, n) == 0) {
            *location = colon + 1;
            return backends[i];
        }
    return NULL;
}

/* The embedded store keeps production where it always was, so data directories made before
 * contexts existed stay production's, and every other context in a directory of its name
 * inside it (DIR/staging/cdpd.db); a store given as a file (X.db) has X-staging.db beside it.
 * PostgreSQL keeps each context in a schema of its name: the URL says which in its fragment
 * (postgres://host/db#staging). */
int cdp_store_context_url(const char *url, enum cdp_store_context c, char *out, size_t outlen,
                          char *err, size_t errlen)
{
    const char *loc;
    const struct cdp_store_ops *b = backend_of(url, &loc);
    if (!b) {
        snprintf(err, errlen, "no store backend for the URL %s", url);
        return CDP_E_CONFIG;
    }
    int n;
    if (c == CDP_STORE_PRODUCTION) {
        n = snprintf(out, outlen, "%s", url);
    } else if (b == &cdp_store_sqlite_ops) {
        size_t len = strlen(url), trail = 0;
        while (len - trail > 1 && url[len - trail - 1] == '/')
            trail++;
        len -= trail;
        if (len > 3 && strncmp(url + len - 3, ".db", 3) == 0)
            n = snprintf(out, outlen, "%.*s-%s.db", (int)(len - 3), url, context_names[c]);
        else
            n = snprintf(out, outlen, "%.*s/%s", (int)len, url, context_names[c]);
    } else if (b == &cdp_store_pg_ops || b == &cdp_store_postgresql_ops) {
        n = snprintf(out, outlen, "%.*s#%s", (int)strcspn(url, "#"), url, context_names[c]);
    } else {
        snprintf(err, errlen, "the %s: store has no %s context", b->scheme,
                 cdp_store_context_name(c));
        return CDP_E_CONFIG;
    }
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "store URL too long: %s", url);
        return CDP_E_CONFIG;
    }
    return 0;
}

static int open_url(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                    char *err, size_t errlen)
{
    const char *loc;
    const struct cdp_store_ops *b = backend_of(url, &loc);
    if (!b) {
        const char *colon = strchr(url, ':');
        snprintf(err, errlen, "no store backend for '%.*s:' URLs", (int)(colon - url), url);
        return CDP_E_CONFIG;
    }
    return b->open(out, loc, o, err, errlen);
}

/* Hashed ids must be equal in every context, so a staging store takes production's salt when
 * it has none (it was just made). Production without a salt yet leaves it for later: `cdpd
 * serve` makes production's first, and the next open of staging copies it. */
static int adopt_salt(struct cdp_store *s, const char *url, const struct cdp_store_opts *o,
                      char *err, size_t errlen)
{
    char salt[128];
    int rc = s->ops->meta_get(s, "salt", salt, sizeof(salt));
    if (rc != CDP_E_NOT_FOUND)
        return rc;
    struct cdp_store_opts po = *o;
    po.context = CDP_STORE_PRODUCTION;
    struct cdp_store *prod;
    if ((rc = open_url(&prod, url, &po, err, errlen)))
        return rc;
    rc = prod->ops->meta_get(prod, "salt", salt, sizeof(salt));
    cdp_store_close(prod);
    if (rc == CDP_E_NOT_FOUND)
        return 0;
    if (!rc)
        rc = s->ops->meta_put(s, "salt", salt);
    if (rc)
        snprintf(err, errlen, "cannot give the staging store production's salt: %s",
                 cdp_err_str(rc));
    return rc;
}

int cdp_store_open(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                   char *err, size_t errlen)
{
    static const struct cdp_store_opts defaults;
    if (!o)
        o = &defaults;
    if (o->context == CDP_STORE_PRODUCTION) {
        int rc = open_url(out, url, o, err, errlen);
        if (!rc)
            (*out)->context = CDP_STORE_PRODUCTION;
        return rc;
    }
    if ((unsigned)o->context >= CDP_STORE_NCONTEXTS) {
        snprintf(err, errlen, "no store context %d", (int)o->context);
        return CDP_E_CONFIG;
    }
    char curl[1100];
    int rc = cdp_store_context_url(url, o->context, curl, sizeof(curl), err, errlen);
    if (rc)
        return rc;
    /* The embedded store makes its own directory, not its parent: make production's first. */
    const char *loc;
    size_t clen = strlen(curl);
    bool in_dir = clen <= 3 || strcmp(curl + clen - 3, ".db") != 0;
    if (backend_of(url, &loc) == &cdp_store_sqlite_ops && in_dir && mkdir(loc, 0700) != 0 &&
        errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", loc, strerror(errno));
        return CDP_E_IO;
    }
    struct cdp_store *s;
    if ((rc = open_url(&s, curl, o, err, errlen)))
        return rc;
    s->context = o->context;
    if ((rc = adopt_salt(s, url, o, err, errlen))) {
        cdp_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void cdp_store_close(struct cdp_store *s)
{
    if (s)
        s->ops->close(s);
}

void cdp_user_rec_fini(struct cdp_user_rec *u)
{
    cJSON_Delete(u->doc);
    u->doc = NULL;
}
