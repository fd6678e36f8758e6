/* Unit tests of src/core: buffers, JSON helpers, time, config table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_buf_cap(void **state)
{
    (void)state;
    struct cdp_buf b;
    cdp_buf_init(&b, 8);
    assert_int_equal(cdp_buf_puts(&b, "12345678"), 0);
    assert_int_equal(cdp_buf_puts(&b, "9"), CDP_E_TOO_LARGE);
    assert_true(b.failed);
    assert_string_equal(b.data, "12345678");
    cdp_buf_fini(&b);
    cdp_buf_init(&b, 0);
    assert_int_equal(cdp_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "42-x");
    cdp_buf_fini(&b);
}

static void test_json_depth(void **state)
{
    (void)state;
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    assert_false(cdp_json_depth_ok(deep, 130, 64));
    assert_true(cdp_json_depth_ok(deep + 1, 128, 64));
    const char *str = "{\"a\":\"[[[[[[\\\"[[[[\"}";
    assert_true(cdp_json_depth_ok(str, strlen(str), 1));
}

static void test_json_paths(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"x\"}},\"n\":1}");
    assert_string_equal(cdp_json_str(o, "a.b.c"), "x");
    assert_null(cdp_json_get(o, "a.b.d"));
    assert_null(cdp_json_str(o, "n"));
    cdp_json_set(o, "p.q.r", cJSON_CreateNumber(3));
    assert_int_equal(cdp_json_get(o, "p.q.r")->valueint, 3);
    cJSON *src = cJSON_Parse("{\"a\":{\"b\":{\"d\":1}},\"n\":2}");
    cdp_json_merge(o, src);
    assert_string_equal(cdp_json_str(o, "a.b.c"), "x");
    assert_int_equal(cdp_json_get(o, "a.b.d")->valueint, 1);
    assert_int_equal(cdp_json_get(o, "n")->valueint, 2);
    assert_true(cdp_json_flag(o, "missing", true));
    cJSON_Delete(src);
    cJSON_Delete(o);
}

static void expect_print(const char *in, const char *out)
{
    cJSON *j = cdp_json_parse(in, strlen(in), NULL);
    assert_non_null(j);
    char *txt = cdp_json_print(j);
    assert_string_equal(txt, out);
    free(txt);
    cJSON *copy = cJSON_Duplicate(j, true); /* the exact literal survives copies */
    txt = cdp_json_print(copy);
    assert_string_equal(txt, out);
    free(txt);
    cJSON_Delete(copy);
    cJSON_Delete(j);
}

static void test_json_print(void **state)
{
    (void)state;
    expect_print(
        "[9007199254740991, 9007199254740993, 12345678901234567890, -12345678901234567890]",
        "[9007199254740991,9007199254740993,12345678901234567890,-12345678901234567890]");
    expect_print("{\"a\" : [0.1, -0.5, 1e300, 3, 1.5e-7, 100000000000000000000]}",
                 "{\"a\":[0.1,-0.5,1e+300,3,1.5e-07,1e+20]}");
    expect_print("{\"s\":\"q\\\"\\\\\\n\\u0001\u00e9\"}", "{\"s\":\"q\\\"\\\\\\n\\u0001\u00e9\"}");
    expect_print("{\"k\":\"1234567890123456789\",\"n\":1234567890123456789}",
                 "{\"k\":\"1234567890123456789\",\"n\":1234567890123456789}");
    size_t pos = 0;
    assert_null(cdp_json_parse("{} x", 4, &pos));
    assert_int_equal(pos, 3);
    cJSON *j = cdp_json_parse(" {} \n", 5, NULL);
    assert_non_null(j);
    cJSON_Delete(j);
}

static void test_clock(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(cdp_clock_parse_iso("2024-01-18T10:11:12.5Z", &t), 0);
    char iso[CDP_ISO_LEN];
    cdp_clock_iso(t, iso);
    assert_string_equal(iso, "2024-01-18T10:11:12.500000+00:00");
    assert_int_equal(cdp_clock_parse_iso("2024-01-18T12:11:12.5+02:00", &t), 0);
    cdp_clock_iso(t, iso);
    assert_string_equal(iso, "2024-01-18T10:11:12.500000+00:00");
    assert_int_equal(cdp_clock_weekday(t), 3); /* a Thursday */
    assert_int_equal(cdp_clock_parse_iso("yesterday", &t), -1);
    assert_int_equal(cdp_clock_parse_iso("2024-13-01", &t), -1);
}

/* CDPD_CLOCK_OFFSET: its syntax, and that it moves cdp_clock_now_us but not the real clock. */
static void test_clock_offset(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t secs;
    } ok[] = {{"31d", 31 * 86400}, {"-2h", -7200},
              {"90s", 90},         {"+1w", 7 * 86400},
              {"15m", 900},        {"3600", 3600},
              {"-60", -60},        {"0", 0},
              {"2H", 7200},        {"36500d", 36500LL * 86400}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t us = 1;
        assert_int_equal(cdp_clock_parse_offset(ok[i].in, &us), 0);
        assert_true(us == ok[i].secs * 1000000);
    }
    static const char *const bad[] = {"",     "d", "31x",  "31 d", "31dd",   " 31d",        "--1",
                                      "1.5h", "+", "31d ", "1e3",  "40000d", "99999999999", NULL};
    int64_t us = 7;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cdp_clock_parse_offset(bad[i], &us), -1);
    assert_true(us == 7);

    assert_true(cdp_clock_offset_us() == 0);
    cdp_clock_set_offset(31LL * 86400 * 1000000);
    int64_t real = cdp_clock_real_us(), now = cdp_clock_now_us();
    int64_t skew = now - real - 31LL * 86400 * 1000000;
    assert_true(skew >= 0 && skew < 5000000);
    cdp_clock_set_offset(-3600LL * 1000000);
    assert_true(cdp_clock_now_us() < cdp_clock_real_us());
    cdp_clock_set_offset(0);
    assert_true(cdp_clock_offset_us() == 0);
}

static void test_ids(void **state)
{
    (void)state;
    char a[CDP_UUID_LEN], b[CDP_UUID_LEN];
    cdp_id_uuid4(a);
    cdp_id_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_string_not_equal(a, b);
}

static void test_config(void **state)
{
    (void)state;
    struct cdp_config c;
    char err[256];
    cdp_config_defaults(&c);
    assert_string_equal(c.listen, "0.0.0.0:8686");
    assert_string_equal(c.admin_listen, "127.0.0.1:8687");
    assert_int_equal(c.max_body, 1048576);
    char *argv[] = {"--data", "/tmp/x", "--max-events=5", "--system-events", "no"};
    assert_int_equal(cdp_config_load(&c, 5, argv, NULL, 0, err, sizeof(err)), 0);
    assert_string_equal(c.data, "/tmp/x");
    assert_int_equal(c.max_events, 5);
    assert_false(c.system_events);
    setenv("CDPD_MAX_DEPTH", "10", 1);
    cdp_config_defaults(&c);
    assert_int_equal(cdp_config_load(&c, 0, NULL, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(c.max_depth, 10);
    unsetenv("CDPD_MAX_DEPTH");
    char *bad[] = {"--nope", "1"};
    assert_int_not_equal(cdp_config_load(&c, 2, bad, NULL, 0, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "--nope"));
    char *badnum[] = {"--max-body", "lots"};
    assert_int_not_equal(cdp_config_load(&c, 2, badnum, NULL, 0, err, sizeof(err)), 0);
    assert_true(cdp_config_has_role(&c, "api"));
    assert_false(cdp_config_has_role(&c, "ap"));
}

static void test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/cdpd-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\nlisten = 127.0.0.1:9999\nmax_events=7\n";
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    struct cdp_config c;
    char err[256];
    cdp_config_defaults(&c);
    char *argv[] = {"--config", path, "--max-events", "9"};
    assert_int_equal(cdp_config_load(&c, 4, argv, NULL, 0, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "127.0.0.1:9999");
    assert_int_equal(c.max_events, 9); /* flags beat the file */
    unlink(path);
}

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(cdp_err_status(CDP_E_TOO_LARGE), 413);
    assert_int_equal(cdp_err_status(CDP_E_BAD_JSON), 422);
    assert_int_equal(cdp_err_status(-999), 500);
    assert_string_equal(cdp_err_str(CDP_E_NOT_FOUND), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),    cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_json_paths), cmocka_unit_test(test_json_print),
        cmocka_unit_test(test_clock),      cmocka_unit_test(test_ids),
        cmocka_unit_test(test_config),     cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_err_table),  cmocka_unit_test(test_clock_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
