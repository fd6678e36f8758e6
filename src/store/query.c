/* The backend-neutral step between a condition and a store's query language (see query.h):
 * cdp_tql_describe's JSON tree becomes typed nodes, normalised as tql.c evaluates, with what
 * has no store meaning marked RESIDUAL. Nodes, key lists and copied strings live in one arena
 * freed with the query. */
#include "store/query.h"

#include "core/err.h"
#include "core/json.h"
#include "flow/tql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cdp_query_arena {
    struct cdp_query_arena *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char mem[];
};

struct build {
    struct cdp_query *q;
    const char *source;
    int rc;
};

static void *arena_alloc(struct cdp_query *q, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct cdp_query_arena *a = q->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        struct cdp_query_arena *b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = a;
        b->used = 0;
        b->cap = cap;
        q->arena = a = b;
    }
    void *p = a->mem + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

static struct cdp_query_node *new_node(struct build *b, enum cdp_query_op op)
{
    struct cdp_query_node *n = arena_alloc(b->q, sizeof(*n));
    if (!n)
        b->rc = CDP_E_NOMEM;
    else
        n->op = op;
    return n;
}

static struct cdp_query_node *residual(struct build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct cdp_query_node *residual(struct build *b, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    struct cdp_query_node *n = new_node(b, CDP_QUERY_RESIDUAL);
    char *copy = n ? arena_alloc(b->q, strlen(why) + 1) : NULL;
    if (!copy) {
        b->rc = CDP_E_NOMEM;
        return NULL;
    }
    memcpy(copy, why, strlen(why) + 1);
    n->why = copy;
    if (b->q->exact)
        snprintf(b->q->why, sizeof(b->q->why), "%s", why);
    b->q->exact = false;
    return n;
}

static bool is_field(const cJSON *o)
{
    return cJSON_GetObjectItemCaseSensitive(o, "field") != NULL;
}

static bool is_fieldish(const cJSON *o)
{
    return is_field(o) || cJSON_GetObjectItemCaseSensitive(o, "fn") != NULL;
}

static bool all_digits(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (*k < '0' || *k > '9')
            return false;
    return true;
}

/* A field operand (or lowercase/uppercase of one) into n's keys and fold; false after making
 * *res a RESIDUAL node saying why not. */
static bool field_of(struct build *b, const cJSON *o, struct cdp_query_node *n,
                     struct cdp_query_node **res)
{
    if (!is_field(o)) {
        const char *fn = cdp_json_str(o, "fn");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "args");
        bool lower = fn && strcmp(fn, "lowercase") == 0;
        bool upper = fn && strcmp(fn, "uppercase") == 0;
        if (!(lower || upper) || cJSON_GetArraySize(args) != 1 || !is_field(args->child)) {
            *res = residual(b, "%s() of a field", fn ? fn : "?");
            return false;
        }
        n->fold = lower ? CDP_QUERY_LOWER : CDP_QUERY_UPPER;
        o = args->child;
    }
    const char *src = cdp_json_str(o, "field");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    if (!src || strcmp(src, b->source) != 0) {
        if (src && !b->q->other_source[0])
            snprintf(b->q->other_source, sizeof(b->q->other_source), "%s", src);
        *res = residual(b, "reads %s@ fields, which a %s alone does not have", src ? src : "?",
                        b->source);
        return false;
    }
    int nkeys = cJSON_GetArraySize(path);
    if (nkeys == 0) {
        *res = residual(b, "reads the whole %s", b->source);
        return false;
    }
    n->keys = arena_alloc(b->q, (size_t)nkeys * sizeof(*n->keys));
    if (!n->keys) {
        b->rc = CDP_E_NOMEM;
        *res = NULL;
        return false;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, path)
    {
        if (!cJSON_IsString(k) || all_digits(k->valuestring)) {
            *res = residual(b, "key \"%.40s\" is a number (an index into a list)",
                            cJSON_IsString(k) ? k->valuestring : "?");
            return false;
        }
        n->keys[n->nkeys++] = k->valuestring;
    }
    return true;
}

/* A constant operand; false when it is none (a field or a function of one). */
static bool const_of(const cJSON *o, struct cdp_query_value *v, bool *missing)
{
    memset(v, 0, sizeof(*v));
    *missing = false;
    const cJSON *x;
    if (cJSON_GetObjectItemCaseSensitive(o, "missing")) {
        *missing = true;
    } else if ((x = cJSON_GetObjectItemCaseSensitive(o, "time"))) {
        v->kind = CDP_QV_TIME;
        v->time_us = cJSON_IsString(x) ? strtoll(x->valuestring, NULL, 10) : 0;
    } else if ((x = cJSON_GetObjectItemCaseSensitive(o, "value"))) {
        if (cJSON_IsNull(x)) {
            v->kind = CDP_QV_NULL;
        } else if (cJSON_IsBool(x)) {
            v->kind = CDP_QV_BOOL;
            v->b = cJSON_IsTrue(x);
        } else if (cJSON_IsNumber(x)) {
            v->kind = CDP_QV_NUM;
            v->num = x->valuedouble;
        } else if (cJSON_IsString(x)) {
            v->kind = CDP_QV_STR;
            v->s = x->valuestring;
        } else if (cJSON_IsArray(x)) {
            v->kind = CDP_QV_LIST;
            v->list = x;
        } else {
            v->kind = CDP_QV_OTHER;
        }
    } else {
        return false;
    }
    return true;
}

static const struct {
    const char *name;
    enum cdp_query_op op;
} tests[] = {
    {"==", CDP_QUERY_EQ},
    {"!=", CDP_QUERY_NE},
    {">", CDP_QUERY_GT},
    {">=", CDP_QUERY_GE},
    {"<", CDP_QUERY_LT},
    {"<=", CDP_QUERY_LE},
    {"contains", CDP_QUERY_CONTAINS},
    {"starts with", CDP_QUERY_STARTS},
    {"ends with", CDP_QUERY_ENDS},
    {"is null", CDP_QUERY_IS_NULL},
    {"is not null", CDP_QUERY_NOT_NULL},
    {"exists", CDP_QUERY_EXISTS},
    {"not exists", CDP_QUERY_NOT_EXISTS},
    {"empty", CDP_QUERY_EMPTY},
    {"not empty", CDP_QUERY_NOT_EMPTY},
    {"between", CDP_QUERY_AND},
};

static bool is_order(enum cdp_query_op op)
{
    return op == CDP_QUERY_GT || op == CDP_QUERY_GE || op == CDP_QUERY_LT || op == CDP_QUERY_LE;
}

static enum cdp_query_op mirrored(enum cdp_query_op op)
{
    return op == CDP_QUERY_GT   ? CDP_QUERY_LT
           : op == CDP_QUERY_GE ? CDP_QUERY_LE
           : op == CDP_QUERY_LT ? CDP_QUERY_GT
                                : CDP_QUERY_GE;
}

static struct cdp_query_node *test(struct build *b, const cJSON *d)
{
    const char *name = cdp_json_str(d, "test");
    const cJSON *lhs = cJSON_GetObjectItemCaseSensitive(d, "lhs");
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(d, "a");
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(d, "b");
    int op = -1;
    for (size_t i = 0; name && i < sizeof(tests) / sizeof(tests[0]); i++)
        if (strcmp(tests[i].name, name) == 0)
            op = (int)tests[i].op;
    if (op < 0 || !lhs)
        return residual(b, "unknown condition node");
    bool unary = op >= CDP_QUERY_IS_NULL && op <= CDP_QUERY_NOT_EMPTY;
    if (unary != !ra || (op == CDP_QUERY_AND) != (rb != NULL))
        return residual(b, "%s with the wrong operands", name);
    struct cdp_query_node *n = new_node(b, (enum cdp_query_op)op), *res = NULL;
    if (!n)
        return NULL;
    if (unary) {
        if (!is_fieldish(lhs))
            return residual(b, "%s of a constant", name);
        return field_of(b, lhs, n, &res) ? n : res;
    }
    const cJSON *fld = lhs, *cst = ra;
    if (!is_fieldish(lhs)) {
        if (!(is_order((enum cdp_query_op)op) && is_fieldish(ra)))
            return residual(b, "%s with a constant on the left", name);
        fld = ra, cst = lhs; /* 5 < x is x > 5 */
        n->op = mirrored(n->op);
    }
    if (!field_of(b, fld, n, &res))
        return res;
    bool missing;
    if (!const_of(cst, &n->value, &missing))
        return residual(b, "compares a field with a field");
    if (missing) /* every comparison with a missing value is false */
        return new_node(b, CDP_QUERY_FALSE);
    if (op != CDP_QUERY_AND)
        return n;
    /* BETWEEN a AND b: >= a and <= b */
    struct cdp_query_value upper;
    if (!const_of(rb, &upper, &missing))
        return residual(b, "compares a field with a field");
    if (missing)
        return new_node(b, CDP_QUERY_FALSE);
    struct cdp_query_node *and = new_node(b, CDP_QUERY_AND), *le = new_node(b, CDP_QUERY_LE);
    if (!and || !le || !(and->kids = arena_alloc(b->q, 2 * sizeof(*and->kids)))) {
        b->rc = CDP_E_NOMEM;
        return NULL;
    }
    n->op = CDP_QUERY_GE;
    *le = *n;
    le->op = CDP_QUERY_LE;
    le->value = upper;
    and->kids[0] = n;
    and->kids[1] = le;
    and->nkids = 2;
    return and;
}

static struct cdp_query_node *node(struct build *b, const cJSON *d, int depth)
{
    if (b->rc)
        return NULL;
    if (depth > 2 * 64 + 8)
        return residual(b, "nested too deep");
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(d, "or")) ||
        (x = cJSON_GetObjectItemCaseSensitive(d, "and"))) {
        bool is_or = strcmp(x->string, "or") == 0;
        struct cdp_query_node *n = new_node(b, is_or ? CDP_QUERY_OR : CDP_QUERY_AND);
        int cap = cJSON_GetArraySize(x);
        if (!n || !(n->kids = arena_alloc(b->q, (size_t)(cap ? cap : 1) * sizeof(*n->kids))))
            return b->rc = CDP_E_NOMEM, NULL;
        const cJSON *k;
        cJSON_ArrayForEach(k, x)
        {
            struct cdp_query_node *kid = node(b, k, depth + 1);
            if (!kid)
                return NULL;
            n->kids[n->nkids++] = kid;
        }
        return n;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(d, "not"))) {
        struct cdp_query_node *n = new_node(b, CDP_QUERY_NOT);
        if (!n || !(n->kids = arena_alloc(b->q, sizeof(*n->kids))))
            return b->rc = CDP_E_NOMEM, NULL;
        if (!(n->kids[0] = node(b, x, depth + 1)))
            return NULL;
        n->nkids = 1;
        return n;
    }
    return test(b, d);
}

/* Counts the terms of a top-level AND, nested ANDs included. */
static int count_terms(const struct cdp_query_node *n)
{
    if (n->op != CDP_QUERY_AND)
        return 1;
    int k = 0;
    for (int i = 0; i < n->nkids; i++)
        k += count_terms(n->kids[i]);
    return k;
}

static void gather_terms(struct cdp_query_node *n, struct cdp_query_node **out, int *k)
{
    if (n->op != CDP_QUERY_AND) {
        out[(*k)++] = n;
        return;
    }
    for (int i = 0; i < n->nkids; i++)
        gather_terms(n->kids[i], out, k);
}

/* Makes the root's nested ANDs one AND, so every conjunct is a term a search can use. */
static int flatten(struct cdp_query *q)
{
    struct cdp_query_node *r = q->root;
    if (r->op != CDP_QUERY_AND)
        return 0;
    int n = count_terms(r), k = 0;
    struct cdp_query_node **kids = arena_alloc(q, (size_t)(n ? n : 1) * sizeof(*kids));
    if (!kids)
        return CDP_E_NOMEM;
    gather_terms(r, kids, &k);
    r->kids = kids;
    r->nkids = k;
    return 0;
}

static int build(struct cdp_query **out, const cJSON *desc, const char *source, cJSON *owned)
{
    *out = NULL;
    struct cdp_query *q = calloc(1, sizeof(*q));
    if (!q) {
        cJSON_Delete(owned);
        return CDP_E_NOMEM;
    }
    q->exact = true;
    q->desc = owned;
    struct build b = {.q = q, .source = source};
    q->root = desc ? node(&b, desc, 0) : new_node(&b, CDP_QUERY_TRUE);
    if (!b.rc && !q->root)
        b.rc = CDP_E_NOMEM;
    if (!b.rc)
        b.rc = flatten(q);
    if (b.rc) {
        cdp_query_free(q);
        return b.rc;
    }
    *out = q;
    return 0;
}

int cdp_query_new(struct cdp_query **out, const struct cdp_tql *cond, int64_t now_us,
                  const char *source)
{
    cJSON *desc = NULL;
    if (cond) {
        int rc = cdp_tql_describe(cond, now_us, &desc);
        if (rc) {
            *out = NULL;
            return rc;
        }
    }
    return build(out, desc, source, desc);
}

int cdp_query_from_desc(struct cdp_query **out, const cJSON *desc, const char *source)
{
    return build(out, desc, source, NULL);
}

void cdp_query_free(struct cdp_query *q)
{
    if (!q)
        return;
    for (struct cdp_query_arena *a = q->arena, *next; a; a = next) {
        next = a->next;
        free(a);
    }
    cJSON_Delete(q->desc);
    free(q);
}

int cdp_query_add_range(struct cdp_query *q, const char *dotted, int64_t from_us, int64_t to_us)
{
    int nkeys = 1;
    for (const char *p = dotted; *p; p++)
        nkeys += *p == '.';
    size_t len = strlen(dotted);
    char *copy = arena_alloc(q, len + 1);
    const char **keys = arena_alloc(q, (size_t)nkeys * sizeof(*keys));
    struct cdp_query_node *and = arena_alloc(q, sizeof(*and));
    struct cdp_query_node *ge = arena_alloc(q, sizeof(*ge));
    struct cdp_query_node *le = arena_alloc(q, sizeof(*le));
    struct cdp_query_node **kids = arena_alloc(q, 3 * sizeof(*kids));
    if (!copy || !keys || !and || !ge || !le || !kids)
        return CDP_E_NOMEM;
    memcpy(copy, dotted, len + 1);
    int k = 0;
    for (char *s = copy, *dot; s; s = dot ? dot + 1 : NULL) {
        dot = strchr(s, '.');
        if (dot)
            *dot = '\0';
        keys[k++] = s;
    }
    *ge = (struct cdp_query_node){.op = CDP_QUERY_GE, .keys = keys, .nkeys = k};
    ge->value = (struct cdp_query_value){.kind = CDP_QV_TIME, .time_us = from_us};
    *le = *ge;
    le->op = CDP_QUERY_LE;
    le->value.time_us = to_us;
    /* the range first: the terms a backend can use for its index lead */
    kids[0] = ge;
    kids[1] = le;
    kids[2] = q->root;
    *and = (struct cdp_query_node){.op = CDP_QUERY_AND, .kids = kids, .nkids = 3};
    q->root = and;
    return flatten(q);
}

bool cdp_query_is_exact(const struct cdp_query_node *n)
{
    if (n->op == CDP_QUERY_RESIDUAL)
        return false;
    for (int i = 0; i < n->nkids; i++)
        if (!cdp_query_is_exact(n->kids[i]))
            return false;
    return true;
}

struct cdp_query_node *const *cdp_query_terms(struct cdp_query *q, int *n)
{
    if (q->root->op == CDP_QUERY_AND) {
        *n = q->root->nkids;
        return q->root->kids;
    }
    *n = 1;
    return &q->root;
}

const char *cdp_doc_time_field(enum cdp_doc_kind k)
{
    return k == CDP_DOC_PROFILE ? "metadata.time.update" : "metadata.time.insert";
}

const char *cdp_doc_source(enum cdp_doc_kind k)
{
    return k == CDP_DOC_PROFILE ? "profile" : k == CDP_DOC_SESSION ? "session" : "event";
}

bool cdp_query_plain_path(const char *s)
{
    if (!s || !*s)
        return false;
    const char *key = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - key);
            bool digits = true;
            for (const char *c = key; c < p; c++)
                digits = digits && *c >= '0' && *c <= '9';
            if (n == 0 || n > 64 || digits)
                return false;
            if (*p == '\0')
                return true;
            key = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
}
