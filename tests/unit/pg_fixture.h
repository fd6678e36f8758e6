/* A real PostgreSQL server for unit tests: started once per test program on a free loopback
 * port by deploy/pg-server.sh (initdb in a temporary directory) and stopped at exit. Each caller
 * of pg_fixture_db gets a database of its own, so tests never see each other's rows.
 * pg_fixture_missing() says (and prints why) when PostgreSQL is not installed: the PostgreSQL
 * half of a suite is skipped then. Header-only: include it in one test file. */
#ifndef CDP_TEST_PG_FIXTURE_H
#define CDP_TEST_PG_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CDP_SOURCE_ROOT
#define CDP_SOURCE_ROOT "."
#endif

static char pg_fixture_dir[64];
static char pg_fixture_base[160]; /* postgres://cdpd@127.0.0.1:PORT */
static int pg_fixture_state;      /* 0 not started, 1 running, -1 missing or failed */
static int pg_fixture_seq;

static void pg_fixture_stop(void)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s/deploy/pg-server.sh stop %s; rm -rf %s", CDP_SOURCE_ROOT,
             pg_fixture_dir, pg_fixture_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pg_fixture: could not stop the server in %s\n", pg_fixture_dir);
}

static bool pg_fixture_missing(void)
{
    if (pg_fixture_state)
        return pg_fixture_state < 0;
    pg_fixture_state = -1;
    if (system("ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1") != 0) {
        printf("PostgreSQL is not installed (apt-get install postgresql): "
               "skipping the PostgreSQL backend\n");
        return true;
    }
    snprintf(pg_fixture_dir, sizeof(pg_fixture_dir), "/tmp/cdpd-pg-XXXXXX");
    if (!mkdtemp(pg_fixture_dir))
        return true;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s/deploy/pg-server.sh start %s", CDP_SOURCE_ROOT, pg_fixture_dir);
    FILE *p = popen(cmd, "r");
    char line[160] = "";
    if (!p || !fgets(line, sizeof(line), p) || pclose(p) != 0) {
        fprintf(stderr, "pg_fixture: could not start PostgreSQL (%s)\n", cmd);
        exit(1); /* installed but broken: fail, never skip */
    }
    line[strcspn(line, "\n")] = 0;
    char *db = strrchr(line, '/'); /* .../cdpd: keep the server part */
    if (db)
        *db = 0;
    snprintf(pg_fixture_base, sizeof(pg_fixture_base), "%s", line);
    atexit(pg_fixture_stop);
    pg_fixture_state = 1;
    return false;
}

/* A new empty database's URL into url; 0, or -1 when PostgreSQL is missing or it failed. */
static int pg_fixture_db(char *url, size_t len)
{
    if (pg_fixture_missing())
        return -1;
    char cmd[512];
    snprintf(url, len, "%s/t%d_%d", pg_fixture_base, (int)getpid(), ++pg_fixture_seq);
    snprintf(cmd, sizeof(cmd), "psql -q '%s/postgres' -c 'CREATE DATABASE t%d_%d' >/dev/null",
             pg_fixture_base, (int)getpid(), pg_fixture_seq);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
