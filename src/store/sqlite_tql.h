/* Conditions of the condition language (flow/tql.h) as SQLite expressions over a document in the
 * column `doc`, printed from the backend-neutral queries of store/query.h, and what is built on
 * them: batch segmentation (store.h segments_apply), searches, histograms and counts by value
 * (store.h search, histogram, terms). Private to src/store: store_sqlite.c calls it with its
 * connection. */
#ifndef CDP_STORE_SQLITE_TQL_H
#define CDP_STORE_SQLITE_TQL_H

#include "core/buf.h"
#include "store/store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

enum cdp_sql_param_kind { CDP_SQL_TEXT, CDP_SQL_BLOB, CDP_SQL_REAL, CDP_SQL_INT };

struct cdp_sql_param {
    enum cdp_sql_param_kind kind;
    char *bytes; /* TEXT, BLOB: owned */
    size_t len;
    double real;
    int64_t i;
};

/* A translated condition: an SQL expression that is true exactly where cdp_tql_eval is true
 * for the profile in `doc` alone, and false or NULL elsewhere; its values are parameters
 * ?base+1 ... ?base+nparams, never SQL text. */
struct cdp_sql_cond {
    struct cdp_buf sql;
    struct cdp_sql_param *params;
    int nparams, cap;
    int base;
    char why[160]; /* CDP_E_UNSUPPORTED: what could not be translated */
};

/* Translates a condition described by cdp_tql_describe. ascii_case says whether this
 * connection's lower()/upper() change ASCII letters only, as lowercase()/uppercase() do.
 * 0; CDP_E_UNSUPPORTED with the reason in out->why; CDP_E_NOMEM. Free with _fini either way. */
int cdp_sql_cond_translate(const cJSON *desc, int base, bool ascii_case, struct cdp_sql_cond *out);
void cdp_sql_cond_fini(struct cdp_sql_cond *c);
/* Binds c's parameters to st. */
int cdp_sql_cond_bind(const struct cdp_sql_cond *c, sqlite3_stmt *st);
/* Adds the functions translated conditions call (cdp_iso_us) to db, and says whether db's
 * lower()/upper() are ASCII-only. */
int cdp_sql_cond_register(sqlite3 *db, bool *ascii_case);

/* store.h segments_apply on the connection db. */
int cdp_sqlite_segments_apply(sqlite3 *db, struct cdp_segment_batch *b);

struct cdp_search;
struct cdp_histogram;
/* store.h search, histogram and terms on the connection db. */
int cdp_sqlite_search(sqlite3 *db, const struct cdp_search *s, cJSON **out, long *total);
int cdp_sqlite_histogram(sqlite3 *db, const struct cdp_search *s, const struct cdp_histogram *h,
                         cJSON **out);
int cdp_sqlite_terms(sqlite3 *db, const struct cdp_search *s, const char *field, int limit,
                     cJSON **out);

#endif
