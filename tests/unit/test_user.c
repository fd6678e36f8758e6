/* Unit tests of management users (model/user.c), the audit log's redaction (api/audit.c) and
 * the store's user, token and audit operations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "model/user.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_email(void **state)
{
    (void)state;
    const char *good[] = {"admin@example.com", "a.b+c@sub.example.co", "x_y-z@a-b.io",
                          "o'neil@example.org"};
    const char *bad[] = {"",
                         "admin",
                         "@example.com",
                         "admin@",
                         "a@b",
                         "a@@example.com",
                         "a b@example.com",
                         ".a@example.com",
                         "a.@example.com",
                         "a..b@example.com",
                         "a@-example.com",
                         "a@example-.com",
                         "a@example..com",
                         "a@example.com.",
                         "a@exa_mple.com"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(cdp_user_email_ok(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cdp_user_email_ok(bad[i]))
            fail_msg("accepted %s", bad[i]);
    }
    assert_false(cdp_user_email_ok(NULL));
    char longest[300];
    memset(longest, 'a', sizeof(longest));
    memcpy(longest + 280, "@example.com", 13);
    assert_false(cdp_user_email_ok(longest));
}

static void test_password(void **state)
{
    (void)state;
    assert_null(cdp_user_password_problem("long-enough-2", NULL));
    assert_null(cdp_user_password_problem("12345678", NULL));
    assert_non_null(cdp_user_password_problem("short", NULL));
    assert_non_null(cdp_user_password_problem("1234567", NULL));
    assert_non_null(cdp_user_password_problem("aaaaaaaaaa", NULL));
    assert_non_null(cdp_user_password_problem("tab\there-x", NULL));
    assert_non_null(cdp_user_password_problem("Me@Example.com", "me@example.com"));
    assert_non_null(cdp_user_password_problem(NULL, NULL));
    char huge[300];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    huge[0] = 'y';
    assert_non_null(cdp_user_password_problem(huge, NULL));
    huge[255] = '\0';
    assert_null(cdp_user_password_problem(huge, NULL));
}

/* The fields the problems of body name, as "email,password,roles.1". */
static void problem_fields(const char *body, bool create, char *out, size_t outlen)
{
    cJSON *b = cJSON_Parse(body);
    cJSON *list = cdp_user_check(b, create);
    assert_non_null(list);
    out[0] = '\0';
    const cJSON *p;
    cJSON_ArrayForEach(p, list)
    {
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(p, "loc");
        char f[64] = "";
        const cJSON *part;
        int i = 0;
        cJSON_ArrayForEach(part, loc)
        {
            if (i++ == 0)
                continue; /* "body" */
            size_t n = strlen(f);
            if (cJSON_IsString(part))
                snprintf(f + n, sizeof(f) - n, "%s%s", n ? "." : "", part->valuestring);
            else
                snprintf(f + n, sizeof(f) - n, ".%d", part->valueint);
        }
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, "%s%s", n ? "," : "", f);
        assert_non_null(cdp_json_str(p, "msg"));
        assert_non_null(cdp_json_str(p, "type"));
    }
    cJSON_Delete(list);
    cJSON_Delete(b);
}

static void test_check(void **state)
{
    (void)state;
    char f[256];
    problem_fields("{\"email\":\"a@example.com\",\"password\":\"long-enough-1\","
                   "\"roles\":[\"marketer\"]}",
                   true, f, sizeof(f));
    assert_string_equal(f, "");
    problem_fields("{}", true, f, sizeof(f));
    assert_string_equal(f, "email,password,roles");
    problem_fields("{}", false, f, sizeof(f));
    assert_string_equal(f, "");
    problem_fields("{\"email\":\"nope\",\"password\":\"short\",\"roles\":[\"admin\",\"boss\",7],"
                   "\"disabled\":\"yes\",\"expiration_timestamp\":-1,\"preference\":[],"
                   "\"full_name\":5}",
                   false, f, sizeof(f));
    assert_string_equal(f, "email,password,full_name,roles.1,roles.2,disabled,"
                           "expiration_timestamp,preference");
    problem_fields("{\"roles\":[]}", false, f, sizeof(f));
    assert_string_equal(f, "roles");
    problem_fields("{\"roles\":\"admin\"}", false, f, sizeof(f));
    assert_string_equal(f, "roles");
    problem_fields("[1]", false, f, sizeof(f));
    assert_string_equal(f, "");
    cJSON *list = cdp_user_check(NULL, false);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    cJSON_Delete(list);
}

static void test_new_doc_and_apply(void **state)
{
    (void)state;
    cJSON *body = cJSON_Parse("{\"email\":\"Me@Example.COM\",\"password\":\"secret-pass\","
                              "\"roles\":[\"marketer\",\"admin\",\"admin\"]}");
    cJSON *doc = cdp_user_new_doc("u1", body);
    assert_string_equal(cdp_json_str(doc, "email"), "me@example.com");
    assert_string_equal(cdp_json_str(doc, "full_name"), "");
    assert_null(cJSON_GetObjectItemCaseSensitive(doc, "password"));
    char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "roles"));
    assert_string_equal(txt, "[\"admin\",\"marketer\"]");
    free(txt);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "expiration_timestamp")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "preference")));
    assert_true(cdp_user_is_active_admin(doc, 1000));
    cJSON *upd = cJSON_Parse("{\"roles\":[\"developer\"],\"disabled\":true,\"full_name\":\"M\"}");
    cdp_user_apply(doc, upd);
    assert_false(cdp_user_is_active_admin(doc, 1000));
    assert_string_equal(cdp_json_str(doc, "full_name"), "M");
    assert_string_equal(cdp_json_str(doc, "email"), "me@example.com");
    cJSON_Delete(upd);
    cJSON_Delete(body);
    cJSON_Delete(doc);
}

static void test_refusal(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"roles\":[\"admin\"],\"disabled\":false,"
                             "\"expiration_timestamp\":2000}");
    assert_null(cdp_user_refusal(doc, 1999));
    assert_true(cdp_user_is_active_admin(doc, 1999));
    assert_non_null(cdp_user_refusal(doc, 2001));
    assert_false(cdp_user_is_active_admin(doc, 2001));
    cJSON_ReplaceItemInObject(doc, "expiration_timestamp", cJSON_CreateNull());
    assert_null(cdp_user_refusal(doc, 99999999));
    cJSON_ReplaceItemInObject(doc, "disabled", cJSON_CreateTrue());
    assert_string_equal(cdp_user_refusal(doc, 0), "user is disabled");
    cJSON_Delete(doc);
}

static void test_roles_mask(void **state)
{
    (void)state;
    cJSON *r = cJSON_Parse("[\"maintainer\",\"x\",\"developer\",3]");
    assert_int_equal(cdp_user_roles_mask(r), CDP_ROLE_MAINTAINER | CDP_ROLE_DEVELOPER);
    cJSON_Delete(r);
    assert_int_equal(cdp_user_roles_mask(NULL), 0);
}

static void test_redact(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"id\":\"r\",\"name\":\"n\",\"credentials\":{\"production\":"
                             "{\"user\":\"u\"}},\"config\":{\"Password\":\"p\",\"api_key\":\"k\","
                             "\"list\":[{\"access_token\":\"t\",\"x\":1}],\"host\":\"h\"}}");
    cJSON *r = cdp_api_audit_redact(doc);
    char *txt = cJSON_PrintUnformatted(r);
    assert_string_equal(txt, "{\"id\":\"r\",\"name\":\"n\",\"credentials\":\"[redacted]\","
                             "\"config\":{\"Password\":\"[redacted]\",\"api_key\":\"[redacted]\","
                             "\"list\":[{\"access_token\":\"[redacted]\",\"x\":1}],"
                             "\"host\":\"h\"}}");
    free(txt);
    cJSON_Delete(r);
    cJSON_Delete(doc);
    assert_null(cdp_api_audit_redact(NULL));
}

/* --- the store's operations --- */

struct fixture {
    char dir[64];
    struct cdp_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cdpd-unit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char err[256];
    struct cdp_store_opts o = {.durable = false};
    if (cdp_store_open(&f->s, f->dir, &o, err, sizeof(err)))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cdp_store_close(f->s);
    char path[128];
    const char *files[] = {"cdpd.db", "cdpd.db-wal", "cdpd.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void put_user(struct cdp_store *s, const char *id, const char *email)
{
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.pwhash, sizeof(u.pwhash), "hash-of-%s", id);
    cJSON *body = cJSON_CreateObject();
    cdp_json_put_str(body, "email", email);
    u.doc = cdp_user_new_doc(id, body);
    assert_int_equal(s->ops->user_put(s, &u), 0);
    cJSON_Delete(u.doc);
    cJSON_Delete(body);
}

static void test_store_users(void **state)
{
    struct fixture *f = *state;
    struct cdp_store *s = f->s;
    put_user(s, "u2", "b@example.com");
    put_user(s, "u1", "c@example.com");
    put_user(s, "u3", "a@example.com");
    cJSON *list = NULL;
    long total = 0;
    assert_int_equal(s->ops->user_list(s, 1, 10, &list, &total), 0);
    assert_int_equal(total, 3);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "email"), "b@example.com");
    char *txt = cJSON_PrintUnformatted(list);
    assert_null(strstr(txt, "hash-of"));
    free(txt);
    cJSON_Delete(list);

    /* tokens of one user end, all or all but one */
    assert_int_equal(s->ops->token_put(s, "h1", "u1", 1LL << 40), 0);
    assert_int_equal(s->ops->token_put(s, "h2", "u1", 1LL << 40), 0);
    assert_int_equal(s->ops->token_put(s, "h3", "u2", 1LL << 40), 0);
    char uid[64];
    assert_int_equal(s->ops->tokens_delete_user(s, "u1", "h2"), 0);
    assert_int_equal(s->ops->token_touch(s, "h1", 0, 1, 0, uid, sizeof(uid)), CDP_E_NOT_FOUND);
    assert_int_equal(s->ops->token_touch(s, "h2", 0, 1LL << 40, 1LL << 40, uid, sizeof(uid)), 0);
    assert_int_equal(s->ops->tokens_delete_user(s, "u1", NULL), 0);
    assert_int_equal(s->ops->token_touch(s, "h2", 0, 1, 0, uid, sizeof(uid)), CDP_E_NOT_FOUND);
    assert_int_equal(s->ops->token_touch(s, "h3", 0, 1LL << 40, 1LL << 40, uid, sizeof(uid)), 0);
    assert_string_equal(uid, "u2");

    assert_int_equal(s->ops->user_delete(s, "u1"), 0);
    assert_int_equal(s->ops->user_delete(s, "u1"), CDP_E_NOT_FOUND);
    struct cdp_user_rec u;
    assert_int_equal(s->ops->user_get(s, "c@example.com", &u), CDP_E_NOT_FOUND);
}

static void put_audit(struct cdp_store *s, const char *time, const char *uid, const char *email,
                      const char *kind, const char *id)
{
    cJSON *rec = cJSON_CreateObject();
    cdp_json_put_str(rec, "id", id);
    cdp_json_put_str(rec, "time", time);
    cJSON *u = cJSON_AddObjectToObject(rec, "user");
    cdp_json_put_str(u, "id", uid);
    cdp_json_put_str(u, "email", email);
    cJSON *e = cJSON_AddObjectToObject(rec, "entity");
    cdp_json_put_str(e, "kind", kind);
    cdp_json_put_str(e, "id", id);
    assert_int_equal(s->ops->audit_put(s, rec), 0);
    cJSON_Delete(rec);
}

static void audit_ids(struct cdp_store *s, const struct cdp_audit_filter *f, int start, int limit,
                      const char *want, long want_total)
{
    cJSON *list = NULL;
    long total = -1;
    assert_int_equal(s->ops->audit_list(s, f, start, limit, &list, &total), 0);
    char got[128] = "";
    const cJSON *r;
    cJSON_ArrayForEach(r, list)
    {
        size_t n = strlen(got);
        snprintf(got + n, sizeof(got) - n, "%s%s", n ? "," : "", cdp_json_str(r, "id"));
    }
    assert_string_equal(got, want);
    assert_int_equal(total, want_total);
    cJSON_Delete(list);
}

static void test_store_audit(void **state)
{
    struct fixture *f = *state;
    struct cdp_store *s = f->s;
    put_audit(s, "2024-01-01T00:00:00.000000+00:00", "u1", "a@example.com", "segment", "r1");
    put_audit(s, "2024-01-02T00:00:00.000000+00:00", "u2", "b@example.com", "user", "r2");
    put_audit(s, "2024-01-03T00:00:00.000000+00:00", "u1", "a@example.com", "user", "r3");
    audit_ids(s, NULL, 0, 10, "r3,r2,r1", 3);
    audit_ids(s, NULL, 1, 1, "r2", 3);
    struct cdp_audit_filter by_user = {.user = "u1"};
    audit_ids(s, &by_user, 0, 10, "r3,r1", 2);
    struct cdp_audit_filter by_email = {.user = "B@example.com"};
    audit_ids(s, &by_email, 0, 10, "r2", 1);
    struct cdp_audit_filter by_kind = {.kind = "user"};
    audit_ids(s, &by_kind, 0, 10, "r3,r2", 2);
    struct cdp_audit_filter since = {.since_us = 1704153600000000LL}; /* 2024-01-02 */
    audit_ids(s, &since, 0, 10, "r3,r2", 2);
    struct cdp_audit_filter all = {.user = "u1", .kind = "user", .since_us = 1};
    audit_ids(s, &all, 0, 10, "r3", 1);
    cJSON *bad = cJSON_Parse("{\"id\":\"x\",\"time\":\"yesterday\"}");
    assert_int_equal(s->ops->audit_put(s, bad), CDP_E_INVALID);
    cJSON_Delete(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_new_doc_and_apply),
        cmocka_unit_test(test_refusal),
        cmocka_unit_test(test_roles_mask),
        cmocka_unit_test(test_redact),
        cmocka_unit_test_setup_teardown(test_store_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_audit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
