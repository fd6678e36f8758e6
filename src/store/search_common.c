/* What the SQL backends of the store share besides the SQL each prints (search_common.h). */
#include "store/search_common.h"

#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/segment.h"
#include "flow/tql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- translation --- */

bool cdp_search_key_ok(const char *k)
{
    bool digits_only = true;
    if (!*k)
        return false;
    for (const char *p = k; *p; p++) {
        char ch = *p;
        bool digit = ch >= '0' && ch <= '9';
        if (!digit && !(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && ch != '_')
            return false;
        digits_only = digits_only && digit;
    }
    return !digits_only;
}

void cdp_search_unsupported(int *rc, char *why, size_t whylen, const char *fmt, ...)
{
    if (*rc)
        return;
    *rc = CDP_E_UNSUPPORTED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

bool cdp_search_is_order(enum cdp_query_op op)
{
    return op == CDP_QUERY_GT || op == CDP_QUERY_GE || op == CDP_QUERY_LT || op == CDP_QUERY_LE;
}

const char *cdp_search_op_sql(enum cdp_query_op op)
{
    return op == CDP_QUERY_GT ? ">" : op == CDP_QUERY_GE ? ">=" : op == CDP_QUERY_LT ? "<" : "<=";
}

const struct cdp_col *cdp_search_column(const struct cdp_col *cols, int ncols,
                                        const struct cdp_query_node *n, bool plain_keys)
{
    char dotted[400];
    size_t len = 0;
    if (n->fold != CDP_QUERY_AS_IS)
        return NULL;
    for (int k = 0; k < n->nkeys; k++) {
        if (plain_keys && strchr(n->keys[k], '.')) /* a bracketed key: not the column's path */
            return NULL;
        len += (size_t)snprintf(dotted + len, len < sizeof(dotted) ? sizeof(dotted) - len : 0,
                                "%s%s", k ? "." : "", n->keys[k]);
        if (len >= sizeof(dotted))
            return NULL;
    }
    for (int i = 0; i < ncols; i++)
        if (strcmp(cols[i].path, dotted) == 0)
            return &cols[i];
    return NULL;
}

int cdp_search_query(const struct cdp_search *s, struct cdp_query **q)
{
    int rc = cdp_query_new(q, s->where, s->now_us, cdp_doc_source(s->kind));
    if (!rc && s->ranged)
        rc = cdp_query_add_range(*q, cdp_doc_time_field(s->kind), s->from_us, s->to_us);
    return rc;
}

int cdp_search_where(struct cdp_query *q, int keep, struct cdp_buf *sql, const char *why,
                     const char *all, int (*print)(void *ud, const struct cdp_query_node *n),
                     void *ud, bool *in_c)
{
    int n, printed = 0, rc = 0;
    struct cdp_query_node *const *terms = cdp_query_terms(q, &n);
    for (int i = 0; i < n && !rc; i++) {
        if (terms[i]->op == CDP_QUERY_TRUE)
            continue;
        if (i >= keep) {
            *in_c = true;
            continue;
        }
        size_t len = sql->len;
        if (printed && cdp_buf_puts(sql, " AND "))
            return CDP_E_NOMEM;
        rc = print(ud, terms[i]);
        if (rc == CDP_E_UNSUPPORTED) { /* this term is C's */
            cdp_debug("search: evaluated in C: %s", why);
            sql->len = len;
            if (sql->data)
                sql->data[len] = '\0';
            sql->failed = false;
            *in_c = true;
            rc = 0;
            continue;
        }
        printed++;
    }
    if (!rc && !printed && cdp_buf_puts(sql, all))
        rc = CDP_E_NOMEM;
    if (!rc && sql->failed)
        rc = CDP_E_NOMEM;
    return rc;
}

/* --- the condition, pages and counts in C --- */

int cdp_search_holds(const struct cdp_search *s, cJSON *doc, bool *yes)
{
    struct cdp_refs r = {0};
    cJSON **slot = s->kind == CDP_DOC_PROFILE   ? &r.profile
                   : s->kind == CDP_DOC_SESSION ? &r.session
                                                : &r.event;
    *slot = doc;
    char err[160];
    *yes = true;
    return s->where ? cdp_tql_eval(s->where, &r, s->now_us, yes, err, sizeof(err)) : 0;
}

int cdp_search_page_take(struct cdp_search_page *pg, cJSON *doc, bool *full)
{
    const struct cdp_search *s = pg->s;
    long end = (long)s->start + s->limit;
    bool yes = false;
    *full = false;
    if (!doc)
        return CDP_E_NOMEM;
    int rc = cdp_search_holds(s, doc, &yes);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    if (yes && pg->matched >= s->start && pg->matched < end) {
        if (!cJSON_AddItemToArray(pg->list, doc)) {
            cJSON_Delete(doc);
            return CDP_E_NOMEM;
        }
    } else {
        cJSON_Delete(doc);
    }
    pg->matched += yes;
    *full = pg->matched >= end && s->max_total > 0 && pg->matched >= s->max_total;
    return 0;
}

long cdp_search_page_total(const struct cdp_search_page *pg)
{
    long max = pg->s->max_total;
    return max > 0 && pg->matched > max ? max : pg->matched;
}

/* --- values of a field --- */

const cJSON *cdp_search_at(const cJSON *doc, const char *path)
{
    char key[80];
    const cJSON *cur = doc;
    for (const char *s = path; cur && *s;) {
        size_t n = strcspn(s, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, s);
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
        s += n + (s[n] == '.');
    }
    return cur;
}

int cdp_search_each_value(const cJSON *v, int (*fn)(void *ud, const char *v), void *ud)
{
    if (cJSON_IsString(v))
        return fn(ud, v->valuestring);
    if (!cJSON_IsArray(v))
        return 0;
    const cJSON *it, *before;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            continue;
        bool dup = false;
        for (before = v->child; before != it && !dup; before = before->next)
            dup = cJSON_IsString(before) && strcmp(before->valuestring, it->valuestring) == 0;
        int rc = dup ? 0 : fn(ud, it->valuestring);
        if (rc)
            return rc;
    }
    return 0;
}

int cdp_tally_add(void *ud, const char *v)
{
    struct cdp_tally *t = ud;
    cJSON *e = cJSON_GetObjectItemCaseSensitive(t->map, v);
    if (!e) {
        if (++t->distinct > CDP_SEARCH_MAX_C_VALUES)
            return CDP_E_INVALID;
        e = cJSON_CreateArray();
        for (int i = 0; e && i <= t->nbuckets; i++)
            cJSON_AddItemToArray(e, cJSON_CreateNumber(0));
        if (!e || cJSON_GetArraySize(e) != t->nbuckets + 1 ||
            !cJSON_AddItemToObject(t->map, v, e)) {
            cJSON_Delete(e);
            return CDP_E_NOMEM;
        }
    }
    cJSON *n = cJSON_GetArrayItem(e, 0);
    cJSON_SetNumberValue(n, n->valuedouble + 1);
    if (t->nbuckets) {
        n = cJSON_GetArrayItem(e, t->bucket + 1);
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    }
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double nx = x->child->valuedouble, ny = y->child->valuedouble;
    return nx > ny ? -1 : nx < ny ? 1 : strcmp(x->string, y->string);
}

cJSON *cdp_tally_top(struct cdp_tally *t, int limit)
{
    int n = cJSON_GetArraySize(t->map), k = 0;
    cJSON **v = malloc((size_t)(n ? n : 1) * sizeof(*v)), *out = cJSON_CreateArray(), *e;
    if (!v || !out) {
        free(v);
        cJSON_Delete(out);
        return NULL;
    }
    cJSON_ArrayForEach(e, t->map)
    {
        v[k++] = e;
    }
    qsort(v, (size_t)n, sizeof(*v), by_count);
    for (int i = 0; i < n && i < limit; i++)
        cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(t->map, v[i]));
    free(v);
    return out;
}

int cdp_tally_groups(struct cdp_tally *t, int limit, cJSON *groups)
{
    cJSON *top = cdp_tally_top(t, limit), *e;
    if (!top)
        return CDP_E_NOMEM;
    cJSON_ArrayForEach(e, top)
    {
        cJSON *g = cJSON_CreateObject(), *counts = cJSON_Duplicate(e, true);
        cJSON_DeleteItemFromArray(counts, 0); /* the total */
        cdp_json_put_str(g, "name", e->string);
        cdp_json_put(g, "counts", counts);
        cJSON_AddItemToArray(groups, g);
    }
    cJSON_Delete(top);
    return 0;
}

int cdp_tally_terms(struct cdp_tally *t, int limit, cJSON **out)
{
    cJSON *top = cdp_tally_top(t, limit), *e;
    if (!top)
        return CDP_E_NOMEM;
    cJSON *list = cJSON_CreateArray(), *from = list ? top : NULL;
    cJSON_ArrayForEach(e, from)
    {
        cJSON *x = cJSON_CreateObject();
        cdp_json_put_str(x, "name", e->string);
        cdp_json_put_num(x, "value", e->child->valuedouble);
        cJSON_AddItemToArray(list, x);
    }
    cJSON_Delete(top);
    *out = list;
    return 0;
}

/* --- histograms --- */

bool cdp_histogram_bucket(const struct cdp_histogram *h, bool timed, int64_t t_us, int *bucket)
{
    int64_t b = h ? (t_us - h->origin_us) / h->width_us : 0;
    *bucket = (int)b;
    return !h || (timed && b >= 0 && b < h->nbuckets);
}

int cdp_histogram_count(long *total, long *counts, int b, struct cdp_tally *t, const cJSON *values)
{
    ++*total;
    if (counts)
        counts[b]++;
    if (!t)
        return 0;
    t->bucket = b;
    return cdp_search_each_value(values, cdp_tally_add, t);
}

void cdp_histogram_add(const struct cdp_histogram *h, int64_t b, long n, long *counts, long *total)
{
    if (b >= 0 && b < h->nbuckets) {
        counts[b] += n;
        *total += n;
    }
}

bool cdp_histogram_span(const struct cdp_histogram *h, int i, int64_t from_us, int64_t to_us,
                        int64_t *lo, int64_t *hi)
{
    int64_t l = h->origin_us + i * h->width_us, u = l + h->width_us - 1;
    *lo = l > from_us ? l : from_us;
    *hi = u < to_us ? u : to_us;
    return *lo <= *hi;
}

cJSON *cdp_histogram_counts_json(const long *c, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

int cdp_histogram_begin(struct cdp_histogram_out *o, const struct cdp_histogram *h)
{
    memset(o, 0, sizeof(*o));
    o->counts = calloc((size_t)h->nbuckets, sizeof(long));
    o->res = cJSON_CreateObject();
    o->t.nbuckets = h->nbuckets;
    if (!o->counts || !o->res ||
        (h->group_by && !(o->groups = cJSON_AddArrayToObject(o->res, "groups")))) {
        free(o->counts);
        cJSON_Delete(o->res);
        memset(o, 0, sizeof(*o));
        return CDP_E_NOMEM;
    }
    return 0;
}

int cdp_histogram_end(struct cdp_histogram_out *o, const struct cdp_histogram *h, int rc,
                      cJSON **out)
{
    cJSON_Delete(o->t.map);
    cdp_json_put_num(o->res, "total", (double)o->total);
    if (!rc && !h->group_by)
        cdp_json_put(o->res, "counts", cdp_histogram_counts_json(o->counts, h->nbuckets));
    free(o->counts);
    if (rc)
        cJSON_Delete(o->res);
    else
        *out = o->res;
    memset(o, 0, sizeof(*o));
    return rc;
}

/* --- batch segmentation --- */

void cdp_segments_begin(struct cdp_segment_batch *b, int chunk, int txn_rows)
{
    if (b->chunk <= 0)
        b->chunk = chunk;
    if (b->txn_rows <= 0)
        b->txn_rows = txn_rows;
    b->scanned = 0;
    for (size_t i = 0; i < b->nsegs; i++) {
        struct cdp_segment_pass *p = &b->segs[i];
        p->applied = p->translated = false;
        p->added = p->removed = 0;
    }
}

static bool has_name(const cJSON *segs, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, segs)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return true;
    }
    return false;
}

int cdp_segments_judge(cJSON *doc, int n, int64_t now_us,
                       int (*verdict)(void *ud, int i, struct cdp_segment_pass **p, bool *yes),
                       void *ud, uint32_t *add, uint32_t *del)
{
    int rc = 0;
    *add = *del = 0;
    for (int i = 0; i < n && rc >= 0; i++) {
        struct cdp_segment_pass *p = NULL;
        bool yes = false;
        if ((rc = verdict(ud, i, &p, &yes)) < 0)
            break;
        bool was = has_name(cJSON_GetObjectItemCaseSensitive(doc, "segments"), p->name);
        rc = cdp_segment_set_member(doc, p->name, p->remove_when_false, yes, now_us);
        if (rc > 0) /* a change adds a missing name or removes one occurrence */
            *(was ? del : add) |= 1u << i;
    }
    return rc < 0 ? rc : 0;
}

void cdp_segments_count(struct cdp_segment_pass *p, int i, uint32_t add, uint32_t del)
{
    p->added += (add >> i) & 1;
    p->removed += (del >> i) & 1;
}
