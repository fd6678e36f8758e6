/* What the SQL backends of the store (store/sqlite_tql.c, store/pg_tql.c) share besides the SQL
 * each prints: the whitelist of keys that go into SQL text, the columns that stand for fields,
 * the WHERE of a search built term by term, the condition evaluated in C on the rows it selects
 * and the page and count made from them, values of a field tallied, histogram buckets, and batch
 * segmentation's bookkeeping of memberships. Private to src/store. */
#ifndef CDP_STORE_SEARCH_COMMON_H
#define CDP_STORE_SEARCH_COMMON_H

#include "core/buf.h"
#include "store/query.h"
#include "store/store.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- translation --- */

/* The whitelist: a key goes into SQL text only when it is [A-Za-z0-9_]+ and not all digits
 * (tql.c reads a number as an array index; SQLite's $.0 is an object key, jsonb's #> an array
 * subscript). */
bool cdp_search_key_ok(const char *k);
/* Refuses a translation: *rc CDP_E_UNSUPPORTED and the reason into why, unless *rc is already
 * set (the first failure stands). */
void cdp_search_unsupported(int *rc, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether op is GT, GE, LT or LE, and its SQL operator. */
bool cdp_search_is_order(enum cdp_query_op op);
const char *cdp_search_op_sql(enum cdp_query_op op);

/* A field a table keeps in a column of its own, or reads through an indexed expression. */
enum cdp_col_kind {
    CDP_COL_TEXT,   /* always the field's value, a string (the field is never missing) */
    CDP_COL_ISO_US, /* the field's ISO 8601 time in microseconds; 0 when it is none */
    CDP_COL_TIME,   /* the field's time read by an expression of the document (PostgreSQL's
                     * cdp_iso_us(doc #>> path)), NULL when none: exactly the document's test */
};

struct cdp_col {
    const char *path; /* dot path of the field */
    const char *name; /* the column (or expression) */
    enum cdp_col_kind kind;
};

/* The column of cols that keeps the field of the test n as it is (no fold), or NULL. plain_keys:
 * a key holding a '.' (a bracketed key) is never a column's. */
const struct cdp_col *cdp_search_column(const struct cdp_col *cols, int ncols,
                                        const struct cdp_query_node *n, bool plain_keys);

/* The query of a search: its condition (its fields the kind's), and its time range. */
int cdp_search_query(const struct cdp_search *s, struct cdp_query **q);

/* The WHERE of a search into sql: the terms of q's top-level AND (the first keep of them; the
 * others are left to C) that print() appends to sql, ANDed; `all` when none is. A term print()
 * refuses with CDP_E_UNSUPPORTED (its reason then in why) is left to C, its text taken back
 * (print() takes back its own parameters). *in_c: some term is left to C. 0 or an error. */
int cdp_search_where(struct cdp_query *q, int keep, struct cdp_buf *sql, const char *why,
                     const char *all, int (*print)(void *ud, const struct cdp_query_node *n),
                     void *ud, bool *in_c);

/* --- the condition, pages and counts in C --- */

/* Whether the search's condition holds for doc (a document of its kind). */
int cdp_search_holds(const struct cdp_search *s, cJSON *doc, bool *yes);

/* A page of a search made in C from its candidates in order. */
struct cdp_search_page {
    const struct cdp_search *s;
    cJSON *list; /* the page's documents */
    long matched;
};

/* Takes the next candidate doc (owned; NULL: out of memory): into the page when the condition
 * holds for it and it is one of the page's matches, else freed. *full: no more are wanted (the
 * page is made and max_total counted). */
int cdp_search_page_take(struct cdp_search_page *pg, cJSON *doc, bool *full);
/* The total of a search made so. */
long cdp_search_page_total(const struct cdp_search_page *pg);

/* --- values of a field: group_by of histograms, terms --- */

/* Most distinct values a histogram's group_by or terms counts in C before it gives up. */
#define CDP_SEARCH_MAX_C_VALUES 10000

/* The value at a dot path of plain keys in doc, or NULL. */
const cJSON *cdp_search_at(const cJSON *doc, const char *path);
/* The text values of v: itself when a string, its distinct strings when a list; calls fn for
 * each, and stops at the first nonzero it returns. */
int cdp_search_each_value(const cJSON *v, int (*fn)(void *ud, const char *v), void *ud);

/* Counts per value, in C: map is an object {value: [total, bucket counts...]}. */
struct cdp_tally {
    cJSON *map;
    int nbuckets; /* 0: terms */
    int bucket;   /* of the current document */
    long distinct;
};

/* Counts v (ud a tally) in the current document's bucket; an each_value callback. */
int cdp_tally_add(void *ud, const char *v);
/* The entries of a tally most first (ties by value), at most limit of them, detached into a new
 * array; NULL on OOM. */
cJSON *cdp_tally_top(struct cdp_tally *t, int limit);
/* Groups [{name, counts}] of a histogram from a tally: the top limit values with their bucket
 * counts, into groups. */
int cdp_tally_groups(struct cdp_tally *t, int limit, cJSON *groups);
/* The result of terms from a tally: [{name, value}], the top limit values. */
int cdp_tally_terms(struct cdp_tally *t, int limit, cJSON **out);

/* --- histograms --- */

/* The bucket of h a document with time t_us falls in (timed: it has one); false when h has none
 * for it. Without h (terms) every document is in bucket 0. */
bool cdp_histogram_bucket(const struct cdp_histogram *h, bool timed, int64_t t_us, int *bucket);
/* Counts a document of bucket b: in total, in counts[b] (counts NULL: none), and its values
 * (values: what it holds at the path of t) in t (NULL: none). */
int cdp_histogram_count(long *total, long *counts, int b, struct cdp_tally *t, const cJSON *values);
/* Adds n documents of bucket b (as SQL counted them; a b out of h's range is none of them). */
void cdp_histogram_add(const struct cdp_histogram *h, int64_t b, long n, long *counts, long *total);
/* The buckets' counts of lo ... hi (those of [lo, hi] within [from_us, to_us]) for bucket i;
 * false when they do not meet. */
bool cdp_histogram_span(const struct cdp_histogram *h, int i, int64_t from_us, int64_t to_us,
                        int64_t *lo, int64_t *hi);
cJSON *cdp_histogram_counts_json(const long *c, int n);

/* What a histogram builds: its counts and result. */
struct cdp_histogram_out {
    long *counts; /* nbuckets of them */
    long total;
    cJSON *res;
    cJSON *groups; /* res's "groups" when h has a group_by */
    struct cdp_tally t;
};

/* Starts o for h (already checked). 0 or CDP_E_NOMEM. */
int cdp_histogram_begin(struct cdp_histogram_out *o, const struct cdp_histogram *h);
/* Ends o: with rc 0, *out is the result {groups or counts, total}; rc is returned. */
int cdp_histogram_end(struct cdp_histogram_out *o, const struct cdp_histogram *h, int rc,
                      cJSON **out);

/* --- batch segmentation --- */

/* Sets b's defaults (chunk, txn_rows where 0) and clears its counts and its passes' results. */
void cdp_segments_begin(struct cdp_segment_batch *b, int chunk, int txn_rows);
/* Applies n segments' verdicts to the segments of doc (a profile, or a stub holding only its
 * segments) with live segmentation's cdp_segment_set_member. verdict(ud, i, &pass, &yes) gives
 * segment i's pass and whether its condition holds. Bit i of *add (*del) says segment i was
 * joined (left). 0 or a negative error. */
int cdp_segments_judge(cJSON *doc, int n, int64_t now_us,
                       int (*verdict)(void *ud, int i, struct cdp_segment_pass **p, bool *yes),
                       void *ud, uint32_t *add, uint32_t *del);
/* Counts a written change (bit i of add/del) in pass p, the group's i-th. */
void cdp_segments_count(struct cdp_segment_pass *p, int i, uint32_t add, uint32_t del);

#endif
