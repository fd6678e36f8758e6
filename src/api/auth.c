/* Management authentication: argon2id password hashes, random bearer tokens stored as hashes
 * with a sliding expiry, failed logins slowed down per user and address, roles per route. */
#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"
#include "model/user.h"
#include "store/store.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Role masks are model/user.h's: bit i is cdp_user_roles[i]. */
_Static_assert(CDP_ROLE_ADMIN == 1u << 0 && CDP_ROLE_DEVELOPER == 1u << 1 &&
                   CDP_ROLE_MARKETER == 1u << 2 && CDP_ROLE_MAINTAINER == 1u << 3 &&
                   CDP_USER_NROLES == 4 && CDP_USER_ROLE_ADMIN == CDP_ROLE_ADMIN,
               "CDP_ROLE_* must follow cdp_user_roles[]");

/* The caller of a request that passed the guard. */
struct api_user {
    char id[64];
    char email[256];
    unsigned roles;
    char token_hash[65];
    struct cdp_api_audit *audit;    /* requests that may change something */
    enum cdp_store_context context; /* x-context, or production (CDP_API_ROUTE_PRODUCTION) */
};

static void api_user_free(void *p)
{
    struct api_user *au = p;
    if (au)
        cdp_api_audit_free(au->audit);
    free(au);
}

const char *cdp_api_user_id(const struct cdp_http_req *req)
{
    const struct api_user *au = cdp_http_user(req);
    return au ? au->id : NULL;
}

const char *cdp_api_user_email(const struct cdp_http_req *req)
{
    const struct api_user *au = cdp_http_user(req);
    return au ? au->email : NULL;
}

const char *cdp_api_token_hash(const struct cdp_http_req *req)
{
    const struct api_user *au = cdp_http_user(req);
    return au ? au->token_hash : NULL;
}

enum cdp_store_context cdp_api_context(const struct cdp_http_req *req)
{
    const struct api_user *au = cdp_http_user(req);
    return au ? au->context : CDP_STORE_PRODUCTION;
}

struct cdp_api_audit *cdp_api_audit_of(const struct cdp_http_req *req)
{
    const struct api_user *au = cdp_http_user(req);
    return au ? au->audit : NULL;
}

static void token_hash(const char *token, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static unsigned roles_of(const cJSON *doc)
{
    return cdp_user_roles_mask(cJSON_GetObjectItemCaseSensitive(doc, "roles"));
}

/* Why a stored user may not act now, or NULL. Account expiry is on the real clock. */
static const char *user_refusal(const cJSON *doc)
{
    return cdp_user_refusal(doc, (int64_t)time(NULL));
}

int cdp_api_password_hash(const char *password, char *out, size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES ||
        crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return CDP_E_NOMEM;
    return 0;
}

int cdp_api_user_add(struct cdp_store *s, const char *email, const char *password,
                     const char *roles, const char *full_name, char *err, size_t errlen)
{
    if (!cdp_user_email_ok(email)) {
        snprintf(err, errlen, "--email must be an e-mail address");
        return CDP_E_INVALID;
    }
    const char *weak = cdp_user_password_problem(password, email);
    if (weak) {
        snprintf(err, errlen, "--password: %s", weak);
        return CDP_E_INVALID;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *rl = cJSON_AddArrayToObject(body, "roles");
    for (const char *p = roles; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool known = false;
        for (size_t i = 0; i < CDP_USER_NROLES; i++)
            if (strlen(cdp_user_roles[i]) == n && strncmp(cdp_user_roles[i], p, n) == 0) {
                cJSON_AddItemToArray(rl, cJSON_CreateString(cdp_user_roles[i]));
                known = true;
            }
        if (!known) {
            snprintf(err, errlen, "unknown role '%.*s' (admin, developer, marketer, maintainer)",
                     (int)n, p);
            cJSON_Delete(body);
            return CDP_E_INVALID;
        }
        p = e ? e + 1 : NULL;
    }
    if (cJSON_GetArraySize(rl) == 0) {
        snprintf(err, errlen, "--role is required (admin, developer, marketer, maintainer)");
        cJSON_Delete(body);
        return CDP_E_INVALID;
    }
    cdp_json_put_str(body, "email", email);
    cdp_json_put_str(body, "full_name", full_name ? full_name : "");
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    cdp_id_uuid4(u.id);
    u.doc = cdp_user_new_doc(u.id, body);
    cJSON_Delete(body);
    if (!u.doc) {
        snprintf(err, errlen, "out of memory");
        return CDP_E_NOMEM;
    }
    snprintf(u.email, sizeof(u.email), "%s", cdp_json_str(u.doc, "email"));
    int rc = cdp_api_password_hash(password, u.pwhash, sizeof(u.pwhash));
    if (rc) {
        snprintf(err, errlen, "cannot hash the password (out of memory)");
        cJSON_Delete(u.doc);
        return rc;
    }
    if (!(rc = s->ops->begin(s))) {
        if (!(rc = s->ops->user_put(s, &u)) &&
            !(rc = cdp_api_audit_cli(s, "cdpd user add", "user", u.id, u.doc)))
            rc = s->ops->commit(s);
        if (rc)
            s->ops->rollback(s);
    }
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cJSON_Delete(u.doc);
    if (rc == CDP_E_CONFLICT)
        snprintf(err, errlen, "a user with e-mail %s already exists", u.email);
    else if (rc)
        snprintf(err, errlen, "cannot store the user: %s", cdp_err_str(rc));
    return rc;
}

/* --- login throttling ---
 * Failures are counted per (user, address) and per address alone, so neither guessing one
 * user's password nor trying many users from one place goes fast. The table is
 * set-associative: a new key replaces the least recently failed entry of its set, never a
 * colliding key that happens to share a slot. */

#define THROTTLE_SETS      256
#define THROTTLE_WAYS      4
#define FREE_FAILURES_USER 5
#define FREE_FAILURES_ADDR 20
#define MAX_WAIT           300

struct throttle_entry {
    char key[320]; /* fits "u|" + a 255-byte username + "|" + an IPv6 address */
    int failures;
    time_t blocked_until;
    time_t last;
};

static struct {
    pthread_mutex_t mu;
    struct throttle_entry e[THROTTLE_SETS][THROTTLE_WAYS];
} throttle = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The entry of key, or with create a fresh one in its set; NULL when absent. Lock held. */
static struct throttle_entry *throttle_find(const char *key, bool create, time_t now)
{
    unsigned h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    struct throttle_entry *set = throttle.e[h % THROTTLE_SETS], *victim = &set[0];
    for (int i = 0; i < THROTTLE_WAYS; i++) {
        if (strcmp(set[i].key, key) == 0) {
            if (now - set[i].last > 900 && set[i].blocked_until <= now)
                set[i].failures = 0; /* forgiven after 15 quiet minutes */
            return &set[i];
        }
        if (set[i].last < victim->last)
            victim = &set[i];
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    return victim;
}

/* Seconds the caller must still wait, 0 if it may try. */
static long throttle_wait(const char *const keys[2])
{
    time_t now = time(NULL);
    long wait = 0;
    pthread_mutex_lock(&throttle.mu);
    for (int k = 0; k < 2; k++) {
        struct throttle_entry *e = throttle_find(keys[k], false, now);
        if (e && e->blocked_until > now && e->blocked_until - now > wait)
            wait = (long)(e->blocked_until - now);
    }
    pthread_mutex_unlock(&throttle.mu);
    return wait;
}

static void throttle_note(const char *const keys[2], bool ok)
{
    static const int free_failures[2] = {FREE_FAILURES_USER, FREE_FAILURES_ADDR};
    time_t now = time(NULL);
    pthread_mutex_lock(&throttle.mu);
    for (int k = 0; k < 2; k++) {
        struct throttle_entry *e = throttle_find(keys[k], !ok, now);
        if (!e)
            continue;
        if (ok && k == 0) { /* success clears the user's count, not the address's */
            e->failures = 0;
            e->blocked_until = 0;
            continue;
        }
        if (ok)
            continue;
        e->last = now;
        if (++e->failures > free_failures[k]) {
            int extra = e->failures - free_failures[k];
            long delay = extra > 8 ? MAX_WAIT : 1L << extra;
            e->blocked_until = now + (delay > MAX_WAIT ? MAX_WAIT : delay);
        }
    }
    pthread_mutex_unlock(&throttle.mu);
}

int cdp_api_password_recheck(struct cdp_http_req *req, const char *email, const char *pwhash,
                             const char *password, const char *field)
{
    char user_key[320], addr_key[80];
    snprintf(user_key, sizeof(user_key), "u|%s|%s", email, cdp_http_client_ip(req));
    snprintf(addr_key, sizeof(addr_key), "a|%s", cdp_http_client_ip(req));
    const char *const keys[2] = {user_key, addr_key};
    long wait = throttle_wait(keys);
    if (wait > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", wait);
        cdp_http_add_header(req, "Retry-After", ra);
        cdp_http_reply_error(req, 429, "too many wrong passwords; try again in %ld s", wait);
        return CDP_E_THROTTLED;
    }
    bool ok = password && crypto_pwhash_str_verify(pwhash, password, strlen(password)) == 0;
    throttle_note(keys, ok);
    if (ok)
        return 0;
    cJSON *j = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(j, "detail");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToArray(list, p);
    cJSON *loc = cJSON_AddArrayToObject(p, "loc");
    cJSON_AddItemToArray(loc, cJSON_CreateString("body"));
    cJSON_AddItemToArray(loc, cJSON_CreateString(field));
    cJSON_AddStringToObject(p, "msg", password ? "is not your current password" : "field required");
    cJSON_AddStringToObject(p, "type", password ? "value_error.password" : "value_error.missing");
    cdp_http_reply_json(req, 422, j);
    return CDP_E_INVALID;
}

/* --- handlers --- */

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    char pw[33];
    cdp_id_hex(pw, 16);
    if (crypto_pwhash_str_alg(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        dummy_hash[0] = '\0';
}

struct login_form {
    char username[256];
    char password[256];
};

static void login_field(void *ud, const char *k, const char *v)
{
    struct login_form *f = ud;
    if (strcmp(k, "username") == 0)
        snprintf(f->username, sizeof(f->username), "%s", v);
    else if (strcmp(k, "password") == 0)
        snprintf(f->password, sizeof(f->password), "%s", v);
}

void cdp_api_token(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    struct login_form f;
    memset(&f, 0, sizeof(f));
    size_t len;
    const char *body = cdp_http_body(req, &len);
    if (cdp_http_form_parse(body, len, login_field, &f) != 0 || !f.username[0] || !f.password[0]) {
        cdp_http_reply_error(req, 422,
                             "form fields username and password are required "
                             "(application/x-www-form-urlencoded)");
        goto out;
    }
    char user_key[320], addr_key[80];
    for (size_t i = 0; f.username[i]; i++) /* e-mails compare without case, so must throttling */
        f.username[i] = (char)tolower((unsigned char)f.username[i]);
    snprintf(user_key, sizeof(user_key), "u|%s|%s", f.username, cdp_http_client_ip(req));
    snprintf(addr_key, sizeof(addr_key), "a|%s", cdp_http_client_ip(req));
    const char *const keys[2] = {user_key, addr_key};
    long wait = throttle_wait(keys);
    if (wait > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", wait);
        cdp_http_add_header(req, "Retry-After", ra);
        cdp_http_reply_error(req, 429, "too many failed logins; try again in %ld s", wait);
        goto out;
    }
    struct cdp_store *s = cdp_api_store_of(api, CDP_STORE_PRODUCTION, req); /* users' home */
    if (!s)
        goto out;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->user_get(s, f.username, &u);
    bool ok = rc == 0 && crypto_pwhash_str_verify(u.pwhash, f.password, strlen(f.password)) == 0;
    if (rc == CDP_E_NOT_FOUND) {
        /* Spend the same effort as a real check so timing does not reveal which users exist. */
        pthread_once(&dummy_once, make_dummy);
        if (crypto_pwhash_str_verify(dummy_hash, f.password, strlen(f.password)) == 0)
            ok = false;
    }
    throttle_note(keys, ok);
    const char *refusal = ok ? user_refusal(u.doc) : NULL;
    /* every login, failed or not, in the audit log: who tried, and whether it worked */
    int arc = cdp_api_audit_public(req, s, ok && !refusal ? 200 : 401, rc == 0 ? u.id : NULL,
                                   f.username, "token", NULL, NULL);
    if (arc)
        cdp_error("audit: cannot record a login of %s: %s", f.username, cdp_err_str(arc));
    if (!ok || refusal) {
        cdp_http_add_header(req, "WWW-Authenticate", "Bearer");
        cdp_http_reply_error(req, 401, "%s", refusal ? refusal : "Incorrect username or password");
        goto done;
    }
    char token[65], hash[65];
    cdp_id_hex(token, 32);
    token_hash(token, hash);
    int64_t expires = (int64_t)time(NULL) + cdp_api_config(api)->token_ttl;
    if ((rc = s->ops->token_put(s, hash, u.id, expires))) {
        cdp_api_reply_err(req, rc, "token");
        goto done;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "access_token", token);
    cJSON_AddStringToObject(j, "token_type", "bearer");
    cJSON_AddItemToObject(j, "roles",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u.doc, "roles"), true));
    const cJSON *pref = cJSON_GetObjectItemCaseSensitive(u.doc, "preference");
    cJSON_AddItemToObject(j, "preference",
                          pref ? cJSON_Duplicate(pref, true) : cJSON_CreateObject());
    cJSON_AddNumberToObject(j, "expires_in", (double)cdp_api_config(api)->token_ttl);
    cdp_http_reply_json(req, 200, j);
done:
    cdp_user_rec_fini(&u);
    cdp_api_store_put(api, s);
out:
    sodium_memzero(f.password, sizeof(f.password));
}

void cdp_api_logout(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    const struct api_user *au = cdp_http_user(req);
    struct cdp_store *s = cdp_api_store_of(api, CDP_STORE_PRODUCTION, req);
    if (!s)
        return;
    int rc = s->ops->token_delete(s, au->token_hash);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "token");
        return;
    }
    cdp_http_reply_json(req, 200, cJSON_CreateObject());
}

bool cdp_api_guard(struct cdp_http_req *req, const struct cdp_route *route, void *app)
{
    struct cdp_api *api = app;
    const char *auth = cdp_http_header(req, "Authorization");
    cdp_http_add_header(req, "WWW-Authenticate", "Bearer");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        cdp_http_reply_error(req, 401, "Not authenticated: send Authorization: Bearer <token>");
        return false;
    }
    struct api_user *au = calloc(1, sizeof(*au));
    if (!au) {
        cdp_http_reply_error(req, 500, "out of memory");
        return false;
    }
    token_hash(auth + 7, au->token_hash);
    struct cdp_store *s = cdp_api_store_of(api, CDP_STORE_PRODUCTION, req); /* tokens' home */
    if (!s) {
        free(au);
        return false;
    }
    /* Security times (tokens, account expiry, throttling) stay on the real clock, not
     * cdp_clock_now_us: a test's CDPD_CLOCK_OFFSET must not expire or prolong credentials. */
    int64_t now = (int64_t)time(NULL);
    /* Slide in steps of a thirtieth of the lifetime (a minute by default): reading through the
     * API then rarely writes, and writes make the collector drop its caches. */
    long ttl = cdp_api_config(api)->token_ttl;
    int rc =
        s->ops->token_touch(s, au->token_hash, now, now + ttl, ttl / 30, au->id, sizeof(au->id));
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    if (!rc)
        rc = s->ops->user_get(s, au->id, &u);
    cdp_api_store_put(api, s);
    const char *refusal = rc ? NULL : user_refusal(u.doc);
    au->roles = rc ? 0 : roles_of(u.doc);
    snprintf(au->email, sizeof(au->email), "%s", rc ? "" : u.email);
    cdp_user_rec_fini(&u);
    if (rc || refusal) {
        free(au);
        if (rc == CDP_E_NOT_FOUND || refusal)
            cdp_http_reply_error(req, 401, "%s", refusal ? refusal : "Invalid or expired token");
        else
            cdp_api_reply_err(req, rc, "token");
        return false;
    }
    if (!(au->roles & route->roles)) {
        free(au);
        cdp_http_reply_error(req, 403, "Access forbidden: your roles may not use this route");
        return false;
    }
    if (!(route->roles & CDP_API_ROUTE_PRODUCTION) && !cdp_api_context_parse(req, &au->context)) {
        free(au);
        return false;
    }
    /* Anything but a read is audited; the record is written if the reply is a 2xx. */
    const char *m = cdp_http_method(req);
    bool reads = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (((!reads && !(route->roles & CDP_API_ROUTE_READS)) ||
         (route->roles & CDP_API_ROUTE_WRITES)) &&
        !(au->audit = cdp_api_audit_start(req, api, route, au->id, au->email))) {
        free(au);
        cdp_http_reply_error(req, 500, "out of memory");
        return false;
    }
    cdp_http_set_user(req, au, api_user_free);
    return true;
}
