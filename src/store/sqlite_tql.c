/* Conditions of the condition language as SQLite expressions, and what runs on them: batch
 * segmentation, searches, histograms and counts by value.
 *
 * The translation prints a query of store/query.h (the step every backend shares) as one SQL
 * expression over the document in `doc`. A field is read with json_type() (its kind: NULL when
 * missing, 'null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object') and
 * json_extract() (its value), which is what lets the translation mirror tql.c exactly: values
 * only compare between the kinds tql.c compares (a number never equals a string, true is not 1,
 * null is not missing), numbers compare as doubles (x + 0.0, as cJSON holds them), strings
 * byte-wise, a list on the right of == is membership, a list field equal to a list literal
 * compares item by item with cJSON_Compare's tolerance, and a time (now(), datetime("...")
 * folded by cdp_tql_describe) compares with a string through cdp_iso_us(), tql.c's own ISO 8601
 * parser. Where a table keeps a field in a column of its own (an event's id, type and insert
 * time), tests the column answers exactly read the column, so they can use its indexes. What
 * the query marks RESIDUAL, and what SQL cannot mirror exactly (keys outside the whitelist,
 * lowercase() without an ASCII-only lower(), CONTAINS of a list), is refused with
 * CDP_E_UNSUPPORTED and evaluated in C instead.
 *
 * The SQL is NULL-as-false: AND and OR keep that meaning, so only NOT needs care and is always
 * written CASE WHEN x THEN 0 ELSE 1 END. Values are always bound parameters; JSON paths go into
 * the text, but only after cdp_search_key_ok() has checked every key against [A-Za-z0-9_]. */
#include "store/sqlite_tql.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/segment.h"
#include "flow/tql.h"
#include "store/query.h"
#include "store/search_common.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATH_LEN 400
#define ACC_LEN  (PATH_LEN + 64)
/* Past this a condition is better evaluated in C than bound value by value; it also keeps the
 * GROUP_SEGS conditions of one statement under SQLite's 32766 parameters. */
#define MAX_PARAMS 1000

/* DBL_EPSILON as SQLite reads it back exactly: cJSON_Compare's number tolerance. */
#define DBL_EPS_SQL "2.220446049250313e-16"

/* How an operand is read in SQL. */
struct acc {
    char type[ACC_LEN];  /* its JSON kind, NULL when missing */
    char value[ACC_LEN]; /* its value: numbers and strings as SQL values */
    char str[ACC_LEN];   /* its value where compared as a string (lowercase/uppercase applied) */
    char path[PATH_LEN]; /* its JSON path; "" for an item of json_each (alias j) */
};

struct tr {
    struct cdp_sql_cond *c;
    bool ascii_case;
    const struct cdp_col *cols; /* the table's column fields, ncols of them */
    int ncols;
    int rc;
};

/* Refuses the translation (the first failure stands), the reason in the condition's why. */
#define unsupported(t, ...)                                                                        \
    cdp_search_unsupported(&(t)->rc, (t)->c->why, sizeof((t)->c->why), __VA_ARGS__)

static void put(struct tr *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct tr *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->rc = t->rc ? t->rc : CDP_E_INTERNAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        cdp_buf_append(&t->c->sql, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        t->rc = CDP_E_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cdp_buf_append(&t->c->sql, big, (size_t)n);
    free(big);
}

/* Adds a parameter and returns its number (?N). */
static int param(struct tr *t, struct cdp_sql_param p)
{
    struct cdp_sql_cond *c = t->c;
    if (c->nparams >= MAX_PARAMS) {
        free(p.bytes);
        unsupported(t, "more than %d values", MAX_PARAMS);
        return 0;
    }
    if (c->nparams == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        struct cdp_sql_param *more = realloc(c->params, (size_t)cap * sizeof(*more));
        if (!more) {
            free(p.bytes);
            t->rc = CDP_E_NOMEM;
            return 0;
        }
        c->params = more;
        c->cap = cap;
    }
    c->params[c->nparams++] = p;
    return c->base + c->nparams;
}

static int p_bytes(struct tr *t, enum cdp_sql_param_kind kind, const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy) {
        t->rc = CDP_E_NOMEM;
        return 0;
    }
    memcpy(copy, s, n + 1);
    return param(t, (struct cdp_sql_param){.kind = kind, .bytes = copy, .len = n});
}

static int p_text(struct tr *t, const char *s)
{
    return p_bytes(t, CDP_SQL_TEXT, s);
}

static int p_blob(struct tr *t, const char *s)
{
    return p_bytes(t, CDP_SQL_BLOB, s);
}

static int p_real(struct tr *t, double d)
{
    return param(t, (struct cdp_sql_param){.kind = CDP_SQL_REAL, .real = d});
}

static int p_int(struct tr *t, int64_t i)
{
    return param(t, (struct cdp_sql_param){.kind = CDP_SQL_INT, .i = i});
}

/* "$.a.b" for the field of n (a test). */
static bool field_path(struct tr *t, const struct cdp_query_node *n, char *out, size_t outlen)
{
    size_t len = (size_t)snprintf(out, outlen, "$");
    for (int i = 0; i < n->nkeys; i++) {
        if (!cdp_search_key_ok(n->keys[i])) {
            unsupported(t, "key \"%.40s\" is not [A-Za-z0-9_] (or is a number)", n->keys[i]);
            return false;
        }
        len += (size_t)snprintf(out + len, len < outlen ? outlen - len : 0, ".%s", n->keys[i]);
        if (len >= outlen) {
            unsupported(t, "path too long");
            return false;
        }
    }
    return true;
}

static void acc_path(struct acc *a, const char *path, const char *fold)
{
    snprintf(a->path, sizeof(a->path), "%s", path);
    snprintf(a->type, sizeof(a->type), "json_type(doc,'%s')", path);
    snprintf(a->value, sizeof(a->value), "json_extract(doc,'%s')", path);
    if (fold)
        snprintf(a->str, sizeof(a->str), "%s(json_extract(doc,'%s'))", fold, path);
    else
        snprintf(a->str, sizeof(a->str), "%s", a->value);
}

static void acc_item(struct acc *a)
{
    a->path[0] = '\0';
    snprintf(a->type, sizeof(a->type), "j.type");
    snprintf(a->value, sizeof(a->value), "j.atom");
    snprintf(a->str, sizeof(a->str), "j.atom");
}

/* The field of a test, or lowercase/uppercase of it (which change strings only: kinds, lists
 * and their items stay as they are, so only acc.str differs). */
static bool operand_acc(struct tr *t, const struct cdp_query_node *n, struct acc *a)
{
    char path[PATH_LEN];
    if (n->fold != CDP_QUERY_AS_IS && !t->ascii_case) {
        unsupported(t, "this SQLite's lower()/upper() are not ASCII-only");
        return false;
    }
    if (!field_path(t, n, path, sizeof(path)))
        return false;
    acc_path(a, path,
             n->fold == CDP_QUERY_LOWER   ? "lower"
             : n->fold == CDP_QUERY_UPPER ? "upper"
                                          : NULL);
    return true;
}

/* equal(l, c) of tql.c for a scalar or time c. */
static void eq_scalar(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    switch (c->kind) {
    case CDP_QV_NULL:
        put(t, "(%s = 'null')", a->type);
        break;
    case CDP_QV_BOOL:
        put(t, "(%s = '%s')", a->type, c->b ? "true" : "false");
        break;
    case CDP_QV_NUM:
        put(t, "(%s IN ('integer','real') AND (%s + 0.0) = ?%d)", a->type, a->value,
            p_real(t, c->num));
        break;
    case CDP_QV_STR:
        put(t, "(%s = 'text' AND %s = ?%d)", a->type, a->str, p_text(t, c->s));
        break;
    case CDP_QV_TIME:
        put(t, "(%s = 'text' AND cdp_iso_us(%s) = ?%d)", a->type, a->str, p_int(t, c->time_us));
        break;
    default:
        put(t, "0");
    }
}

/* tql.c member(l, list): l equals an item. A list item never equals what is not a list, and
 * l is not one here (a list l is compared whole), so list items are left out. */
static void member(struct tr *t, const struct acc *a, const cJSON *list)
{
    static const char *const kinds[] = {"null", "true", "false"};
    bool seen[3] = {false, false, false}, strs = false, nums = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        strs = strs || cJSON_IsString(it);
        nums = nums || cJSON_IsNumber(it);
        seen[0] = seen[0] || cJSON_IsNull(it);
        seen[1] = seen[1] || cJSON_IsTrue(it);
        seen[2] = seen[2] || cJSON_IsFalse(it);
    }
    put(t, "(0");
    for (int k = 0; k < 3; k++)
        if (seen[k])
            put(t, " OR %s = '%s'", a->type, kinds[k]);
    /* IN lists rather than OR chains: SQLite bounds the depth of an expression tree. */
    for (int pass = 0; pass < 2; pass++) {
        if (!(pass ? nums : strs))
            continue;
        if (pass)
            put(t, " OR (%s IN ('integer','real') AND (%s + 0.0) IN (", a->type, a->value);
        else
            put(t, " OR (%s = 'text' AND %s IN (", a->type, a->str);
        const char *sep = "";
        cJSON_ArrayForEach(it, list)
        {
            if (pass == 0 && cJSON_IsString(it))
                put(t, "%s?%d", sep, p_text(t, it->valuestring));
            else if (pass == 1 && cJSON_IsNumber(it))
                put(t, "%s?%d", sep, p_real(t, it->valuedouble));
            else
                continue;
            sep = ",";
        }
        put(t, "))");
    }
    put(t, ")");
}

/* cJSON_Compare(l, list) for the array at path: same length, items equal in order (numbers
 * within cJSON's tolerance, kinds exactly: true is not 1). */
static void deep(struct tr *t, const char *path, const cJSON *list)
{
    put(t, "(json_array_length(doc,'%s') = %d", path, cJSON_GetArraySize(list));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char p[PATH_LEN];
        if ((size_t)snprintf(p, sizeof(p), "%s[%d]", path, i++) >= sizeof(p)) {
            unsupported(t, "list nested too deep");
            return;
        }
        if (cJSON_IsNull(it) || cJSON_IsBool(it)) {
            put(t, " AND json_type(doc,'%s') = '%s'", p,
                cJSON_IsNull(it)   ? "null"
                : cJSON_IsTrue(it) ? "true"
                                   : "false");
        } else if (cJSON_IsNumber(it)) {
            int n = p_real(t, it->valuedouble);
            put(t,
                " AND (json_type(doc,'%s') IN ('integer','real') AND"
                " abs((json_extract(doc,'%s') + 0.0) - ?%d) <="
                " max(abs(json_extract(doc,'%s') + 0.0), abs(?%d)) * " DBL_EPS_SQL ")",
                p, p, n, p, n);
        } else if (cJSON_IsString(it)) {
            put(t, " AND (json_type(doc,'%s') = 'text' AND json_extract(doc,'%s') = ?%d)", p, p,
                p_text(t, it->valuestring));
        } else if (cJSON_IsArray(it)) {
            put(t, " AND (json_type(doc,'%s') = 'array' AND ", p);
            deep(t, p, it);
            put(t, ")");
        } else {
            unsupported(t, "a list holding an object");
            return;
        }
    }
    put(t, ")");
}

/* equal(l, c), with == of a list literal meaning membership when l is not a list. */
static void eq(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    if (c->kind != CDP_QV_LIST) {
        eq_scalar(t, a, c);
        return;
    }
    put(t, "((%s = 'array' AND ", a->type);
    deep(t, a->path, c->list);
    put(t, ") OR ");
    member(t, a, c->list);
    put(t, ")");
}

/* order(l, c) op 0 of tql.c: numbers with numbers, strings with strings, times with strings
 * that parse as times; anything else is unordered (false). */
static void ord(struct tr *t, const struct acc *a, enum cdp_query_op op,
                const struct cdp_query_value *c)
{
    switch (c->kind) {
    case CDP_QV_NUM:
        put(t, "(%s IN ('integer','real') AND (%s + 0.0) %s ?%d)", a->type, a->value,
            cdp_search_op_sql(op), p_real(t, c->num));
        break;
    case CDP_QV_STR:
        put(t, "(%s = 'text' AND %s %s ?%d)", a->type, a->str, cdp_search_op_sql(op),
            p_text(t, c->s));
        break;
    case CDP_QV_TIME:
        put(t, "(%s = 'text' AND cdp_iso_us(%s) %s ?%d)", a->type, a->str, cdp_search_op_sql(op),
            p_int(t, c->time_us));
        break;
    default:
        put(t, "0");
    }
}

/* CONTAINS: substring of a string, member of a list, key of an object. */
static void contains(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    struct acc item;
    acc_item(&item);
    if (c->kind == CDP_QV_LIST || c->kind == CDP_QV_OTHER) {
        unsupported(t, "CONTAINS a list");
        return;
    }
    put(t, "((%s = 'array' AND EXISTS (SELECT 1 FROM json_each(doc,'%s') AS j WHERE ", a->type,
        a->path);
    eq_scalar(t, &item, c);
    put(t, "))");
    if (c->kind == CDP_QV_STR) {
        int s = p_text(t, c->s);
        /* Bytes, as strstr: instr() of two blobs compares bytes, not characters. */
        put(t, " OR (%s = 'text' AND instr(CAST(%s AS BLOB), ?%d) > 0)", a->type, a->str,
            p_blob(t, c->s));
        put(t,
            " OR (%s = 'object' AND EXISTS (SELECT 1 FROM json_each(doc,'%s') AS j"
            " WHERE j.key = ?%d))",
            a->type, a->path, s);
    }
    put(t, ")");
}

/* STARTS WITH / ENDS WITH: a string's first/last bytes, or a list's first/last item. */
static void starts_ends(struct tr *t, const struct acc *a, const struct cdp_query_value *c,
                        bool ends)
{
    char end[PATH_LEN];
    if ((size_t)snprintf(end, sizeof(end), "%s[%s]", a->path, ends ? "#-1" : "0") >= sizeof(end)) {
        unsupported(t, "path too long");
        return;
    }
    struct acc item;
    acc_path(&item, end, NULL); /* items of a list are never case-folded */
    put(t, "((%s = 'array' AND ", a->type);
    if (c->kind == CDP_QV_LIST) {
        put(t, "%s = 'array' AND ", item.type);
        deep(t, end, c->list);
    } else {
        eq_scalar(t, &item, c);
    }
    put(t, ")");
    if (c->kind == CDP_QV_STR) {
        size_t n = strlen(c->s);
        if (n == 0)
            put(t, " OR %s = 'text'", a->type);
        else
            put(t, " OR (%s = 'text' AND substr(CAST(%s AS BLOB), ?%d, ?%d) = ?%d)", a->type,
                a->str, p_int(t, ends ? -(int64_t)n : 1), p_int(t, (int64_t)n), p_blob(t, c->s));
    }
    put(t, ")");
}

/* The strings of a list, as an SQL list of parameters "(?1,?2)"; "()" when it has none. */
static void string_items(struct tr *t, const cJSON *list)
{
    const char *sep = "";
    const cJSON *it;
    put(t, "(");
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it)) {
            put(t, "%s?%d", sep, p_text(t, it->valuestring));
            sep = ",";
        }
    }
    put(t, ")");
}

static void test(struct tr *t, const struct cdp_query_node *n);

/* A test answered by a column where the column says exactly what the field does; false to read
 * the document instead. */
static bool column_test(struct tr *t, const struct cdp_query_node *n)
{
    const struct cdp_col *col = cdp_search_column(t->cols, t->ncols, n, true);
    const struct cdp_query_value *v = &n->value;
    if (!col)
        return false;
    if (col->kind == CDP_COL_TEXT) { /* a string that is always there */
        if ((n->op == CDP_QUERY_EQ || n->op == CDP_QUERY_NE) && v->kind == CDP_QV_STR) {
            put(t, "(%s %s ?%d)", col->name, n->op == CDP_QUERY_EQ ? "=" : "<>", p_text(t, v->s));
        } else if ((n->op == CDP_QUERY_EQ || n->op == CDP_QUERY_NE) && v->kind == CDP_QV_LIST) {
            /* a string is never a list: membership alone, of the list's strings */
            put(t, "(%s %sIN ", col->name, n->op == CDP_QUERY_EQ ? "" : "NOT ");
            string_items(t, v->list);
            put(t, ")");
        } else if (cdp_search_is_order(n->op) && v->kind == CDP_QV_STR) {
            put(t, "(%s %s ?%d)", col->name, cdp_search_op_sql(n->op), p_text(t, v->s));
        } else {
            return false;
        }
        return true;
    }
    /* CDP_COL_ISO_US: the column is the field's time where it has one; a 0 may be the field
     * without one, so there the document says. */
    if (!(cdp_search_is_order(n->op) || n->op == CDP_QUERY_EQ) || v->kind != CDP_QV_TIME)
        return false;
    put(t, "(%s %s ?%d AND (%s <> 0 OR ", col->name,
        n->op == CDP_QUERY_EQ ? "=" : cdp_search_op_sql(n->op), p_int(t, v->time_us), col->name);
    const struct cdp_col *cols = t->cols;
    t->cols = NULL; /* the document's own test */
    test(t, n);
    t->cols = cols;
    put(t, "))");
    return true;
}

static void test(struct tr *t, const struct cdp_query_node *n)
{
    struct acc a;
    switch (n->op) {
    case CDP_QUERY_FALSE:
        put(t, "0");
        return;
    case CDP_QUERY_TRUE:
        put(t, "1");
        return;
    case CDP_QUERY_RESIDUAL:
        unsupported(t, "%s", n->why);
        return;
    default:
        break;
    }
    if (t->cols && column_test(t, n))
        return;
    if (!operand_acc(t, n, &a))
        return;
    switch (n->op) {
    case CDP_QUERY_IS_NULL:
        put(t, "(coalesce(%s,'null') = 'null')", a.type);
        break;
    case CDP_QUERY_NOT_NULL:
        put(t, "(coalesce(%s,'null') <> 'null')", a.type);
        break;
    case CDP_QUERY_EXISTS:
        put(t, "(%s IS NOT NULL)", a.type);
        break;
    case CDP_QUERY_NOT_EXISTS:
        put(t, "(%s IS NULL)", a.type);
        break;
    case CDP_QUERY_EMPTY:
    case CDP_QUERY_NOT_EMPTY:
        put(t,
            "(CASE WHEN coalesce(%s,'null') = 'null' OR (%s = 'text' AND %s = '') OR"
            " (%s = 'array' AND json_array_length(doc,'%s') = 0) OR"
            " (%s = 'object' AND %s = '{}') THEN %d ELSE %d END)",
            a.type, a.type, a.value, a.type, a.path, a.type, a.value, n->op == CDP_QUERY_EMPTY,
            n->op != CDP_QUERY_EMPTY);
        break;
    case CDP_QUERY_EQ:
        eq(t, &a, &n->value);
        break;
    case CDP_QUERY_NE:
        put(t, "(%s IS NOT NULL AND CASE WHEN ", a.type);
        eq(t, &a, &n->value);
        put(t, " THEN 0 ELSE 1 END)");
        break;
    case CDP_QUERY_GT:
    case CDP_QUERY_GE:
    case CDP_QUERY_LT:
    case CDP_QUERY_LE:
        ord(t, &a, n->op, &n->value);
        break;
    case CDP_QUERY_CONTAINS:
        contains(t, &a, &n->value);
        break;
    case CDP_QUERY_STARTS:
    case CDP_QUERY_ENDS:
        starts_ends(t, &a, &n->value, n->op == CDP_QUERY_ENDS);
        break;
    default:
        unsupported(t, "unknown test");
    }
}

static void node(struct tr *t, const struct cdp_query_node *n)
{
    if (t->rc)
        return;
    if (n->op == CDP_QUERY_AND || n->op == CDP_QUERY_OR) {
        const char *sep = n->op == CDP_QUERY_OR ? " OR " : " AND ";
        put(t, "(");
        for (int i = 0; i < n->nkids; i++) {
            if (i)
                put(t, "%s", sep);
            node(t, n->kids[i]);
        }
        if (n->nkids == 0)
            put(t, "%d", n->op == CDP_QUERY_AND);
        put(t, ")");
    } else if (n->op == CDP_QUERY_NOT) {
        put(t, "(CASE WHEN ");
        node(t, n->kids[0]);
        put(t, " THEN 0 ELSE 1 END)");
    } else {
        test(t, n);
    }
}

/* Prints n, with the columns cols (may be NULL) standing for their fields. */
static int print_node(const struct cdp_query_node *n, const struct cdp_col *cols, int ncols,
                      bool ascii_case, struct cdp_sql_cond *out)
{
    struct tr t = {.c = out, .ascii_case = ascii_case, .cols = cols, .ncols = ncols};
    node(&t, n);
    if (!t.rc && out->sql.failed)
        t.rc = CDP_E_NOMEM;
    return t.rc;
}

static void cond_init(struct cdp_sql_cond *c, int base)
{
    memset(c, 0, sizeof(*c));
    cdp_buf_init(&c->sql, 0);
    c->base = base;
}

int cdp_sql_cond_translate(const cJSON *desc, int base, bool ascii_case, struct cdp_sql_cond *out)
{
    cond_init(out, base);
    struct cdp_query *q = NULL;
    int rc = cdp_query_from_desc(&q, desc, "profile");
    if (!rc)
        rc = print_node(q->root, NULL, 0, ascii_case, out);
    cdp_query_free(q);
    return rc;
}

void cdp_sql_cond_fini(struct cdp_sql_cond *c)
{
    for (int i = 0; i < c->nparams; i++)
        free(c->params[i].bytes);
    free(c->params);
    cdp_buf_fini(&c->sql);
    memset(c, 0, sizeof(*c));
}

int cdp_sql_cond_bind(const struct cdp_sql_cond *c, sqlite3_stmt *st)
{
    for (int i = 0; i < c->nparams; i++) {
        const struct cdp_sql_param *p = &c->params[i];
        int n = c->base + 1 + i, rc = SQLITE_OK;
        switch (p->kind) {
        case CDP_SQL_TEXT:
            rc = sqlite3_bind_text(st, n, p->bytes, (int)p->len, SQLITE_STATIC);
            break;
        case CDP_SQL_BLOB: /* a zero-length blob, not the NULL a NULL pointer would bind */
            rc = p->len ? sqlite3_bind_blob(st, n, p->bytes, (int)p->len, SQLITE_STATIC)
                        : sqlite3_bind_zeroblob(st, n, 0);
            break;
        case CDP_SQL_REAL:
            rc = sqlite3_bind_double(st, n, p->real);
            break;
        case CDP_SQL_INT:
            rc = sqlite3_bind_int64(st, n, p->i);
            break;
        }
        if (rc != SQLITE_OK)
            return CDP_E_STORE;
    }
    return 0;
}

/* cdp_iso_us(text): microseconds since the epoch of an ISO 8601 time, NULL when it is not one;
 * the parser tql.c reads strings compared with times with. */
static void iso_us(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int64_t t;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    if (sqlite3_value_type(argv[0]) == SQLITE_TEXT && s && cdp_clock_parse_iso(s, &t) == 0)
        sqlite3_result_int64(ctx, t);
    else
        sqlite3_result_null(ctx);
}

int cdp_sql_cond_register(sqlite3 *db, bool *ascii_case)
{
    *ascii_case = false;
    if (sqlite3_create_function_v2(db, "cdp_iso_us", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   iso_us, NULL, NULL, NULL) != SQLITE_OK)
        return CDP_E_STORE;
    /* An ICU build folds É and é too; tql.c's lowercase()/uppercase() only fold ASCII. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT lower(char(201)) = char(201) AND upper(char(233)) = char(233)",
                           -1, &st, NULL) != SQLITE_OK)
        return CDP_E_STORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        *ascii_case = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return 0;
}

/* --- batch segmentation (store.h segments_apply) ---
 *
 * A pass reads the profiles a chunk at a time outside any transaction, the translated
 * conditions as columns of one statement and the others evaluated in C on the same rows, and
 * works out each row's new segments with live segmentation's cdp_segment_set_member. The rows
 * that change are written txn_rows per transaction by one UPDATE, each only if its document is
 * still the one judged (fingerprint); the others are judged again under the lock and written. */

#define DEFAULT_CHUNK    10000
#define DEFAULT_TXN_ROWS 250
/* One read statement evaluates this many conditions per row, so each document is parsed once
 * (SQLite keeps the parsed JSON for the calls of one statement); also the width of the masks. */
#define GROUP_SEGS 32

struct seg {
    struct cdp_segment_pass *pass;
    cJSON *desc;
    int col; /* result column of its condition; -1: evaluated in C on the parsed document */
};

/* A profile whose segments change: its new list is lists[at .. at+len). */
struct cand {
    int64_t rowid, fp;
    uint32_t add, del; /* which of the group's segments it joins and leaves */
    size_t at, len;
    bool done;
};

struct cands {
    struct cand *v;
    size_t n, cap;
    struct cdp_buf lists;
};

struct run {
    sqlite3 *db;
    struct cdp_segment_batch *b;
    bool ascii_case;
    char iso[CDP_ISO_LEN];
    sqlite3_stmt *update;
    struct cdp_buf text; /* JSON lists bound to statements */
};

/* ?1 = [[rowid, fingerprint, [new segments]], ...]: each row whose document is still the one
 * judged (same fingerprint) gets its new segments and, in the same rewrite of the document,
 * metadata.time.segmentation = ?2 as cdp_json_set sets it (a metadata or time that is not an
 * object is replaced by one); updated = ?3. */
static const char update_sql[] =
    "UPDATE profile SET doc = CASE WHEN json_type(doc,'$.metadata.time') = 'object'"
    " THEN json_set(doc, '$.segments', json_extract(v.value,'$[2]'),"
    " '$.metadata.time.segmentation', ?2)"
    " WHEN json_type(doc,'$.metadata') = 'object'"
    " THEN json_set(doc, '$.segments', json_extract(v.value,'$[2]'),"
    " '$.metadata.time', json_object('segmentation', ?2))"
    " ELSE json_set(doc, '$.segments', json_extract(v.value,'$[2]'),"
    " '$.metadata', json_object('time', json_object('segmentation', ?2))) END, updated = ?3"
    " FROM json_each(?1) AS v WHERE profile.rowid = json_extract(v.value,'$[0]')"
    " AND cdp_fp(profile.doc) = json_extract(v.value,'$[1]') RETURNING profile.rowid";

/* FNV-1a over 8-byte words of a document, to tell whether it changed since it was read without
 * holding it (a change that keeps the 64-bit hash is not a practical concern). */
static int64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (int64_t)(h ^ (h >> 29));
}

/* cdp_fp(doc): fnv() in SQL. */
static void fingerprint(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *p = sqlite3_value_blob(argv[0]);
    sqlite3_result_int64(ctx, fnv(p, p ? (size_t)sqlite3_value_bytes(argv[0]) : 0));
}

static int db_fail(sqlite3 *db, const char *what)
{
    cdp_error("sqlite: batch segmentation: %s: %s", what, sqlite3_errmsg(db));
    return CDP_E_STORE;
}

static int exec(struct run *r, const char *sql)
{
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(r->db, sql);
}

/* The row judge_row judges. */
struct row {
    struct run *r;
    sqlite3_stmt *st;
    struct seg *segs;
    cJSON *doc; /* the document, parsed when first needed */
};

/* Whether segment i holds for the current row: its column, or, for a condition left to C,
 * cdp_tql_eval on the document (parsed once per row). A cdp_segments_judge verdict. */
static int holds(void *ud, int i, struct cdp_segment_pass **p, bool *out)
{
    struct row *w = ud;
    const struct seg *g = &w->segs[i];
    *p = g->pass;
    if (g->col >= 0) {
        *out = sqlite3_column_int(w->st, g->col) != 0;
        return 0;
    }
    if (!w->doc && !(w->doc = cdp_json_parse((const char *)sqlite3_column_text(w->st, 3),
                                             (size_t)sqlite3_column_bytes(w->st, 3), NULL)))
        return CDP_E_NOMEM;
    struct cdp_refs refs = {.profile = w->doc};
    char err[160];
    return cdp_tql_eval(g->pass->cond, &refs, w->r->b->now_us, out, err, sizeof(err));
}

/* Applies the group's conditions, as the current row of st has them (rowid, segments kind,
 * segments, the document, then the translated conditions' truth values), to the row's segments
 * with live segmentation's own cdp_segment_set_member. When they change, the row joins c (its
 * new list printed into c->lists) with the segments it joins and leaves. */
static int judge_row(struct run *r, sqlite3_stmt *st, struct seg *segs, int n, struct cands *c)
{
    cJSON *stub = cJSON_CreateObject();
    if (!stub)
        return CDP_E_NOMEM;
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    if (kind && strcmp(kind, "array") == 0) {
        cJSON *list = cdp_json_parse((const char *)sqlite3_column_text(st, 2),
                                     (size_t)sqlite3_column_bytes(st, 2), NULL);
        if (!list || !cJSON_AddItemToObject(stub, "segments", list)) {
            cJSON_Delete(list);
            cJSON_Delete(stub);
            return CDP_E_NOMEM;
        }
    }
    struct cand k = {.rowid = sqlite3_column_int64(st, 0)};
    struct row w = {.r = r, .st = st, .segs = segs};
    int rc = cdp_segments_judge(stub, n, r->b->now_us, holds, &w, &k.add, &k.del);
    if (!rc && (k.add | k.del)) {
        /* Only changing rows pay for the fingerprint; the text is SQLite's, not copied. */
        k.fp = fnv(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 1024;
            struct cand *more = realloc(c->v, cap * sizeof(*more));
            if (!more)
                rc = CDP_E_NOMEM;
            else
                c->v = more, c->cap = cap;
        }
        k.at = c->lists.len;
        if (!rc &&
            !(rc = cdp_json_write(&c->lists, cJSON_GetObjectItemCaseSensitive(stub, "segments")))) {
            k.len = c->lists.len - k.at;
            c->v[c->n++] = k;
        }
    }
    cJSON_Delete(stub);
    cJSON_Delete(w.doc);
    return rc < 0 ? rc : 0;
}

static int cand_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct cand *)a)->rowid, y = ((const struct cand *)b)->rowid;
    return (x > y) - (x < y);
}

/* Runs the update for c[0..n) (sorted by rowid); marks and counts the rows it wrote. */
static int update_rows(struct run *r, struct seg *segs, int nsegs, struct cands *cs, struct cand *c,
                       size_t n)
{
    struct cdp_buf *t = &r->text;
    t->len = 0;
    int rc = cdp_buf_puts(t, "[");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cdp_buf_printf(t, "%s[%lld,%lld,", i ? "," : "", (long long)c[i].rowid,
                            (long long)c[i].fp);
        if (!rc)
            rc = cdp_buf_append(t, cs->lists.data + c[i].at, c[i].len);
        if (!rc)
            rc = cdp_buf_puts(t, "]");
    }
    if (rc || (rc = cdp_buf_puts(t, "]")))
        return rc;
    sqlite3_stmt *st = r->update;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, t->data, (int)t->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->iso, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cand key = {.rowid = sqlite3_column_int64(st, 0)};
        struct cand *hit = bsearch(&key, c, n, sizeof(*c), cand_cmp);
        if (!hit || hit->done)
            continue;
        hit->done = true;
        for (int i = 0; i < nsegs; i++)
            cdp_segments_count(segs[i].pass, i, hit->add, hit->del);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : db_fail(r->db, "update");
}

static int list_rowids(struct cdp_buf *b, const struct cand *c, size_t n)
{
    b->len = 0;
    int rc = cdp_buf_puts(b, "[");
    for (size_t i = 0, k = 0; i < n && !rc; i++)
        if (!c[i].done)
            rc = cdp_buf_printf(b, "%s%lld", k++ ? "," : "", (long long)c[i].rowid);
    return rc ? rc : cdp_buf_puts(b, "]");
}

/* Writes c[0..n) in one transaction. A row the pipeline changed since it was read (another
 * fingerprint) is judged again as it is now, under the lock, and written so. */
static int write_batch(struct run *r, sqlite3_stmt *recheck, struct seg *segs, int nsegs,
                       struct cands *cs, struct cand *c, size_t n)
{
    int rc = exec(r, "BEGIN IMMEDIATE");
    if (!rc)
        rc = update_rows(r, segs, nsegs, cs, c, n);
    size_t missed = 0;
    for (size_t i = 0; i < n; i++)
        missed += !c[i].done;
    if (!rc && missed) {
        struct cands again = {0};
        cdp_buf_init(&again.lists, 0);
        if (!(rc = list_rowids(&r->text, c, n))) {
            sqlite3_bind_text(recheck, 1, r->text.data, (int)r->text.len, SQLITE_TRANSIENT);
            int step;
            while (!rc && (step = sqlite3_step(recheck)) == SQLITE_ROW)
                rc = judge_row(r, recheck, segs, nsegs, &again);
            if (!rc && step != SQLITE_DONE)
                rc = db_fail(r->db, "recheck");
            sqlite3_reset(recheck);
        }
        if (!rc && again.n) {
            qsort(again.v, again.n, sizeof(*again.v), cand_cmp);
            rc = update_rows(r, segs, nsegs, &again, again.v, again.n);
        }
        free(again.v);
        cdp_buf_fini(&again.lists);
    }
    if (!rc)
        return exec(r, "COMMIT");
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
               ? 0
               : db_fail(db, "prepare");
}

/* One pass over the profiles for up to GROUP_SEGS segments. A chunk of rows is read and judged
 * with all the translated conditions in one statement (and the others in C on the same rows),
 * outside any transaction, so the pipeline's writes never wait for the reading; the rows that
 * change are then written, txn_rows per transaction, each only if its document is still the
 * one judged. */
static int run_group(struct run *r, struct seg *segs, int n, bool count_rows)
{
    struct cdp_buf head, sql;
    struct cdp_sql_cond *conds = calloc((size_t)n, sizeof(*conds));
    sqlite3_stmt *read = NULL, *recheck = NULL;
    struct cands cs = {0};
    int rc = conds ? 0 : CDP_E_NOMEM;
    cdp_buf_init(&head, 0);
    cdp_buf_init(&sql, 0);
    cdp_buf_init(&cs.lists, 0);
    if (!rc)
        rc = cdp_buf_puts(&head, "SELECT rowid, json_type(doc,'$.segments'),"
                                 " json_extract(doc,'$.segments'), doc");
    for (int i = 0, base = 2, col = 4; i < n && !rc; i++) {
        if (segs[i].col < 0)
            continue;
        segs[i].col = col++;
        rc = cdp_sql_cond_translate(segs[i].desc, base, r->ascii_case, &conds[i]);
        base += conds[i].nparams;
        if (!rc)
            rc = cdp_buf_printf(&head, ", CASE WHEN (%s) THEN 1 ELSE 0 END", conds[i].sql.data);
    }
    if (!rc && !(rc = cdp_buf_printf(
                     &sql, "%s FROM profile WHERE rowid > ?1 ORDER BY rowid LIMIT ?2", head.data)))
        rc = prepare(r->db, sql.data, &read);
    sql.len = 0;
    if (!rc && !(rc = cdp_buf_printf(&sql,
                                     "%s FROM profile WHERE rowid IN"
                                     " (SELECT value FROM json_each(?1))",
                                     head.data)))
        rc = prepare(r->db, sql.data, &recheck);
    for (int i = 0; i < n && !rc; i++)
        if (!(rc = cdp_sql_cond_bind(&conds[i], read)))
            rc = cdp_sql_cond_bind(&conds[i], recheck);
    int64_t after = INT64_MIN;
    double reading = 0, writing = 0, longest = 0, t0 = cdp_clock_mono();
    while (!rc) {
        if (r->b->stop && r->b->stop(r->b->ud)) {
            rc = CDP_E_UNAVAILABLE;
            break;
        }
        sqlite3_bind_int64(read, 1, after);
        sqlite3_bind_int(read, 2, r->b->chunk);
        int rows = 0, step = SQLITE_DONE;
        while (!rc && (step = sqlite3_step(read)) == SQLITE_ROW) {
            after = sqlite3_column_int64(read, 0);
            rows++;
            rc = judge_row(r, read, segs, n, &cs);
        }
        if (!rc && step != SQLITE_DONE)
            rc = db_fail(r->db, "read");
        sqlite3_reset(read); /* ends the read snapshot before writing */
        double t1 = cdp_clock_mono();
        reading += t1 - t0;
        if (count_rows)
            r->b->scanned += rows;
        if (!rc && cs.n && r->b->stop && r->b->stop(r->b->ud))
            rc = CDP_E_UNAVAILABLE;
        size_t step_rows = (size_t)r->b->txn_rows;
        for (size_t off = 0; off < cs.n && !rc; off += step_rows) {
            double w0 = cdp_clock_mono();
            rc = write_batch(r, recheck, segs, n, &cs, cs.v + off,
                             cs.n - off < step_rows ? cs.n - off : step_rows);
            if (cdp_clock_mono() - w0 > longest)
                longest = cdp_clock_mono() - w0;
        }
        cs.n = 0;
        cs.lists.len = 0;
        t0 = cdp_clock_mono();
        writing += t0 - t1;
        if (rows < r->b->chunk)
            break;
    }
    cdp_debug("segments: %d conditions in one pass: %.2f s reading, %.2f s writing (longest"
              " transaction %.1f ms)",
              n, reading, writing, longest * 1000);
    sqlite3_finalize(read);
    sqlite3_finalize(recheck);
    for (int i = 0; conds && i < n; i++)
        cdp_sql_cond_fini(&conds[i]);
    free(conds);
    free(cs.v);
    cdp_buf_fini(&cs.lists);
    cdp_buf_fini(&head);
    cdp_buf_fini(&sql);
    return rc;
}

/* Translates a segment's condition; *ok false (and why, in the log) leaves it to C. */
static int seg_translate(struct run *r, struct seg *g, bool *ok)
{
    *ok = false;
    int rc = cdp_tql_describe(g->pass->cond, r->b->now_us, &g->desc);
    if (rc)
        return rc;
    struct cdp_sql_cond c;
    rc = cdp_sql_cond_translate(g->desc, 0, r->ascii_case, &c);
    if (rc == CDP_E_UNSUPPORTED) {
        cdp_debug("segment %s: evaluated in C: %s", g->pass->name, c.why);
        rc = 0;
    } else if (!rc) {
        /* What SQLite cannot prepare (an expression nested past its limit) is left to C too. */
        struct cdp_buf sql;
        sqlite3_stmt *st = NULL;
        cdp_buf_init(&sql, 0);
        rc = cdp_buf_printf(&sql, "SELECT 1 FROM profile WHERE %s", c.sql.data);
        if (!rc && sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) == SQLITE_OK)
            *ok = true;
        else if (!rc)
            cdp_warn("segment %s: its SQL does not prepare (%s); evaluated in C", g->pass->name,
                     sqlite3_errmsg(r->db));
        sqlite3_finalize(st);
        cdp_buf_fini(&sql);
    }
    cdp_sql_cond_fini(&c);
    return rc;
}

int cdp_sqlite_segments_apply(sqlite3 *db, struct cdp_segment_batch *b)
{
    struct run r = {.db = db, .b = b};
    int rc = cdp_sql_cond_register(db, &r.ascii_case);
    if (!rc && sqlite3_create_function_v2(db, "cdp_fp", 1,
                                          SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                          NULL, fingerprint, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, "cdp_fp");
    if (rc)
        return rc;
    cdp_segments_begin(b, DEFAULT_CHUNK, DEFAULT_TXN_ROWS);
    cdp_clock_iso(b->now_us, r.iso);
    cdp_buf_init(&r.text, 0);
    struct seg *segs = calloc(b->nsegs ? b->nsegs : 1, sizeof(*segs));
    if (!segs)
        return CDP_E_NOMEM;
    /* Conditions it cannot translate are evaluated in C in the same pass, so each profile is
     * read and written once; with none translated it is all the caller's (CDP_E_UNSUPPORTED). */
    int n = (int)b->nsegs, ntr = 0;
    for (int i = 0; i < n && !rc; i++) {
        segs[i].pass = &b->segs[i];
        bool ok = false;
        rc = seg_translate(&r, &segs[i], &ok);
        segs[i].col = ok ? 0 : -1;
        ntr += ok;
    }
    if (!rc && ntr)
        rc = prepare(db, update_sql, &r.update);
    for (int i = 0; ntr && i < n && !rc; i += GROUP_SEGS) {
        int k = n - i < GROUP_SEGS ? n - i : GROUP_SEGS;
        rc = run_group(&r, segs + i, k, i == 0);
        for (int j = i; j < i + k && !rc; j++) {
            segs[j].pass->applied = true;
            segs[j].pass->translated = segs[j].col >= 0;
        }
    }
    for (int i = 0; i < n; i++)
        cJSON_Delete(segs[i].desc);
    free(segs);
    sqlite3_finalize(r.update);
    cdp_buf_fini(&r.text);
    if (!rc && ntr == 0)
        return CDP_E_UNSUPPORTED;
    return rc;
}

/* --- searches, histograms and counts by value (store.h search, histogram, terms) ---
 *
 * A search prints the terms of its query's top-level AND that SQL answers exactly (the time
 * range always among them) as the WHERE of one statement. When every term is printed, SQL
 * answers alone: a page by LIMIT/OFFSET in time order and a count. Otherwise the statement
 * selects the candidates and the whole condition is evaluated on each with cdp_tql_eval, the
 * page and the count made in C; the results are the same, only slower. */

/* The fields each table keeps in columns of their own. An event's source and session id are
 * columns too, but a document may hold another kind of value there than the string the column
 * keeps, so only counts by value read them (terms_cols). */
static const struct cdp_col event_cols[] = {
    {"id", "id", CDP_COL_TEXT},
    {"type", "type", CDP_COL_TEXT},
    {"metadata.time.insert", "inserted", CDP_COL_ISO_US},
};
static const struct cdp_col event_terms_cols[] = {
    {"id", "id", CDP_COL_TEXT},
    {"type", "type", CDP_COL_TEXT},
    {"source.id", "source_id", CDP_COL_TEXT},
    {"session.id", "session_id", CDP_COL_TEXT},
};
static const struct cdp_col id_cols[] = {{"id", "id", CDP_COL_TEXT}};

#define PROFILE_TIME "cdp_iso_us(json_extract(doc,'$.metadata.time.update'))"
#define SESSION_TIME "cdp_iso_us(json_extract(doc,'$.metadata.time.insert'))"

struct table {
    const char *name;
    const struct cdp_col *cols, *terms_cols;
    int ncols, nterms_cols;
    const char *time;         /* the document's time in microseconds (NULL: none), as SQL */
    const char *order;        /* newest first by time */
    const char *stored;       /* newest stored first */
    bool bucket_by_scan;      /* histograms count bucket by bucket (the time is indexed) */
    const char *time_indexed; /* a column indexed with the time (value, time), or NULL */
};

static const struct table tables[] = {
    [CDP_DOC_PROFILE] = {"profile", id_cols, id_cols, 1, 1, PROFILE_TIME,
                         PROFILE_TIME " DESC, cdp_iso_us(json_extract(doc,"
                                      "'$.metadata.time.insert')) DESC, rowid DESC",
                         "rowid DESC", false, NULL},
    [CDP_DOC_SESSION] = {"session", id_cols, id_cols, 1, 1, SESSION_TIME,
                         SESSION_TIME " DESC, rowid DESC", "rowid DESC", false, NULL},
    [CDP_DOC_EVENT] = {"event", event_cols, event_terms_cols, 3, 4, "inserted",
                       "inserted DESC, seq DESC", "inserted DESC, seq DESC", true, "type"},
};

struct plan {
    sqlite3 *db;
    const struct table *tb;
    const struct cdp_search *s;
    struct cdp_query *q;
    struct cdp_sql_cond where; /* the terms SQL answers; "1" when none */
    bool in_c;                 /* the condition is evaluated in C on the rows where selects */
    bool ascii;                /* lower()/upper() are ASCII-only */
    char *sql;                 /* the last statement built (free()) */
};

static int search_fail(sqlite3 *db, const char *what)
{
    cdp_error("sqlite: search: %s: %s", what, sqlite3_errmsg(db));
    return CDP_E_STORE;
}

/* Registers cdp_iso_us once per connection (registering again would expire every prepared
 * statement of it) and says whether lower()/upper() are ASCII-only. */
static int ensure_functions(sqlite3 *db, bool *ascii_case)
{
    sqlite3_stmt *st;
    static const char probe[] =
        "SELECT cdp_iso_us(NULL), lower(char(201)) = char(201) AND upper(char(233)) = char(233)";
    if (sqlite3_prepare_v2(db, probe, -1, &st, NULL) != SQLITE_OK)
        return cdp_sql_cond_register(db, ascii_case);
    *ascii_case = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1) == 1;
    sqlite3_finalize(st);
    return 0;
}

static void plan_fini(struct plan *p)
{
    cdp_query_free(p->q);
    cdp_sql_cond_fini(&p->where);
    free(p->sql);
    memset(p, 0, sizeof(*p));
}

/* Prints a term of the WHERE (ud the plan); a term left to C takes its parameters back. */
static int plan_term(void *ud, const struct cdp_query_node *n)
{
    struct plan *p = ud;
    int nparams = p->where.nparams;
    int rc = print_node(n, p->tb->cols, p->tb->ncols, p->ascii, &p->where);
    if (rc == CDP_E_UNSUPPORTED) {
        for (int k = nparams; k < p->where.nparams; k++)
            free(p->where.params[k].bytes);
        p->where.nparams = nparams;
    }
    return rc;
}

/* Builds p for s. Each term of the query's top-level AND that prints is ANDed into the WHERE,
 * the others are left to C; with range_only (a WHERE SQLite could not prepare) only the time
 * range is. */
static int plan_open(struct plan *p, sqlite3 *db, const struct cdp_search *s, bool range_only)
{
    memset(p, 0, sizeof(*p));
    p->db = db;
    p->s = s;
    p->tb = &tables[s->kind];
    cond_init(&p->where, 0);
    int rc = ensure_functions(db, &p->ascii);
    if (!rc)
        rc = cdp_search_query(s, &p->q);
    if (rc)
        return rc;
    int keep = !range_only ? INT_MAX : s->ranged ? 2 : 0;
    return cdp_search_where(p->q, keep, &p->where.sql, p->where.why, "1", plan_term, p, &p->in_c);
}

/* Prepares the statement fmt (its %s filled in by the caller's arguments) and binds the WHERE's
 * parameters, which come first (?1 ... ?n); the caller's own are ?n+1 on. */
static int plan_prepare(struct plan *p, sqlite3_stmt **st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int plan_prepare(struct plan *p, sqlite3_stmt **st, const char *fmt, ...)
{
    *st = NULL;
    va_list ap;
    va_start(ap, fmt);
    char *sql = NULL;
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(sql = malloc((size_t)n + 1)))
        return CDP_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(sql, (size_t)n + 1, fmt, ap);
    va_end(ap);
    free(p->sql);
    p->sql = sql;
    if (sqlite3_prepare_v2(p->db, sql, n + 1, st, NULL) != SQLITE_OK) {
        cdp_warn("sqlite: search: cannot prepare (%s): %.300s", sqlite3_errmsg(p->db), sql);
        return CDP_E_UNSUPPORTED;
    }
    if (cdp_sql_cond_bind(&p->where, *st)) {
        sqlite3_finalize(*st);
        *st = NULL;
        return search_fail(p->db, "bind");
    }
    return 0;
}

/* What plan_start prepares. */
enum scan {
    SCAN_PAGE, /* the documents in order; SQL alone: one page, LIMIT ?n+1 OFFSET ?n+2 */
    SCAN_ROWS, /* rowid, time and document of every row WHERE selects */
};

/* Opens the plan of s and prepares its statement. A WHERE SQLite cannot prepare (nested deeper
 * than it allows) is left to C, all but the time range. */
static int plan_start(struct plan *p, sqlite3 *db, const struct cdp_search *s, enum scan what,
                      sqlite3_stmt **st)
{
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt)
            plan_fini(p);
        if ((rc = plan_open(p, db, s, attempt == 1)))
            return rc;
        const struct table *tb = p->tb;
        const char *w = p->where.sql.data, *order = s->ranged ? tb->order : tb->stored;
        int n = p->where.nparams;
        if (what == SCAN_ROWS)
            rc = plan_prepare(p, st, "SELECT rowid, %s, doc FROM %s WHERE %s",
                              tb->time ? tb->time : "NULL", tb->name, w);
        else if (p->in_c)
            rc = plan_prepare(p, st, "SELECT doc FROM %s WHERE %s ORDER BY %s", tb->name, w, order);
        else
            rc = plan_prepare(p, st, "SELECT doc FROM %s WHERE %s ORDER BY %s LIMIT ?%d OFFSET ?%d",
                              tb->name, w, order, n + 1, n + 2);
        if (rc != CDP_E_UNSUPPORTED)
            return rc;
    }
    return search_fail(db, "prepare");
}

static cJSON *row_doc(sqlite3_stmt *st, int col)
{
    return cdp_json_parse((const char *)sqlite3_column_text(st, col),
                          (size_t)sqlite3_column_bytes(st, col), NULL);
}

static int search_sql(struct plan *p, sqlite3_stmt *page, cJSON *list, long *total)
{
    const struct cdp_search *s = p->s;
    int n = p->where.nparams, step, rc = 0;
    sqlite3_bind_int(page, n + 1, s->limit);
    sqlite3_bind_int(page, n + 2, s->start);
    while ((step = sqlite3_step(page)) == SQLITE_ROW) {
        cJSON *doc = row_doc(page, 0);
        if (!doc || !cJSON_AddItemToArray(list, doc)) {
            cJSON_Delete(doc);
            return CDP_E_NOMEM;
        }
    }
    if (step != SQLITE_DONE)
        return search_fail(p->db, "page");
    sqlite3_stmt *count = NULL;
    const char *w = p->where.sql.data;
    if (s->max_total > 0)
        rc = plan_prepare(p, &count, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT ?%d)",
                          p->tb->name, w, n + 1);
    else if (strcmp(w, "1") == 0)
        rc = plan_prepare(p, &count, "SELECT count(*) FROM %s", p->tb->name);
    else
        rc = plan_prepare(p, &count, "SELECT count(*) FROM %s WHERE %s", p->tb->name, w);
    if (rc)
        return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "count") : rc;
    if (s->max_total > 0)
        sqlite3_bind_int64(count, n + 1, s->max_total);
    step = sqlite3_step(count);
    *total = step == SQLITE_ROW ? (long)sqlite3_column_int64(count, 0) : 0;
    sqlite3_finalize(count);
    return step == SQLITE_ROW ? 0 : search_fail(p->db, "count");
}

static int search_c(struct plan *p, sqlite3_stmt *st, cJSON *list, long *total)
{
    struct cdp_search_page pg = {.s = p->s, .list = list};
    bool full = false;
    int step, rc = 0;
    while (!full && (step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cdp_search_page_take(&pg, row_doc(st, 0), &full)))
            return rc;
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return search_fail(p->db, "scan");
    *total = cdp_search_page_total(&pg);
    return 0;
}

int cdp_sqlite_search(sqlite3 *db, const struct cdp_search *s, cJSON **out, long *total)
{
    struct plan p;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *total = 0;
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return CDP_E_NOMEM;
    int rc = plan_start(&p, db, s, SCAN_PAGE, &st);
    if (!rc)
        rc = p.in_c ? search_c(&p, st, list, total) : search_sql(&p, st, list, total);
    sqlite3_finalize(st);
    plan_fini(&p);
    if (rc) {
        cJSON_Delete(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* --- values of a field: group_by of histograms, terms --- */

/* The column kept for path among the table's terms columns, or NULL. */
static const char *terms_column(const struct table *tb, const char *path)
{
    for (int i = 0; i < tb->nterms_cols; i++)
        if (strcmp(tb->terms_cols[i].path, path) == 0)
            return tb->terms_cols[i].name;
    return NULL;
}

/* The rows (r: rowid, t: time, v: a value) of the documents WHERE selects, one per text value
 * at path (each distinct text item when it holds a list), as SQL into b. */
static int value_rows(struct plan *p, const char *path, struct cdp_buf *b)
{
    const struct table *tb = p->tb;
    const char *col = terms_column(tb, path);
    const char *tsql = tb->time ? tb->time : "NULL";
    if (col)
        return cdp_buf_printf(b,
                              "SELECT rowid AS r, %s AS t, %s AS v FROM %s WHERE %s AND %s IS NOT"
                              " NULL",
                              tsql, col, tb->name, p->where.sql.data, col);
    return cdp_buf_printf(b,
                          "SELECT DISTINCT x.r AS r, x.t AS t, j.value AS v FROM (SELECT rowid AS"
                          " r, %s AS t, doc FROM %s WHERE %s) AS x, json_each(x.doc, '$.%s') AS j"
                          " WHERE j.type = 'text' AND typeof(j.key) <> 'text'",
                          tsql, tb->name, p->where.sql.data, path);
}

/* One pass in C over the rows WHERE selects (rowid, time, doc): each document the condition
 * holds for is counted in total, in counts[bucket] (h), and its values at path in t. */
static int pass_c(struct plan *p, sqlite3_stmt *st, const struct cdp_histogram *h, long *counts,
                  const char *path, struct cdp_tally *t, long *total)
{
    int step, rc = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *doc = row_doc(st, 2);
        bool yes;
        if (!doc)
            return CDP_E_NOMEM;
        int b;
        rc = cdp_search_holds(p->s, doc, &yes);
        if (!rc && yes &&
            cdp_histogram_bucket(h, sqlite3_column_type(st, 1) != SQLITE_NULL,
                                 sqlite3_column_int64(st, 1), &b))
            rc = cdp_histogram_count(total, counts, b, t, t ? cdp_search_at(doc, path) : NULL);
        cJSON_Delete(doc);
    }
    if (!rc && step != SQLITE_DONE)
        rc = search_fail(p->db, "scan");
    return rc;
}

/* Histogram counts in SQL, no group_by: bucket by bucket over the time index (by_scan: the
 * plan has no range of its own, each bucket's part of it is the statement's only one, so every
 * count reads just its part of the index), or one GROUP BY. */
static int histogram_sql(struct plan *p, const struct cdp_search *s, const struct cdp_histogram *h,
                         bool by_scan, long *counts, long *total)
{
    const struct table *tb = p->tb;
    int n = p->where.nparams, rc, step;
    sqlite3_stmt *st;
    if (by_scan) {
        rc = plan_prepare(p, &st, "SELECT count(*) FROM %s WHERE %s AND %s >= ?%d AND %s <= ?%d",
                          tb->name, p->where.sql.data, tb->time, n + 1, tb->time, n + 2);
        for (int i = 0; !rc && i < h->nbuckets; i++) {
            int64_t lo, hi;
            if (!cdp_histogram_span(h, i, s->from_us, s->to_us, &lo, &hi))
                continue;
            /* lo > 0: a row without a time (0) is never in it, so the column is exact */
            sqlite3_bind_int64(st, n + 1, lo);
            sqlite3_bind_int64(st, n + 2, hi);
            if ((step = sqlite3_step(st)) != SQLITE_ROW)
                rc = search_fail(p->db, "histogram");
            else
                *total += counts[i] = (long)sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
        }
    } else {
        rc = plan_prepare(p, &st,
                          "SELECT (t - ?%d) / ?%d AS b, count(*) FROM (SELECT %s AS t FROM %s"
                          " WHERE %s) WHERE t IS NOT NULL GROUP BY b",
                          n + 1, n + 2, tb->time, tb->name, p->where.sql.data);
        if (!rc) {
            sqlite3_bind_int64(st, n + 1, h->origin_us);
            sqlite3_bind_int64(st, n + 2, h->width_us);
        }
        while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
            cdp_histogram_add(h, sqlite3_column_int64(st, 0), (long)sqlite3_column_int64(st, 1),
                              counts, total);
        if (!rc && step != SQLITE_DONE)
            rc = search_fail(p->db, "histogram");
    }
    sqlite3_finalize(st);
    return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "histogram") : rc;
}

/* The statement of top_values_sql for a column indexed with the time: the distinct values found
 * by skipping through the index (min, then min above it), each counted in its part of the index,
 * so no row is read and nothing sorted but the few values. bounded: the time within ?n+2 .. ?n+3
 * as well (a plan without a range). */
static int indexed_top_sql(struct plan *p, const char *col, bool bounded, sqlite3_stmt **st)
{
    const struct table *tb = p->tb;
    int n = p->where.nparams;
    char range[128] = "";
    if (bounded)
        snprintf(range, sizeof(range), " AND %s >= ?%d AND %s <= ?%d", tb->time, n + 2, tb->time,
                 n + 3);
    return plan_prepare(p, st,
                        "WITH RECURSIVE v(x) AS (SELECT min(%s) FROM %s UNION ALL SELECT"
                        " (SELECT min(%s) FROM %s WHERE %s > v.x) FROM v WHERE v.x IS NOT NULL)"
                        " SELECT x, c FROM (SELECT x, (SELECT count(*) FROM %s WHERE %s AND %s ="
                        " v.x%s) AS c FROM v WHERE x IS NOT NULL) WHERE c > 0 ORDER BY c DESC, x"
                        " LIMIT ?%d",
                        col, tb->name, col, tb->name, col, tb->name, p->where.sql.data, col, range,
                        n + 1);
}

/* The values with most documents at path ([{name, value}], most first), in SQL. bounds: NULL,
 * or a time range [lo, hi] to add to a plan without one (only for a column indexed with the
 * time). */
static int top_values_sql(struct plan *p, const char *path, int limit, const int64_t *bounds,
                          cJSON **out)
{
    struct cdp_buf rows;
    cdp_buf_init(&rows, 0);
    sqlite3_stmt *st = NULL;
    const char *col = terms_column(p->tb, path);
    int rc = 0, step;
    /* all of them: one pass over the index in order is cheaper than counting value by value */
    bool all = !bounds && strcmp(p->where.sql.data, "1") == 0;
    if (col && p->tb->time_indexed && strcmp(col, p->tb->time_indexed) == 0 && !all)
        rc = indexed_top_sql(p, col, bounds != NULL, &st);
    else if (!(rc = value_rows(p, path, &rows)))
        rc = plan_prepare(p, &st,
                          "SELECT v, count(*) AS n FROM (%s) GROUP BY v ORDER BY n DESC, v"
                          " LIMIT ?%d",
                          rows.data, p->where.nparams + 1);
    cdp_buf_fini(&rows);
    if (rc)
        return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "terms") : rc;
    sqlite3_bind_int(st, p->where.nparams + 1, limit);
    if (bounds) {
        sqlite3_bind_int64(st, p->where.nparams + 2, bounds[0]);
        sqlite3_bind_int64(st, p->where.nparams + 3, bounds[1]);
    }
    cJSON *list = cJSON_CreateArray();
    while (list && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cdp_json_put_str(e, "name", (const char *)sqlite3_column_text(st, 0));
        cdp_json_put_num(e, "value", (double)sqlite3_column_int64(st, 1));
        if (!cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            break;
        }
    }
    sqlite3_finalize(st);
    if (!list || step != SQLITE_DONE) {
        cJSON_Delete(list);
        return list ? search_fail(p->db, "terms") : CDP_E_NOMEM;
    }
    *out = list;
    return 0;
}

/* New groups [{name, counts: [0...]}] for the values of top into groups, and their names as a
 * JSON list (free()); NULL on OOM. */
static char *new_groups(const cJSON *top, int nbuckets, cJSON *groups)
{
    cJSON *names = cJSON_CreateArray();
    const cJSON *e;
    long *zero = calloc((size_t)nbuckets, sizeof(long));
    cJSON_ArrayForEach(e, top)
    {
        cJSON *g = cJSON_CreateObject();
        cdp_json_put_str(g, "name", cdp_json_str(e, "name"));
        cdp_json_put(g, "counts", zero ? cdp_histogram_counts_json(zero, nbuckets) : NULL);
        cJSON_AddItemToArray(groups, g);
        cJSON_AddItemToArray(names, cJSON_CreateString(cdp_json_str(e, "name")));
    }
    char *text = zero && names ? cdp_json_print(names) : NULL;
    free(zero);
    cJSON_Delete(names);
    return text;
}

/* Histogram counts per value of a column indexed with the time, bucket by bucket over the
 * index (the plan has no range of its own, as histogram_sql's by_scan). */
static int groups_by_scan(struct plan *p, const struct cdp_search *s, const struct cdp_histogram *h,
                          long *counts, cJSON *groups, long *total)
{
    const struct table *tb = p->tb;
    int64_t bounds[2] = {s->from_us, s->to_us};
    cJSON *top = NULL, *g;
    int rc = histogram_sql(p, s, h, true, counts, total), n = p->where.nparams;
    if (!rc)
        rc = top_values_sql(p, h->group_by, h->group_limit, bounds, &top);
    char *names = rc ? NULL : new_groups(top, h->nbuckets, groups);
    cJSON_Delete(top);
    if (!rc && !names)
        rc = CDP_E_NOMEM;
    free(names);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = plan_prepare(p, &st,
                          "SELECT count(*) FROM %s WHERE %s AND %s = ?%d AND %s >= ?%d AND"
                          " %s <= ?%d",
                          tb->name, p->where.sql.data, tb->time_indexed, n + 1, tb->time, n + 2,
                          tb->time, n + 3);
    cJSON *list = rc ? NULL : groups;
    cJSON_ArrayForEach(g, list)
    {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(g, "counts");
        sqlite3_bind_text(st, n + 1, cdp_json_str(g, "name"), -1, SQLITE_TRANSIENT);
        for (int i = 0; !rc && i < h->nbuckets; i++) {
            int64_t lo, hi;
            if (!cdp_histogram_span(h, i, s->from_us, s->to_us, &lo, &hi))
                continue;
            sqlite3_bind_int64(st, n + 2, lo);
            sqlite3_bind_int64(st, n + 3, hi);
            if (sqlite3_step(st) != SQLITE_ROW)
                rc = search_fail(p->db, "histogram groups");
            else
                cJSON_SetNumberValue(cJSON_GetArrayItem(c, i), (double)sqlite3_column_int64(st, 0));
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "histogram groups") : rc;
}

/* Histogram counts per value of group_by, in SQL: the top values, then their counts per
 * bucket into groups [{name, counts}]. */
static int groups_sql(struct plan *p, const struct cdp_histogram *h, cJSON *groups)
{
    cJSON *top = NULL, *e;
    int rc = top_values_sql(p, h->group_by, h->group_limit, NULL, &top), step;
    if (rc)
        return rc;
    char *names_text = new_groups(top, h->nbuckets, groups);
    cJSON_Delete(top);
    struct cdp_buf rows;
    cdp_buf_init(&rows, 0);
    sqlite3_stmt *st = NULL;
    int n = p->where.nparams;
    if (!names_text || (rc = value_rows(p, h->group_by, &rows)))
        rc = rc ? rc : CDP_E_NOMEM;
    else
        rc = plan_prepare(p, &st,
                          "SELECT (t - ?%d) / ?%d AS b, v, count(*) FROM (%s) WHERE t IS NOT NULL"
                          " AND v IN (SELECT value FROM json_each(?%d)) GROUP BY b, v",
                          n + 1, n + 2, rows.data, n + 3);
    cdp_buf_fini(&rows);
    if (!rc) {
        sqlite3_bind_int64(st, n + 1, h->origin_us);
        sqlite3_bind_int64(st, n + 2, h->width_us);
        sqlite3_bind_text(st, n + 3, names_text, -1, SQLITE_STATIC);
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t b = sqlite3_column_int64(st, 0);
            const char *v = (const char *)sqlite3_column_text(st, 1);
            cJSON_ArrayForEach(e, groups)
            {
                if (b >= 0 && b < h->nbuckets && v && strcmp(cdp_json_str(e, "name"), v) == 0)
                    cJSON_SetNumberValue(
                        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "counts"), (int)b),
                        (double)sqlite3_column_int64(st, 2));
            }
        }
        if (step != SQLITE_DONE)
            rc = search_fail(p->db, "histogram groups");
        sqlite3_finalize(st);
    }
    free(names_text);
    return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "histogram groups") : rc;
}

/* The documents in range (total) for a histogram with group_by, in SQL. */
static int count_sql(struct plan *p, long *total)
{
    sqlite3_stmt *st;
    int rc =
        plan_prepare(p, &st, "SELECT count(*) FROM %s WHERE %s", p->tb->name, p->where.sql.data);
    if (rc)
        return rc == CDP_E_UNSUPPORTED ? search_fail(p->db, "count") : rc;
    int step = sqlite3_step(st);
    *total = step == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : search_fail(p->db, "count");
}

int cdp_sqlite_histogram(sqlite3 *db, const struct cdp_search *s, const struct cdp_histogram *h,
                         cJSON **out)
{
    struct plan p;
    struct cdp_histogram_out o;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (h->nbuckets <= 0 || h->width_us <= 0 || !tables[s->kind].time ||
        (h->group_by && !cdp_query_plain_path(h->group_by)))
        return CDP_E_INVALID;
    if (cdp_histogram_begin(&o, h))
        return CDP_E_NOMEM;
    /* Bucket by bucket over the time index: the plan without the range (each bucket's part of
     * it is added); but C, when it evaluates the condition, scans the whole range at once. */
    const struct table *tb = &tables[s->kind];
    const char *col = h->group_by ? terms_column(tb, h->group_by) : NULL;
    bool by_scan =
        tb->bucket_by_scan && s->ranged && s->from_us > 0 &&
        (!h->group_by || (col && tb->time_indexed && strcmp(col, tb->time_indexed) == 0));
    struct cdp_search unranged = *s;
    unranged.ranged = false;
    int rc = plan_start(&p, db, by_scan ? &unranged : s, SCAN_ROWS, &st);
    if (!rc && by_scan && p.in_c) {
        sqlite3_finalize(st);
        st = NULL;
        plan_fini(&p);
        by_scan = false;
        rc = plan_start(&p, db, s, SCAN_ROWS, &st);
    }
    if (!rc && !p.in_c) {
        if (h->group_by && by_scan) {
            rc = groups_by_scan(&p, s, h, o.counts, o.groups, &o.total);
        } else if (h->group_by) {
            if (!(rc = count_sql(&p, &o.total)))
                rc = groups_sql(&p, h, o.groups);
        } else {
            rc = histogram_sql(&p, s, h, by_scan, o.counts, &o.total);
        }
    } else if (!rc) {
        if (h->group_by && !(o.t.map = cJSON_CreateObject()))
            rc = CDP_E_NOMEM;
        if (!rc)
            rc = pass_c(&p, st, h, o.counts, h->group_by, h->group_by ? &o.t : NULL, &o.total);
        if (!rc && h->group_by)
            rc = cdp_tally_groups(&o.t, h->group_limit, o.groups);
    }
    sqlite3_finalize(st);
    plan_fini(&p);
    return cdp_histogram_end(&o, h, rc, out);
}

int cdp_sqlite_terms(sqlite3 *db, const struct cdp_search *s, const char *field, int limit,
                     cJSON **out)
{
    struct plan p;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (!cdp_query_plain_path(field) || limit <= 0)
        return CDP_E_INVALID;
    int rc = plan_start(&p, db, s, SCAN_ROWS, &st);
    if (!rc && !p.in_c) {
        rc = top_values_sql(&p, field, limit, NULL, out);
    } else if (!rc) {
        struct cdp_tally t = {.map = cJSON_CreateObject()};
        long total = 0;
        rc = t.map ? pass_c(&p, st, NULL, NULL, field, &t, &total) : CDP_E_NOMEM;
        if (!rc)
            rc = cdp_tally_terms(&t, limit, out);
        cJSON_Delete(t.map);
    }
    sqlite3_finalize(st);
    plan_fini(&p);
    return rc;
}
