/* Management users: field checks with FastAPI-style problems, Tracardi's document defaults, and
 * whether an account may act. */
#include "model/user.h"
#include "core/json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const cdp_user_roles[CDP_USER_NROLES] = {"admin", "developer", "marketer",
                                                     "maintainer"};

#define FULL_NAME_MAX 200

unsigned cdp_user_roles_mask(const cJSON *roles)
{
    unsigned bits = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, roles)
    {
        for (unsigned i = 0; i < CDP_USER_NROLES && cJSON_IsString(r); i++)
            if (strcmp(r->valuestring, cdp_user_roles[i]) == 0)
                bits |= 1u << i;
    }
    return bits;
}

static bool local_char_ok(unsigned char c)
{
    return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

bool cdp_user_email_ok(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n > 254 || !at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; p < at; p++)
        if (!local_char_ok((unsigned char)*p) ||
            (*p == '.' && (p == s || p[1] == '.' || p + 1 == at)))
            return false;
    /* the domain: dot-separated labels of letters, digits and inner hyphens, at least two */
    int labels = 0;
    for (const char *p = at + 1;;) {
        const char *e = p;
        while (isalnum((unsigned char)*e) || *e == '-')
            e++;
        if (e == p || *p == '-' || e[-1] == '-' || e - p > 63)
            return false;
        labels++;
        if (*e == '\0')
            break;
        if (*e != '.')
            return false;
        p = e + 1;
    }
    return labels >= 2;
}

const char *cdp_user_password_problem(const char *password, const char *email)
{
    if (!password)
        return "password is required";
    size_t n = strlen(password);
    if (n < CDP_USER_PASSWORD_MIN)
        return "password must have at least 8 characters";
    if (n > CDP_USER_PASSWORD_MAX)
        return "password must have at most 255 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
            return "password must not hold control characters";
    size_t same = 1;
    while (same < n && password[same] == password[0])
        same++;
    if (same == n)
        return "password must not be one character repeated";
    if (email && strcasecmp(password, email) == 0)
        return "password must not be the e-mail address";
    return NULL;
}

static void problem(cJSON *list, const char *field, int index, const char *type, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

static void problem(cJSON *list, const char *field, int index, const char *type, const char *fmt,
                    ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *p = cJSON_CreateObject();
    if (!p)
        return;
    cJSON *loc = cJSON_AddArrayToObject(p, "loc");
    cJSON_AddItemToArray(loc, cJSON_CreateString("body"));
    if (field)
        cJSON_AddItemToArray(loc, cJSON_CreateString(field));
    if (index >= 0)
        cJSON_AddItemToArray(loc, cJSON_CreateNumber(index));
    cJSON_AddStringToObject(p, "msg", msg);
    cJSON_AddStringToObject(p, "type", type);
    cJSON_AddItemToArray(list, p);
}

static void check_roles(cJSON *list, const cJSON *roles)
{
    if (!cJSON_IsArray(roles)) {
        problem(list, "roles", -1, "type_error.list", "value is not a list of roles");
        return;
    }
    if (cJSON_GetArraySize(roles) == 0) {
        problem(list, "roles", -1, "value_error.list.min_items",
                "a user needs at least one role (admin, developer, marketer, maintainer)");
        return;
    }
    int i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, roles)
    {
        bool known = false;
        for (unsigned k = 0; k < CDP_USER_NROLES && cJSON_IsString(r); k++)
            known = known || strcmp(r->valuestring, cdp_user_roles[k]) == 0;
        if (!cJSON_IsString(r))
            problem(list, "roles", i, "type_error.str", "str type expected");
        else if (!known)
            problem(list, "roles", i, "value_error.role",
                    "unknown role '%.60s' (admin, developer, marketer, maintainer)",
                    r->valuestring);
        i++;
    }
}

cJSON *cdp_user_check(const cJSON *body, bool create)
{
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return NULL;
    if (!cJSON_IsObject(body)) {
        problem(list, NULL, -1, "type_error.dict", "the body must be a JSON object");
        return list;
    }
    const cJSON *email = cJSON_GetObjectItemCaseSensitive(body, "email");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "full_name");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(body, "roles");
    const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(body, "expiration_timestamp");
    const cJSON *pref = cJSON_GetObjectItemCaseSensitive(body, "preference");

    if (!email && create)
        problem(list, "email", -1, "value_error.missing", "field required");
    else if (email && !cJSON_IsString(email))
        problem(list, "email", -1, "type_error.str", "str type expected");
    else if (email && !cdp_user_email_ok(email->valuestring))
        problem(list, "email", -1, "value_error.email", "value is not a valid e-mail address");

    if (!pw && create)
        problem(list, "password", -1, "value_error.missing", "field required");
    else if (pw && !cJSON_IsString(pw))
        problem(list, "password", -1, "type_error.str", "str type expected");
    else if (pw) {
        const char *why = cdp_user_password_problem(pw->valuestring, cJSON_GetStringValue(email));
        if (why)
            problem(list, "password", -1, "value_error.password", "%s", why);
    }

    if (name && !cJSON_IsNull(name) && !cJSON_IsString(name))
        problem(list, "full_name", -1, "type_error.str", "str type expected");
    else if (cJSON_IsString(name) && strlen(name->valuestring) > FULL_NAME_MAX)
        problem(list, "full_name", -1, "value_error.any_str.max_length",
                "ensure this value has at most %d characters", FULL_NAME_MAX);

    if (!roles && create)
        problem(list, "roles", -1, "value_error.missing", "field required");
    else if (roles)
        check_roles(list, roles);

    if (disabled && !cJSON_IsBool(disabled))
        problem(list, "disabled", -1, "type_error.bool", "value could not be parsed to a boolean");
    if (exp && !cJSON_IsNull(exp) && (!cJSON_IsNumber(exp) || exp->valuedouble < 0))
        problem(list, "expiration_timestamp", -1, "type_error.integer",
                "must be null or seconds since 1970 (UTC)");
    if (pref && !cJSON_IsObject(pref))
        problem(list, "preference", -1, "type_error.dict", "value is not a valid dict");
    return list;
}

static void set_copy(cJSON *doc, const char *key, const cJSON *v)
{
    cdp_json_put(doc, key, cJSON_Duplicate(v, true));
}

void cdp_user_apply(cJSON *doc, const cJSON *body)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "email")) && cJSON_IsString(v)) {
        char lower[256];
        size_t i = 0;
        for (; v->valuestring[i] && i + 1 < sizeof(lower); i++)
            lower[i] = (char)tolower((unsigned char)v->valuestring[i]);
        lower[i] = '\0';
        cdp_json_put_str(doc, "email", lower);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "full_name")))
        cdp_json_put_str(doc, "full_name", cJSON_IsString(v) ? v->valuestring : "");
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "roles"))) {
        /* each role once, in the canonical order */
        unsigned mask = cdp_user_roles_mask(v);
        cJSON *roles = cJSON_CreateArray();
        for (unsigned i = 0; i < CDP_USER_NROLES; i++)
            if (mask & (1u << i))
                cJSON_AddItemToArray(roles, cJSON_CreateString(cdp_user_roles[i]));
        cdp_json_put(doc, "roles", roles);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "disabled")))
        cdp_json_put_bool(doc, "disabled", cJSON_IsTrue(v));
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "expiration_timestamp")))
        set_copy(doc, "expiration_timestamp", v);
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "preference")))
        set_copy(doc, "preference", v);
}

cJSON *cdp_user_new_doc(const char *id, const cJSON *body)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cdp_json_put_str(doc, "id", id);
    cdp_json_put_str(doc, "email", "");
    cdp_json_put_str(doc, "full_name", "");
    cJSON_AddArrayToObject(doc, "roles");
    cdp_json_put_bool(doc, "disabled", false);
    cJSON_AddNullToObject(doc, "expiration_timestamp");
    cJSON_AddObjectToObject(doc, "preference");
    cdp_user_apply(doc, body);
    return doc;
}

const char *cdp_user_refusal(const cJSON *doc, int64_t now)
{
    if (cdp_json_flag(doc, "disabled", false))
        return "user is disabled";
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "expiration_timestamp");
    if (cJSON_IsNumber(exp) && exp->valuedouble > 0 && exp->valuedouble < (double)now)
        return "user account has expired";
    return NULL;
}

bool cdp_user_is_active_admin(const cJSON *doc, int64_t now)
{
    return (cdp_user_roles_mask(cJSON_GetObjectItemCaseSensitive(doc, "roles")) &
            CDP_USER_ROLE_ADMIN) &&
           !cdp_user_refusal(doc, now);
}
