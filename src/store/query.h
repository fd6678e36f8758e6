/* Conditions of the condition language (flow/tql.h) as queries a store backend compiles, and the
 * searches of the store seam (store.h search, histogram, terms) that take them.
 *
 * This is the one translation step every backend shares. cdp_tql_describe's tree (functions of
 * constants folded at a given now) becomes a small typed tree whose tests each compare one
 * field of the document with one constant, already normalised the way tql.c evaluates: a
 * constant on the left of an ordering moves to the right (5 < x is x > 5), BETWEEN is two
 * tests, a comparison with a missing value is FALSE, lowercase()/uppercase() of a field is a
 * fold on the field. What has no meaning as "a field of this document against a constant" is a
 * RESIDUAL node with its reason: a field of another document (event@ in a profile condition),
 * a field against a field, other functions of fields, a number as a key (tql.c reads `a.0` as
 * an array index), the whole document. A backend compiles the rest into its own language
 * (store/sqlite_tql.c: SQL over JSON text; PostgreSQL: jsonb) and may refuse more, with its
 * own reason. A search then runs the exact part in the store and evaluates the whole condition
 * with cdp_tql_eval on the rows that part selects, so its results are always the evaluator's. */
#ifndef CDP_STORE_QUERY_H
#define CDP_STORE_QUERY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct cdp_tql;

enum cdp_query_op {
    CDP_QUERY_FALSE,
    CDP_QUERY_TRUE,
    CDP_QUERY_AND, /* kids */
    CDP_QUERY_OR,  /* kids */
    CDP_QUERY_NOT, /* kids[0] */
    /* field OP value */
    CDP_QUERY_EQ, /* a list value: membership, or equality with a list field */
    CDP_QUERY_NE, /* the field exists and is not EQ */
    CDP_QUERY_GT,
    CDP_QUERY_GE,
    CDP_QUERY_LT,
    CDP_QUERY_LE,
    CDP_QUERY_CONTAINS,
    CDP_QUERY_STARTS,
    CDP_QUERY_ENDS,
    /* field OP */
    CDP_QUERY_IS_NULL,
    CDP_QUERY_NOT_NULL,
    CDP_QUERY_EXISTS,
    CDP_QUERY_NOT_EXISTS,
    CDP_QUERY_EMPTY,
    CDP_QUERY_NOT_EMPTY,
    CDP_QUERY_RESIDUAL, /* what only cdp_tql_eval can say: why */
};

enum cdp_query_kind {
    CDP_QV_NULL,
    CDP_QV_BOOL,
    CDP_QV_NUM,
    CDP_QV_STR,
    CDP_QV_TIME, /* a datetime: strings compare with it as ISO 8601 times */
    CDP_QV_LIST, /* a JSON array of literals */
    CDP_QV_OTHER,
};

struct cdp_query_value {
    enum cdp_query_kind kind;
    bool b;
    double num;
    const char *s;
    int64_t time_us; /* microseconds since the epoch */
    const cJSON *list;
};

enum cdp_query_fold { CDP_QUERY_AS_IS, CDP_QUERY_LOWER, CDP_QUERY_UPPER };

struct cdp_query_node {
    enum cdp_query_op op;
    struct cdp_query_node **kids;
    int nkids;
    /* a test: the field as keys under the document (nkeys >= 1; none is all digits) */
    const char **keys;
    int nkeys;
    enum cdp_query_fold fold; /* compare lowercase()/uppercase() of the field (strings only) */
    struct cdp_query_value value;
    const char *why; /* RESIDUAL */
};

/* A query owns its nodes and the strings they point into. */
struct cdp_query {
    struct cdp_query_node *root;
    bool exact;                    /* no RESIDUAL node */
    char why[160];                 /* the first RESIDUAL's reason */
    char other_source[16];         /* the first field of another document's source ("" if none) */
    cJSON *desc;                   /* owned: cdp_tql_describe's tree, when built from a condition */
    struct cdp_query_arena *arena; /* nodes and the keys added by cdp_query_add_range */
};

/* The query of cond as of now_us (cond NULL: TRUE), whose fields are those of source@
 * ("profile", "event", "session"). 0 or CDP_E_NOMEM. */
int cdp_query_new(struct cdp_query **out, const struct cdp_tql *cond, int64_t now_us,
                  const char *source);
/* The same from a cdp_tql_describe tree, which the query borrows (it must outlive the query). */
int cdp_query_from_desc(struct cdp_query **out, const cJSON *desc, const char *source);
void cdp_query_free(struct cdp_query *q);
/* Makes the root `root AND field >= from AND field <= to`, the field (a dot path of plain keys)
 * compared as a time (an ISO 8601 string), as a time range of a search is. */
int cdp_query_add_range(struct cdp_query *q, const char *dotted, int64_t from_us, int64_t to_us);
/* Whether n and everything under it is exact (no RESIDUAL). */
bool cdp_query_is_exact(const struct cdp_query_node *n);
/* The terms of the top-level AND of q (the root alone when it is no AND): a search selects its
 * candidates with the exact ones. *n is their number; the array is q's. */
struct cdp_query_node *const *cdp_query_terms(struct cdp_query *q, int *n);

/* --- searches (store.h search, histogram, terms) --- */

/* The documents a search reads. Each has a time that ranges, histograms and the order of
 * results go by, as Tracardi's: a profile's metadata.time.update (ties by metadata.time.insert),
 * a session's and an event's metadata.time.insert, read as ISO 8601 times. */
enum cdp_doc_kind { CDP_DOC_PROFILE, CDP_DOC_SESSION, CDP_DOC_EVENT };

struct cdp_search {
    enum cdp_doc_kind kind;
    const struct cdp_tql *where; /* NULL: every document; its fields are the kind's */
    int64_t now_us;              /* now() of the condition */
    bool ranged;                 /* only documents whose time is within [from_us, to_us] */
    int64_t from_us, to_us;
    int start, limit; /* the page: ranged, newest first by time; else newest stored first */
    long max_total;   /* count matches up to this many (<= 0: all of them) */
};

/* Buckets of a histogram: bucket i holds the times [origin + i * width, origin + (i+1) * width). */
struct cdp_histogram {
    int64_t origin_us, width_us;
    int nbuckets;
    const char *group_by; /* NULL, or a dot path of plain keys: counts per value of it */
    int group_limit;      /* the values with most documents, at most this many */
};

/* The dot path of the time of kind k ("metadata.time.update"). */
const char *cdp_doc_time_field(enum cdp_doc_kind k);
/* The source name of kind k's fields ("profile", "session", "event"). */
const char *cdp_doc_source(enum cdp_doc_kind k);
/* Whether s is a dot path of plain keys ([A-Za-z0-9_], none all digits), as group_by and terms
 * take. */
bool cdp_query_plain_path(const char *s);

#endif
