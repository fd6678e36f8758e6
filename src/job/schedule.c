/* Periodic jobs on a thread each (schedule.h). The wait is on CLOCK_MONOTONIC, so moving the
 * wall clock neither fires nor delays a run. */
#include "job/schedule.h"

#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct cdp_schedule {
    char name[32];
    long interval_s;
    void (*run)(void *ud, bool (*stop)(void *), void *stop_ud);
    void *ud;
    void (*ud_free)(void *);
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stopping;
};

static bool is_stopping(void *p)
{
    struct cdp_schedule *s = p;
    return atomic_load(&s->stopping);
}

static void *schedule_main(void *arg)
{
    struct cdp_schedule *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stopping)) {
        struct timespec due;
        clock_gettime(CLOCK_MONOTONIC, &due);
        due.tv_sec += s->interval_s;
        int rc = 0;
        while (!atomic_load(&s->stopping) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->cv, &s->mu, &due);
        if (atomic_load(&s->stopping))
            break;
        pthread_mutex_unlock(&s->mu);
        s->run(s->ud, is_stopping, s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int cdp_schedule_start(struct cdp_schedule **out, const char *name, long interval_s,
                       void (*run)(void *ud, bool (*stop)(void *), void *stop_ud), void *ud,
                       void (*ud_free)(void *), char *err, size_t errlen)
{
    *out = NULL;
    struct cdp_schedule *s = calloc(1, sizeof(*s));
    if (!s) {
        if (ud_free)
            ud_free(ud);
        snprintf(err, errlen, "%s schedule: out of memory", name);
        return CDP_E_NOMEM;
    }
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->interval_s = interval_s;
    s->run = run;
    s->ud = ud;
    s->ud_free = ud_free;
    atomic_init(&s->stopping, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, schedule_main, s) != 0) {
        snprintf(err, errlen, "%s schedule: cannot start its thread", name);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        if (ud_free)
            ud_free(ud);
        free(s);
        return CDP_E_INTERNAL;
    }
    *out = s;
    return 0;
}

void cdp_schedule_stop(struct cdp_schedule *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stopping, true);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    if (s->ud_free)
        s->ud_free(s->ud);
    free(s);
}
