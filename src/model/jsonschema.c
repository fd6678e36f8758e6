/* JSON Schema: a compiler that turns a schema document into a graph of nodes (one per subschema,
 * keywords checked and regexes compiled up front, $refs resolved to the node they point at) and
 * a validator that walks that graph against a document. The compiler recurses along subschemas,
 * bounded by CDP_JSONSCHEMA_MAX_DEPTH; $ref targets are compiled from a work list, not
 * recursively. $refs may form cycles, so the validator bounds its own depth and steps. Every node
 * is also kept in one list, which is what frees them. See jsonschema.h for the dialect. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "model/jsonschema.h"

#include "core/err.h"

#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking budget of one pattern match, as in useragent.c. */
#define JS_MATCH_LIMIT 100000
#define JS_DEPTH_LIMIT 1000
#define JS_PATH_MAX    512
#define JS_SHOW        64 /* longest key, pattern or $ref quoted in a message */

enum {
    JT_NULL = 1 << 0,
    JT_BOOLEAN = 1 << 1,
    JT_OBJECT = 1 << 2,
    JT_ARRAY = 1 << 3,
    JT_NUMBER = 1 << 4,
    JT_STRING = 1 << 5,
    JT_INTEGER = 1 << 6,
};

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {
    {"null", JT_NULL},     {"boolean", JT_BOOLEAN}, {"object", JT_OBJECT},   {"array", JT_ARRAY},
    {"number", JT_NUMBER}, {"string", JT_STRING},   {"integer", JT_INTEGER},
};

enum {
    HAS_MULTIPLE = 1 << 0,
    HAS_MAX = 1 << 1,
    HAS_XMAX = 1 << 2,
    HAS_MIN = 1 << 3,
    HAS_XMIN = 1 << 4,
    MAX_IS_X = 1 << 5, /* draft-4 "exclusiveMaximum": true */
    MIN_IS_X = 1 << 6,
};

struct js_node;

struct js_list {
    struct js_node **v;
    size_t n;
};

struct js_named {
    const char *name;
    struct js_node *s;
};

struct js_pattern {
    pcre2_code *re;
    const char *src;
    struct js_node *s;
};

struct js_depreq {
    const char *name;
    const cJSON *req; /* array of strings */
};

struct js_node {
    int boolean; /* -1: an object schema; 0/1: the schema false/true */
    unsigned types;
    unsigned has;
    const cJSON *enum_vals, *const_val;
    double multiple_of, maximum, xmaximum, minimum, xminimum;
    /* -1 when absent */
    double max_length, min_length, max_items, min_items, max_props, min_props;
    double min_contains, max_contains;
    bool unique_items;
    pcre2_code *pattern;
    const char *pattern_src;
    struct js_list prefix;
    struct js_node *items;
    struct js_node *additional_items; /* only until compile_node finishes */
    bool items_is_array;
    struct js_node *contains;
    const cJSON *required;
    struct js_named *props;
    size_t nprops;
    struct js_pattern *pprops;
    size_t npprops;
    struct js_node *additional;
    struct js_node *names;
    struct js_depreq *depreq;
    size_t ndepreq;
    struct js_named *depschemas;
    size_t ndepschemas;
    struct js_list all_of, any_of, one_of;
    struct js_node *not_, *if_, *then_, *else_;
    struct js_node *ref;
    struct js_node *uneval_props, *uneval_items;
};

struct cdp_jsonschema {
    cJSON *doc; /* our copy of the schema; nodes point into it */
    struct js_node *root;
    struct js_node **nodes; /* every node, for $ref lookup and freeing */
    const cJSON **srcs;     /* the schema value each node was compiled from */
    size_t nnodes, cap;
    pcre2_match_context *mctx;
};

/* ---- shared helpers ---- */

/* A JSON pointer being built, segment by segment; too long a pointer ends in "/...". */
struct js_path {
    char s[JS_PATH_MAX];
    size_t len;
    int overflow;
};

#define PATH_OVERFLOWED SIZE_MAX

static size_t path_push(struct js_path *p, const char *seg)
{
    size_t old = p->len;
    size_t need = 1;
    for (const char *q = seg; *q; q++)
        need += (*q == '~' || *q == '/') ? 2 : 1;
    if (p->overflow || old + need + 1 > sizeof(p->s)) {
        p->overflow++;
        return PATH_OVERFLOWED;
    }
    char *w = p->s + old;
    *w++ = '/';
    for (const char *q = seg; *q; q++) {
        if (*q == '~' || *q == '/') {
            *w++ = '~';
            *w++ = *q == '~' ? '0' : '1';
        } else {
            *w++ = *q;
        }
    }
    *w = '\0';
    p->len = (size_t)(w - p->s);
    return old;
}

static size_t path_push_index(struct js_path *p, size_t i)
{
    char b[24];
    snprintf(b, sizeof(b), "%zu", i);
    return path_push(p, b);
}

static void path_pop(struct js_path *p, size_t old)
{
    if (old == PATH_OVERFLOWED) {
        p->overflow--;
        return;
    }
    p->len = old;
    p->s[old] = '\0';
}

static void vformat_at(char *err, size_t errlen, const struct js_path *p, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));
static void vformat_at(char *err, size_t errlen, const struct js_path *p, const char *fmt,
                       va_list ap)
{
    if (!err || errlen == 0)
        return;
    int n = snprintf(err, errlen, "%s%s: ", p->s, p->overflow ? "/..." : "");
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

/* Shortest of %.15g/%.17g that reads back as v. */
static const char *fmt_num(double v, char *b, size_t n)
{
    snprintf(b, n, "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, n, "%.17g", v);
    return b;
}

static int show_len(const char *s)
{
    size_t n = strlen(s);
    return n > JS_SHOW ? JS_SHOW : (int)n;
}

static const char *show_more(const char *s)
{
    return strlen(s) > JS_SHOW ? "..." : "";
}

static bool is_integer_value(double v)
{
    return isfinite(v) && floor(v) == v;
}

/* Deep equality: 1 equal, 0 not, -1 nested deeper than CDP_JSONSCHEMA_MAX_VALUE_DEPTH. */
static int json_equal(const cJSON *a, const cJSON *b, int depth)
{
    if (depth > CDP_JSONSCHEMA_MAX_VALUE_DEPTH)
        return -1;
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb)
        return 0;
    switch (ta) {
    case cJSON_Number:
        return a->valuedouble == b->valuedouble;
    case cJSON_String:
    case cJSON_Raw:
        if (!a->valuestring || !b->valuestring)
            return a->valuestring == b->valuestring;
        return strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) {
            int r = json_equal(x, y, depth + 1);
            if (r != 1)
                return r;
        }
        return x == NULL && y == NULL;
    }
    case cJSON_Object: {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        for (const cJSON *x = a->child; x; x = x->next) {
            if (!x->string)
                return 0;
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y)
                return 0;
            int r = json_equal(x, y, depth + 1);
            if (r != 1)
                return r;
        }
        return 1;
    }
    default:
        return 1; /* null, true, false */
    }
}

static bool value_depth_ok(const cJSON *v, int depth)
{
    if (depth > CDP_JSONSCHEMA_MAX_VALUE_DEPTH)
        return false;
    for (const cJSON *c = v->child; c; c = c->next) {
        if (!value_depth_ok(c, depth + 1))
            return false;
    }
    return true;
}

/* ---- compiling ---- */

struct js_pending {
    struct js_node *node;
    const char *ref;
    char *where; /* schema pointer of the $ref, for errors */
};

struct cctx {
    struct cdp_jsonschema *s;
    struct js_path path;
    struct js_pending *pend;
    size_t npend, cappend;
    char *err;
    size_t errlen;
    bool ref_alone; /* draft 4-7 ($schema says so): a $ref makes its siblings ignored */
};

__attribute__((format(printf, 2, 3))) static int cerr(struct cctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_at(c->err, c->errlen, &c->path, fmt, ap);
    va_end(ap);
    return CDP_E_INVALID;
}

static int nomem(struct cctx *c)
{
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s", cdp_err_str(CDP_E_NOMEM));
    return CDP_E_NOMEM;
}

static struct js_node *new_node(struct cctx *c, const cJSON *src)
{
    struct cdp_jsonschema *s = c->s;
    if (s->nnodes == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct js_node **nv = realloc(s->nodes, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        s->nodes = nv;
        const cJSON **sv = realloc(s->srcs, cap * sizeof(*sv));
        if (!sv)
            return NULL;
        s->srcs = sv;
        s->cap = cap;
    }
    struct js_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->boolean = -1;
    n->max_length = n->min_length = n->max_items = n->min_items = -1;
    n->max_props = n->min_props = n->min_contains = n->max_contains = -1;
    s->nodes[s->nnodes] = n;
    s->srcs[s->nnodes] = src;
    s->nnodes++;
    return n;
}

static int compile_node(struct cctx *c, const cJSON *j, int depth, struct js_node **out);

static int compile_child(struct cctx *c, const cJSON *j, const char *seg, int depth,
                         struct js_node **out)
{
    size_t mark = path_push(&c->path, seg);
    int rc = compile_node(c, j, depth, out);
    path_pop(&c->path, mark);
    return rc;
}

static int compile_regex(struct cctx *c, const char *src, pcre2_code **out)
{
    int code;
    PCRE2_SIZE offset;
    *out = pcre2_compile((PCRE2_SPTR)src, strlen(src),
                         PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX, &code, &offset, NULL);
    if (!*out) {
        if (code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_NOMEMORY)
            return nomem(c);
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        return cerr(c, "invalid regular expression '%.*s%s': %s at offset %zu", show_len(src), src,
                    show_more(src), (const char *)msg, (size_t)offset);
    }
    /* Interpreted matching gives the same answers, so a JIT failure is not an error. */
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
    return 0;
}

static int need_number(struct cctx *c, const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return cerr(c, "expected a number");
    *out = v->valuedouble;
    return 0;
}

static int need_count(struct cctx *c, const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || !is_integer_value(v->valuedouble) || v->valuedouble < 0)
        return cerr(c, "expected a non-negative integer");
    *out = v->valuedouble;
    return 0;
}

static bool is_schema(const cJSON *v)
{
    return cJSON_IsObject(v) || cJSON_IsBool(v);
}

static int need_string_array(struct cctx *c, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return cerr(c, "expected an array of strings");
    size_t i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            size_t mark = path_push_index(&c->path, i);
            int rc = cerr(c, "expected a string");
            path_pop(&c->path, mark);
            return rc;
        }
    }
    return 0;
}

static int compile_list(struct cctx *c, const cJSON *v, int depth, bool nonempty,
                        struct js_list *out)
{
    if (!cJSON_IsArray(v) || (nonempty && !v->child))
        return cerr(c, "expected a%s array of schemas", nonempty ? " non-empty" : "n");
    size_t n = (size_t)cJSON_GetArraySize(v);
    out->v = calloc(n ? n : 1, sizeof(*out->v));
    if (!out->v)
        return nomem(c);
    out->n = n;
    size_t i = 0;
    for (const cJSON *e = v->child; e && i < n; e = e->next, i++) {
        char seg[24];
        snprintf(seg, sizeof(seg), "%zu", i);
        int rc = compile_child(c, e, seg, depth + 1, &out->v[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Compiles each member of an object of schemas; named is filled when given. */
static int compile_map(struct cctx *c, const cJSON *v, int depth, struct js_named **named,
                       size_t *count)
{
    if (!cJSON_IsObject(v))
        return cerr(c, "expected an object");
    size_t n = (size_t)cJSON_GetArraySize(v);
    struct js_named *arr = NULL;
    if (named) {
        arr = calloc(n ? n : 1, sizeof(*arr));
        if (!arr)
            return nomem(c);
        *named = arr;
        *count = 0;
    }
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!e->string)
            continue;
        struct js_node *sub;
        int rc = compile_child(c, e, e->string, depth + 1, &sub);
        if (rc)
            return rc;
        if (arr && *count < n) {
            arr[*count].name = e->string;
            arr[*count].s = sub;
            (*count)++;
        }
    }
    return 0;
}

/* One keyword handler per keyword; v is the keyword's value, c->path points at it. */
typedef int (*kw_fn)(struct cctx *c, struct js_node *n, const cJSON *v, int depth);

static int kw_type(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    const cJSON *one = v;
    bool list = cJSON_IsArray(v);
    if (list)
        one = v->child;
    else if (!cJSON_IsString(v))
        return cerr(c, "expected a type name or an array of type names");
    size_t i = 0;
    for (; one; one = list ? one->next : NULL, i++) {
        unsigned bit = 0;
        for (size_t k = 0; cJSON_IsString(one) && k < sizeof(type_names) / sizeof(type_names[0]);
             k++) {
            if (strcmp(one->valuestring, type_names[k].name) == 0)
                bit = type_names[k].bit;
        }
        if (!bit) {
            size_t mark = list ? path_push_index(&c->path, i) : 0;
            int rc = cJSON_IsString(one)
                         ? cerr(c, "unknown type '%.*s%s'", show_len(one->valuestring),
                                one->valuestring, show_more(one->valuestring))
                         : cerr(c, "expected a type name");
            if (list)
                path_pop(&c->path, mark);
            return rc;
        }
        n->types |= bit;
    }
    if (!n->types)
        return cerr(c, "expected at least one type name");
    return 0;
}

static int kw_enum(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsArray(v))
        return cerr(c, "expected an array");
    n->enum_vals = v;
    return 0;
}

static int kw_const(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)c, (void)depth;
    n->const_val = v;
    return 0;
}

static int kw_multiple_of(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
        return cerr(c, "expected a number greater than 0");
    n->multiple_of = v->valuedouble;
    n->has |= HAS_MULTIPLE;
    return 0;
}

static int kw_maximum(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    n->has |= HAS_MAX;
    return need_number(c, v, &n->maximum);
}

static int kw_minimum(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    n->has |= HAS_MIN;
    return need_number(c, v, &n->minimum);
}

static int kw_xmaximum(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (cJSON_IsBool(v)) {
        if (cJSON_IsTrue(v))
            n->has |= MAX_IS_X;
        return 0;
    }
    n->has |= HAS_XMAX;
    return need_number(c, v, &n->xmaximum);
}

static int kw_xminimum(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (cJSON_IsBool(v)) {
        if (cJSON_IsTrue(v))
            n->has |= MIN_IS_X;
        return 0;
    }
    n->has |= HAS_XMIN;
    return need_number(c, v, &n->xminimum);
}

#define COUNT_KW(fn, field)                                                                        \
    static int fn(struct cctx *c, struct js_node *n, const cJSON *v, int depth)                    \
    {                                                                                              \
        (void)depth;                                                                               \
        return need_count(c, v, &n->field);                                                        \
    }
COUNT_KW(kw_max_length, max_length)
COUNT_KW(kw_min_length, min_length)
COUNT_KW(kw_max_items, max_items)
COUNT_KW(kw_min_items, min_items)
COUNT_KW(kw_max_props, max_props)
COUNT_KW(kw_min_props, min_props)
COUNT_KW(kw_min_contains, min_contains)
COUNT_KW(kw_max_contains, max_contains)
#undef COUNT_KW

static int kw_pattern(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsString(v) || !v->valuestring)
        return cerr(c, "expected a string");
    n->pattern_src = v->valuestring;
    return compile_regex(c, v->valuestring, &n->pattern);
}

static int kw_unique_items(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsBool(v))
        return cerr(c, "expected a boolean");
    n->unique_items = cJSON_IsTrue(v);
    return 0;
}

static int kw_prefix_items(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    if (n->prefix.v)
        return 0; /* tuple-form items came first; both is meaningless */
    return compile_list(c, v, depth, false, &n->prefix);
}

static int kw_items(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    if (cJSON_IsArray(v)) {
        free(n->prefix.v);
        n->prefix.v = NULL;
        n->prefix.n = 0;
        n->items_is_array = true;
        return compile_list(c, v, depth, false, &n->prefix);
    }
    return compile_node(c, v, depth + 1, &n->items);
}

static int kw_additional_items(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->additional_items);
}

static int kw_contains(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->contains);
}

static int kw_required(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    int rc = need_string_array(c, v);
    if (rc == 0)
        n->required = v;
    return rc;
}

static int kw_properties(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_map(c, v, depth, &n->props, &n->nprops);
}

static int kw_pattern_properties(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    if (!cJSON_IsObject(v))
        return cerr(c, "expected an object");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    n->pprops = calloc(cnt ? cnt : 1, sizeof(*n->pprops));
    if (!n->pprops)
        return nomem(c);
    for (const cJSON *e = v->child; e && n->npprops < cnt; e = e->next) {
        if (!e->string)
            continue;
        struct js_pattern *p = &n->pprops[n->npprops++];
        p->src = e->string;
        size_t mark = path_push(&c->path, e->string);
        int rc = compile_regex(c, e->string, &p->re);
        if (rc == 0)
            rc = compile_node(c, e, depth + 1, &p->s);
        path_pop(&c->path, mark);
        if (rc)
            return rc;
    }
    return 0;
}

static int kw_additional_properties(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->additional);
}

static int kw_property_names(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->names);
}

static int add_depreq(struct cctx *c, struct js_node *n, const cJSON *e)
{
    struct js_depreq *nv = realloc(n->depreq, (n->ndepreq + 1) * sizeof(*nv));
    if (!nv)
        return nomem(c);
    n->depreq = nv;
    nv[n->ndepreq].name = e->string;
    nv[n->ndepreq].req = e;
    n->ndepreq++;
    return 0;
}

static int add_depschema(struct cctx *c, struct js_node *n, const cJSON *e, int depth)
{
    struct js_named *nv = realloc(n->depschemas, (n->ndepschemas + 1) * sizeof(*nv));
    if (!nv)
        return nomem(c);
    n->depschemas = nv;
    nv[n->ndepschemas].name = e->string;
    nv[n->ndepschemas].s = NULL;
    n->ndepschemas++;
    return compile_child(c, e, e->string, depth + 1, &nv[n->ndepschemas - 1].s);
}

static int kw_dependent_required(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsObject(v))
        return cerr(c, "expected an object");
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!e->string)
            continue;
        size_t mark = path_push(&c->path, e->string);
        int rc = need_string_array(c, e);
        path_pop(&c->path, mark);
        if (rc == 0)
            rc = add_depreq(c, n, e);
        if (rc)
            return rc;
    }
    return 0;
}

static int kw_dependent_schemas(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    if (!cJSON_IsObject(v))
        return cerr(c, "expected an object");
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!e->string)
            continue;
        int rc = add_depschema(c, n, e, depth);
        if (rc)
            return rc;
    }
    return 0;
}

/* Draft 7: an array value is dependentRequired, a schema dependentSchemas. */
static int kw_dependencies(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    if (!cJSON_IsObject(v))
        return cerr(c, "expected an object");
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!e->string)
            continue;
        int rc;
        if (cJSON_IsArray(e)) {
            size_t mark = path_push(&c->path, e->string);
            rc = need_string_array(c, e);
            path_pop(&c->path, mark);
            if (rc == 0)
                rc = add_depreq(c, n, e);
        } else {
            rc = add_depschema(c, n, e, depth);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int kw_all_of(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_list(c, v, depth, true, &n->all_of);
}

static int kw_any_of(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_list(c, v, depth, true, &n->any_of);
}

static int kw_one_of(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_list(c, v, depth, true, &n->one_of);
}

static int kw_unevaluated_properties(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->uneval_props);
}

static int kw_unevaluated_items(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->uneval_items);
}

static int kw_not(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->not_);
}

static int kw_if(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->if_);
}

static int kw_then(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->then_);
}

static int kw_else(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    return compile_node(c, v, depth + 1, &n->else_);
}

/* Definitions are compiled so that their errors show even when nothing refers to them. */
static int kw_defs(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)n;
    return compile_map(c, v, depth, NULL, NULL);
}

static int kw_ref(struct cctx *c, struct js_node *n, const cJSON *v, int depth)
{
    (void)depth;
    if (!cJSON_IsString(v) || !v->valuestring)
        return cerr(c, "expected a string");
    const char *r = v->valuestring;
    if (r[0] != '#')
        return cerr(c,
                    "unsupported $ref '%.*s%s': only local references ('#...') are allowed, "
                    "not remote ones",
                    show_len(r), r, show_more(r));
    if (r[1] != '\0' && r[1] != '/')
        return cerr(c, "unsupported $ref '%.*s%s': only JSON pointer fragments are supported",
                    show_len(r), r, show_more(r));
    if (c->npend == c->cappend) {
        size_t cap = c->cappend ? c->cappend * 2 : 8;
        struct js_pending *nv = realloc(c->pend, cap * sizeof(*nv));
        if (!nv)
            return nomem(c);
        c->pend = nv;
        c->cappend = cap;
    }
    char *where = strdup(c->path.s);
    if (!where)
        return nomem(c);
    c->pend[c->npend++] = (struct js_pending){n, r, where};
    return 0;
}

static const struct {
    const char *name;
    kw_fn fn;
} keywords[] = {
    {"type", kw_type},
    {"enum", kw_enum},
    {"const", kw_const},
    {"multipleOf", kw_multiple_of},
    {"maximum", kw_maximum},
    {"exclusiveMaximum", kw_xmaximum},
    {"minimum", kw_minimum},
    {"exclusiveMinimum", kw_xminimum},
    {"maxLength", kw_max_length},
    {"minLength", kw_min_length},
    {"pattern", kw_pattern},
    {"maxItems", kw_max_items},
    {"minItems", kw_min_items},
    {"uniqueItems", kw_unique_items},
    {"prefixItems", kw_prefix_items},
    {"items", kw_items},
    {"additionalItems", kw_additional_items},
    {"contains", kw_contains},
    {"minContains", kw_min_contains},
    {"maxContains", kw_max_contains},
    {"maxProperties", kw_max_props},
    {"minProperties", kw_min_props},
    {"required", kw_required},
    {"properties", kw_properties},
    {"patternProperties", kw_pattern_properties},
    {"additionalProperties", kw_additional_properties},
    {"propertyNames", kw_property_names},
    {"dependentRequired", kw_dependent_required},
    {"dependentSchemas", kw_dependent_schemas},
    {"dependencies", kw_dependencies},
    {"allOf", kw_all_of},
    {"anyOf", kw_any_of},
    {"oneOf", kw_one_of},
    {"unevaluatedProperties", kw_unevaluated_properties},
    {"unevaluatedItems", kw_unevaluated_items},
    {"not", kw_not},
    {"if", kw_if},
    {"then", kw_then},
    {"else", kw_else},
    {"$defs", kw_defs},
    {"definitions", kw_defs},
    {"$ref", kw_ref},
};

_Static_assert(sizeof(keywords) / sizeof(keywords[0]) <= 64, "keywords fit the seen mask");

static int compile_node(struct cctx *c, const cJSON *j, int depth, struct js_node **out)
{
    *out = NULL;
    if (!is_schema(j))
        return cerr(c, "expected a schema (an object or a boolean)");
    if (depth > CDP_JSONSCHEMA_MAX_DEPTH)
        return cerr(c, "schema nested deeper than %d levels", CDP_JSONSCHEMA_MAX_DEPTH);
    struct js_node *n = new_node(c, j);
    if (!n)
        return nomem(c);
    *out = n;
    if (cJSON_IsBool(j)) {
        n->boolean = cJSON_IsTrue(j);
        return 0;
    }
    uint64_t seen = 0; /* of a repeated keyword the first counts, as for lookups by name */
    bool ref_alone = c->ref_alone && cJSON_GetObjectItemCaseSensitive(j, "$ref");
    for (const cJSON *m = j->child; m; m = m->next) {
        if (!m->string)
            continue;
        for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
            if (strcmp(m->string, keywords[k].name) != 0 || seen & (UINT64_C(1) << k))
                continue;
            if (ref_alone && keywords[k].fn != kw_ref && keywords[k].fn != kw_defs)
                break;
            seen |= UINT64_C(1) << k;
            size_t mark = path_push(&c->path, m->string);
            int rc = keywords[k].fn(c, n, m, depth);
            path_pop(&c->path, mark);
            if (rc)
                return rc;
            break;
        }
    }
    /* Keywords that modify one another. */
    if (n->has & MAX_IS_X && n->has & HAS_MAX && !(n->has & HAS_XMAX)) {
        n->xmaximum = n->maximum;
        n->has = (n->has & ~(unsigned)HAS_MAX) | HAS_XMAX;
    }
    if (n->has & MIN_IS_X && n->has & HAS_MIN && !(n->has & HAS_XMIN)) {
        n->xminimum = n->minimum;
        n->has = (n->has & ~(unsigned)HAS_MIN) | HAS_XMIN;
    }
    if (n->items_is_array)
        n->items = n->additional_items; /* draft 7: additionalItems follows tuple items */
    n->additional_items = NULL;         /* ignored next to a schema items (draft 7) */
    if (n->contains && n->min_contains < 0)
        n->min_contains = 1;
    return 0;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Resolves the fragment of a local $ref ("#/a/b~1c", %-escapes decoded first) to the value it
 * names in doc, or NULL. The JSON pointer (the fragment decoded) goes to path. */
static const cJSON *resolve_pointer(const cJSON *doc, const char *ref, struct js_path *path)
{
    const char *frag = ref + 1;
    size_t n = strlen(frag);
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    const cJSON *cur = doc;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n && frag[i] == '%' ? hex_value(frag[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(frag[i + 2]) : -1;
        if (lo >= 0) {
            buf[w] = (char)(hi * 16 + lo);
            if (buf[w] == '\0')
                goto fail;
            w++;
            i += 2;
        } else {
            buf[w++] = frag[i];
        }
    }
    buf[w] = '\0';
    if (buf[0] != '\0' && buf[0] != '/')
        goto fail;
    path->overflow = w + 1 > sizeof(path->s);
    path->len = path->overflow ? 0 : w;
    memcpy(path->s, buf, path->len);
    path->s[path->len] = '\0';
    for (char *seg = buf[0] ? buf + 1 : NULL; seg;) {
        char *end = strchr(seg, '/');
        if (end)
            *end = '\0';
        char *o = seg; /* unescape ~1 and ~0 in place */
        for (const char *r = seg; *r; r++) {
            if (*r == '~') {
                if (r[1] != '0' && r[1] != '1')
                    goto fail;
                *o++ = r[1] == '0' ? '~' : '/';
                r++;
            } else {
                *o++ = *r;
            }
        }
        *o = '\0';
        if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
        } else if (cJSON_IsArray(cur)) {
            size_t len = strlen(seg);
            if (len == 0 || len > 9 || (seg[0] == '0' && len > 1) ||
                strspn(seg, "0123456789") != len)
                goto fail;
            cur = cJSON_GetArrayItem(cur, (int)strtol(seg, NULL, 10));
        } else {
            goto fail;
        }
        if (!cur)
            goto fail;
        seg = end ? end + 1 : NULL;
    }
    free(buf);
    return cur;
fail:
    free(buf);
    return NULL;
}

static struct js_node *find_node(const struct cdp_jsonschema *s, const cJSON *src)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        if (s->srcs[i] == src)
            return s->nodes[i];
    }
    return NULL;
}

/* Points every pending $ref at its node, compiling targets not compiled yet (which may add
 * pending $refs of their own: this is a loop, not recursion). */
static int resolve_refs(struct cctx *c)
{
    for (size_t i = 0; i < c->npend; i++) {
        struct js_pending *p = &c->pend[i];
        struct js_path target_path;
        const cJSON *t = resolve_pointer(c->s->doc, p->ref, &target_path);
        c->path.overflow = 0;
        snprintf(c->path.s, sizeof(c->path.s), "%s", p->where);
        c->path.len = strlen(c->path.s);
        if (!t)
            return cerr(c, "$ref '%.*s%s' does not resolve to a value in this schema",
                        show_len(p->ref), p->ref, show_more(p->ref));
        if (!is_schema(t))
            return cerr(c, "$ref '%.*s%s' does not point at a schema", show_len(p->ref), p->ref,
                        show_more(p->ref));
        struct js_node *target = find_node(c->s, t);
        if (!target) {
            /* A part of the schema no keyword compiled: errors in it name its own pointer. */
            c->path = target_path;
            int rc = compile_node(c, t, 1, &target);
            if (rc)
                return rc;
            p = &c->pend[i]; /* compile_node may have moved the list */
        }
        p->node->ref = target;
    }
    return 0;
}

static void free_node(struct js_node *n)
{
    free(n->prefix.v);
    free(n->all_of.v);
    free(n->any_of.v);
    free(n->one_of.v);
    free(n->props);
    for (size_t i = 0; i < n->npprops; i++)
        pcre2_code_free(n->pprops[i].re);
    free(n->pprops);
    free(n->depreq);
    free(n->depschemas);
    pcre2_code_free(n->pattern);
    free(n);
}

void cdp_jsonschema_free(struct cdp_jsonschema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        free_node(s->nodes[i]);
    free(s->nodes);
    free(s->srcs);
    pcre2_match_context_free(s->mctx);
    cJSON_Delete(s->doc);
    free(s);
}

/* $schema URIs of the drafts in which $ref replaces the keywords next to it. */
static const char *const old_dialects[] = {"draft-03/", "draft-04/", "draft-06/", "draft-07/"};

int cdp_jsonschema_compile(const cJSON *schema, struct cdp_jsonschema **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct cctx c = {.err = err, .errlen = errlen};
    int rc;
    if (!schema)
        return cerr(&c, "no schema");
    if (!value_depth_ok(schema, 0))
        return cerr(&c, "schema document nested deeper than %d levels",
                    CDP_JSONSCHEMA_MAX_VALUE_DEPTH);
    struct cdp_jsonschema *s = calloc(1, sizeof(*s));
    if (!s)
        return nomem(&c);
    c.s = s;
    s->doc = cJSON_Duplicate(schema, true);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->doc || !s->mctx) {
        rc = nomem(&c);
        goto fail;
    }
    const char *dialect = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->doc, "$schema"));
    for (size_t i = 0; dialect && i < sizeof(old_dialects) / sizeof(old_dialects[0]); i++)
        c.ref_alone |= strstr(dialect, old_dialects[i]) != NULL;
    pcre2_set_match_limit(s->mctx, JS_MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, JS_DEPTH_LIMIT);
    rc = compile_node(&c, s->doc, 0, &s->root);
    if (rc == 0)
        rc = resolve_refs(&c);
    if (rc)
        goto fail;
    for (size_t i = 0; i < c.npend; i++)
        free(c.pend[i].where);
    free(c.pend);
    *out = s;
    return 0;
fail:
    for (size_t i = 0; i < c.npend; i++)
        free(c.pend[i].where);
    free(c.pend);
    cdp_jsonschema_free(s);
    return rc;
}

/* ---- validating ---- */

struct vctx {
    const struct cdp_jsonschema *s;
    pcre2_match_data *md;
    char *err;
    size_t errlen;
    int quiet;  /* inside anyOf, oneOf, not, if, contains, propertyNames: no messages */
    bool fatal; /* a limit was hit: the answer is false whatever not/anyOf would make of it */
    long steps;
    struct js_path path;
};

__attribute__((format(printf, 2, 3))) static bool fail(struct vctx *c, const char *fmt, ...)
{
    if (c->quiet)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vformat_at(c->err, c->errlen, &c->path, fmt, ap);
    va_end(ap);
    return false;
}

/* Limits and internal errors: reported even when quiet, and they end the validation. */
__attribute__((format(printf, 2, 3))) static bool fatal(struct vctx *c, const char *fmt, ...)
{
    if (c->fatal)
        return false;
    c->fatal = true;
    va_list ap;
    va_start(ap, fmt);
    vformat_at(c->err, c->errlen, &c->path, fmt, ap);
    va_end(ap);
    return false;
}

/* 1 when re finds a match in s, 0 when not, -1 on a limit or bad UTF-8 (then fatal). */
static int re_search(struct vctx *c, const pcre2_code *re, const char *src, const char *s)
{
    if (!c->md) {
        c->md = pcre2_match_data_create(1, NULL);
        if (!c->md)
            return fatal(c, "%s", cdp_err_str(CDP_E_NOMEM)), -1;
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, c->md, c->s->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    PCRE2_UCHAR msg[160];
    if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
        snprintf((char *)msg, sizeof(msg), "error %d", rc);
    fatal(c, "cannot match pattern '%.*s%s': %s", show_len(src), src, show_more(src),
          (const char *)msg);
    return -1;
}

static const char *type_name(const cJSON *v)
{
    switch (v->type & 0xFF) {
    case cJSON_NULL:
        return "null";
    case cJSON_True:
    case cJSON_False:
        return "boolean";
    case cJSON_Number:
        return is_integer_value(v->valuedouble) ? "integer" : "number";
    case cJSON_String:
        return "string";
    case cJSON_Array:
        return "array";
    case cJSON_Object:
        return "object";
    default:
        return "unknown";
    }
}

static bool type_ok(unsigned types, const cJSON *v)
{
    switch (v->type & 0xFF) {
    case cJSON_NULL:
        return types & JT_NULL;
    case cJSON_True:
    case cJSON_False:
        return types & JT_BOOLEAN;
    case cJSON_Number:
        return (types & JT_NUMBER) || ((types & JT_INTEGER) && is_integer_value(v->valuedouble));
    case cJSON_String:
        return types & JT_STRING;
    case cJSON_Array:
        return types & JT_ARRAY;
    case cJSON_Object:
        return types & JT_OBJECT;
    default:
        return false;
    }
}

static bool fail_type(struct vctx *c, unsigned types, const cJSON *v)
{
    if (c->quiet)
        return false;
    char want[96] = "";
    size_t w = 0;
    int count = 0;
    for (size_t k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++) {
        if (!(types & type_names[k].bit))
            continue;
        int n = snprintf(want + w, sizeof(want) - w, "%s%s", count ? ", " : "", type_names[k].name);
        if (n > 0 && (size_t)n < sizeof(want) - w)
            w += (size_t)n;
        count++;
    }
    if (count > 1)
        return fail(c, "expected one of [%s], got %s", want, type_name(v));
    return fail(c, "expected %s, got %s", want, type_name(v));
}

static bool is_multiple(double v, double m)
{
    if (is_integer_value(v) && is_integer_value(m) && fabs(v) < 9007199254740992.0)
        return fmod(v, m) == 0;
    double q = v / m;
    if (!isfinite(q))
        return false;
    double r = nearbyint(q);
    return fabs(q - r) <= 1e-9 * (fabs(q) > 1 ? fabs(q) : 1);
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Which members (of an object) or items (of an array) of one instance some keyword has
 * evaluated, for unevaluatedProperties/unevaluatedItems: one flag per member in instance order.
 * Only built below a schema that has one of those keywords; elsewhere NULL, and free. */
struct js_eval {
    unsigned char *seen;
    size_t n;
};

static void eval_mark(struct js_eval *e, size_t i)
{
    if (e && i < e->n)
        e->seen[i] = 1;
}

static void eval_merge(struct js_eval *dst, const struct js_eval *src)
{
    for (size_t i = 0; dst && i < dst->n && i < src->n; i++)
        dst->seen[i] |= src->seen[i];
}

static bool eval_init(struct vctx *c, struct js_eval *e, const cJSON *v)
{
    e->n = (size_t)cJSON_GetArraySize(v);
    e->seen = calloc(e->n ? e->n : 1, 1);
    return e->seen ? true : fatal(c, "%s", cdp_err_str(CDP_E_NOMEM));
}

static bool validate(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                     struct js_eval *ev);

static bool validate_quiet(struct vctx *c, const struct js_node *n, const cJSON *v, int depth)
{
    c->quiet++;
    bool ok = validate(c, n, v, depth, NULL);
    c->quiet--;
    return ok;
}

/* A quiet try of n on v whose annotations count (into ev) only when it passes. */
static bool try_branch(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                       struct js_eval *ev)
{
    if (!ev)
        return validate_quiet(c, n, v, depth);
    struct js_eval mine;
    if (!eval_init(c, &mine, v))
        return false;
    c->quiet++;
    bool ok = validate(c, n, v, depth, &mine);
    c->quiet--;
    if (ok)
        eval_merge(ev, &mine);
    free(mine.seen);
    return ok;
}

static bool validate_number(struct vctx *c, const struct js_node *n, double x)
{
    char a[32], b[32];
    if (n->has & HAS_MULTIPLE && !is_multiple(x, n->multiple_of))
        return fail(c, "%s is not a multiple of %s", fmt_num(x, a, sizeof(a)),
                    fmt_num(n->multiple_of, b, sizeof(b)));
    if (n->has & HAS_MAX && x > n->maximum)
        return fail(c, "%s is greater than the maximum %s", fmt_num(x, a, sizeof(a)),
                    fmt_num(n->maximum, b, sizeof(b)));
    if (n->has & HAS_XMAX && x >= n->xmaximum)
        return fail(c, "%s is not less than the exclusive maximum %s", fmt_num(x, a, sizeof(a)),
                    fmt_num(n->xmaximum, b, sizeof(b)));
    if (n->has & HAS_MIN && x < n->minimum)
        return fail(c, "%s is less than the minimum %s", fmt_num(x, a, sizeof(a)),
                    fmt_num(n->minimum, b, sizeof(b)));
    if (n->has & HAS_XMIN && x <= n->xminimum)
        return fail(c, "%s is not greater than the exclusive minimum %s", fmt_num(x, a, sizeof(a)),
                    fmt_num(n->xminimum, b, sizeof(b)));
    return true;
}

static bool validate_string(struct vctx *c, const struct js_node *n, const char *s)
{
    if (n->max_length >= 0 || n->min_length >= 0) {
        double len = (double)utf8_length(s);
        if (n->max_length >= 0 && len > n->max_length)
            return fail(c, "string is longer than %.0f characters", n->max_length);
        if (n->min_length >= 0 && len < n->min_length)
            return fail(c, "string is shorter than %.0f characters", n->min_length);
    }
    if (n->pattern) {
        int r = re_search(c, n->pattern, n->pattern_src, s);
        if (r < 0)
            return false;
        if (r == 0)
            return fail(c, "string does not match the pattern '%.*s%s'", show_len(n->pattern_src),
                        n->pattern_src, show_more(n->pattern_src));
    }
    return true;
}

static bool validate_item(struct vctx *c, const struct js_node *sub, const cJSON *x, size_t i,
                          int depth)
{
    size_t mark = path_push_index(&c->path, i);
    bool ok = validate(c, sub, x, depth + 1, NULL);
    path_pop(&c->path, mark);
    return ok;
}

static bool validate_array(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                           struct js_eval *ev)
{
    double size = (double)cJSON_GetArraySize(v);
    if (n->max_items >= 0 && size > n->max_items)
        return fail(c, "array has %.0f items, more than the maximum %.0f", size, n->max_items);
    if (n->min_items >= 0 && size < n->min_items)
        return fail(c, "array has %.0f items, fewer than the minimum %.0f", size, n->min_items);
    if (n->unique_items) {
        size_t i = 0;
        for (const cJSON *x = v->child; x; x = x->next, i++) {
            size_t j = i + 1;
            for (const cJSON *y = x->next; y; y = y->next, j++) {
                if (++c->steps > CDP_JSONSCHEMA_MAX_STEPS)
                    return fatal(c, "validation needs more than %ld steps",
                                 CDP_JSONSCHEMA_MAX_STEPS);
                int r = json_equal(x, y, 0);
                if (r < 0)
                    return fatal(c, "items nested deeper than %d levels",
                                 CDP_JSONSCHEMA_MAX_VALUE_DEPTH);
                if (r)
                    return fail(c, "items %zu and %zu are equal", i, j);
            }
        }
    }
    if (n->prefix.n || n->items) {
        size_t i = 0;
        for (const cJSON *x = v->child; x; x = x->next, i++) {
            const struct js_node *sub = i < n->prefix.n ? n->prefix.v[i] : n->items;
            if (!sub)
                break;
            if (!validate_item(c, sub, x, i, depth))
                return false;
            eval_mark(ev, i);
        }
    }
    if (n->contains) {
        double count = 0;
        size_t i = 0;
        for (const cJSON *x = v->child; x; x = x->next, i++) {
            size_t mark = path_push_index(&c->path, i);
            bool ok = validate_quiet(c, n->contains, x, depth + 1);
            path_pop(&c->path, mark);
            if (c->fatal)
                return false;
            if (ok) {
                count++;
                eval_mark(ev, i); /* 2020-12: contains annotates the items it matched */
            }
            if (!ev && n->max_contains < 0 && count >= n->min_contains)
                break;
        }
        if (count < n->min_contains) {
            if (n->min_contains <= 1)
                return fail(c, "no item matches the contains schema");
            return fail(c, "%.0f items match the contains schema, fewer than minContains %.0f",
                        count, n->min_contains);
        }
        if (n->max_contains >= 0 && count > n->max_contains)
            return fail(c, "%.0f items match the contains schema, more than maxContains %.0f",
                        count, n->max_contains);
    }
    return true;
}

static bool validate_member(struct vctx *c, const struct js_node *sub, const cJSON *m, int depth)
{
    size_t mark = path_push(&c->path, m->string);
    bool ok = validate(c, sub, m, depth + 1, NULL);
    path_pop(&c->path, mark);
    return ok;
}

static bool validate_object(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                            struct js_eval *ev)
{
    if (n->max_props >= 0 || n->min_props >= 0) {
        double size = (double)cJSON_GetArraySize(v);
        if (n->max_props >= 0 && size > n->max_props)
            return fail(c, "object has %.0f properties, more than the maximum %.0f", size,
                        n->max_props);
        if (n->min_props >= 0 && size < n->min_props)
            return fail(c, "object has %.0f properties, fewer than the minimum %.0f", size,
                        n->min_props);
    }
    for (const cJSON *r = n->required ? n->required->child : NULL; r; r = r->next) {
        if (!cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
            return fail(c, "required property '%.*s%s' is missing", show_len(r->valuestring),
                        r->valuestring, show_more(r->valuestring));
    }
    for (size_t i = 0; i < n->ndepreq; i++) {
        if (!cJSON_GetObjectItemCaseSensitive(v, n->depreq[i].name))
            continue;
        for (const cJSON *r = n->depreq[i].req->child; r; r = r->next) {
            if (!cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
                return fail(c, "property '%.*s%s' requires property '%.*s%s'",
                            show_len(n->depreq[i].name), n->depreq[i].name,
                            show_more(n->depreq[i].name), show_len(r->valuestring), r->valuestring,
                            show_more(r->valuestring));
        }
    }
    for (size_t i = 0; i < n->ndepschemas; i++) {
        if (cJSON_GetObjectItemCaseSensitive(v, n->depschemas[i].name) &&
            !validate(c, n->depschemas[i].s, v, depth + 1, ev))
            return false;
    }
    if (!n->nprops && !n->npprops && !n->additional && !n->names)
        return true;
    size_t idx = 0;
    for (const cJSON *m = v->child; m; m = m->next, idx++) {
        if (!m->string)
            continue;
        if (n->names) {
            cJSON key = {0};
            key.type = cJSON_String;
            key.valuestring = m->string;
            bool ok = validate_quiet(c, n->names, &key, depth + 1);
            if (c->fatal)
                return false;
            if (!ok)
                return fail(c, "property name '%.*s%s' does not match propertyNames",
                            show_len(m->string), m->string, show_more(m->string));
        }
        bool matched = false;
        for (size_t i = 0; i < n->nprops; i++) {
            if (strcmp(n->props[i].name, m->string) != 0)
                continue;
            matched = true;
            if (!validate_member(c, n->props[i].s, m, depth))
                return false;
        }
        for (size_t i = 0; i < n->npprops; i++) {
            int r = re_search(c, n->pprops[i].re, n->pprops[i].src, m->string);
            if (r < 0)
                return false;
            if (r == 0)
                continue;
            matched = true;
            if (!validate_member(c, n->pprops[i].s, m, depth))
                return false;
        }
        if (!matched && n->additional) {
            if (n->additional->boolean == 0)
                return fail(c, "property '%.*s%s' is not allowed", show_len(m->string), m->string,
                            show_more(m->string));
            if (!validate_member(c, n->additional, m, depth))
                return false;
            matched = true;
        }
        if (matched)
            eval_mark(ev, idx);
    }
    return true;
}

static bool validate_combinators(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                                 struct js_eval *ev)
{
    for (size_t i = 0; i < n->all_of.n; i++) {
        if (!validate(c, n->all_of.v[i], v, depth + 1, ev))
            return false;
    }
    if (n->any_of.n) {
        bool any = false;
        /* Collecting annotations needs every passing branch, not just the first. */
        for (size_t i = 0; i < n->any_of.n && (!any || ev); i++) {
            any |= try_branch(c, n->any_of.v[i], v, depth + 1, ev);
            if (c->fatal)
                return false;
        }
        if (!any)
            return fail(c, "value does not match any schema of anyOf");
    }
    if (n->one_of.n) {
        size_t first = SIZE_MAX;
        for (size_t i = 0; i < n->one_of.n; i++) {
            bool ok = try_branch(c, n->one_of.v[i], v, depth + 1, ev);
            if (c->fatal)
                return false;
            if (!ok)
                continue;
            if (first != SIZE_MAX)
                return fail(c, "value matches schemas %zu and %zu of oneOf, not exactly one", first,
                            i);
            first = i;
        }
        if (first == SIZE_MAX)
            return fail(c, "value does not match any schema of oneOf");
    }
    if (n->not_) {
        bool ok = validate_quiet(c, n->not_, v, depth + 1);
        if (c->fatal)
            return false;
        if (ok)
            return fail(c, "value matches the schema of not");
    }
    if (n->if_) {
        bool ok = try_branch(c, n->if_, v, depth + 1, ev);
        if (c->fatal)
            return false;
        const struct js_node *next = ok ? n->then_ : n->else_;
        if (next && !validate(c, next, v, depth + 1, ev))
            return false;
    }
    return true;
}

/* unevaluatedProperties/unevaluatedItems, once every other keyword has marked what it saw. */
static bool validate_unevaluated(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                                 struct js_eval *ev)
{
    const struct js_node *sub = cJSON_IsObject(v) ? n->uneval_props : n->uneval_items;
    size_t i = 0;
    for (const cJSON *m = v->child; m; m = m->next, i++) {
        if (ev->seen[i])
            continue;
        if (cJSON_IsObject(v)) {
            if (!m->string)
                continue;
            if (sub->boolean == 0)
                return fail(c, "property '%.*s%s' is not allowed (unevaluatedProperties)",
                            show_len(m->string), m->string, show_more(m->string));
            if (!validate_member(c, sub, m, depth))
                return false;
        } else {
            if (sub->boolean == 0)
                return fail(c, "item %zu is not allowed (unevaluatedItems)", i);
            if (!validate_item(c, sub, m, i, depth))
                return false;
        }
        ev->seen[i] = 1;
    }
    return true;
}

static bool validate_here(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                          struct js_eval *ev)
{
    if (n->ref && !validate(c, n->ref, v, depth + 1, ev))
        return false;
    if (n->types && !type_ok(n->types, v))
        return fail_type(c, n->types, v);
    if (n->enum_vals) {
        bool found = false;
        for (const cJSON *e = n->enum_vals->child; e && !found; e = e->next) {
            int r = json_equal(e, v, 0);
            if (r < 0)
                return fatal(c, "value nested deeper than %d levels",
                             CDP_JSONSCHEMA_MAX_VALUE_DEPTH);
            found = r;
        }
        if (!found)
            return fail(c, "value is not one of the allowed values (enum)");
    }
    if (n->const_val) {
        int r = json_equal(n->const_val, v, 0);
        if (r < 0)
            return fatal(c, "value nested deeper than %d levels", CDP_JSONSCHEMA_MAX_VALUE_DEPTH);
        if (!r)
            return fail(c, "value does not equal the const value");
    }
    bool ok = true;
    if (cJSON_IsNumber(v))
        ok = validate_number(c, n, v->valuedouble);
    else if (cJSON_IsString(v) && v->valuestring)
        ok = validate_string(c, n, v->valuestring);
    else if (cJSON_IsArray(v))
        ok = validate_array(c, n, v, depth, ev);
    else if (cJSON_IsObject(v))
        ok = validate_object(c, n, v, depth, ev);
    return ok && validate_combinators(c, n, v, depth, ev);
}

/* Validates v against n. ev, when given, collects the members/items of v that n evaluated. */
static bool validate(struct vctx *c, const struct js_node *n, const cJSON *v, int depth,
                     struct js_eval *ev)
{
    if (c->fatal)
        return false;
    if (++c->steps > CDP_JSONSCHEMA_MAX_STEPS)
        return fatal(c, "validation needs more than %ld steps", CDP_JSONSCHEMA_MAX_STEPS);
    if (depth > CDP_JSONSCHEMA_MAX_EVAL_DEPTH)
        return fatal(c, "schemas nest deeper than %d levels here (a $ref cycle?)",
                     CDP_JSONSCHEMA_MAX_EVAL_DEPTH);
    if (n->boolean >= 0)
        return n->boolean ? true : fail(c, "no value is allowed here (false schema)");
    bool own = (n->uneval_props && cJSON_IsObject(v)) || (n->uneval_items && cJSON_IsArray(v));
    if (!own)
        return validate_here(c, n, v, depth, ev);
    struct js_eval mine;
    if (!eval_init(c, &mine, v))
        return false;
    bool ok = validate_here(c, n, v, depth, &mine) && validate_unevaluated(c, n, v, depth, &mine);
    if (ok)
        eval_merge(ev, &mine);
    free(mine.seen);
    return ok;
}

bool cdp_jsonschema_validate(const struct cdp_jsonschema *s, const cJSON *doc, char *err,
                             size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    struct vctx c = {.s = s, .err = err, .errlen = errlen};
    if (!s || !doc) {
        if (err && errlen)
            snprintf(err, errlen, ": no schema or no document");
        return false;
    }
    bool ok = validate(&c, s->root, doc, 0, NULL);
    pcre2_match_data_free(c.md);
    if (ok && err && errlen)
        err[0] = '\0';
    return ok;
}
