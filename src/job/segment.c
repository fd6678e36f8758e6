/* Batch segmentation (segment.h): loads and compiles the enabled segments, lets the store
 * evaluate the conditions it can translate, and evaluates the others here with the same code as
 * live segmentation. A page of profiles is read and judged without a transaction; only the
 * profiles that change are read again, judged again and written, inside a short one, so a
 * profile the pipeline changed in between is judged as it is when written. */
#include "job/segment.h"

#include "cache/cache.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/segment.h"
#include "flow/tql.h"
#include "job/schedule.h"
#include "store/cluster.h"
#include "store/store.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_CHUNK   1000
#define SEGMENT_PAGE 500
#define FALLBACK_TXN 250

struct job {
    struct cdp_store *s;
    const struct cdp_segment_job_opts *o;
    struct cdp_segment **segs;
    char **ids; /* segment entity ids */
    struct cdp_segment_pass *passes;
    int n, cap;
    int lo, hi; /* the phase being run: passes[lo..hi) */
    cJSON *skipped;
    long scanned;
    char *err;
    size_t errlen;
};

static int failf(struct job *j, int rc, const char *what)
{
    snprintf(j->err, j->errlen, "%s: %s", what, cdp_err_str(rc));
    return rc;
}

static int add_segment(struct job *j, const cJSON *doc)
{
    if (!cdp_json_flag(doc, "enabled", true))
        return 0;
    const char *id = cdp_json_str(doc, "id");
    struct cdp_segment *seg;
    char why[300];
    int rc = cdp_segment_compile(doc, &seg, why, sizeof(why));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc) {
        cdp_warn("segment job: segment %s skipped: %s", id ? id : "?", why);
        cJSON *sk = cJSON_CreateObject();
        cJSON_AddStringToObject(sk, "id", id ? id : "");
        cJSON_AddStringToObject(sk, "why", why);
        cJSON_AddItemToArray(j->skipped, sk);
        return 0;
    }
    if (j->n == j->cap) {
        int cap = j->cap ? j->cap * 2 : 16;
        struct cdp_segment **segs = realloc(j->segs, (size_t)cap * sizeof(*segs));
        if (segs)
            j->segs = segs;
        char **ids = realloc(j->ids, (size_t)cap * sizeof(*ids));
        if (ids)
            j->ids = ids;
        if (!segs || !ids) {
            cdp_segment_free(seg);
            return CDP_E_NOMEM;
        }
        j->cap = cap;
    }
    j->ids[j->n] = strdup(id ? id : "");
    j->segs[j->n++] = seg;
    return j->ids[j->n - 1] ? 0 : CDP_E_NOMEM;
}

static int load_segments(struct job *j)
{
    for (int start = 0;; start += SEGMENT_PAGE) {
        cJSON *list = NULL;
        long total = 0;
        int rc = j->s->ops->entity_list(j->s, "segment", NULL, start, SEGMENT_PAGE, &list, &total);
        if (rc)
            return failf(j, rc, "cannot read the segments");
        const cJSON *d;
        cJSON_ArrayForEach(d, list)
        {
            if ((rc = add_segment(j, d))) {
                cJSON_Delete(list);
                return failf(j, rc, "cannot load the segments");
            }
        }
        int got = cJSON_GetArraySize(list);
        cJSON_Delete(list);
        if (got < SEGMENT_PAGE || start + got >= total)
            return 0;
    }
}

static bool stopped(const struct job *j)
{
    return j->o->stop && j->o->stop(j->o->ud);
}

static bool is_member(const cJSON *profile, const char *name)
{
    const cJSON *segs = cJSON_GetObjectItemCaseSensitive(profile, "segments"), *it;
    if (!cJSON_IsArray(segs))
        return false;
    cJSON_ArrayForEach(it, segs)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return true;
    }
    return false;
}

/* Applies the phase's segments the store left to C to profile; 1 when it changed. With counts, the
 * joins and leaves are added to the passes. */
static int judge(struct job *j, cJSON *profile, bool counts)
{
    int changed = 0;
    for (int i = j->lo; i < j->hi; i++) {
        struct cdp_segment_pass *p = &j->passes[i];
        if (p->applied)
            continue;
        bool was = counts && is_member(profile, p->name);
        int rc = cdp_segment_apply(j->segs[i], profile, NULL, NULL, j->o->now_us);
        if (rc < 0)
            return rc;
        if (rc && counts) /* a change adds a missing name or removes one occurrence */
            *(was ? &p->removed : &p->added) += 1;
        changed |= rc;
    }
    return changed;
}

/* Re-reads, re-judges and writes the profiles whose ids are in ids, inside one transaction. */
static int write_changed(struct job *j, const cJSON *ids, int from, int count)
{
    struct cdp_store *s = j->s;
    int rc = s->ops->begin(s);
    if (rc)
        return failf(j, rc, "cannot begin a transaction");
    for (int i = from; i < from + count && !rc; i++) {
        cJSON *p = NULL;
        rc = s->ops->profile_get(s, cJSON_GetArrayItem(ids, i)->valuestring, &p);
        if (rc == CDP_E_NOT_FOUND) { /* erased or merged away meanwhile */
            rc = 0;
            continue;
        }
        if (!rc && (rc = judge(j, p, true)) > 0)
            rc = s->ops->profile_put(s, p);
        cJSON_Delete(p);
    }
    if (!rc && (rc = s->ops->commit(s)) == 0)
        return 0;
    s->ops->rollback(s);
    return failf(j, rc, "cannot write profiles");
}

/* The segments the store did not translate, judged here a page of profiles at a time. */
static int run_fallback(struct job *j)
{
    int chunk = j->o->scan_chunk > 0 ? j->o->scan_chunk : SCAN_CHUNK;
    int txn = j->o->txn_rows > 0 ? j->o->txn_rows : FALLBACK_TXN;
    char *after = strdup("");
    long scanned = 0;
    double t0 = cdp_clock_mono();
    int rc = after ? 0 : failf(j, CDP_E_NOMEM, "cannot scan profiles");
    while (!rc) {
        if (stopped(j)) {
            rc = CDP_E_UNAVAILABLE;
            snprintf(j->err, j->errlen, "stopped");
            break;
        }
        cJSON *page = NULL, *changed = cJSON_CreateArray();
        if (!changed || (rc = j->s->ops->profiles_scan(j->s, after, chunk, &page))) {
            cJSON_Delete(changed);
            rc = failf(j, rc ? rc : CDP_E_NOMEM, "cannot scan profiles");
            break;
        }
        cJSON *p;
        cJSON_ArrayForEach(p, page)
        {
            const char *id = cdp_json_str(p, "id");
            scanned++;
            if (!id)
                continue;
            int c = judge(j, p, false);
            if (c < 0) {
                rc = failf(j, c, "cannot evaluate segments");
                break;
            }
            if (c)
                cJSON_AddItemToArray(changed, cJSON_CreateString(id));
            free(after);
            if (!(after = strdup(id))) {
                rc = failf(j, CDP_E_NOMEM, "cannot scan profiles");
                break;
            }
        }
        int got = cJSON_GetArraySize(page), nchanged = cJSON_GetArraySize(changed);
        if (!rc && nchanged && stopped(j)) {
            rc = CDP_E_UNAVAILABLE;
            snprintf(j->err, j->errlen, "stopped");
        }
        for (int i = 0; !rc && i < nchanged; i += txn)
            rc = write_changed(j, changed, i, nchanged - i < txn ? nchanged - i : txn);
        cJSON_Delete(page);
        cJSON_Delete(changed);
        if (got < chunk)
            break;
    }
    free(after);
    cdp_debug("segment job: %d conditions evaluated in C over %ld profiles: %.2f s", j->hi - j->lo,
              scanned, cdp_clock_mono() - t0);
    if (scanned > j->scanned)
        j->scanned = scanned;
    return rc;
}

/* Whether a described condition reads what segmentation writes (segments,
 * metadata.time.segmentation, or a document holding one of them). */
static bool reads_segmentation(const cJSON *d)
{
    static const char *const written[][3] = {{"segments"}, {"metadata", "time", "segmentation"}};
    if (cJSON_IsObject(d) && cdp_json_str(d, "field")) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(d, "path");
        if (strcmp(cdp_json_str(d, "field"), "profile") != 0)
            return false;
        for (size_t w = 0; w < 2; w++) {
            const cJSON *k = path ? path->child : NULL;
            size_t i = 0;
            for (; k && i < 3 && written[w][i]; k = k->next, i++)
                if (!cJSON_IsString(k) || strcmp(k->valuestring, written[w][i]) != 0)
                    break;
            if (!k || i == 3 || !written[w][i]) /* one path is a prefix of the other */
                return true;
        }
        return false;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, d)
    {
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && reads_segmentation(c))
            return true;
    }
    return false;
}

/* Runs passes[lo..hi): the store's part, then what it left to C. */
static int run_phase(struct job *j, int lo, int hi)
{
    const struct cdp_segment_job_opts *o = j->o;
    struct cdp_store *s = j->s;
    j->lo = lo;
    j->hi = hi;
    int rc = 0;
    if (!o->no_translate && s->ops->segments_apply) {
        struct cdp_segment_batch b = {.segs = j->passes + lo,
                                      .nsegs = (size_t)(hi - lo),
                                      .now_us = o->now_us,
                                      .chunk = o->chunk,
                                      .txn_rows = o->txn_rows,
                                      .stop = o->stop,
                                      .ud = o->ud};
        rc = s->ops->segments_apply(s, &b);
        if (b.scanned > j->scanned)
            j->scanned = b.scanned;
        if (rc == CDP_E_UNSUPPORTED)
            rc = 0; /* every condition is for C */
        else if (rc == CDP_E_UNAVAILABLE)
            snprintf(j->err, j->errlen, "stopped");
        else if (rc)
            failf(j, rc, "the store's segmentation failed");
    }
    bool any_fallback = false;
    for (int i = lo; i < hi; i++)
        any_fallback = any_fallback || !j->passes[i].applied;
    if (!rc && any_fallback)
        rc = run_fallback(j);
    return rc;
}

/* Live segmentation applies segments one after the other, so a condition on segments (or on
 * metadata.time.segmentation) sees the segments before it and none after. Segments that do not
 * read them can run in any order; those that do run alone, after the ones before them. */
static int run_phases(struct job *j)
{
    bool *reads = calloc(j->n > 0 ? (size_t)j->n : 1, sizeof(*reads));
    if (!reads)
        return failf(j, CDP_E_NOMEM, "segment job");
    for (int i = 0; i < j->n; i++) {
        cJSON *d = NULL;
        if (cdp_tql_describe(j->passes[i].cond, j->o->now_us, &d)) {
            free(reads);
            return failf(j, CDP_E_NOMEM, "segment job");
        }
        reads[i] = reads_segmentation(d);
        cJSON_Delete(d);
    }
    int rc = 0;
    for (int lo = 0, hi; lo < j->n && !rc; lo = hi) {
        hi = lo + 1;
        while (!reads[lo] && hi < j->n && !reads[hi])
            hi++;
        rc = run_phase(j, lo, hi);
    }
    free(reads);
    return rc;
}

static cJSON *summary(const struct job *j, double seconds)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "job", "segment");
    cJSON_AddNumberToObject(out, "profiles", (double)j->scanned);
    cJSON_AddNumberToObject(out, "seconds", round(seconds * 1000) / 1000);
    cJSON *segs = cJSON_AddArrayToObject(out, "segments");
    cJSON *tr = cJSON_AddArrayToObject(out, "translated");
    cJSON *fb = cJSON_AddArrayToObject(out, "fallback");
    for (int i = 0; i < j->n; i++) {
        const struct cdp_segment_pass *p = &j->passes[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "id", j->ids[i]);
        cJSON_AddStringToObject(s, "machine_name", p->name);
        cJSON_AddBoolToObject(s, "translated", p->translated);
        cJSON_AddNumberToObject(s, "added", (double)p->added);
        cJSON_AddNumberToObject(s, "removed", (double)p->removed);
        cJSON_AddItemToArray(segs, s);
        cJSON_AddItemToArray(p->translated ? tr : fb, cJSON_CreateString(p->name));
    }
    cJSON_AddItemToObject(out, "skipped", cJSON_Duplicate(j->skipped, true));
    return out;
}

int cdp_segment_job_run(struct cdp_store *s, const struct cdp_segment_job_opts *o, cJSON **out,
                        char *err, size_t errlen)
{
    double t0 = cdp_clock_mono();
    struct job j = {.s = s, .o = o, .skipped = cJSON_CreateArray(), .err = err, .errlen = errlen};
    *out = NULL;
    int rc = j.skipped ? load_segments(&j) : failf(&j, CDP_E_NOMEM, "segment job");
    if (!rc && j.n && !(j.passes = calloc((size_t)j.n, sizeof(*j.passes))))
        rc = failf(&j, CDP_E_NOMEM, "segment job");
    for (int i = 0; !rc && i < j.n; i++)
        j.passes[i] = (struct cdp_segment_pass){
            .name = cdp_segment_machine_name(j.segs[i]),
            .cond = cdp_segment_condition(j.segs[i]),
            .remove_when_false = cdp_segment_removes_when_false(j.segs[i]),
        };
    if (!rc)
        rc = run_phases(&j);
    if (!rc)
        *out = summary(&j, cdp_clock_mono() - t0);
    if (!rc && !*out)
        rc = failf(&j, CDP_E_NOMEM, "segment job");
    for (int i = 0; i < j.n; i++) {
        cdp_segment_free(j.segs[i]);
        free(j.ids[i]);
    }
    free(j.segs);
    free(j.ids);
    free(j.passes);
    cJSON_Delete(j.skipped);
    return rc;
}

void cdp_segment_job_line(const cJSON *sum, char *out, size_t outlen)
{
    long added = 0, removed = 0;
    const cJSON *s, *segs = cJSON_GetObjectItemCaseSensitive(sum, "segments");
    cJSON_ArrayForEach(s, segs)
    {
        added += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "added"));
        removed += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "removed"));
    }
    snprintf(out, outlen,
             "segment job: %.0f profiles, %d segments (%d in the store's query, %d in C), "
             "%ld joined, %ld left, %.3f s",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "profiles")),
             cJSON_GetArraySize(segs),
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum, "translated")),
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum, "fallback")), added, removed,
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "seconds")));
}

/* --- the schedule of cdpd serve --- */

struct every {
    const struct cdp_config *cfg;
    enum cdp_store_context ctx;
};

/* Scale-out: whether this worker runs this interval's job, the first to take the job's lease
 * (as long as the interval) of all the workers sharing the cache. */
static bool my_turn(const struct every *e)
{
    if (!cdp_cluster_mode(e->cfg))
        return true;
    struct cdp_cache *c;
    char err[256];
    int64_t token;
    int rc = cdp_cache_open(&c, e->cfg->cache, cdp_store_context_name(e->ctx), err, sizeof(err));
    long lease_ms = e->cfg->segment_interval * 1000L;
    if (!rc) {
        rc = c->ops->lock(c, "job:segment", lease_ms > INT_MAX ? INT_MAX : (int)lease_ms, &token);
        cdp_cache_close(c);
    }
    if (rc && rc != CDP_E_CONFLICT)
        cdp_warn("segment job: cannot take its turn: %s", cdp_err_str(rc));
    return rc == 0;
}

static void every_run(void *ud, bool (*stop)(void *), void *stop_ud)
{
    struct every *e = ud;
    char err[512];
    struct cdp_store *s;
    if (!my_turn(e))
        return; /* another worker runs it this time */
    if (cdp_store_open_cfg(&s, e->cfg, e->ctx, false, err, sizeof(err))) {
        cdp_error("segment job: cannot open the store: %s", err);
        return;
    }
    struct cdp_segment_job_opts o = {.now_us = cdp_clock_now_us(), .stop = stop, .ud = stop_ud};
    cJSON *sum = NULL;
    int rc = cdp_segment_job_run(s, &o, &sum, err, sizeof(err));
    cdp_store_close(s);
    if (rc == CDP_E_UNAVAILABLE && stop(stop_ud)) {
        cdp_info("segment job: stopped at shutdown; the next run starts over");
    } else if (rc) {
        cdp_error("segment job: %s", err);
    } else {
        char line[256];
        cdp_segment_job_line(sum, line, sizeof(line));
        cdp_info("%s", line);
    }
    cJSON_Delete(sum);
}

int cdp_segment_job_every(struct cdp_schedule **out, const struct cdp_config *cfg,
                          enum cdp_store_context ctx, char *err, size_t errlen)
{
    struct every *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "segment schedule: out of memory");
        return CDP_E_NOMEM;
    }
    e->cfg = cfg;
    e->ctx = ctx;
    int rc =
        cdp_schedule_start(out, "segment", cfg->segment_interval, every_run, e, free, err, errlen);
    if (!rc)
        cdp_info("segment job every %ld s", cfg->segment_interval);
    return rc;
}
