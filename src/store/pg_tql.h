/* Conditions of the condition language as PostgreSQL expressions over the jsonb document in
 * `doc`, and what runs on them: searches, histograms and counts by value (store.h search,
 * histogram, terms), batch segmentation (segments_apply) and look-ups by key (profiles_find).
 * Private to src/store: store_pg.c calls it with its connection, whose search_path is already
 * the context's schema. Results are always cdp_tql_eval's: what SQL cannot say exactly is
 * evaluated in C on the rows the rest selects. */
#ifndef CDP_STORE_PG_TQL_H
#define CDP_STORE_PG_TQL_H

#include "store/query.h"
#include "store/store.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>

int cdp_pg_search(PGconn *db, const struct cdp_search *q, cJSON **out, long *total);
int cdp_pg_histogram(PGconn *db, const struct cdp_search *q, const struct cdp_histogram *h,
                     cJSON **out);
int cdp_pg_terms(PGconn *db, const struct cdp_search *q, const char *field, int limit, cJSON **out);
/* Runs its own short transactions: call it outside one. */
int cdp_pg_segments_apply(PGconn *db, struct cdp_segment_batch *b);
int cdp_pg_profiles_find(PGconn *db, const cJSON *keys, int limit, cJSON **out);

#endif
