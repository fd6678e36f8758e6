/* The options table and its three readers (file, environment, flags). */
#include "core/config.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STR, OPT_LONG, OPT_BOOL };

struct option_def {
    const char *name; /* flag without dashes; env is CDPD_ + upper(name with - as _) */
    enum opt_type type;
    size_t offset;
    size_t size; /* for strings */
    const char *def;
    const char *help;
};

#define S(field)                                                                                   \
    OPT_STR, offsetof(struct cdp_config, field), sizeof(((struct cdp_config *)0)->field)
#define L(field) OPT_LONG, offsetof(struct cdp_config, field), 0
#define B(field) OPT_BOOL, offsetof(struct cdp_config, field), 0

static const struct option_def options[] = {
    {"data", S(data), "./data", "data directory of the embedded store"},
    {"store", S(store), "",
     "store URL: postgres://user@host:port/db, or none for the embedded store in --data"},
    {"cache", S(cache), "",
     "scale-out: Redis for shared profiles, sessions and locks, redis://host:port[/db]"},
    {"queue", S(queue), "",
     "scale-out: Redis Streams for the changes storage workers write, redis://host:port[/db]"},
    {"listen", S(listen), "0.0.0.0:8686", "collector listener (public), host:port"},
    {"admin-listen", S(admin_listen), "127.0.0.1:8687", "management API listener, host:port"},
    {"roles", S(roles), "collector,api,worker", "roles this process runs: collector, api, worker"},
    {"config", S(config_file), "", "optional config file of key = value lines"},
    {"max-body", L(max_body), "1048576", "largest accepted request body, bytes"},
    {"max-import-body", L(max_import_body), "67108864",
     "largest body of the import routes (/profiles/import, /sessions/import, /events/import, "
     "/config/import), bytes"},
    {"max-depth", L(max_depth), "64", "deepest accepted JSON nesting"},
    {"max-events", L(max_events), "1000", "most events accepted in one payload"},
    {"trusted-proxies", S(trusted_proxies), "",
     "comma list of proxy IPs whose X-Forwarded-For is believed"},
    {"system-events", B(system_events), "yes",
     "record profile-created, session-opened, visit-started events"},
    {"sync", S(sync), "full", "store durability: full (fsync per commit) or normal"},
    {"ua-regexes", S(ua_regexes), "/usr/share/uap-core/regexes.yaml", "uap-core regexes.yaml"},
    {"log-level", S(log_level), "info", "debug, info, warn or error"},
    {"token-ttl", L(token_ttl), "1800", "management token idle expiry, seconds"},
    {"admin-threads", L(admin_threads), "4", "threads serving the management API"},
    {"batch-max", L(batch_max), "512", "most collection requests in one group commit"},
    {"hot-cache", L(hot_cache), "4096",
     "profiles and sessions each kept parsed in memory by the pipeline (0 = none)"},
    {"flow-timeout-ms", L(flow_timeout_ms), "10000",
     "time limit of one workflow run, its remote calls and sleeps included, milliseconds"},
    {"segment-interval", L(segment_interval), "3600",
     "seconds between the batch segmentation runs of serve's worker role (0 = none)"},
    {"secret-key-file", S(secret_key_file), "",
     "key that encrypts resource credentials (none: DATA/secret.key, made at first start)"},
    {"context", S(context), "production",
     "data the collector and jobs work on: production, or staging to try flows on test traffic"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option_def *find_option(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *o = options[i].name;
        if (strlen(o) != n)
            continue;
        size_t j = 0;
        for (; j < n; j++) {
            char a = name[j] == '_' ? '-' : name[j];
            if (a != o[j])
                break;
        }
        if (j == n)
            return &options[i];
    }
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int set_option(struct cdp_config *c, const struct option_def *o, const char *v,
                      const char *from, char *err, size_t errlen)
{
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_STR:
        if (strlen(v) >= o->size) {
            snprintf(err, errlen, "%s: value of %s is too long", from, o->name);
            return CDP_E_CONFIG;
        }
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case OPT_LONG: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < 0) {
            snprintf(err, errlen, "%s: %s wants a non-negative integer, not '%s'", from, o->name,
                     v);
            return CDP_E_CONFIG;
        }
        memcpy(field, &n, sizeof(n));
        return 0;
    }
    case OPT_BOOL: {
        bool b;
        if (parse_bool(v, &b)) {
            snprintf(err, errlen, "%s: %s wants yes or no, not '%s'", from, o->name, v);
            return CDP_E_CONFIG;
        }
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    }
    return CDP_E_INTERNAL;
}

void cdp_config_defaults(struct cdp_config *c)
{
    char err[128];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++)
        set_option(c, &options[i], options[i].def, "default", err, sizeof(err));
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int load_file(struct cdp_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return CDP_E_CONFIG;
    }
    char line[1024], where[600];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (!eq) {
            snprintf(err, errlen, "%s: expected key = value", where);
            rc = CDP_E_CONFIG;
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        const struct option_def *o = find_option(k, strlen(k));
        if (!o) {
            snprintf(err, errlen, "%s: unknown option '%s'", where, k);
            rc = CDP_E_CONFIG;
            break;
        }
        rc = set_option(c, o, v, where, err, errlen);
    }
    fclose(f);
    return rc;
}

static void env_name(const char *name, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "CDPD_");
    for (; *name && j + 1 < n; name++)
        out[j++] = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
    out[j] = '\0';
}

int cdp_config_load(struct cdp_config *c, int argc, char **argv, const struct cdp_extra_opt *extra,
                    size_t nextra, char *err, size_t errlen)
{
    char env[64];
    /* The config file's path may come from the environment or a flag; find it first. */
    const char *file = getenv("CDPD_CONFIG");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file && *file) {
        int rc = load_file(c, file, err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < NOPTIONS; i++) {
        env_name(options[i].name, env, sizeof(env));
        const char *v = getenv(env);
        if (v) {
            int rc = set_option(c, &options[i], v, env, err, errlen);
            if (rc)
                return rc;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return CDP_E_CONFIG;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const char *v = eq ? eq + 1 : NULL;
        const struct option_def *o = find_option(a, n);
        const struct cdp_extra_opt *x = NULL;
        for (size_t k = 0; !o && k < nextra; k++)
            if (strlen(extra[k].name) == n && strncmp(extra[k].name, a, n) == 0)
                x = &extra[k];
        if (!o && !x) {
            snprintf(err, errlen, "unknown option '--%.*s' (see cdpd help)", (int)n, a);
            return CDP_E_CONFIG;
        }
        if (!v) {
            if (o && o->type == OPT_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
                v = "yes";
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                snprintf(err, errlen, "option '--%.*s' needs a value", (int)n, a);
                return CDP_E_CONFIG;
            }
        }
        if (o) {
            int rc = set_option(c, o, v, "command line", err, errlen);
            if (rc)
                return rc;
        } else {
            if (strlen(v) >= x->outlen) {
                snprintf(err, errlen, "value of --%s is too long", x->name);
                return CDP_E_CONFIG;
            }
            memcpy(x->out, v, strlen(v) + 1);
        }
    }
    if (strcmp(c->sync, "full") != 0 && strcmp(c->sync, "normal") != 0) {
        snprintf(err, errlen, "sync must be full or normal, not '%s'", c->sync);
        return CDP_E_CONFIG;
    }
    if (strcmp(c->context, "production") != 0 && strcmp(c->context, "staging") != 0) {
        snprintf(err, errlen, "context must be production or staging, not '%s'", c->context);
        return CDP_E_CONFIG;
    }
    if (!c->cache[0] != !c->queue[0]) {
        snprintf(err, errlen, "scale-out needs both --cache and --queue (or neither)");
        return CDP_E_CONFIG;
    }
    return 0;
}

void cdp_config_usage(FILE *f)
{
    char env[64];
    fprintf(f, "options (flag, environment variable, default):\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        env_name(options[i].name, env, sizeof(env));
        fprintf(f, "  --%-16s %-22s %s (default: %s)\n", options[i].name, env, options[i].help,
                *options[i].def ? options[i].def : "none");
    }
}

const char *cdp_config_store_url(const struct cdp_config *c)
{
    return c->store[0] ? c->store : c->data;
}

bool cdp_config_has_role(const struct cdp_config *c, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = c->roles; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, role, n) == 0)
            return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}
