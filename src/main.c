/* cdpd: start-up, subcommands, signals. `cdpd serve` runs the roles this process is given:
 * the collector listener with its pipeline, and the management API listener. */
#include "api/api.h"
#include "api/gui.h"
#include "collect/collect.h"
#include "collect/identity.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/http.h"
#include "job/dispatch.h"
#include "job/schedule.h"
#include "job/segment.h"
#include "job/storage.h"
#include "model/useragent.h"
#include "store/cluster.h"
#include "store/store.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CDPD_VERSION
#define CDPD_VERSION "0.0.0"
#endif

static int usage(FILE *f)
{
    fprintf(f,
            "cdpd %s: a customer data platform compatible with Tracardi\n\n"
            "usage:\n"
            "  cdpd serve [options]          run the collector and the management API\n"
            "  cdpd user add --email E --password P --role R[,R] [--name N] [options]\n"
            "  cdpd job NAME [--store URL] [options]  run a one-shot job: segment, merge\n"
            "  cdpd version\n"
            "  cdpd help\n\n",
            CDPD_VERSION);
    cdp_config_usage(f);
    return f == stderr ? 2 : 0;
}

static int load_config(struct cdp_config *cfg, int argc, char **argv,
                       const struct cdp_extra_opt *extra, size_t nextra)
{
    char err[512];
    cdp_config_defaults(cfg);
    if (cdp_config_load(cfg, argc, argv, extra, nextra, err, sizeof(err))) {
        fprintf(stderr, "cdpd: %s\n", err);
        return -1;
    }
    int lvl = cdp_log_parse_level(cfg->log_level);
    if (lvl < 0) {
        fprintf(stderr, "cdpd: log-level must be debug, info, warn or error\n");
        return -1;
    }
    cdp_log_min = (enum cdp_log_level)lvl;
    return 0;
}

/* Users, tokens and the salt are production's whatever --context says; jobs follow it. */
static int open_store(const struct cdp_config *cfg, enum cdp_store_context ctx,
                      struct cdp_store **s)
{
    char err[512];
    if (cdp_store_open_cfg(s, cfg, ctx, false, err, sizeof(err))) {
        fprintf(stderr, "cdpd: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_user_add(int argc, char **argv)
{
    char email[256] = "", password[256] = "", role[128] = "", name[256] = "";
    const struct cdp_extra_opt extra[] = {
        {"email", email, sizeof(email), "e-mail, the login name"},
        {"password", password, sizeof(password), "password, 8 characters or more"},
        {"role", role, sizeof(role), "admin, developer, marketer, maintainer (comma list)"},
        {"name", name, sizeof(name), "full name"},
    };
    struct cdp_config cfg;
    struct cdp_store *s;
    if (load_config(&cfg, argc, argv, extra, sizeof(extra) / sizeof(extra[0])) ||
        open_store(&cfg, CDP_STORE_PRODUCTION, &s))
        return 1;
    char err[256];
    int rc = cdp_api_user_add(s, email, password, role, name, err, sizeof(err));
    cdp_store_close(s);
    sodium_memzero(password, sizeof(password));
    if (rc) {
        fprintf(stderr, "cdpd: user add: %s\n", err);
        return 1;
    }
    printf("user %s added with role %s\n", email, role);
    return 0;
}

/* cdpd job segment: one batch segmentation run, its summary as JSON on stdout. */
static int job_segment(const struct cdp_config *cfg, struct cdp_store *s)
{
    char err[512];
    struct cdp_segment_job_opts o = {.now_us = cdp_clock_now_us()};
    cJSON *sum = NULL;
    if (cdp_segment_job_run(s, &o, &sum, err, sizeof(err))) {
        fprintf(stderr, "cdpd: job segment on %s: %s\n", cdp_config_store_url(cfg), err);
        return 1;
    }
    char *text = cdp_json_print(sum);
    cJSON_Delete(sum);
    if (!text) {
        fprintf(stderr, "cdpd: job segment: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

/* cdpd job merge: hashed contact ids for every profile, and merges of those sharing an id. */
static int job_merge(const struct cdp_config *cfg, struct cdp_store *s)
{
    char salt[80];
    if (s->ops->meta_get(s, "salt", salt, sizeof(salt))) {
        fprintf(stderr, "cdpd: job merge on %s: no salt yet: run `cdpd serve` once first\n",
                cdp_config_store_url(cfg));
        return 1;
    }
    struct cdp_sweep n;
    double t0 = cdp_clock_mono();
    int rc = cdp_identity_sweep(s, salt, cdp_clock_now_us(), &n);
    if (rc) {
        fprintf(stderr, "cdpd: job merge on %s: %s (merges so far stay)\n",
                cdp_config_store_url(cfg), cdp_err_str(rc));
        return 1;
    }
    printf("{\"profiles\": %ld, \"ids_added\": %ld, \"merges\": %ld, \"absorbed\": %ld, "
           "\"seconds\": %.3f}\n",
           n.profiles, n.ids, n.merges, n.absorbed, cdp_clock_mono() - t0);
    return 0;
}

/* One-shot jobs, for cron or a Kubernetes CronJob; each gets the loaded options and a store. */
static const struct {
    const char *name;
    int (*run)(const struct cdp_config *cfg, struct cdp_store *s);
} jobs[] = {
    {"segment", job_segment},
    {"merge", job_merge},
};

static int cmd_job(int argc, char **argv)
{
    const char *name = argc > 0 ? argv[0] : "";
    size_t i = 0;
    while (i < sizeof(jobs) / sizeof(jobs[0]) && strcmp(jobs[i].name, name) != 0)
        i++;
    if (i == sizeof(jobs) / sizeof(jobs[0])) {
        fprintf(stderr, "cdpd: job: unknown job '%s' (jobs: segment, merge)\n", name);
        return 2;
    }
    struct cdp_config cfg;
    if (load_config(&cfg, argc - 1, argv + 1, NULL, 0))
        return 1;
    struct cdp_store *s;
    enum cdp_store_context ctx = CDP_STORE_PRODUCTION;
    cdp_store_context_parse(cfg.context, &ctx); /* checked by cdp_config_load */
    if (open_store(&cfg, ctx, &s))
        return 1;
    int rc = jobs[i].run(&cfg, s);
    cdp_store_close(s);
    return rc;
}

/* The installation's own secret salt (hashed merge ids) and secret key (resource credentials,
 * core/secret.h), made once at first start. */
static int ensure_install(const struct cdp_config *cfg)
{
    struct cdp_store *s;
    if (open_store(cfg, CDP_STORE_PRODUCTION, &s))
        return -1;
    char salt[80];
    int rc = s->ops->meta_get(s, "salt", salt, sizeof(salt));
    if (rc == CDP_E_NOT_FOUND) {
        cdp_id_hex(salt, 32);
        rc = s->ops->meta_put(s, "salt", salt);
    }
    cdp_store_close(s);
    if (rc) {
        fprintf(stderr, "cdpd: cannot initialise the store %s\n", cdp_config_store_url(cfg));
        return -1;
    }
    char err[700];
    bool made;
    if (cdp_secret_key_ensure(cfg, &made, err, sizeof(err))) {
        fprintf(stderr, "cdpd: %s\n", err);
        return -1;
    }
    if (made)
        cdp_info("made a new secret key for resource credentials: keep a copy, they cannot be "
                 "read without it");
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct cdp_config cfg;
    if (load_config(&cfg, argc, argv, NULL, 0) || ensure_install(&cfg))
        return 1;
    /* A testing aid, deliberately not a config option: moves every business time (clock.h). */
    const char *clock_offset = getenv("CDPD_CLOCK_OFFSET");
    if (clock_offset && *clock_offset) {
        int64_t us;
        if (cdp_clock_parse_offset(clock_offset, &us)) {
            fprintf(stderr, "cdpd: CDPD_CLOCK_OFFSET must be a duration such as 31d, -2h, 90s "
                            "or a number of seconds\n");
            return 1;
        }
        cdp_clock_set_offset(us);
        cdp_warn("CDPD_CLOCK_OFFSET=%s: the clock of events, profiles, sessions and consents is "
                 "moved by %lld s; for tests and demos only, never in production",
                 clock_offset, (long long)(us / 1000000));
    }
    bool want_collector = cdp_config_has_role(&cfg, "collector");
    bool want_api = cdp_config_has_role(&cfg, "api");
    bool want_worker = cdp_config_has_role(&cfg, "worker");
    if (!want_collector && !want_api && !want_worker) {
        fprintf(stderr, "cdpd: --roles must name collector, api or worker\n");
        return 1;
    }
    if (want_worker && !want_collector && !want_api && !cdp_cluster_mode(&cfg)) {
        fprintf(stderr, "cdpd: a worker alone has nothing to do without --cache and --queue\n");
        return 1;
    }
    /* Block the stop signals before any thread starts so only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    int status = 1;
    struct cdp_ua_db *ua = NULL;
    struct cdp_collector *collector = NULL;
    struct cdp_api *api = NULL;
    struct cdp_http_server *pub = NULL, *admin = NULL;
    struct cdp_schedule *segment_job = NULL, *storage[CDP_STORE_NCONTEXTS] = {0}, *dispatch = NULL;
    if (want_collector) {
        if (cdp_ua_db_open(&ua, cfg.ua_regexes, err, sizeof(err))) {
            fprintf(stderr, "cdpd: %s\n", err);
            goto out;
        }
        if (cdp_collector_start(&collector, &cfg, ua, err, sizeof(err)))
            goto fail;
        struct cdp_http_opts o = {.name = "collector",
                                  .listen = cfg.listen,
                                  .max_body = (size_t)cfg.max_body,
                                  .threads = 1,
                                  .cors = true,
                                  .routes = cdp_collect_routes,
                                  .nroutes = cdp_collect_nroutes,
                                  .app = collector};
        if (cdp_http_start(&pub, &o, err, sizeof(err)))
            goto fail;
    }
    if (want_api) {
        if (cdp_api_new(&api, &cfg, err, sizeof(err)))
            goto fail;
        struct cdp_http_opts o = {.name = "admin",
                                  .listen = cfg.admin_listen,
                                  .max_body = (size_t)cfg.max_body,
                                  .max_bulk_body = (size_t)cfg.max_import_body,
                                  .threads = (unsigned)cfg.admin_threads,
                                  .routes = cdp_api_routes,
                                  .nroutes = cdp_api_nroutes,
                                  .guard = cdp_api_guard,
                                  .fallback = cdp_api_gui,
                                  .app = api};
        if (cdp_http_start(&admin, &o, err, sizeof(err)))
            goto fail;
    }
    /* The worker's jobs run on the data of --context, as the collector does. */
    enum cdp_store_context ctx = CDP_STORE_PRODUCTION;
    cdp_store_context_parse(cfg.context, &ctx); /* checked by cdp_config_load */
    if (cfg.segment_interval > 0 && want_worker &&
        cdp_segment_job_every(&segment_job, &cfg, ctx, err, sizeof(err)))
        goto fail;
    /* scale-out: the changes collectors (and the API) publish go into the shared store through
     * workers, each context's stream of its own */
    for (int c = 0; want_worker && cdp_cluster_mode(&cfg) && c < CDP_STORE_NCONTEXTS; c++)
        if (cdp_storage_worker_start(&storage[c], &cfg, (enum cdp_store_context)c, err,
                                     sizeof(err)))
            goto fail;
    /* destinations: the changes of --context's collectors (stream or outbox) */
    if (want_worker && cdp_dispatch_worker_start(&dispatch, &cfg, ctx, err, sizeof(err)))
        goto fail;
    printf("cdpd %s serving, data in %s%s\n", CDPD_VERSION, cdp_config_store_url(&cfg),
           ctx == CDP_STORE_STAGING ? " (collector and jobs: staging)" : "");
    if (pub) {
        const char *colon = strrchr(cfg.listen, ':');
        printf("  collector:  http://%.*s:%u\n", (int)(colon - cfg.listen), cfg.listen,
               cdp_http_port(pub));
    }
    if (admin) {
        const char *colon = strrchr(cfg.admin_listen, ':');
        printf("  management: http://%.*s:%u\n", (int)(colon - cfg.admin_listen), cfg.admin_listen,
               cdp_http_port(admin));
        printf("  GUI:        http://%.*s:%u/%s\n", (int)(colon - cfg.admin_listen),
               cfg.admin_listen, cdp_http_port(admin),
               cdp_gui_nfiles ? "" : " (not built into this binary: run make)");
    }
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    cdp_info("signal %d: stopping", sig);
    status = 0;
    goto out;
fail:
    fprintf(stderr, "cdpd: %s\n", err);
out:
    /* A batch run in progress ends at its next step. No new connections; the pipeline answers
     * what it holds; then the listeners close, and only then is what their handlers use freed. */
    cdp_schedule_stop(segment_job);
    cdp_http_quiesce(pub);
    cdp_http_quiesce(admin);
    cdp_collector_drain(collector);
    cdp_http_stop(pub);
    cdp_http_stop(admin);
    cdp_collector_free(collector);
    cdp_api_free(api);
    cdp_schedule_stop(dispatch);
    for (int c = 0; c < CDP_STORE_NCONTEXTS; c++)
        cdp_schedule_stop(storage[c]); /* last: they store what the collector published */
    cdp_ua_db_free(ua);
    return status;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "cdpd: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "user") == 0 && argc >= 3 && strcmp(argv[2], "add") == 0)
        return cmd_user_add(argc - 3, argv + 3);
    if (strcmp(cmd, "job") == 0)
        return cmd_job(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("cdpd %s\n", CDPD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return usage(stdout);
    fprintf(stderr, "cdpd: unknown command '%s'\n\n", cmd);
    return usage(stderr);
}
