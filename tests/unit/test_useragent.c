/* Unit tests of src/model/useragent.c against Debian's uap-core: hand-picked UAs, the whole of
 * uap-core's own test_ua.yaml, error reporting, concurrent parsing and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model/useragent.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define UAP_TEST_UA       "/usr/share/uap-core/tests/test_ua.yaml"
#define MIN_PASS_PERMILLE 990
#define N_THREADS         4

static const char chrome_win10[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.109 Safari/537.36";

/* One case of uap-core's test_ua.yaml; absent (null) values are "". */
struct ua_case {
    char *ua;
    size_t ua_len;
    char *family;
    char *major, *minor, *patch;
};

struct fixture {
    struct cdp_ua_db *db;
    struct ua_case *cases;
    size_t ncases;
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    size_t n = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
            memcmp(k->data.scalar.value, key, n) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* Copies a scalar; a plain empty or "~" scalar is YAML null, which the fixture spells "". */
static char *dup_scalar(const yaml_node_t *v, size_t *len)
{
    size_t n = 0;
    const char *s = "";
    if (v && v->type == YAML_SCALAR_NODE &&
        !(v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
          ((v->data.scalar.length == 1 && v->data.scalar.value[0] == '~') ||
           (v->data.scalar.length == 4 && memcmp(v->data.scalar.value, "null", 4) == 0)))) {
        s = (const char *)v->data.scalar.value;
        n = v->data.scalar.length;
    }
    char *d = malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n);
    d[n] = '\0';
    if (len)
        *len = n;
    return d;
}

static void load_cases(struct fixture *fx)
{
    FILE *f = fopen(UAP_TEST_UA, "rb");
    assert_non_null(f);
    yaml_parser_t parser;
    yaml_document_t doc;
    assert_true(yaml_parser_initialize(&parser));
    yaml_parser_set_input_file(&parser, f);
    assert_true(yaml_parser_load(&parser, &doc));
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_non_null(root);
    const yaml_node_t *list = map_get(&doc, root, "test_cases");
    assert_non_null(list);
    assert_int_equal(list->type, YAML_SEQUENCE_NODE);

    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    fx->cases = calloc(n, sizeof(*fx->cases));
    assert_non_null(fx->cases);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(&doc, list->data.sequence.items.start[i]);
        struct ua_case *c = &fx->cases[fx->ncases++];
        c->ua = dup_scalar(map_get(&doc, item, "user_agent_string"), &c->ua_len);
        c->family = dup_scalar(map_get(&doc, item, "family"), NULL);
        c->major = dup_scalar(map_get(&doc, item, "major"), NULL);
        c->minor = dup_scalar(map_get(&doc, item, "minor"), NULL);
        c->patch = dup_scalar(map_get(&doc, item, "patch"), NULL);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
}

static int group_setup(void **state)
{
    static struct fixture fx;
    char err[512];
    if (cdp_ua_db_open(&fx.db, CDP_UA_DEFAULT_REGEXES, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    load_cases(&fx);
    *state = &fx;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < fx->ncases; i++) {
        free(fx->cases[i].ua);
        free(fx->cases[i].family);
        free(fx->cases[i].major);
        free(fx->cases[i].minor);
        free(fx->cases[i].patch);
    }
    free(fx->cases);
    cdp_ua_db_free(fx->db);
    return 0;
}

struct known_ua {
    const char *ua;
    const char *browser, *browser_version, *os, *os_version;
    const char *device, *brand, *model, *device_type;
    bool bot, touch;
};

static const struct known_ua known_uas[] = {
    {chrome_win10, "Chrome", "120.0.6099", "Windows", "10", "Other", "", "", "pc", false, false},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/16.5 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "16.5", "iOS", "16.5", "iPhone", "Apple", "iPhone", "mobile", false, true},
    {"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/116.0.0.0 Mobile Safari/537.36",
     "Chrome Mobile", "116.0.0", "Android", "13", "Pixel 7", "Google", "Pixel 7", "mobile", false,
     true},
    {"Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/12.1 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "12.1", "iOS", "12.2", "iPad", "Apple", "iPad", "tablet", false, true},
    {"Mozilla/5.0 (Linux; Android 9; SM-T820) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/110.0.0.0 Safari/537.36",
     "Chrome", "110.0.0", "Android", "9", "SM-T820", "Generic_Android_Tablet", "SM-T820", "tablet",
     false, true},
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "2.1",
     "Other", "", "Spider", "Spider", "Desktop", "bot", true, false},
    {"curl/7.88.1", "curl", "7.88.1", "Other", "", "Other", "", "", "pc", false, false},
    {"", "Other", "", "Other", "", "Other", "", "", "pc", false, false},
};

static void test_known_uas(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < sizeof(known_uas) / sizeof(known_uas[0]); i++) {
        const struct known_ua *k = &known_uas[i];
        struct cdp_ua u;
        cdp_ua_parse(fx->db, k->ua, strlen(k->ua), &u);
        print_message("%s | %s %s | %s %s | %s/%s/%s | %s\n", k->ua, u.browser, u.browser_version,
                      u.os, u.os_version, u.device, u.brand, u.model, u.device_type);
        assert_string_equal(u.browser, k->browser);
        assert_string_equal(u.browser_version, k->browser_version);
        assert_string_equal(u.os, k->os);
        assert_string_equal(u.os_version, k->os_version);
        assert_string_equal(u.device, k->device);
        assert_string_equal(u.brand, k->brand);
        assert_string_equal(u.model, k->model);
        assert_string_equal(u.device_type, k->device_type);
        assert_int_equal(u.bot, k->bot);
        assert_int_equal(u.touch, k->touch);
    }
}

/* browser_version starts with the major, which may itself hold a dot ("2018.7" for FME). */
static bool major_matches(const struct cdp_ua *u, const char *major)
{
    size_t n = strlen(major);
    return strncmp(u->browser_version, major, n) == 0 &&
           (u->browser_version[n] == '\0' || u->browser_version[n] == '.');
}

/* The whole version as cdp_ua_parse spells it: parts up to the first absent one. */
static bool version_matches(const struct cdp_ua *u, const struct ua_case *c)
{
    char want[sizeof(u->browser_version)];
    if (!*c->major)
        snprintf(want, sizeof(want), "%s", "");
    else if (!*c->minor)
        snprintf(want, sizeof(want), "%s", c->major);
    else if (!*c->patch)
        snprintf(want, sizeof(want), "%s.%s", c->major, c->minor);
    else
        snprintf(want, sizeof(want), "%s.%s.%s", c->major, c->minor, c->patch);
    return strcmp(u->browser_version, want) == 0;
}

static void test_uap_core_suite(void **state)
{
    struct fixture *fx = *state;
    size_t pass = 0, exact = 0, shown = 0;
    assert_true(fx->ncases > 1000);
    for (size_t i = 0; i < fx->ncases; i++) {
        const struct ua_case *c = &fx->cases[i];
        struct cdp_ua u;
        cdp_ua_parse(fx->db, c->ua, c->ua_len, &u);
        if (strcmp(u.browser, c->family) == 0 && major_matches(&u, c->major)) {
            pass++;
            exact += version_matches(&u, c);
        } else if (shown++ < 20) {
            print_message("mismatch: %s\n  want %s/%s, got %s/%s\n", c->ua, c->family, c->major,
                          u.browser, u.browser_version);
        }
    }
    print_message("test_ua.yaml: family+major %zu/%zu pass (%.2f%%), "
                  "whole version too %zu/%zu\n",
                  pass, fx->ncases, 100.0 * (double)pass / (double)fx->ncases, exact, fx->ncases);
    assert_true(pass * 1000 >= fx->ncases * MIN_PASS_PERMILLE);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct cdp_ua_db *db = (struct cdp_ua_db *)(uintptr_t)1; /* must be reset to NULL */
    char err[256] = "";
    assert_int_equal(cdp_ua_db_open(&db, "/nonexistent/regexes.yaml", err, sizeof(err)), -1);
    assert_null(db);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "/nonexistent/regexes.yaml"));
    assert_non_null(strstr(err, "No such file"));
}

/* Writes text to a fresh file under /tmp; the caller unlinks path. */
static void write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void test_bad_regex(void **state)
{
    (void)state;
    char path[] = "/tmp/test_useragent_XXXXXX";
    write_temp(path, "user_agent_parsers:\n"
                     "  - regex: '(Good)/(\\d+)'\n"
                     "os_parsers:\n"
                     "  - regex: 'Win(95|98'\n"
                     "device_parsers: []\n");
    struct cdp_ua_db *db = NULL;
    char err[256] = "";
    int rc = cdp_ua_db_open(&db, path, err, sizeof(err));
    unlink(path);
    print_message("%s\n", err);
    assert_int_equal(rc, -1);
    assert_null(db);
    assert_non_null(strstr(err, "os_parsers[0]"));
    assert_non_null(strstr(err, "Win(95|98"));
    assert_non_null(strstr(err, ":4:")); /* the line of the bad entry */
}

static void test_wrong_file(void **state)
{
    (void)state;
    struct cdp_ua_db *db = NULL;
    char err[256] = "";
    assert_int_equal(cdp_ua_db_open(&db, UAP_TEST_UA, err, sizeof(err)), -1);
    assert_null(db);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "no user_agent_parsers section"));

    char path[] = "/tmp/test_useragent_XXXXXX";
    write_temp(path, "user_agent_parsers:\n  - regex: 'a'\n  - regex: [unclosed\n");
    int rc = cdp_ua_db_open(&db, path, err, sizeof(err));
    unlink(path);
    print_message("%s\n", err);
    assert_int_equal(rc, -1);
    assert_null(db);
    assert_non_null(strstr(err, "invalid YAML"));
}

/* The replacement rules of uap-core's specification, on a tiny database. */
static void test_replacements(void **state)
{
    (void)state;
    char path[] = "/tmp/test_useragent_XXXXXX";
    write_temp(path, "user_agent_parsers:\n"
                     "  - regex: '(Minefield)/(\\d+)\\.(\\d+)\\.(\\d+(?:pre)?)'\n"
                     "    family_replacement: 'Firefox ($1)'\n"
                     "  - regex: 'Blank/(\\d+)'\n"
                     "    family_replacement: ' $2 '\n"
                     "    v1_replacement: '  $1 '\n"
                     "os_parsers:\n"
                     "  - regex: 'Win(95|98)'\n"
                     "    os_replacement: 'Windows $1'\n"
                     "    os_v1_replacement:\n"
                     "device_parsers:\n"
                     "  - regex: '; *(PEDI)_(PLUS)_(W) Build'\n"
                     "    device_replacement: 'Odys $1 $2 $3'\n"
                     "    brand_replacement: 'Odys'\n"
                     "    model_replacement: '$1 $2 $3'\n"
                     "  - regex: 'phone (x\\d+)'\n"
                     "    regex_flag: 'i'\n");
    struct cdp_ua_db *db = NULL;
    char err[256] = "";
    int rc = cdp_ua_db_open(&db, path, err, sizeof(err));
    unlink(path);
    assert_int_equal(rc, 0);

    struct cdp_ua u;
    const char *a = "Mozilla/5.0 (Windows; U; Win95; PEDI_PLUS_W Build/1) Minefield/4.0.1pre";
    cdp_ua_parse(db, a, strlen(a), &u);
    assert_string_equal(u.browser, "Firefox (Minefield)");
    assert_string_equal(u.browser_version, "4.0.1pre");
    assert_string_equal(u.os, "Windows 95");
    assert_string_equal(u.os_version, ""); /* null replacement: default $2 is unset */
    assert_string_equal(u.device, "Odys PEDI PLUS W");
    assert_string_equal(u.brand, "Odys");
    assert_string_equal(u.model, "PEDI PLUS W");

    /* $2 past the last group expands to "", the blank family is absent, the version trimmed;
     * the case-insensitive device rule defaults family and model to $1 and brand to none. */
    const char *b = "Blank/7 PHONE X12";
    cdp_ua_parse(db, b, strlen(b), &u);
    assert_string_equal(u.browser, "Other");
    assert_string_equal(u.browser_version, "7");
    assert_string_equal(u.os, "Other");
    assert_string_equal(u.device, "X12");
    assert_string_equal(u.brand, "");
    assert_string_equal(u.model, "X12");
    cdp_ua_db_free(db);
}

struct thread_job {
    const struct fixture *fx;
    const struct cdp_ua *want;
    size_t mismatches;
};

static void *parse_all(void *arg)
{
    struct thread_job *job = arg;
    for (size_t i = 0; i < job->fx->ncases; i++) {
        const struct ua_case *c = &job->fx->cases[i];
        struct cdp_ua u;
        cdp_ua_parse(job->fx->db, c->ua, c->ua_len, &u);
        const struct cdp_ua *w = &job->want[i];
        if (strcmp(u.browser, w->browser) || strcmp(u.browser_version, w->browser_version) ||
            strcmp(u.os, w->os) || strcmp(u.os_version, w->os_version) ||
            strcmp(u.device, w->device) || strcmp(u.model, w->model) ||
            u.device_type != w->device_type)
            job->mismatches++;
    }
    return NULL;
}

/* The shared db gives each thread the answers a lone thread gets. */
static void test_threads(void **state)
{
    struct fixture *fx = *state;
    struct cdp_ua *want = calloc(fx->ncases, sizeof(*want));
    assert_non_null(want);
    for (size_t i = 0; i < fx->ncases; i++)
        cdp_ua_parse(fx->db, fx->cases[i].ua, fx->cases[i].ua_len, &want[i]);

    pthread_t tid[N_THREADS];
    struct thread_job jobs[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        jobs[t] = (struct thread_job){fx, want, 0};
        assert_int_equal(pthread_create(&tid[t], NULL, parse_all, &jobs[t]), 0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        assert_int_equal(pthread_join(tid[t], NULL), 0);
        assert_int_equal(jobs[t].mismatches, 0);
    }
    free(want);
}

static void test_hostile_input(void **state)
{
    struct fixture *fx = *state;
    struct cdp_ua u;

    /* Only the first 1024 bytes count: a browser token past them is not seen. */
    char *big = malloc(1 << 20);
    assert_non_null(big);
    memset(big, 'x', 1 << 20);
    memcpy(big + 1100, "Chrome/120.0.0.0", 16);
    cdp_ua_parse(fx->db, big, 1 << 20, &u);
    assert_string_equal(u.browser, "Other");

    /* Repetitive text aimed at the ".{0,300}" style patterns costs about as much as a UA. */
    static const char unit[] = "Android iPhone Mozilla/5.0 (Linux; ";
    for (size_t i = 0; i + sizeof(unit) - 1 <= (size_t)1 << 20; i += sizeof(unit) - 1)
        memcpy(big + i, unit, sizeof(unit) - 1);
    double t0 = now_sec();
    cdp_ua_parse(fx->db, big, 1 << 20, &u);
    print_message("1 MiB repetitive UA: %.3f ms\n", (now_sec() - t0) * 1e3);
    free(big);

    /* NUL bytes, invalid UTF-8 and a NULL pointer are just text that matches nothing much. */
    static const char odd[] = "Mozilla/5.0 \xff\xfe\0 (Windows NT 10.0) \xc3 Firefox/99.0";
    cdp_ua_parse(fx->db, odd, sizeof(odd) - 1, &u);
    assert_string_equal(u.browser, "Firefox");
    assert_string_equal(u.browser_version, "99.0");
    cdp_ua_parse(fx->db, NULL, 0, &u);
    assert_string_equal(u.browser, "Other");
    assert_string_equal(u.device_type, "pc");
}

static void test_speed(void **state)
{
    struct fixture *fx = *state;
    struct cdp_ua u;
    enum { ROUNDS = 2000 };
    double t0 = now_sec();
    for (int i = 0; i < ROUNDS; i++)
        cdp_ua_parse(fx->db, chrome_win10, sizeof(chrome_win10) - 1, &u);
    double per = (now_sec() - t0) / ROUNDS;
    print_message("desktop Chrome UA: %.1f us per parse\n", per * 1e6);

    t0 = now_sec();
    for (size_t i = 0; i < fx->ncases; i++)
        cdp_ua_parse(fx->db, fx->cases[i].ua, fx->cases[i].ua_len, &u);
    print_message("test_ua.yaml mix: %.1f us per parse\n",
                  (now_sec() - t0) / (double)fx->ncases * 1e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_uas),    cmocka_unit_test(test_uap_core_suite),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_wrong_file),   cmocka_unit_test(test_replacements),
        cmocka_unit_test(test_threads),      cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
