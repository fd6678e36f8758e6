/* Conditions of the condition language as PostgreSQL expressions, and what runs on them:
 * searches, histograms, counts by value, batch segmentation and look-ups by key.
 *
 * The translation prints a query of store/query.h as one SQL expression over the jsonb document
 * in `doc`, mirroring tql.c as sqlite_tql.c does: a field is `doc #> $n::text[]` (the path a
 * bound array of whitelisted keys), its kind jsonb_typeof() (NULL when missing), numbers compare
 * as float8 (parsed from jsonb's exact decimal text, as cJSON's strtod does), strings byte-wise
 * (= is byte equality, orderings COLLATE "C"), lowercase()/uppercase() are translate() of ASCII
 * letters only, and a time compares with a string through cdp_iso_us(), an SQL function made on
 * first use that parses exactly what core/clock.c's cdp_clock_parse_iso does (NULL otherwise).
 * A value is only read as a number or string under CASE on its kind, since SQL does not promise
 * the order AND evaluates in. What the query marks RESIDUAL, and what jsonb cannot mirror
 * exactly (CONTAINS a list, objects in lists, numbers past 1e300 in lists) is refused with
 * CDP_E_UNSUPPORTED and evaluated in C on the rows the other terms select.
 *
 * The SQL is NULL-as-false; NOT is written CASE WHEN x THEN false ELSE true END. Every value is
 * a bound parameter (text, cast in the SQL); the only paths in SQL text are this file's own
 * and, for profiles_find's expression indexes, keys checked against [A-Za-z0-9_]. */
#include "store/pg_tql.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/segment.h"
#include "flow/tql.h"
#include "store/search_common.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARAMS 1000
#define UPPER      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define LOWER      "abcdefghijklmnopqrstuvwxyz"

/* --- cdp_iso_us(): cdp_clock_parse_iso in SQL ---
 * The same grammar (YYYY-MM-DD, then optionally [T ]hh:mm[:ss][.fraction][Z|+hh[[:]mm]]), the
 * same range checks, and the days counted from the civil date the way timegm() normalises
 * (31 February is 3 March), so both give the same microseconds for every string. */
static const char iso_fn_sql[] =
    "CREATE OR REPLACE FUNCTION cdp_iso_us(s text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE"
    " STRICT PARALLEL SAFE AS $f$\n"
    "DECLARE m text[]; y int; mo int; d int; h int; mi int; se int; off int := 0; yy bigint;"
    " era bigint; yoe bigint; doy bigint; days bigint; frac bigint := 0;\n"
    "BEGIN\n"
    " m := regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})"
    "(?::([0-9]{2}))?(?:[.]([0-9]*))?(?:Z|([-+])([0-9]{2}):?([0-9]{2})?)?)?$');\n"
    " IF m IS NULL THEN RETURN NULL; END IF;\n"
    " y := m[1]::int; mo := m[2]::int; d := m[3]::int; h := coalesce(m[4]::int, 0);"
    " mi := coalesce(m[5]::int, 0); se := coalesce(m[6]::int, 0);\n"
    " IF mo < 1 OR mo > 12 OR d < 1 OR d > 31 OR h > 23 OR mi > 59 OR se > 60 THEN"
    " RETURN NULL; END IF;\n"
    " IF m[7] IS NOT NULL THEN frac := rpad(left(m[7], 6), 6, '0')::bigint; END IF;\n"
    " IF m[8] IS NOT NULL THEN off := (m[9]::int * 60 + coalesce(m[10]::int, 0)) * 60 *"
    " CASE WHEN m[8] = '-' THEN -1 ELSE 1 END; END IF;\n"
    " yy := y - CASE WHEN mo <= 2 THEN 1 ELSE 0 END + 400;\n"
    " era := yy / 400; yoe := yy - era * 400;\n"
    " doy := (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;\n"
    " days := era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468 - 146097;\n"
    " RETURN ((days * 86400 + h * 3600 + mi * 60 + se) - off) * 1000000 + frac;\n"
    "END $f$";

/* A new string (free()) printed from fmt. */
static char *sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *sqlf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static int pg_fail(PGconn *db, const char *what)
{
    cdp_error("postgres: %s: %s", what, PQerrorMessage(db));
    return CDP_E_STORE;
}

/* Runs sql (no parameters, no rows wanted). */
static int exec0(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_fail(db, sql);
}

/* Runs ddl once per database under an advisory lock (in a transaction of its own, or a savepoint
 * of the caller's), unless probe (a one-row boolean query) says it is done already. */
static int ensure(PGconn *db, const char *probe, const char *ddl, const char *const *params,
                  int nparams)
{
    PGresult *r = PQexecParams(db, probe, nparams, NULL, params, NULL, NULL, 0);
    bool done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok)
        return pg_fail(db, "probe");
    if (done)
        return 0;
    bool own = PQtransactionStatus(db) == PQTRANS_IDLE;
    int rc = exec0(db, own ? "BEGIN" : "SAVEPOINT cdp_ensure");
    if (!rc)
        rc = exec0(db, "SELECT pg_advisory_xact_lock(7260731)");
    if (!rc)
        rc = exec0(db, ddl);
    if (!rc)
        return exec0(db, own ? "COMMIT" : "RELEASE SAVEPOINT cdp_ensure");
    if (own)
        exec0(db, "ROLLBACK");
    else if (!exec0(db, "ROLLBACK TO SAVEPOINT cdp_ensure"))
        exec0(db, "RELEASE SAVEPOINT cdp_ensure");
    return rc;
}

static int ensure_functions(PGconn *db)
{
    return ensure(db, "SELECT to_regprocedure('cdp_iso_us(text)') IS NOT NULL", iso_fn_sql, NULL,
                  0);
}

/* --- translation --- */

/* A translated condition: SQL text and its parameters $1 ... $n (text, cast in the SQL). */
struct pgc {
    struct cdp_buf sql;
    char **vals;
    int n, cap;
    char why[160];
};

struct tr {
    struct pgc *c;
    const struct cdp_col *cols;
    int ncols;
    int rc;
};

/* How an operand is read: a jsonb expression, and the fold applied to it as a string. */
struct acc {
    char e[96];
    enum cdp_query_fold fold;
};

static void pgc_init(struct pgc *c)
{
    memset(c, 0, sizeof(*c));
    cdp_buf_init(&c->sql, 0);
}

static void pgc_fini(struct pgc *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->vals[i]);
    free(c->vals);
    cdp_buf_fini(&c->sql);
    memset(c, 0, sizeof(*c));
}

/* Drops the parameters from n on (those of a statement's own, added after the condition's). */
static void pgc_truncate(struct pgc *c, int n)
{
    while (c->n > n)
        free(c->vals[--c->n]);
}

/* Adds a parameter (a copy of s) and returns its number; 0 on failure. */
static int pgc_push(struct pgc *c, const char *s)
{
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        char **more = realloc(c->vals, (size_t)cap * sizeof(*more));
        if (!more)
            return 0;
        c->vals = more;
        c->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return 0;
    c->vals[c->n++] = copy;
    return c->n;
}

/* Refuses the translation (the first failure stands), the reason in the condition's why. */
#define unsupported(t, ...)                                                                        \
    cdp_search_unsupported(&(t)->rc, (t)->c->why, sizeof((t)->c->why), __VA_ARGS__)

static void put(struct tr *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct tr *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(small)) {
        t->rc = t->rc ? t->rc : CDP_E_INTERNAL;
        return;
    }
    if (cdp_buf_append(&t->c->sql, small, (size_t)n))
        t->rc = t->rc ? t->rc : CDP_E_NOMEM;
}

static int p_text(struct tr *t, const char *s)
{
    if (t->c->n >= MAX_PARAMS) {
        unsupported(t, "more than %d values", MAX_PARAMS);
        return 0;
    }
    int n = pgc_push(t->c, s);
    if (!n)
        t->rc = CDP_E_NOMEM;
    return n;
}

static void fmt_double(double d, char *out, size_t n)
{
    if (isinf(d))
        snprintf(out, n, "%sInfinity", d < 0 ? "-" : "");
    else
        snprintf(out, n, "%.17g", d);
}

static int p_num(struct tr *t, double d)
{
    char s[40];
    fmt_double(d, s, sizeof(s));
    return p_text(t, s);
}

static int p_int(struct tr *t, int64_t i)
{
    char s[24];
    snprintf(s, sizeof(s), "%lld", (long long)i);
    return p_text(t, s);
}

/* The text[] literal of keys, into b. */
static int path_literal(struct cdp_buf *b, const char *const *keys, int nkeys)
{
    int rc = cdp_buf_puts(b, "{");
    for (int i = 0; i < nkeys && !rc; i++)
        rc = cdp_buf_printf(b, "%s\"%s\"", i ? "," : "", keys[i]);
    return rc ? rc : cdp_buf_puts(b, "}");
}

static bool operand_acc(struct tr *t, const struct cdp_query_node *n, struct acc *a)
{
    for (int i = 0; i < n->nkeys; i++)
        if (!cdp_search_key_ok(n->keys[i])) {
            unsupported(t, "key \"%.40s\" is not [A-Za-z0-9_] (or is a number)", n->keys[i]);
            return false;
        }
    struct cdp_buf b;
    cdp_buf_init(&b, 0);
    if (path_literal(&b, n->keys, n->nkeys)) {
        cdp_buf_fini(&b);
        t->rc = CDP_E_NOMEM;
        return false;
    }
    int p = p_text(t, b.data);
    cdp_buf_fini(&b);
    snprintf(a->e, sizeof(a->e), "(doc #> $%d::text[])", p);
    a->fold = n->fold;
    return p != 0;
}

static void acc_expr(struct acc *a, const char *e)
{
    snprintf(a->e, sizeof(a->e), "%s", e);
    a->fold = CDP_QUERY_AS_IS;
}

/* The operand as a string (folded), NULL when it is none. */
static void put_str(struct tr *t, const struct acc *a)
{
    if (a->fold == CDP_QUERY_AS_IS)
        put(t, "(CASE WHEN jsonb_typeof(%s) = 'string' THEN %s #>> '{}' END)", a->e, a->e);
    else
        put(t,
            "(CASE WHEN jsonb_typeof(%s) = 'string' THEN translate(%s #>> '{}', '%s', '%s') END)",
            a->e, a->e, a->fold == CDP_QUERY_LOWER ? UPPER : LOWER,
            a->fold == CDP_QUERY_LOWER ? LOWER : UPPER);
}

/* The operand as a number, NULL when it is none. */
static void put_num(struct tr *t, const struct acc *a)
{
    put(t, "(CASE WHEN jsonb_typeof(%s) = 'number' THEN (%s #>> '{}')::float8 END)", a->e, a->e);
}

/* False, still naming the operand: a parameter the statement never reads has no type. */
static void put_false(struct tr *t, const struct acc *a)
{
    put(t, "(%s IS NULL AND false)", a->e);
}

static void eq_scalar(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    switch (c->kind) {
    case CDP_QV_NULL:
        put(t, "(jsonb_typeof(%s) = 'null')", a->e);
        break;
    case CDP_QV_BOOL:
        put(t, "(%s = '%s'::jsonb)", a->e, c->b ? "true" : "false");
        break;
    case CDP_QV_NUM:
        if (isnan(c->num)) {
            put_false(t, a);
            break;
        }
        put(t, "(");
        put_num(t, a);
        put(t, " = $%d::float8)", p_num(t, c->num));
        break;
    case CDP_QV_STR:
        put(t, "(");
        put_str(t, a);
        put(t, " = $%d::text)", p_text(t, c->s));
        break;
    case CDP_QV_TIME:
        put(t, "(cdp_iso_us(");
        put_str(t, a);
        put(t, ") = $%d::bigint)", p_int(t, c->time_us));
        break;
    default:
        put_false(t, a);
    }
}

/* cJSON_Compare(operand, list) for the jsonb expression e: an array of the same length whose
 * items are equal in order, kinds exactly (true is not 1), numbers within cJSON's tolerance
 * (|a - b| <= max(|a|, |b|) * DBL_EPSILON, in float8 as in C). Past 1e300 a difference could
 * overflow, which float8 raises as an error: such a number is equal to no constant this small,
 * and a constant that large is left to C. */
static void deep(struct tr *t, const char *e, const cJSON *list)
{
    put(t, "(jsonb_array_length(CASE WHEN jsonb_typeof(%s) = 'array' THEN %s END) = %d", e, e,
        cJSON_GetArraySize(list));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char item[200];
        if ((size_t)snprintf(item, sizeof(item), "(%s -> %d)", e, i++) >= sizeof(item)) {
            unsupported(t, "list nested too deep");
            return;
        }
        if (cJSON_IsNull(it)) {
            put(t, " AND jsonb_typeof(%s) = 'null'", item);
        } else if (cJSON_IsBool(it)) {
            put(t, " AND %s = '%s'::jsonb", item, cJSON_IsTrue(it) ? "true" : "false");
        } else if (cJSON_IsNumber(it)) {
            if (!(fabs(it->valuedouble) <= 1e300)) {
                unsupported(t, "a list holding a number past 1e300");
                return;
            }
            int n = p_num(t, it->valuedouble);
            put(t,
                " AND (CASE WHEN jsonb_typeof(%s) = 'number' THEN (CASE WHEN abs((%s #>> '{}')"
                "::float8) <= 1e300 THEN abs((%s #>> '{}')::float8 - $%d::float8) <="
                " greatest(abs((%s #>> '{}')::float8), abs($%d::float8)) *"
                " 2.220446049250313e-16 ELSE false END) END)",
                item, item, item, n, item, n);
        } else if (cJSON_IsString(it)) {
            put(t, " AND (CASE WHEN jsonb_typeof(%s) = 'string' THEN %s #>> '{}' END) = $%d::text",
                item, item, p_text(t, it->valuestring));
        } else if (cJSON_IsArray(it)) {
            put(t, " AND ");
            deep(t, item, it);
        } else {
            unsupported(t, "a list holding an object");
            return;
        }
    }
    put(t, ")");
}

/* Appends the array literal of the strings (numbers) of list, quoted; false when none. */
static bool array_literal(struct tr *t, const cJSON *list, bool nums, struct cdp_buf *b)
{
    const cJSON *it;
    int k = 0, rc = cdp_buf_puts(b, "{");
    cJSON_ArrayForEach(it, list)
    {
        if (nums && cJSON_IsNumber(it) && !isnan(it->valuedouble)) {
            char s[40];
            fmt_double(it->valuedouble, s, sizeof(s));
            rc = rc ? rc : cdp_buf_printf(b, "%s%s", k++ ? "," : "", s);
        } else if (!nums && cJSON_IsString(it)) {
            rc = rc ? rc : cdp_buf_puts(b, k++ ? ",\"" : "\"");
            for (const char *p = it->valuestring; *p && !rc; p++) {
                if (*p == '"' || *p == '\\')
                    rc = cdp_buf_append(b, "\\", 1);
                rc = rc ? rc : cdp_buf_append(b, p, 1);
            }
            rc = rc ? rc : cdp_buf_puts(b, "\"");
        }
    }
    rc = rc ? rc : cdp_buf_puts(b, "}");
    if (rc)
        t->rc = CDP_E_NOMEM;
    return k > 0;
}

/* tql.c member(l, list) for an operand that is not a list. */
static void member(struct tr *t, const struct acc *a, const cJSON *list)
{
    bool null = false, yes = false, no = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        null = null || cJSON_IsNull(it);
        yes = yes || cJSON_IsTrue(it);
        no = no || cJSON_IsFalse(it);
    }
    put(t, "(false");
    if (null)
        put(t, " OR jsonb_typeof(%s) = 'null'", a->e);
    if (yes)
        put(t, " OR %s = 'true'::jsonb", a->e);
    if (no)
        put(t, " OR %s = 'false'::jsonb", a->e);
    for (int nums = 0; nums < 2; nums++) {
        struct cdp_buf b;
        cdp_buf_init(&b, 0);
        if (array_literal(t, list, nums, &b)) {
            put(t, " OR ");
            if (nums)
                put_num(t, a);
            else
                put_str(t, a);
            put(t, " = ANY($%d::%s[])", p_text(t, b.data), nums ? "float8" : "text");
        }
        cdp_buf_fini(&b);
    }
    put(t, ")");
}

static void eq(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    if (c->kind != CDP_QV_LIST) {
        eq_scalar(t, a, c);
        return;
    }
    put(t, "((jsonb_typeof(%s) = 'array' AND ", a->e);
    deep(t, a->e, c->list);
    put(t, ") OR ");
    member(t, a, c->list);
    put(t, ")");
}

static void ord(struct tr *t, const struct acc *a, enum cdp_query_op op,
                const struct cdp_query_value *c)
{
    switch (c->kind) {
    case CDP_QV_NUM:
        if (isnan(c->num)) {
            put_false(t, a);
            break;
        }
        put(t, "(");
        put_num(t, a);
        put(t, " %s $%d::float8)", cdp_search_op_sql(op), p_num(t, c->num));
        break;
    case CDP_QV_STR:
        put(t, "(");
        put_str(t, a);
        put(t, " COLLATE \"C\" %s $%d::text)", cdp_search_op_sql(op), p_text(t, c->s));
        break;
    case CDP_QV_TIME:
        put(t, "(cdp_iso_us(");
        put_str(t, a);
        put(t, ") %s $%d::bigint)", cdp_search_op_sql(op), p_int(t, c->time_us));
        break;
    default:
        put_false(t, a);
    }
}

/* CONTAINS: substring of a string, member of a list, key of an object. */
static void contains(struct tr *t, const struct acc *a, const struct cdp_query_value *c)
{
    if (c->kind == CDP_QV_LIST || c->kind == CDP_QV_OTHER) {
        unsupported(t, "CONTAINS a list");
        return;
    }
    struct acc item;
    acc_expr(&item, "j.v");
    put(t,
        "((jsonb_typeof(%s) = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS j(v)"
        " WHERE ",
        a->e, a->e);
    eq_scalar(t, &item, c);
    put(t, "))");
    if (c->kind == CDP_QV_STR) {
        int s = p_text(t, c->s);
        put(t, " OR strpos(");
        put_str(t, a);
        put(t, ", $%d::text) > 0", s);
        put(t, " OR (jsonb_typeof(%s) = 'object' AND %s ? $%d::text)", a->e, a->e, s);
    }
    put(t, ")");
}

/* STARTS WITH / ENDS WITH: a string's first/last bytes, or a list's first/last item. */
static void starts_ends(struct tr *t, const struct acc *a, const struct cdp_query_value *c,
                        bool ends)
{
    struct acc item;
    snprintf(item.e, sizeof(item.e), "(%.80s -> %d)", a->e, ends ? -1 : 0);
    item.fold = CDP_QUERY_AS_IS; /* items of a list are never case-folded */
    put(t, "((jsonb_typeof(%s) = 'array' AND ", a->e);
    if (c->kind == CDP_QV_LIST) {
        put(t, "jsonb_typeof(%s) = 'array' AND ", item.e);
        deep(t, item.e, c->list);
    } else {
        eq_scalar(t, &item, c);
    }
    put(t, ")");
    if (c->kind == CDP_QV_STR) {
        put(t, " OR ");
        if (!*c->s) {
            put(t, "jsonb_typeof(%s) = 'string'", a->e);
        } else if (ends) {
            int s = p_text(t, c->s);
            put(t, "right(");
            put_str(t, a);
            put(t, ", char_length($%d::text)) = $%d::text", s, s);
        } else {
            put(t, "starts_with(");
            put_str(t, a);
            put(t, ", $%d::text)", p_text(t, c->s));
        }
    }
    put(t, ")");
}

static void test(struct tr *t, const struct cdp_query_node *n);

/* A test a column answers exactly (an event's id, type, insert time), so its index serves. */
static bool column_test(struct tr *t, const struct cdp_query_node *n)
{
    const struct cdp_col *col = cdp_search_column(t->cols, t->ncols, n, false);
    const struct cdp_query_value *v = &n->value;
    if (!col)
        return false;
    if (col->kind == CDP_COL_TEXT) {
        if ((n->op == CDP_QUERY_EQ || n->op == CDP_QUERY_NE) && v->kind == CDP_QV_STR) {
            put(t, "(%s %s $%d::text)", col->name, n->op == CDP_QUERY_EQ ? "=" : "<>",
                p_text(t, v->s));
        } else if ((n->op == CDP_QUERY_EQ || n->op == CDP_QUERY_NE) && v->kind == CDP_QV_LIST) {
            struct cdp_buf b;
            cdp_buf_init(&b, 0);
            array_literal(t, v->list, false, &b);
            put(t, "(%s(%s = ANY($%d::text[])))", n->op == CDP_QUERY_EQ ? "" : "NOT ", col->name,
                p_text(t, b.data));
            cdp_buf_fini(&b);
        } else if (cdp_search_is_order(n->op) && v->kind == CDP_QV_STR) {
            put(t, "(%s COLLATE \"C\" %s $%d::text)", col->name, cdp_search_op_sql(n->op),
                p_text(t, v->s));
        } else {
            return false;
        }
        return true;
    }
    if (col->kind == CDP_COL_TIME) {
        if (!(cdp_search_is_order(n->op) || n->op == CDP_QUERY_EQ) || v->kind != CDP_QV_TIME)
            return false;
        put(t, "(%s %s $%d::bigint)", col->name,
            n->op == CDP_QUERY_EQ ? "=" : cdp_search_op_sql(n->op), p_int(t, v->time_us));
        return true;
    }
    /* CDP_COL_ISO_US: the field's time where it has one; a 0 may be a field without one. */
    if (!(cdp_search_is_order(n->op) || n->op == CDP_QUERY_EQ) || v->kind != CDP_QV_TIME)
        return false;
    put(t, "(%s %s $%d::bigint AND (%s <> 0 OR ", col->name,
        n->op == CDP_QUERY_EQ ? "=" : cdp_search_op_sql(n->op), p_int(t, v->time_us), col->name);
    const struct cdp_col *cols = t->cols;
    t->cols = NULL;
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
        put(t, "false");
        return;
    case CDP_QUERY_TRUE:
        put(t, "true");
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
        put(t, "(coalesce(jsonb_typeof(%s), 'null') = 'null')", a.e);
        break;
    case CDP_QUERY_NOT_NULL:
        put(t, "(coalesce(jsonb_typeof(%s), 'null') <> 'null')", a.e);
        break;
    case CDP_QUERY_EXISTS:
        put(t, "(%s IS NOT NULL)", a.e);
        break;
    case CDP_QUERY_NOT_EXISTS:
        put(t, "(%s IS NULL)", a.e);
        break;
    case CDP_QUERY_EMPTY:
    case CDP_QUERY_NOT_EMPTY:
        put(t,
            "(CASE WHEN coalesce(jsonb_typeof(%s), 'null') = 'null' OR %s IN ('\"\"'::jsonb,"
            " '[]'::jsonb, '{}'::jsonb) THEN %s ELSE %s END)",
            a.e, a.e, n->op == CDP_QUERY_EMPTY ? "true" : "false",
            n->op == CDP_QUERY_EMPTY ? "false" : "true");
        break;
    case CDP_QUERY_EQ:
        eq(t, &a, &n->value);
        break;
    case CDP_QUERY_NE:
        put(t, "(%s IS NOT NULL AND CASE WHEN ", a.e);
        eq(t, &a, &n->value);
        put(t, " THEN false ELSE true END)");
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
        put(t, "(");
        for (int i = 0; i < n->nkids; i++) {
            if (i)
                put(t, "%s", n->op == CDP_QUERY_OR ? " OR " : " AND ");
            node(t, n->kids[i]);
        }
        if (n->nkids == 0)
            put(t, "%s", n->op == CDP_QUERY_AND ? "true" : "false");
        put(t, ")");
    } else if (n->op == CDP_QUERY_NOT) {
        put(t, "(CASE WHEN ");
        node(t, n->kids[0]);
        put(t, " THEN false ELSE true END)");
    } else {
        test(t, n);
    }
}

/* Appends n to c's SQL; on CDP_E_UNSUPPORTED (why in c->why) c is as it was. */
static int print_node(const struct cdp_query_node *n, const struct cdp_col *cols, int ncols,
                      struct pgc *c)
{
    size_t len = c->sql.len;
    int nparams = c->n;
    struct tr t = {.c = c, .cols = cols, .ncols = ncols};
    node(&t, n);
    if (!t.rc && c->sql.failed)
        t.rc = CDP_E_NOMEM;
    if (t.rc) {
        c->sql.len = len;
        if (c->sql.data)
            c->sql.data[len] = '\0';
        c->sql.failed = false;
        pgc_truncate(c, nparams);
    }
    return t.rc;
}

/* --- running statements --- */

static PGresult *run(PGconn *db, const char *sql, const struct pgc *c)
{
    PGresult *r = PQexecParams(db, sql, c->n, NULL, (const char *const *)c->vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        cdp_warn("postgres: statement failed: %.400s", sql);
    return r;
}

/* Rows one at a time (single-row mode), so a scan never holds a whole table in memory. */
struct stream {
    PGconn *db;
    PGresult *row;
    bool started, failed;
    bool idle; /* no transaction was open: the statement may be cancelled */
};

static int stream_open(struct stream *s, PGconn *db, const char *sql, const struct pgc *c)
{
    memset(s, 0, sizeof(*s));
    s->db = db;
    s->idle = PQtransactionStatus(db) == PQTRANS_IDLE;
    if (!PQsendQueryParams(db, sql, c->n, NULL, (const char *const *)c->vals, NULL, NULL, 0))
        return pg_fail(db, "send");
    s->started = true;
    if (!PQsetSingleRowMode(db)) /* rows would come all at once: read none, report it */
        s->failed = true;
    return 0;
}

/* The next row (s->row), or false at the end or on failure (s->failed). */
static bool stream_next(struct stream *s)
{
    PQclear(s->row);
    s->row = NULL;
    if (!s->started || s->failed)
        return false;
    for (;;) {
        PGresult *r = PQgetResult(s->db);
        if (!r) {
            s->started = false;
            return false;
        }
        ExecStatusType st = PQresultStatus(r);
        if ((st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) && PQntuples(r) > 0) {
            s->row = r;
            return true;
        }
        if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE) {
            cdp_error("postgres: scan: %s", PQresultErrorMessage(r));
            s->failed = true;
        }
        PQclear(r);
    }
}

/* Ends the stream, reading what is left; CDP_E_STORE when it failed. early: the caller wants
 * no more rows, so a statement outside a transaction (where a cancel aborts nothing) is
 * cancelled rather than read to its end. */
static int stream_close(struct stream *s, bool early)
{
    PQclear(s->row);
    s->row = NULL;
    bool cancelled = false;
    if (s->started && early && s->idle) {
        char err[256];
        PGcancel *c = PQgetCancel(s->db);
        cancelled = c && PQcancel(c, err, sizeof(err));
        PQfreeCancel(c);
    }
    if (s->started) {
        PGresult *r;
        while ((r = PQgetResult(s->db))) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && st != PGRES_COMMAND_OK &&
                !cancelled)
                s->failed = true;
            PQclear(r);
        }
        s->started = false;
    }
    return s->failed ? CDP_E_STORE : 0;
}

/* --- searches, histograms and counts by value --- */

static const struct cdp_col event_cols[] = {
    {"id", "id", CDP_COL_TEXT},
    {"type", "type", CDP_COL_TEXT},
    {"metadata.time.insert", "inserted", CDP_COL_ISO_US},
};
#define PROFILE_TIME "cdp_iso_us(doc #>> '{metadata,time,update}')"
#define SESSION_TIME "cdp_iso_us(doc #>> '{metadata,time,insert}')"

static const struct cdp_col profile_cols[] = {
    {"id", "id", CDP_COL_TEXT},
    {"metadata.time.update", PROFILE_TIME, CDP_COL_TIME},
};
static const struct cdp_col session_cols[] = {
    {"id", "id", CDP_COL_TEXT},
    {"metadata.time.insert", SESSION_TIME, CDP_COL_TIME},
};

struct table {
    const char *name;
    const struct cdp_col *cols;
    int ncols;
    const char *time;   /* the document's time in microseconds, as SQL */
    const char *order;  /* newest first by time */
    const char *stored; /* newest stored first */
    const char *index;  /* the time's expression index, made on first use (NULL: a column's) */
};

static const struct table tables[] = {
    [CDP_DOC_PROFILE] = {"profile", profile_cols, 2, PROFILE_TIME,
                         PROFILE_TIME " DESC NULLS LAST, " SESSION_TIME
                                      " DESC NULLS LAST, updated DESC, id COLLATE \"C\" DESC",
                         "updated DESC, id COLLATE \"C\" DESC", "profile_by_time"},
    [CDP_DOC_SESSION] = {"session", session_cols, 2, SESSION_TIME,
                         SESSION_TIME " DESC NULLS LAST, updated DESC, id COLLATE \"C\" DESC",
                         "updated DESC, id COLLATE \"C\" DESC", "session_by_time"},
    [CDP_DOC_EVENT] = {"event", event_cols, 3, "inserted", "inserted DESC, seq DESC",
                       "inserted DESC, seq DESC", NULL},
};

struct plan {
    PGconn *db;
    const struct table *tb;
    const struct cdp_search *s;
    struct cdp_query *q;
    struct pgc where; /* the terms SQL answers; "true" when none */
    bool in_c;        /* the condition is evaluated in C on the rows where selects */
};

static void plan_fini(struct plan *p)
{
    cdp_query_free(p->q);
    pgc_fini(&p->where);
}

/* Prints a term of the WHERE (ud the plan). */
static int plan_term(void *ud, const struct cdp_query_node *n)
{
    struct plan *p = ud;
    return print_node(n, p->tb->cols, p->tb->ncols, &p->where);
}

static int plan_open(struct plan *p, PGconn *db, const struct cdp_search *s)
{
    memset(p, 0, sizeof(*p));
    p->db = db;
    p->s = s;
    p->tb = &tables[s->kind];
    pgc_init(&p->where);
    int rc = ensure_functions(db);
    if (!rc && p->tb->index) { /* ranges and the order by time read it */
        char probe[96], *ddl = sqlf("CREATE INDEX IF NOT EXISTS %s ON %s ((%s) DESC NULLS LAST)",
                                    p->tb->index, p->tb->name, p->tb->time);
        snprintf(probe, sizeof(probe), "SELECT to_regclass('%s') IS NOT NULL", p->tb->index);
        rc = ddl ? ensure(db, probe, ddl, NULL, 0) : CDP_E_NOMEM;
        free(ddl);
    }
    if (!rc)
        rc = cdp_search_query(s, &p->q);
    if (rc)
        return rc;
    return cdp_search_where(p->q, INT_MAX, &p->where.sql, p->where.why, "true", plan_term, p,
                            &p->in_c);
}

static cJSON *cell_json(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    const char *v = PQgetvalue(r, row, col);
    return cdp_json_parse(v, (size_t)PQgetlength(r, row, col), NULL);
}

static int64_t cell_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int push_int(struct pgc *c, int64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%lld", (long long)v);
    return pgc_push(c, s);
}

/* Adds the text[] of a dot path of plain keys as a parameter; its number, 0 on OOM. */
static int push_path(struct pgc *c, const char *path)
{
    struct cdp_buf b;
    cdp_buf_init(&b, 0);
    int rc = cdp_buf_puts(&b, "{");
    for (const char *s = path; *s && !rc; s++)
        rc = *s == '.' ? cdp_buf_puts(&b, ",") : cdp_buf_append(&b, s, 1);
    rc = rc ? rc : cdp_buf_puts(&b, "}");
    int n = rc ? 0 : pgc_push(c, b.data);
    cdp_buf_fini(&b);
    return n;
}

static int search_sql(struct plan *p, cJSON *list, long *total)
{
    const struct cdp_search *s = p->s;
    const char *w = p->where.sql.data;
    int n = p->where.n, rc = 0;
    if (!push_int(&p->where, s->limit) || !push_int(&p->where, s->start))
        return CDP_E_NOMEM;
    char *sql = sqlf("SELECT doc::text FROM %s WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d",
                     p->tb->name, w, s->ranged ? p->tb->order : p->tb->stored, n + 1, n + 2);
    PGresult *r = sql ? run(p->db, sql, &p->where) : NULL;
    free(sql);
    pgc_truncate(&p->where, n);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(p->db, "search");
    }
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        cJSON *doc = cell_json(r, i, 0);
        if (!doc || !cJSON_AddItemToArray(list, doc)) {
            cJSON_Delete(doc);
            rc = CDP_E_NOMEM;
        }
    }
    PQclear(r);
    if (rc)
        return rc;
    if (s->max_total > 0) {
        if (!push_int(&p->where, s->max_total))
            return CDP_E_NOMEM;
        sql = sqlf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT $%d) AS x", p->tb->name,
                   w, n + 1);
    } else {
        sql = sqlf("SELECT count(*) FROM %s WHERE %s", p->tb->name, w);
    }
    r = sql ? run(p->db, sql, &p->where) : NULL;
    free(sql);
    pgc_truncate(&p->where, n);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return pg_fail(p->db, "count");
    }
    *total = (long)cell_int(r, 0, 0);
    PQclear(r);
    return 0;
}

static int search_c(struct plan *p, cJSON *list, long *total)
{
    const struct cdp_search *s = p->s;
    bool early = false;
    char *sql = sqlf("SELECT doc::text FROM %s WHERE %s ORDER BY %s", p->tb->name,
                     p->where.sql.data, s->ranged ? p->tb->order : p->tb->stored);
    struct stream st;
    int rc = sql ? stream_open(&st, p->db, sql, &p->where) : CDP_E_NOMEM;
    free(sql);
    if (rc)
        return rc;
    struct cdp_search_page pg = {.s = s, .list = list};
    while (!rc && !early && stream_next(&st))
        rc = cdp_search_page_take(&pg, cell_json(st.row, 0, 0), &early);
    int rc2 = stream_close(&st, early || rc);
    if (rc)
        return rc;
    if (rc2)
        return pg_fail(p->db, "search scan");
    *total = cdp_search_page_total(&pg);
    return 0;
}

int cdp_pg_search(PGconn *db, const struct cdp_search *q, cJSON **out, long *total)
{
    struct plan p;
    *out = NULL;
    *total = 0;
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return CDP_E_NOMEM;
    int rc = plan_open(&p, db, q);
    if (!rc)
        rc = p.in_c ? search_c(&p, list, total) : search_sql(&p, list, total);
    plan_fini(&p);
    if (rc) {
        cJSON_Delete(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* One pass in C over the rows WHERE selects: each document the condition holds for (evaluated
 * only when the plan leaves part to C) is counted in total, in counts[bucket] (h), and its
 * values at path in t. The statement reads the time, the document when C evaluates, and the
 * value at path. */
static int pass_c(struct plan *p, const struct cdp_histogram *h, long *counts, const char *path,
                  struct cdp_tally *t, long *total)
{
    int n = p->where.n, pp = 0;
    if (path) {
        if (!(pp = push_path(&p->where, path)))
            return CDP_E_NOMEM;
    }
    char vcol[48] = "NULL";
    if (pp)
        snprintf(vcol, sizeof(vcol), "(doc #> $%d::text[])::text", pp);
    char *sql = sqlf("SELECT %s, %s, %s FROM %s WHERE %s", h ? p->tb->time : "NULL",
                     p->in_c ? "doc::text" : "NULL", vcol, p->tb->name, p->where.sql.data);
    struct stream st;
    int rc = sql ? stream_open(&st, p->db, sql, &p->where) : CDP_E_NOMEM;
    free(sql);
    pgc_truncate(&p->where, n);
    if (rc)
        return rc;
    while (!rc && stream_next(&st)) {
        bool yes = true;
        if (p->in_c) {
            cJSON *doc = cell_json(st.row, 0, 1);
            if (!doc)
                rc = CDP_E_NOMEM;
            else
                rc = cdp_search_holds(p->s, doc, &yes);
            cJSON_Delete(doc);
        }
        int b;
        if (rc || !yes ||
            !cdp_histogram_bucket(h, !PQgetisnull(st.row, 0, 0), cell_int(st.row, 0, 0), &b))
            continue;
        cJSON *v = t ? cell_json(st.row, 0, 2) : NULL;
        rc = cdp_histogram_count(total, counts, b, t, v);
        cJSON_Delete(v);
    }
    int rc2 = stream_close(&st, rc != 0);
    if (rc)
        return rc;
    return rc2 ? pg_fail(p->db, "scan") : 0;
}

/* Histogram counts in SQL (no group_by, the condition all SQL's): one GROUP BY. */
static int histogram_sql(struct plan *p, const struct cdp_histogram *h, long *counts, long *total)
{
    int n = p->where.n;
    if (!push_int(&p->where, h->origin_us) || !push_int(&p->where, h->width_us))
        return CDP_E_NOMEM;
    char *sql = sqlf("SELECT (t - $%d::bigint) / $%d::bigint AS b, count(*) FROM (SELECT %s AS t"
                     " FROM %s WHERE %s) AS x WHERE t IS NOT NULL GROUP BY b",
                     n + 1, n + 2, p->tb->time, p->tb->name, p->where.sql.data);
    PGresult *r = sql ? run(p->db, sql, &p->where) : NULL;
    free(sql);
    pgc_truncate(&p->where, n);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(p->db, "histogram");
    }
    for (int i = 0; i < PQntuples(r); i++)
        cdp_histogram_add(h, cell_int(r, i, 0), (long)cell_int(r, i, 1), counts, total);
    PQclear(r);
    return 0;
}

int cdp_pg_histogram(PGconn *db, const struct cdp_search *q, const struct cdp_histogram *h,
                     cJSON **out)
{
    struct plan p;
    struct cdp_histogram_out o;
    *out = NULL;
    if (h->nbuckets <= 0 || h->width_us <= 0 || (h->group_by && !cdp_query_plain_path(h->group_by)))
        return CDP_E_INVALID;
    if (cdp_histogram_begin(&o, h))
        return CDP_E_NOMEM;
    int rc = plan_open(&p, db, q);
    if (!rc && h->group_by && !(o.t.map = cJSON_CreateObject()))
        rc = CDP_E_NOMEM;
    if (!rc && !p.in_c && !h->group_by)
        rc = histogram_sql(&p, h, o.counts, &o.total);
    else if (!rc)
        rc = pass_c(&p, h, o.counts, h->group_by, h->group_by ? &o.t : NULL, &o.total);
    if (!rc && h->group_by)
        rc = cdp_tally_groups(&o.t, h->group_limit, o.groups);
    plan_fini(&p);
    return cdp_histogram_end(&o, h, rc, out);
}

/* The values with most documents at path, in SQL (the condition all SQL's). */
static int terms_sql(struct plan *p, const char *path, int limit, cJSON **out)
{
    /* An event's type, source and session ids are columns too: the string at the path, NULL
     * when it holds anything else (store_pg.c's event_put), one per document. */
    static const char *const event_terms[][2] = {
        {"type", "type"}, {"source.id", "source_id"}, {"session.id", "session_id"}, {"id", "id"}};
    const char *column = NULL;
    for (size_t i = 0; p->s->kind == CDP_DOC_EVENT && i < 4; i++)
        if (strcmp(event_terms[i][0], path) == 0)
            column = event_terms[i][1];
    int n = p->where.n, pp = 0;
    if (!column) {
        if (!(pp = push_path(&p->where, path)))
            return CDP_E_NOMEM;
    }
    int lp = push_int(&p->where, limit);
    if (!lp) {
        pgc_truncate(&p->where, n);
        return CDP_E_NOMEM;
    }
    char *sql;
    if (column)
        sql = sqlf("SELECT %s AS v, count(*) AS n FROM event WHERE %s AND %s IS NOT NULL"
                   " GROUP BY v ORDER BY n DESC, %s COLLATE \"C\" LIMIT $%d",
                   column, p->where.sql.data, column, column, lp);
    else /* each distinct string of a document: itself, or the strings of its list */
        sql = sqlf("SELECT v, count(*) AS n FROM (SELECT DISTINCT x.k, e.j #>> '{}' AS v FROM"
                   " (SELECT %s AS k, doc #> $%d::text[] AS f FROM %s WHERE %s) AS x"
                   " CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(x.f)"
                   " WHEN 'array' THEN x.f WHEN 'string' THEN jsonb_build_array(x.f)"
                   " ELSE '[]'::jsonb END) AS e(j) WHERE jsonb_typeof(e.j) = 'string') AS y"
                   " GROUP BY v ORDER BY n DESC, v COLLATE \"C\" LIMIT $%d",
                   p->s->kind == CDP_DOC_EVENT ? "seq" : "id", pp, p->tb->name, p->where.sql.data,
                   lp);
    PGresult *r = sql ? run(p->db, sql, &p->where) : NULL;
    free(sql);
    pgc_truncate(&p->where, n);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(p->db, "terms");
    }
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < PQntuples(r); i++) {
        cJSON *e = cJSON_CreateObject();
        cdp_json_put_str(e, "name", PQgetvalue(r, i, 0));
        cdp_json_put_num(e, "value", (double)cell_int(r, i, 1));
        if (!cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            cJSON_Delete(list);
            list = NULL;
        }
    }
    PQclear(r);
    if (!list)
        return CDP_E_NOMEM;
    *out = list;
    return 0;
}

int cdp_pg_terms(PGconn *db, const struct cdp_search *q, const char *field, int limit, cJSON **out)
{
    struct plan p;
    *out = NULL;
    if (!cdp_query_plain_path(field) || limit <= 0)
        return CDP_E_INVALID;
    int rc = plan_open(&p, db, q);
    if (!rc && !p.in_c) {
        rc = terms_sql(&p, field, limit, out);
    } else if (!rc) {
        struct cdp_tally t = {.map = cJSON_CreateObject()};
        long total = 0;
        rc = t.map ? pass_c(&p, NULL, NULL, field, &t, &total) : CDP_E_NOMEM;
        if (!rc)
            rc = cdp_tally_terms(&t, limit, out);
        cJSON_Delete(t.map);
    }
    plan_fini(&p);
    return rc;
}

/* --- profiles_find --- */

#define MAX_FIND_KEYS 8

static uint64_t fnv64(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The path literal of a dot path of whitelisted keys ('{a,b}'), false when it is not one. */
static bool find_path(const char *dotted, char *out, size_t n)
{
    if (!cdp_query_plain_path(dotted) || strlen(dotted) + 3 > n)
        return false;
    size_t k = 0;
    out[k++] = '{';
    for (const char *s = dotted; *s; s++)
        out[k++] = *s == '.' ? ',' : *s;
    out[k++] = '}';
    out[k] = '\0';
    return true;
}

int cdp_pg_profiles_find(PGconn *db, const cJSON *keys, int limit, cJSON **out)
{
    *out = NULL;
    int n = cJSON_GetArraySize(keys);
    if (!cJSON_IsObject(keys) || n == 0 || n > MAX_FIND_KEYS)
        return CDP_E_INVALID;
    struct pgc c;
    pgc_init(&c);
    int rc = cdp_buf_puts(&c.sql, "SELECT id FROM profile WHERE ");
    const cJSON *k;
    int i = 0;
    cJSON_ArrayForEach(k, keys)
    {
        char path[600];
        if (!k->string || !find_path(k->string, path, sizeof(path)) ||
            !(cJSON_IsString(k) || cJSON_IsNumber(k) || cJSON_IsBool(k)) ||
            (cJSON_IsNumber(k) && !isfinite(k->valuedouble))) {
            rc = CDP_E_INVALID;
            break;
        }
        /* One expression index per key, as SQLite's; the path is whitelisted text so the
         * query's expression is the index's. */
        char name[40], probe[80];
        snprintf(name, sizeof(name), "profile_find_%016llx", (unsigned long long)fnv64(path));
        char *ddl = sqlf("CREATE INDEX IF NOT EXISTS %s ON profile ((doc #> '%s'))", name, path);
        snprintf(probe, sizeof(probe), "SELECT to_regclass('%s') IS NOT NULL", name);
        if (!ddl) {
            rc = CDP_E_NOMEM;
            break;
        }
        rc = ensure(db, probe, ddl, NULL, 0);
        free(ddl);
        if (rc)
            break;
        char *v = cJSON_PrintUnformatted(k);
        int p = v ? pgc_push(&c, v) : 0;
        free(v);
        if (!p ||
            cdp_buf_printf(&c.sql, "%s(doc #> '%s') = $%d::jsonb", i ? " AND " : "", path, p)) {
            rc = CDP_E_NOMEM;
            break;
        }
        i++;
    }
    if (!rc && cdp_buf_printf(&c.sql, " LIMIT %d", limit > 0 ? limit : 1000))
        rc = CDP_E_NOMEM;
    PGresult *r = rc ? NULL : run(db, c.sql.data, &c);
    if (!rc && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(db, "profiles find");
    cJSON *ids = rc ? NULL : cJSON_CreateArray();
    if (!rc && !ids)
        rc = CDP_E_NOMEM;
    for (int row = 0; !rc && row < PQntuples(r); row++)
        if (!cJSON_AddItemToArray(ids, cJSON_CreateString(PQgetvalue(r, row, 0))))
            rc = CDP_E_NOMEM;
    PQclear(r);
    pgc_fini(&c);
    if (rc) {
        cJSON_Delete(ids);
        return rc;
    }
    *out = ids;
    return 0;
}

/* --- batch segmentation ---
 *
 * Profiles are read a chunk at a time by id outside any transaction, the translated conditions
 * as columns of the read and the others evaluated in C on the same rows; live segmentation's
 * cdp_segment_set_member works out each row's new document. The rows that change are written
 * txn_rows per transaction, each only if its document is still the one judged; one that
 * changed since is read again under its row lock, judged again and written. */

#define DEFAULT_CHUNK    5000
#define DEFAULT_TXN_ROWS 250
#define GROUP_SEGS       32

struct seg {
    struct cdp_segment_pass *pass;
    struct cdp_query *q;
    int col; /* result column of its condition; -1: evaluated in C */
};

struct change {
    char *id;
    char *old; /* the document as read (jsonb text) */
    char *doc; /* the new one */
    uint32_t add, del;
};

struct run {
    PGconn *db;
    struct cdp_segment_batch *b;
    struct seg *segs;
    int nsegs;
    struct pgc cols; /* the conditions' SQL columns and their parameters, from $3 */
};

/* The row judge judges. */
struct row {
    struct run *g;
    const PGresult *r;
    int row;
    cJSON *snapshot; /* the document as read, parsed when first needed */
};

/* Whether segment i holds for the row: its column, or cdp_tql_eval on the document as read (not
 * as changed by earlier segments). A cdp_segments_judge verdict. */
static int holds(void *ud, int i, struct cdp_segment_pass **p, bool *yes)
{
    struct row *w = ud;
    const struct seg *sg = &w->g->segs[i];
    *p = sg->pass;
    if (sg->col >= 0) {
        *yes = strcmp(PQgetvalue(w->r, w->row, sg->col), "t") == 0;
        return 0;
    }
    if (!w->snapshot && !(w->snapshot = cell_json(w->r, w->row, 1)))
        return CDP_E_NOMEM;
    struct cdp_refs refs = {.profile = w->snapshot};
    char err[160];
    return cdp_tql_eval(sg->pass->cond, &refs, w->g->b->now_us, yes, err, sizeof(err));
}

/* Judges row i of r (id, doc, then the translated conditions); a change goes into *ch (ch->id
 * NULL when none). */
static int judge(struct run *g, const PGresult *r, int row, struct change *ch)
{
    memset(ch, 0, sizeof(*ch));
    cJSON *doc = cell_json(r, row, 1);
    if (!doc)
        return CDP_E_NOMEM;
    uint32_t add = 0, del = 0;
    struct row w = {.g = g, .r = r, .row = row};
    int rc = cdp_segments_judge(doc, g->nsegs, g->b->now_us, holds, &w, &add, &del);
    cJSON_Delete(w.snapshot);
    if (!rc && (add | del)) {
        ch->add = add;
        ch->del = del;
        ch->id = strdup(PQgetvalue(r, row, 0));
        ch->old = strdup(PQgetvalue(r, row, 1));
        ch->doc = cdp_json_print(doc);
        if (!ch->id || !ch->old || !ch->doc)
            rc = CDP_E_NOMEM;
    }
    cJSON_Delete(doc);
    return rc;
}

static void change_fini(struct change *c)
{
    free(c->id);
    free(c->old);
    free(c->doc);
    memset(c, 0, sizeof(*c));
}

static void count_change(struct run *g, const struct change *c)
{
    for (int i = 0; i < g->nsegs; i++)
        cdp_segments_count(g->segs[i].pass, i, c->add, c->del);
}

/* The read statement: id, document and the conditions' columns of profiles; where is what
 * selects them ($1, $2 its own). */
static char *read_sql(struct run *g, const char *where)
{
    return sqlf("SELECT id, doc::text%s FROM profile WHERE %s",
                g->cols.sql.data ? g->cols.sql.data : "", where);
}

/* Writes one change in the open transaction: only if the document is still the one judged,
 * else judged again under the row lock and written as it is now. */
static int write_change(struct run *g, struct change *c)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *vals[4] = {c->id, c->doc, now, c->old};
    PGresult *r = PQexecParams(g->db,
                               "UPDATE profile SET doc = $2::jsonb, updated = $3::bigint WHERE"
                               " id = $1 AND doc = $4::jsonb",
                               4, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return pg_fail(g->db, "segment update");
    }
    bool written = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (written) {
        count_change(g, c);
        return 0;
    }
    /* changed since it was read: again, locked. The read's own $1 and $2 keep their places
     * (the columns' parameters are numbered from $3): $1 the id, $2 unused but typed. */
    int n = g->cols.n;
    char **vals2 = malloc((size_t)(n + 2) * sizeof(*vals2));
    char *sql = read_sql(g, "id = $1 AND $2::int IS NOT NULL FOR UPDATE");
    int rc = vals2 && sql ? 0 : CDP_E_NOMEM;
    if (!rc) {
        vals2[0] = c->id;
        vals2[1] = "0";
        for (int i = 0; i < n; i++)
            vals2[i + 2] = g->cols.vals[i];
        r = PQexecParams(g->db, sql, n + 2, NULL, (const char *const *)vals2, NULL, NULL, 0);
        struct change again = {0};
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(g->db, "segment recheck");
        else if (PQntuples(r) == 1)
            rc = judge(g, r, 0, &again);
        PQclear(r);
        if (!rc && again.id) {
            const char *v3[3] = {again.id, again.doc, now};
            r = PQexecParams(
                g->db, "UPDATE profile SET doc = $2::jsonb, updated = $3::bigint WHERE id = $1", 3,
                NULL, v3, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = pg_fail(g->db, "segment update");
            else
                count_change(g, &again);
            PQclear(r);
        }
        change_fini(&again);
    }
    free(vals2);
    free(sql);
    return rc;
}

static int write_changes(struct run *g, struct change *c, size_t n)
{
    int rc = exec0(g->db, "BEGIN");
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_change(g, &c[i]);
    if (!rc)
        return exec0(g->db, "COMMIT");
    exec0(g->db, "ROLLBACK");
    return rc;
}

/* One pass over the profiles for up to GROUP_SEGS segments. */
static int run_group(struct run *g, bool count_rows)
{
    pgc_init(&g->cols);
    int rc = 0, col = 2;
    /* the parameters of the columns come after the read's own $1 (after id) and $2 (limit) */
    if (!pgc_push(&g->cols, "") || !pgc_push(&g->cols, ""))
        rc = CDP_E_NOMEM;
    for (int i = 0; i < g->nsegs && !rc; i++) {
        if (g->segs[i].col < 0)
            continue;
        if (cdp_buf_puts(&g->cols.sql, ", coalesce(("))
            rc = CDP_E_NOMEM;
        else if (!(rc = print_node(g->segs[i].q->root, NULL, 0, &g->cols)) &&
                 cdp_buf_puts(&g->cols.sql, "), false)"))
            rc = CDP_E_NOMEM;
        g->segs[i].col = col++;
    }
    /* $1: the last id read, NULL at the start (an id may be "") */
    char *sql =
        rc ? NULL : read_sql(g, "($1::text IS NULL OR id > $1::text) ORDER BY id LIMIT $2::int");
    if (!rc && !sql)
        rc = CDP_E_NOMEM;
    /* the columns' parameters down to vals[0...]; each read binds its $1, $2 in front */
    int ncols = 0;
    if (g->cols.n >= 2) {
        free(g->cols.vals[0]);
        free(g->cols.vals[1]);
        ncols = g->cols.n - 2;
        memmove(g->cols.vals, g->cols.vals + 2, (size_t)ncols * sizeof(*g->cols.vals));
        g->cols.n = ncols;
    }
    char *after = NULL;
    struct change *ch = NULL;
    size_t nch = 0;
    char **vals = calloc((size_t)ncols + 2, sizeof(*vals));
    if (!rc && !vals)
        rc = CDP_E_NOMEM;
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", g->b->chunk);
    while (!rc) {
        if (g->b->stop && g->b->stop(g->b->ud)) {
            rc = CDP_E_UNAVAILABLE;
            break;
        }
        vals[0] = after;
        vals[1] = lim;
        for (int i = 0; i < ncols; i++)
            vals[i + 2] = g->cols.vals[i];
        PGresult *r =
            PQexecParams(g->db, sql, ncols + 2, NULL, (const char *const *)vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            PQclear(r);
            rc = pg_fail(g->db, "segment read");
            break;
        }
        int rows = PQntuples(r);
        ch = calloc((size_t)(rows ? rows : 1), sizeof(*ch));
        if (!ch)
            rc = CDP_E_NOMEM;
        nch = 0;
        for (int i = 0; i < rows && !rc; i++) {
            rc = judge(g, r, i, &ch[nch]);
            nch += ch[nch].id != NULL;
        }
        if (!rc && rows) {
            free(after);
            if (!(after = strdup(PQgetvalue(r, rows - 1, 0))))
                rc = CDP_E_NOMEM;
        }
        PQclear(r);
        if (count_rows)
            g->b->scanned += rows;
        if (!rc && nch && g->b->stop && g->b->stop(g->b->ud))
            rc = CDP_E_UNAVAILABLE;
        size_t step = (size_t)g->b->txn_rows;
        for (size_t off = 0; off < nch && !rc; off += step)
            rc = write_changes(g, ch + off, nch - off < step ? nch - off : step);
        for (size_t i = 0; ch && i < nch; i++)
            change_fini(&ch[i]);
        free(ch);
        ch = NULL;
        if (rows < g->b->chunk)
            break;
    }
    free(vals);
    free(after);
    free(sql);
    pgc_fini(&g->cols);
    return rc;
}

int cdp_pg_segments_apply(PGconn *db, struct cdp_segment_batch *b)
{
    int rc = ensure_functions(db);
    if (rc)
        return rc;
    cdp_segments_begin(b, DEFAULT_CHUNK, DEFAULT_TXN_ROWS);
    int n = (int)b->nsegs, ntr = 0;
    struct seg *segs = calloc((size_t)(n ? n : 1), sizeof(*segs));
    if (!segs)
        return CDP_E_NOMEM;
    for (int i = 0; i < n && !rc; i++) {
        struct cdp_segment_pass *p = &b->segs[i];
        segs[i].pass = p;
        segs[i].col = -1;
        rc = cdp_query_new(&segs[i].q, p->cond, b->now_us, "profile");
        if (rc)
            break;
        struct pgc probe;
        pgc_init(&probe);
        int tr = print_node(segs[i].q->root, NULL, 0, &probe);
        if (!tr) {
            segs[i].col = 0;
            ntr++;
        } else if (tr == CDP_E_UNSUPPORTED) {
            cdp_debug("segment %s: evaluated in C: %s", p->name, probe.why);
        } else {
            rc = tr;
        }
        pgc_fini(&probe);
    }
    for (int i = 0; ntr && i < n && !rc; i += GROUP_SEGS) {
        struct run g = {.db = db, .b = b, .segs = segs + i};
        g.nsegs = n - i < GROUP_SEGS ? n - i : GROUP_SEGS;
        rc = run_group(&g, i == 0);
        for (int j = i; j < i + g.nsegs && !rc; j++) {
            segs[j].pass->applied = true;
            segs[j].pass->translated = segs[j].col >= 0;
        }
    }
    for (int i = 0; i < n; i++)
        cdp_query_free(segs[i].q);
    free(segs);
    if (!rc && ntr == 0)
        return CDP_E_UNSUPPORTED;
    return rc;
}
