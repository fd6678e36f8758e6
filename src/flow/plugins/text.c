/* Text and time plugins: String properties, String splitter, Join string list, Regex match,
 * Regex replace, Contains string, Starts with, Ends with, Today, Time difference and cdpd's Date
 * format (tracardi-flows.md §7 "Strings and validation", "Time"). Each is one descriptor with
 * Tracardi's module, class, ports and config field names; setup validates the config once and
 * compiles it (regular expressions, date formats) into a small state that run reads.
 *
 * Config values that may be references (`event@properties.text`) or literals resolve as Tracardi
 * reads them (cdp_flow_value). Regular expressions are PCRE2 (Python's `re` syntax is nearly a
 * subset) compiled in UTF mode once, and matched under match and depth limits so a hostile
 * pattern cannot hang a worker. Case mapping and character classes are ASCII; other characters
 * are kept as they are. Times are UTC: time zones are not applied. "Now" is the request's time
 * (ctx->now_us). */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "flow/flow.h"
#include "flow/plugins/util.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Backtracking and recursion bounds for every match (see src/model/useragent.c). */
#define RE_MATCH_LIMIT 100000
#define RE_DEPTH_LIMIT 10000
/* Largest text a Regex replace may produce. */
#define RE_MAX_OUTPUT (16u << 20)

/* --- config helpers --- */

/* A string field that must be present but may be empty. */
static int get_any_text(const cJSON *init, const char *key, const char *def, const char **out,
                        char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if ((!v || cJSON_IsNull(v)) && def) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsString(v)) {
        snprintf(err, errlen, !v || cJSON_IsNull(v) ? "%s: is required" : "%s: must be a string",
                 key);
        return CDP_E_INVALID;
    }
    *out = v->valuestring;
    return 0;
}

/* --- run helpers --- */

static int emit_result(struct cdp_flow_call *c, const char *port, const char *key, cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !value) {
        cJSON_Delete(o);
        cJSON_Delete(value);
        return CDP_E_NOMEM;
    }
    cJSON_AddItemToObject(o, key, value);
    return cdp_flow_emit(c, port, o);
}

/* The string a config value stands for: a reference resolves, a literal is itself. Fails the
 * node (returns its code) when the reference is missing or the value is not a string; *out is
 * then NULL. Free *out with cJSON_Delete. */
static int string_value(struct cdp_flow_call *c, const char *key, cJSON **out)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->init, key);
    *out = NULL;
    cJSON *v = cdp_flow_value(c, spec);
    if (!v)
        return cdp_flow_fail(c, "%s: %s is missing", key,
                             cJSON_IsString(spec) ? spec->valuestring : "value");
    if (!cJSON_IsString(v)) {
        const char *type = cJSON_IsNumber(v)   ? "a number"
                           : cJSON_IsBool(v)   ? "a boolean"
                           : cJSON_IsArray(v)  ? "a list"
                           : cJSON_IsObject(v) ? "an object"
                                               : "null";
        cJSON_Delete(v);
        return cdp_flow_fail(c, "%s: expected a string, got %s", key, type);
    }
    *out = v;
    return 0;
}

/* --- String properties --- */

static int str_props_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *s;
    (void)state;
    return cdp_cfg_text(init, "string", false, &s, err, errlen);
}

static bool all_of(const char *s, int (*pred)(int))
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!pred((unsigned char)*s))
            return false;
    return true;
}

static int is_digit_c(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_ascii_c(int ch)
{
    return ch < 0x80;
}

static int is_space_c(int ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= 0x1c && ch <= 0x1f);
}

static int is_alpha_c(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_alnum_c(int ch)
{
    return is_alpha_c(ch) || is_digit_c(ch);
}

static bool is_identifier(const char *s)
{
    if (!(is_alpha_c((unsigned char)*s) || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!(is_alnum_c((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

static bool is_printable(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* Python's islower/isupper: some cased character and none of the other case. */
static bool is_case(const char *s, bool lower)
{
    bool cased = false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (lower ? (ch >= 'A' && ch <= 'Z') : (ch >= 'a' && ch <= 'z'))
            return false;
        if (is_alpha_c(ch))
            cased = true;
    }
    return cased;
}

/* Python's istitle: upper case only after uncased characters, lower case only after cased. */
static bool is_title(const char *s)
{
    bool prev_cased = false, cased = false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 'A' && ch <= 'Z') {
            if (prev_cased)
                return false;
            prev_cased = cased = true;
        } else if (ch >= 'a' && ch <= 'z') {
            if (!prev_cased)
                return false;
            prev_cased = cased = true;
        } else {
            prev_cased = false;
        }
    }
    return cased;
}

enum str_map { MAP_LOWER, MAP_UPPER, MAP_SWAP, MAP_CAPITALIZE, MAP_TITLE };

static cJSON *mapped(const char *s, enum str_map how)
{
    char *d = strdup(s);
    if (!d)
        return NULL;
    bool prev_alpha = false;
    for (size_t i = 0; d[i]; i++) {
        int ch = (unsigned char)d[i];
        int lo = tolower(ch), up = toupper(ch);
        if (ch >= 0x80) {
            prev_alpha = false;
            continue;
        }
        switch (how) {
        case MAP_LOWER:
            ch = lo;
            break;
        case MAP_UPPER:
            ch = up;
            break;
        case MAP_SWAP:
            ch = ch == lo ? up : lo;
            break;
        case MAP_CAPITALIZE:
            ch = i == 0 ? up : lo;
            break;
        case MAP_TITLE:
            ch = prev_alpha ? lo : up;
            break;
        }
        prev_alpha = is_alpha_c(ch);
        d[i] = (char)ch;
    }
    cJSON *v = cJSON_CreateString(d);
    free(d);
    return v;
}

/* s without leading (left) and/or trailing (right) white space. */
static cJSON *stripped(const char *s, bool left, bool right)
{
    size_t b = 0, e = strlen(s);
    if (left)
        while (b < e && is_space_c((unsigned char)s[b]))
            b++;
    if (right)
        while (e > b && is_space_c((unsigned char)s[e - 1]))
            e--;
    char *d = strndup(s + b, e - b);
    cJSON *v = d ? cJSON_CreateString(d) : NULL;
    free(d);
    return v;
}

/* Characters (code points), as Python's len(). */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* Tracardi's convert(): every str method result, under Python's names. */
static int str_props_run(struct cdp_flow_call *c)
{
    cJSON *v;
    int rc = string_value(c, "string", &v);
    if (rc)
        return rc;
    const char *s = v->valuestring;
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(v);
        return CDP_E_NOMEM;
    }
    cdp_json_put(o, "capitalize", mapped(s, MAP_CAPITALIZE));
    cdp_json_put(o, "casefold", mapped(s, MAP_LOWER));
    cdp_json_put_str(o, "encode", s); /* Python's bytes; the UTF-8 text is the same */
    cdp_json_put_bool(o, "isalnum", all_of(s, is_alnum_c));
    cdp_json_put_bool(o, "isalpha", all_of(s, is_alpha_c));
    cdp_json_put_bool(o, "isascii", !*s || all_of(s, is_ascii_c));
    cdp_json_put_bool(o, "isdecimal", all_of(s, is_digit_c));
    cdp_json_put_bool(o, "isdigit", all_of(s, is_digit_c));
    cdp_json_put_bool(o, "isidentifier", is_identifier(s));
    cdp_json_put_bool(o, "islower", is_case(s, true));
    cdp_json_put_bool(o, "isnumeric", all_of(s, is_digit_c));
    cdp_json_put_bool(o, "isprintable", is_printable(s));
    cdp_json_put_bool(o, "isspace", all_of(s, is_space_c));
    cdp_json_put_bool(o, "istitle", is_title(s));
    cdp_json_put_bool(o, "isupper", is_case(s, false));
    cdp_json_put(o, "lower", mapped(s, MAP_LOWER));
    cdp_json_put(o, "lstrip", stripped(s, true, false));
    cdp_json_put(o, "swapcase", mapped(s, MAP_SWAP));
    cdp_json_put(o, "title", mapped(s, MAP_TITLE));
    cdp_json_put(o, "upper", mapped(s, MAP_UPPER));
    /* cdpd additions */
    cdp_json_put(o, "rstrip", stripped(s, false, true));
    cdp_json_put(o, "strip", stripped(s, true, true));
    cdp_json_put_num(o, "length", (double)utf8_length(s));
    cJSON_Delete(v);
    return cdp_flow_emit(c, "payload", o);
}

/* --- String splitter / Join string list --- */

static int split_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *s, *d;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "string", false, &s, err, errlen)) ||
        (rc = cdp_cfg_text(init, "delimiter", true, &d, err, errlen)))
        return rc;
    return 0;
}

/* Splits at every delimiter and strips each item (Tracardi's [i.strip() for i in split]). */
static int split_run(struct cdp_flow_call *c)
{
    const char *delim = cdp_json_str(c->init, "delimiter");
    cJSON *v;
    int rc = string_value(c, "string", &v);
    if (rc)
        return rc;
    cJSON *list = cJSON_CreateArray();
    size_t dn = strlen(delim);
    const char *p = v->valuestring;
    for (;;) {
        const char *e = strstr(p, delim);
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *item = strndup(p, n);
        cJSON *s = item ? stripped(item, true, true) : NULL;
        free(item);
        if (!list || !s) {
            cJSON_Delete(s);
            cJSON_Delete(list);
            cJSON_Delete(v);
            return CDP_E_NOMEM;
        }
        cJSON_AddItemToArray(list, s);
        if (!e)
            break;
        p = e + dn;
    }
    cJSON_Delete(v);
    return emit_result(c, "payload", "result", list);
}

static int join_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *s, *d;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "string", false, &s, err, errlen)) ||
        (rc = get_any_text(init, "delimiter", ",", &d, err, errlen)))
        return rc;
    return 0;
}

static int join_run(struct cdp_flow_call *c)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->init, "string");
    const char *delim = cdp_json_str(c->init, "delimiter");
    if (!delim)
        delim = ",";
    cJSON *v = cdp_flow_value(c, spec);
    if (!v)
        return cdp_flow_fail(c, "string: %s is missing", spec->valuestring);
    if (!cJSON_IsArray(v)) {
        cJSON_Delete(v);
        return cdp_flow_fail(c, "string: %s must be a list of strings", spec->valuestring);
    }
    struct cdp_buf b;
    cdp_buf_init(&b, RE_MAX_OUTPUT);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            cdp_buf_fini(&b);
            cJSON_Delete(v);
            return cdp_flow_fail(c, "string: item %d of %s is not a string", i, spec->valuestring);
        }
        if (i++)
            cdp_buf_puts(&b, delim);
        cdp_buf_puts(&b, it->valuestring);
    }
    cJSON_Delete(v);
    if (b.failed) {
        cdp_buf_fini(&b);
        return cdp_flow_fail(c, "string: the joined text is too large");
    }
    cJSON *s = cJSON_CreateString(b.len ? b.data : "");
    cdp_buf_fini(&b);
    return emit_result(c, "payload", "result", s);
}

/* --- regular expressions --- */

struct regex {
    pcre2_code *re;
    pcre2_match_context *mctx;
};

static void regex_fini(struct regex *r)
{
    pcre2_code_free(r->re);
    pcre2_match_context_free(r->mctx);
}

static int regex_compile(struct regex *r, const char *key, const char *pattern, char *err,
                         size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        snprintf(err, errlen, "%s: invalid regular expression at offset %zu: %s", key, (size_t)off,
                 (const char *)msg);
        return CDP_E_INVALID;
    }
    (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    if (!(r->mctx = pcre2_match_context_create(NULL))) {
        regex_fini(r);
        return CDP_E_NOMEM;
    }
    pcre2_set_match_limit(r->mctx, RE_MATCH_LIMIT);
    pcre2_set_depth_limit(r->mctx, RE_DEPTH_LIMIT);
    return 0;
}

/* A failed match other than "no match" as a message. */
static int regex_fail(struct cdp_flow_call *c, const char *key, int rc)
{
    if (rc == PCRE2_ERROR_NOMEMORY)
        return CDP_E_NOMEM;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        return cdp_flow_fail(c, "%s: the regular expression needs too much backtracking", key);
    PCRE2_UCHAR msg[160];
    if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
        snprintf((char *)msg, sizeof(msg), "error %d", rc);
    return cdp_flow_fail(c, "%s: %s", key, (const char *)msg);
}

/* --- Regex match --- */

struct re_match_state {
    struct regex rx;
    const char *prefix;
};

static void re_match_free(void *state)
{
    struct re_match_state *s = state;
    if (s)
        regex_fini(&s->rx);
    free(s);
}

static int re_match_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *pattern, *text, *prefix;
    int rc;
    if ((rc = cdp_cfg_text(init, "pattern", true, &pattern, err, errlen)) ||
        (rc = cdp_cfg_text(init, "text", true, &text, err, errlen)) ||
        (rc = get_any_text(init, "group_prefix", "Group", &prefix, err, errlen)))
        return rc;
    struct re_match_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    if ((rc = regex_compile(&s->rx, "pattern", pattern, err, errlen))) {
        free(s);
        return rc;
    }
    s->prefix = prefix;
    *state = s;
    return 0;
}

/* The capture groups of the first match, as {"<prefix>-0": ..., ...} (Python's groups(): unset
 * groups are null, the whole match is not included). No match: {} and a warning. */
static int re_match_run(struct cdp_flow_call *c)
{
    const struct re_match_state *s = c->state;
    cJSON *v;
    int rc = string_value(c, "text", &v);
    if (rc)
        return rc;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->rx.re, NULL);
    cJSON *out = cJSON_CreateObject();
    if (!md || !out) {
        pcre2_match_data_free(md);
        cJSON_Delete(out);
        cJSON_Delete(v);
        return CDP_E_NOMEM;
    }
    const char *text = v->valuestring;
    int m = pcre2_match(s->rx.re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, s->rx.mctx);
    if (m == PCRE2_ERROR_NOMATCH) {
        cdp_flow_log(c, "warning", "the pattern matched nothing in the text");
    } else if (m < 0) {
        pcre2_match_data_free(md);
        cJSON_Delete(out);
        cJSON_Delete(v);
        return regex_fail(c, "pattern", m);
    } else {
        uint32_t groups = 0;
        pcre2_pattern_info(s->rx.re, PCRE2_INFO_CAPTURECOUNT, &groups);
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        for (uint32_t g = 1; g <= groups; g++) {
            char key[192];
            snprintf(key, sizeof(key), "%s-%u", s->prefix, g - 1);
            if ((int)g >= m || ov[2 * g] == PCRE2_UNSET) {
                cJSON_AddItemToObject(out, key, cJSON_CreateNull());
            } else {
                char *grp = strndup(text + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                cJSON_AddItemToObject(out, key, grp ? cJSON_CreateString(grp) : cJSON_CreateNull());
                free(grp);
            }
        }
    }
    pcre2_match_data_free(md);
    cJSON_Delete(v);
    return cdp_flow_emit(c, "payload", out);
}

/* --- Regex replace --- */

struct re_replace_state {
    struct regex rx;
};

static void re_replace_free(void *state)
{
    struct re_replace_state *s = state;
    if (s)
        regex_fini(&s->rx);
    free(s);
}

static int re_replace_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *string, *with, *regex;
    int rc;
    if ((rc = cdp_cfg_text(init, "string", true, &string, err, errlen)) ||
        (rc = get_any_text(init, "replace_with", NULL, &with, err, errlen)) ||
        (rc = cdp_cfg_text(init, "find_regex", true, &regex, err, errlen)))
        return rc;
    struct re_replace_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    if ((rc = regex_compile(&s->rx, "find_regex", regex, err, errlen))) {
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* Rewrites a Python re.sub replacement (\1, \g<1>, \g<name>, \n, \\) as a PCRE2 one ($1, ${1},
 * ${name}, $$ for a dollar). 0, or CDP_E_INVALID with a message. */
static int python_replacement(const char *r, struct cdp_buf *b, char *msg, size_t msglen)
{
    for (const char *p = r; *p; p++) {
        if (*p == '$') {
            cdp_buf_puts(b, "$$");
        } else if (*p != '\\') {
            cdp_buf_append(b, p, 1);
        } else if (p[1] >= '0' && p[1] <= '9') {
            size_t n = p[2] >= '0' && p[2] <= '9' ? 2 : 1;
            cdp_buf_printf(b, "${%.*s}", (int)n, p + 1);
            p += n;
        } else if (p[1] == 'g') {
            const char *e = p[2] == '<' ? strchr(p + 3, '>') : NULL;
            if (!e || e == p + 3) {
                snprintf(msg, msglen, "replace_with: bad group reference \\g at %zu",
                         (size_t)(p - r));
                return CDP_E_INVALID;
            }
            cdp_buf_printf(b, "${%.*s}", (int)(e - p - 3), p + 3);
            p = e;
        } else if (p[1] == 'n' || p[1] == 't' || p[1] == 'r' || p[1] == '\\') {
            char ch = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : p[1] == 'r' ? '\r' : '\\';
            cdp_buf_append(b, &ch, 1);
            p++;
        } else {
            cdp_buf_append(b, p, 1); /* an unknown escape stays as written */
        }
    }
    return 0;
}

static int re_replace_run(struct cdp_flow_call *c)
{
    const struct re_replace_state *s = c->state;
    cJSON *subject, *with;
    int rc = string_value(c, "string", &subject);
    if (rc)
        return rc;
    if ((rc = string_value(c, "replace_with", &with))) {
        cJSON_Delete(subject);
        return rc;
    }
    struct cdp_buf repl;
    cdp_buf_init(&repl, RE_MAX_OUTPUT);
    char msg[256];
    rc = python_replacement(with->valuestring, &repl, msg, sizeof(msg));
    cJSON_Delete(with);
    if (rc || repl.failed) {
        cdp_buf_fini(&repl);
        cJSON_Delete(subject);
        return repl.failed && !rc ? CDP_E_NOMEM : cdp_flow_fail(c, "%s", msg);
    }
    const char *text = subject->valuestring;
    size_t tlen = strlen(text);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->rx.re, NULL);
    PCRE2_SIZE cap = tlen * 2 + 64, outlen = 0;
    char *out = NULL;
    int n = PCRE2_ERROR_NOMEMORY;
    for (int attempt = 0; md && attempt < 2; attempt++) {
        if (cap > RE_MAX_OUTPUT) {
            n = PCRE2_ERROR_NOMEMORY;
            break;
        }
        free(out);
        if (!(out = malloc(cap)))
            break;
        outlen = cap;
        n = pcre2_substitute(s->rx.re, (PCRE2_SPTR)text, tlen, 0,
                             PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                                 PCRE2_SUBSTITUTE_UNSET_EMPTY,
                             md, s->rx.mctx, (PCRE2_SPTR)(repl.len ? repl.data : ""), repl.len,
                             (PCRE2_UCHAR *)out, &outlen);
        if (n != PCRE2_ERROR_NOMEMORY)
            break;
        cap = outlen + 1; /* the length needed */
    }
    cdp_buf_fini(&repl);
    pcre2_match_data_free(md);
    if (n < 0) {
        free(out);
        cJSON_Delete(subject);
        if (n == PCRE2_ERROR_NOMEMORY && cap > RE_MAX_OUTPUT)
            return cdp_flow_fail(c, "find_regex: the replaced text is too large");
        return n == PCRE2_ERROR_NOMEMORY ? CDP_E_NOMEM : regex_fail(c, "replace_with", n);
    }
    if (n == 0) {
        free(out);
        return emit_result(c, "not_found", "value", subject);
    }
    cJSON_Delete(subject);
    cJSON *value = cJSON_CreateString(out);
    free(out);
    return emit_result(c, "replaced", "value", value);
}

/* --- Contains string / Starts with / Ends with --- */

static int contains_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *f, *sub;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "field", true, &f, err, errlen)) ||
        (rc = cdp_cfg_text(init, "substring", true, &sub, err, errlen)))
        return rc;
    return 0;
}

static int contains_run(struct cdp_flow_call *c)
{
    cJSON *v;
    int rc = string_value(c, "field", &v);
    if (rc)
        return rc;
    bool yes = strstr(v->valuestring, cdp_json_str(c->init, "substring")) != NULL;
    cJSON_Delete(v);
    return cdp_emit_payload(c, yes ? "true" : "false");
}

static int affix_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *f, *prefix;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "field", true, &f, err, errlen)) ||
        (rc = cdp_cfg_text(init, "prefix", true, &prefix, err, errlen)))
        return rc;
    return 0;
}

/* A missing field goes to false with a warning (Tracardi's Starts with); a value that is not a
 * string fails the node. */
static int affix_run(struct cdp_flow_call *c, bool at_end)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->init, "field");
    if (cdp_path_is_ref(spec->valuestring) && !cdp_flow_get(c, spec->valuestring)) {
        cdp_flow_log(c, "warning", "field %s does not exist", spec->valuestring);
        return cdp_emit_payload(c, "false");
    }
    cJSON *v;
    int rc = string_value(c, "field", &v);
    if (rc)
        return rc;
    const char *s = v->valuestring, *affix = cdp_json_str(c->init, "prefix");
    size_t n = strlen(s), an = strlen(affix);
    bool yes = an <= n && memcmp(at_end ? s + n - an : s, affix, an) == 0;
    cJSON_Delete(v);
    return cdp_emit_payload(c, yes ? "true" : "false");
}

static int starts_run(struct cdp_flow_call *c)
{
    return affix_run(c, false);
}

static int ends_run(struct cdp_flow_call *c)
{
    return affix_run(c, true);
}

/* --- time helpers --- */

static const char *const week_days[] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};

static void utc_tm(int64_t t_us, struct tm *tm, long *usec)
{
    int64_t sec = t_us / 1000000, us = t_us % 1000000;
    if (us < 0) {
        us += 1000000;
        sec--;
    }
    time_t t = (time_t)sec;
    memset(tm, 0, sizeof(*tm));
    gmtime_r(&t, tm);
    *usec = (long)us;
}

/* Python's isoformat(): microseconds only when not zero; offset "+00:00" when aware. */
static void python_iso(const struct tm *tm, long usec, bool aware, char *out, size_t n)
{
    char frac[16] = "";
    if (usec)
        snprintf(frac, sizeof(frac), ".%06ld", usec);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm->tm_year + 1900, tm->tm_mon + 1,
             tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, frac, aware ? "+00:00" : "");
}

/* A date as Time difference and Date format read it: "now", an ISO 8601 date or date-time, or
 * epoch seconds. 0, or -1 when it is none of those. */
static int parse_date(const cJSON *v, int64_t now_us, int64_t *t_us)
{
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 1e13) {
        *t_us = (int64_t)llround(v->valuedouble * 1e6);
        return 0;
    }
    if (!cJSON_IsString(v))
        return -1;
    if (strcasecmp(v->valuestring, "now") == 0) {
        *t_us = now_us;
        return 0;
    }
    return cdp_clock_parse_iso(v->valuestring, t_us);
}

/* Reads the date the config field key stands for; fails the node when it cannot. */
static int date_value(struct cdp_flow_call *c, const char *key, int64_t *t_us)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->init, key);
    cJSON *v = cdp_flow_value(c, spec);
    if (!v)
        return cdp_flow_fail(c, "%s: %s is missing", key, spec->valuestring);
    int rc = parse_date(v, c->ctx->now_us, t_us);
    if (rc) {
        char *text = cdp_json_print(v);
        cJSON_Delete(v);
        rc = cdp_flow_fail(c, "%s: could not parse date `%.100s`", key, text ? text : "?");
        free(text);
        return rc;
    }
    cJSON_Delete(v);
    return 0;
}

/* --- Today --- */

static int today_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *tz;
    (void)state;
    int rc = cdp_cfg_text(init, "timezone", false, &tz, err, errlen);
    if (rc)
        return rc;
    if (isspace((unsigned char)tz[0]) || isspace((unsigned char)tz[strlen(tz) - 1])) {
        snprintf(err, errlen, "timezone: must not start or end with a space");
        return CDP_E_INVALID;
    }
    return 0;
}

static cJSON *today_parts(int64_t now_us, bool aware)
{
    struct tm tm;
    long usec;
    utc_tm(now_us, &tm, &usec);
    int wd = (tm.tm_wday + 6) % 7;
    char iso[48], time[32];
    python_iso(&tm, usec, aware, iso, sizeof(iso));
    snprintf(time, sizeof(time), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (usec)
        snprintf(time + 8, sizeof(time) - 8, ".%06ld", usec);
    cJSON *o = cJSON_CreateObject();
    cdp_json_put_str(o, "dayOfWeek", week_days[wd]);
    cdp_json_put_num(o, "day", tm.tm_mday);
    cdp_json_put_num(o, "month", tm.tm_mon + 1);
    cdp_json_put_num(o, "year", tm.tm_year + 1900);
    cdp_json_put_num(o, "week", wd + 1); /* isoweekday(), as Tracardi */
    cdp_json_put_num(o, "hour", tm.tm_hour);
    cdp_json_put_num(o, "minute", tm.tm_min);
    cdp_json_put_num(o, "second", tm.tm_sec);
    cdp_json_put_num(o, "ms", (double)usec);
    cdp_json_put_str(o, "time", time);
    cdp_json_put_num(o, "fold", 0);
    cdp_json_put_str(o, "iso", iso);
    return o;
}

/* The time zone at the configured reference is not applied: "local" is UTC too. */
static int today_run(struct cdp_flow_call *c)
{
    int64_t now = c->ctx->now_us;
    struct tm tm;
    long usec;
    utc_tm(now, &tm, &usec);
    char iso[48];
    python_iso(&tm, usec, false, iso, sizeof(iso));
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return CDP_E_NOMEM;
    cdp_json_put_str(o, "utcTime", iso);
    cdp_json_put_num(o, "timestamp", (double)now / 1e6);
    cdp_json_put(o, "server", today_parts(now, false));
    cdp_json_put(o, "local", today_parts(now, true));
    return cdp_flow_emit(c, "payload", o);
}

/* --- Time difference --- */

static int time_diff_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *ref, *now;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "reference_date", false, &ref, err, errlen)) ||
        (rc = cdp_cfg_text(init, "now", false, &now, err, errlen)))
        return rc;
    int64_t t;
    const cJSON *lit = cJSON_GetObjectItemCaseSensitive(init, "reference_date");
    if (!cdp_path_is_ref(ref) && ref[0] != '`' && parse_date(lit, 0, &t)) {
        snprintf(err, errlen,
                 "reference_date: '%s' is neither a reference, now nor an ISO 8601 date", ref);
        return CDP_E_INVALID;
    }
    lit = cJSON_GetObjectItemCaseSensitive(init, "now");
    if (!cdp_path_is_ref(now) && now[0] != '`' && parse_date(lit, 0, &t)) {
        snprintf(err, errlen, "now: '%s' is neither a reference, now nor an ISO 8601 date", now);
        return CDP_E_INVALID;
    }
    return 0;
}

/* now - reference_date, in several units (fractions kept, as Tracardi's total_seconds()). */
static int time_diff_run(struct cdp_flow_call *c)
{
    int64_t ref, now;
    int rc;
    if ((rc = date_value(c, "reference_date", &ref)) || (rc = date_value(c, "now", &now)))
        return rc;
    double secs = (double)(now - ref) / 1e6;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return CDP_E_NOMEM;
    cdp_json_put_num(o, "seconds", secs);
    cdp_json_put_num(o, "minutes", secs / 60);
    cdp_json_put_num(o, "hours", secs / 3600);
    cdp_json_put_num(o, "days", secs / 86400);
    cdp_json_put_num(o, "weeks", secs / (86400 * 7));
    return cdp_flow_emit(c, "time_difference", o);
}

/* --- Date format (cdpd) --- */

/* The strftime conversions accepted (locale-independent in the C locale cdpd runs in), plus
 * Python's %f (microseconds). */
static const char date_specs[] = "aAbBdeFHIjmMpSTuwyYzZfGV%";

static int date_fmt_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *date, *fmt;
    int rc;
    (void)state;
    if ((rc = cdp_cfg_text(init, "date", false, &date, err, errlen)) ||
        (rc = cdp_cfg_text(init, "format", true, &fmt, err, errlen)))
        return rc;
    if (strlen(fmt) > 256) {
        snprintf(err, errlen, "format: longer than 256 characters");
        return CDP_E_INVALID;
    }
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        if (!p[1] || !strchr(date_specs, p[1])) {
            snprintf(err, errlen, "format: unsupported conversion '%%%.1s' at %zu", p + 1,
                     (size_t)(p - fmt));
            return CDP_E_INVALID;
        }
        p++;
    }
    return 0;
}

/* One strftime conversion of date_specs (literal formats keep -Wformat-nonliteral happy). */
static size_t strftime_one(char spec, const struct tm *tm, char *out, size_t n)
{
    switch (spec) {
#define SPEC(ch, f)                                                                                \
    case ch:                                                                                       \
        return strftime(out, n, f, tm);
        SPEC('a', "%a")
        SPEC('A', "%A")
        SPEC('b', "%b")
        SPEC('B', "%B")
        SPEC('d', "%d")
        SPEC('e', "%e")
        SPEC('F', "%F")
        SPEC('H', "%H")
        SPEC('I', "%I")
        SPEC('j', "%j")
        SPEC('m', "%m")
        SPEC('M', "%M")
        SPEC('p', "%p")
        SPEC('S', "%S")
        SPEC('T', "%T")
        SPEC('u', "%u")
        SPEC('w', "%w")
        SPEC('Y', "%Y")
        SPEC('G', "%G")
        SPEC('V', "%V")
#undef SPEC
    case '%':
        return strftime(out, n, "%%", tm);
    default:
        return 0;
    }
}

static int date_fmt_run(struct cdp_flow_call *c)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->init, "date");
    const char *fmt = cdp_json_str(c->init, "format");
    cJSON *v = cdp_flow_value(c, spec);
    int64_t t;
    if (!v || parse_date(v, c->ctx->now_us, &t)) {
        char *text = v ? cdp_json_print(v) : NULL;
        cJSON_Delete(v);
        cJSON *e = cJSON_CreateObject();
        char msg[256];
        if (text)
            snprintf(msg, sizeof(msg), "date: could not parse date `%.100s`", text);
        else
            snprintf(msg, sizeof(msg), "date: %.100s is missing", spec->valuestring);
        free(text);
        cdp_flow_log(c, "error", "%s", msg);
        cdp_json_put_str(e, "message", msg);
        return cdp_flow_emit(c, "error", e);
    }
    cJSON_Delete(v);
    struct tm tm;
    long usec;
    utc_tm(t, &tm, &usec);
    struct cdp_buf b;
    cdp_buf_init(&b, 4096);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            cdp_buf_append(&b, p, 1);
            continue;
        }
        p++;
        char part[64];
        if (*p == 'f') {
            cdp_buf_printf(&b, "%06ld", usec);
        } else if (*p == 'y') {
            cdp_buf_printf(&b, "%02d", (tm.tm_year + 1900) % 100);
        } else if (*p == 'z') {
            cdp_buf_puts(&b, "+0000");
        } else if (*p == 'Z') {
            cdp_buf_puts(&b, "UTC");
        } else {
            cdp_buf_append(&b, part, strftime_one(*p, &tm, part, sizeof(part)));
        }
    }
    if (b.failed) {
        cdp_buf_fini(&b);
        return CDP_E_NOMEM;
    }
    cJSON *o = cJSON_CreateObject();
    cdp_json_put_str(o, "result", b.len ? b.data : "");
    cdp_json_put_num(o, "timestamp", (double)t / 1e6);
    cdp_buf_fini(&b);
    return cdp_flow_emit(c, "payload", o);
}

/* --- descriptors --- */

#define V1 "tracardi.process_engine.action.v1."

#define REF_OR_TEXT(title, desc)                                                                   \
    "{\"title\": \"" title "\", \"description\": \"" desc "\", \"type\": \"string\", "             \
    "\"minLength\": 1}"

static const struct cdp_plugin str_props_plugin = {
    .id = "string-properties",
    .module = V1 "strings.string_operations.plugin",
    .class_name = "StringPropertiesActions",
    .name = "String properties",
    .desc = "This plug-in is to make a string transformations like: lowercase remove spaces "
            "split and other",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"string\": \"\"}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"string\": " REF_OR_TEXT(
        "Path to string", "Reference to the string (event@properties.name) or the text "
                          "itself.") "}, \"required\": [\"string\"]}",
    .setup = str_props_setup,
    .run = str_props_run,
};

static const struct cdp_plugin split_plugin = {
    .id = "string-splitter",
    .module = V1 "strings.string_splitter.plugin",
    .class_name = "SplitterAction",
    .name = "String splitter",
    .desc = "It splits string into list of strings by defined delimiter.",
    .group = "String",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"string\": null, \"delimiter\": \".\"}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"string\": " REF_OR_TEXT(
        "String to split",
        "Reference to the string or the string itself.") ", \"delimiter\": {\"title\": "
                                                         "\"Delimiter\", \"description\": "
                                                         "\"The string is split at every "
                                                         "delimiter; items are trimmed.\", "
                                                         "\"type\": \"string\", \"minLength\": "
                                                         "1, \"default\": \".\"}},"
                                                         "\"required\": [\"string\", "
                                                         "\"delimiter\"]}",
    .setup = split_setup,
    .run = split_run,
};

static const struct cdp_plugin join_plugin = {
    .id = "join-string-list",
    .module = V1 "strings.string_join.plugin",
    .class_name = "JoinAction",
    .name = "Join string list",
    .desc = "It joins each element in the list by given delimiter.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"string\": null, \"delimiter\": \",\"}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"string\": " REF_OR_TEXT(
        "List of string",
        "Reference to a list of strings.") ", \"delimiter\": {\"title\": \"Delimiter\", "
                                           "\"description\": \"Put between the items.\", "
                                           "\"type\": \"string\", \"default\": \",\"}},"
                                           "\"required\": [\"string\"]}",
    .setup = join_setup,
    .run = join_run,
};

static const struct cdp_plugin re_match_plugin = {
    .id = "regex-match",
    .module = V1 "strings.regex_match.plugin",
    .class_name = "RegexMatchAction",
    .name = "Regex match",
    .desc = "This plugin use regex matching and returns matched data.",
    .group = "Regex",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"pattern\": \"<pattern>\", \"text\": \"<text or path to text>\", "
            "\"group_prefix\": \"Group\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"pattern\": {\"title\": \"Regex pattern\", \"description\": \"Regular "
    "expression (PCRE2, close to Python's re) searched for in the text.\", \"type\": "
    "\"string\", \"minLength\": 1},"
    "\"text\": " REF_OR_TEXT(
        "Path to text",
        "Reference to the text to match, or the text "
        "itself.") ","
                   "\"group_prefix\": {\"title\": \"Group prefix\", \"description\": \"Groups are "
                   "returned as "
                   "<prefix>-0, <prefix>-1, ...\", \"type\": \"string\", \"default\": \"Group\"}},"
                   "\"required\": [\"pattern\", \"text\"]}",
    .setup = re_match_setup,
    .free = re_match_free,
    .run = re_match_run,
};

static const struct cdp_plugin re_replace_plugin = {
    .id = "regex-replace",
    .module = V1 "strings.regex_replace.plugin",
    .class_name = "RegexReplacer",
    .name = "Regex string replace",
    .desc = "Replaces pieces of string that match provided regex with given value.",
    .group = "Regex",
    .inputs = "payload",
    .outputs = "replaced,not_found",
    .init = "{\"string\": null, \"replace_with\": null, \"find_regex\": null}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"string\": " REF_OR_TEXT(
        "String", "Reference to the text to change, or the text "
                  "itself.") ","
                             "\"replace_with\": {\"title\": "
                             "\"Replace with\", \"description\": "
                             "\"Replacement text or a "
                             "reference to it; \\\\1 and \\\\g<name> "
                             "insert groups.\", \"type\": "
                             "\"string\"},"
                             "\"find_regex\": {\"title\": \"Regex\", "
                             "\"description\": \"Regular expression "
                             "matching the "
                             "fragments to replace.\", \"type\": "
                             "\"string\", \"minLength\": 1}},"
                             "\"required\": [\"string\", "
                             "\"replace_with\", \"find_regex\"]}",
    .setup = re_replace_setup,
    .free = re_replace_free,
    .run = re_replace_run,
};

static const struct cdp_plugin contains_plugin = {
    .id = "contains-string",
    .module = V1 "contains_string_action",
    .class_name = "ContainsStringAction",
    .name = "Contains string",
    .desc = "Checks if field contains defined string.",
    .group = "String",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"field\": null, \"substring\": null}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"field\": " REF_OR_TEXT(
        "Field",
        "String or reference to the string to check.") ","
                                                       "\"substring\": {\"title\": \"Substring\", "
                                                       "\"description\": \"Text the field must "
                                                       "contain.\", \"type\": \"string\", "
                                                       "\"minLength\": 1}},"
                                                       "\"required\": [\"field\", \"substring\"]}",
    .setup = contains_setup,
    .run = contains_run,
};

#define AFFIX_SCHEMA(what)                                                                         \
    CDP_SCHEMA_HEAD "\"properties\": {\"field\": " REF_OR_TEXT(                                    \
        "Field",                                                                                   \
        "String or reference to the string to check.") ","                                         \
                                                       "\"prefix\": {\"title\": \"" what           \
                                                       "\", \"description\": \"Text the field "    \
                                                       "must " what                                \
                                                       " with.\", \"type\": \"string\", "          \
                                                       "\"minLength\": 1}},"                       \
                                                       "\"required\": [\"field\", \"prefix\"]}"

static const struct cdp_plugin starts_plugin = {
    .id = "starts-with",
    .module = V1 "starts_with_action",
    .class_name = "StartsWithAction",
    .name = "Starts with",
    .desc = "Checks if string starts with defined prefix.",
    .group = "String",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"field\": \"\", \"prefix\": \"\"}",
    .schema = AFFIX_SCHEMA("start"),
    .setup = affix_setup,
    .run = starts_run,
};

static const struct cdp_plugin ends_plugin = {
    .id = "ends-with",
    .module = V1 "ends_with_action",
    .class_name = "EndsWithAction",
    .name = "Ends with",
    .desc = "Checks if string ends with defined suffix.",
    .group = "String",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"field\": \"\", \"prefix\": \"\"}",
    .schema = AFFIX_SCHEMA("end"),
    .setup = affix_setup,
    .run = ends_run,
};

static const struct cdp_plugin today_plugin = {
    .id = "today",
    .module = V1 "time.today_action",
    .class_name = "TodayAction",
    .name = "Today",
    .desc = "Gets today object, that consists day of week, date and current time (UTC: time "
            "zones are not applied).",
    .group = "Time",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"timezone\": \"session@context.time.tz\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"timezone\": {\"title\": \"Path to timezone\", \"description\": "
    "\"Reference to the time zone, e.g. session@context.time.tz. Accepted; cdpd reports UTC.\", "
    "\"type\": \"string\", \"minLength\": 1, \"default\": \"session@context.time.tz\"}},"
    "\"required\": [\"timezone\"]}",
    .setup = today_setup,
    .run = today_run,
};

static const struct cdp_plugin time_diff_plugin = {
    .id = "time-difference",
    .module = V1 "time.time_difference.plugin",
    .class_name = "TimeDiffCalculator",
    .name = "Time difference",
    .desc = "Returns time difference between two dates.",
    .group = "Time",
    .inputs = "payload",
    .outputs = "time_difference",
    .init = "{\"reference_date\": null, \"now\": \"now\"}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"reference_date\": " REF_OR_TEXT(
        "Reference date",
        "Reference to a date, an ISO 8601 date, or now.") ","
                                                          "\"now\": {\"title\": \"Second date\", "
                                                          "\"description\": \"now, a reference to "
                                                          "a date or an "
                                                          "ISO 8601 date; the result is this minus "
                                                          "the reference date.\", \"type\": "
                                                          "\"string\", "
                                                          "\"minLength\": 1, \"default\": "
                                                          "\"now\"}},"
                                                          "\"required\": [\"reference_date\", "
                                                          "\"now\"]}",
    .setup = time_diff_setup,
    .run = time_diff_run,
};

static const struct cdp_plugin date_fmt_plugin = {
    .id = "date-format",
    .module = "cdpd.plugin.date-format",
    .class_name = NULL,
    .name = "Format date",
    .desc = "Formats a date (a reference, an ISO 8601 date, epoch seconds or now) with a "
            "strftime format, in UTC.",
    .group = "Time",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"date\": \"now\", \"format\": \"%Y-%m-%d %H:%M:%S\"}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {\"date\": " REF_OR_TEXT(
        "Date", "now, a reference to a date (profile@metadata.time.insert) or an ISO 8601 "
                "date.") ","
                         "\"format\": {\"title\": \"Format\", \"description\": \"strftime "
                         "conversions %Y %m %d %H %M "
                         "%S %a %A %b %B %j %u %w %p %I %y %e %F %T %G %V %z %Z and Python's "
                         "%f.\", \"type\": "
                         "\"string\", \"minLength\": 1, \"default\": \"%Y-%m-%d %H:%M:%S\"}},"
                         "\"required\": [\"date\", \"format\"]}",
    .setup = date_fmt_setup,
    .run = date_fmt_run,
};

const struct cdp_plugin *const cdp_plugins_text[] = {
    &str_props_plugin,  &split_plugin,     &join_plugin,     &re_match_plugin,
    &re_replace_plugin, &contains_plugin,  &starts_plugin,   &ends_plugin,
    &today_plugin,      &time_diff_plugin, &date_fmt_plugin, NULL,
};
