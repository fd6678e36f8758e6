/* Configuration: one table of options feeds command-line flags, CDPD_* environment variables,
 * the optional config file (key = value lines) and --help. Later sources override earlier ones:
 * defaults, config file, environment, flags. */
#ifndef CDP_CORE_CONFIG_H
#define CDP_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cdp_config {
    char data[512];         /* data directory of the embedded store */
    char store[512];        /* store URL ("": the embedded store in data) */
    char cache[256];        /* scale-out: cache-and-lock URL (redis://...) */
    char queue[256];        /* scale-out: change stream URL (redis://...) */
    char listen[128];       /* collector listener host:port */
    char admin_listen[128]; /* management listener host:port */
    char roles[128];        /* comma list of collector, api, worker */
    char config_file[512];
    long max_body;   /* bytes */
    long max_depth;  /* JSON nesting */
    long max_events; /* events per payload */
    /* bytes, of the bulk import routes (max_body is the others') */
    long max_import_body;
    char trusted_proxies[512];
    bool system_events;
    char sync[16]; /* full | normal */
    char ua_regexes[512];
    char log_level[16];
    long token_ttl; /* seconds */
    long admin_threads;
    long batch_max;       /* collection requests per group commit */
    long hot_cache;       /* profiles and sessions kept parsed in memory, each */
    long flow_timeout_ms; /* time limit of one flow run, waits included */
    /* seconds between batch segmentation runs (0 = none) */
    long segment_interval;
    char secret_key_file[512]; /* "": <data>/secret.key (core/secret.h) */
    /* production | staging: the data the collector, serve's jobs and `cdpd job` work on */
    char context[16];
};

/* An option that only one subcommand knows (e.g. --email for `user add`). */
struct cdp_extra_opt {
    const char *name;
    char *out;
    size_t outlen;
    const char *help;
};

void cdp_config_defaults(struct cdp_config *c);
/* Applies config file, environment and flags argv[0..argc). Unknown flags and bad values are
 * errors (message in err). Extra options may be NULL. */
int cdp_config_load(struct cdp_config *c, int argc, char **argv, const struct cdp_extra_opt *extra,
                    size_t nextra, char *err, size_t errlen);
void cdp_config_usage(FILE *f);
/* The store URL: --store, or the embedded store's directory (--data). */
const char *cdp_config_store_url(const struct cdp_config *c);
/* True when the comma list in roles names role. */
bool cdp_config_has_role(const struct cdp_config *c, const char *role);

#endif
