/* cdpd: start-up, subcommands, signals. `cdpd serve` runs the roles this process is given:
 * the collector listener with its pipeline, and the management API listener. */
#include "api/api.h"
#include "collect/collect.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/log.h"
#include "http/http.h"
#include "model/useragent.h"
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

static int open_store(const struct cdp_config *cfg, struct cdp_store **s)
{
    char err[512];
    struct cdp_store_opts so = {.durable = strcmp(cfg->sync, "full") == 0};
    if (cdp_store_open(s, cfg->data, &so, err, sizeof(err))) {
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
        open_store(&cfg, &s))
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

/* The installation's own secret salt (hashed merge ids), made once at first start. */
static int ensure_install(const struct cdp_config *cfg)
{
    struct cdp_store *s;
    if (open_store(cfg, &s))
        return -1;
    char salt[80];
    int rc = s->ops->meta_get(s, "salt", salt, sizeof(salt));
    if (rc == CDP_E_NOT_FOUND) {
        cdp_id_hex(salt, 32);
        rc = s->ops->meta_put(s, "salt", salt);
    }
    cdp_store_close(s);
    if (rc)
        fprintf(stderr, "cdpd: cannot initialise the store in %s\n", cfg->data);
    return rc ? -1 : 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct cdp_config cfg;
    if (load_config(&cfg, argc, argv, NULL, 0) || ensure_install(&cfg))
        return 1;
    bool want_collector = cdp_config_has_role(&cfg, "collector");
    bool want_api = cdp_config_has_role(&cfg, "api");
    if (!want_collector && !want_api) {
        fprintf(stderr, "cdpd: --roles must include collector or api\n");
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
                                  .threads = (unsigned)cfg.admin_threads,
                                  .routes = cdp_api_routes,
                                  .nroutes = cdp_api_nroutes,
                                  .guard = cdp_api_guard,
                                  .app = api};
        if (cdp_http_start(&admin, &o, err, sizeof(err)))
            goto fail;
    }
    printf("cdpd %s serving, data in %s\n", CDPD_VERSION, cfg.data);
    if (pub) {
        const char *colon = strrchr(cfg.listen, ':');
        printf("  collector:  http://%.*s:%u\n", (int)(colon - cfg.listen), cfg.listen,
               cdp_http_port(pub));
    }
    if (admin) {
        const char *colon = strrchr(cfg.admin_listen, ':');
        printf("  management: http://%.*s:%u\n", (int)(colon - cfg.admin_listen), cfg.admin_listen,
               cdp_http_port(admin));
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
    /* No new connections; the pipeline answers what it holds; then the listeners close, and
     * only then is what their handlers use freed. */
    cdp_http_quiesce(pub);
    cdp_http_quiesce(admin);
    cdp_collector_drain(collector);
    cdp_http_stop(pub);
    cdp_http_stop(admin);
    cdp_collector_free(collector);
    cdp_api_free(api);
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
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("cdpd %s\n", CDPD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return usage(stdout);
    fprintf(stderr, "cdpd: unknown command '%s'\n\n", cmd);
    return usage(stderr);
}
