/* Unit tests of src/core/ndjson.c: NDJSON lines and array elements split off a body in place,
 * their places, and the arrays that are not one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/ndjson.h"

#include <stdio.h>
#include <string.h>

/* The documents of body as "place:text|" items, or "…!offset" after a broken array. */
static void split(const char *body, bool as_array, char *out, size_t outlen)
{
    struct cdp_ndjson it;
    cdp_ndjson_init(&it, body, strlen(body), as_array);
    const char *doc;
    size_t len, n = 0;
    long at;
    int r;
    out[0] = '\0';
    while ((r = cdp_ndjson_next(&it, &doc, &len, &at)) == 1)
        n += (size_t)snprintf(out + n, outlen - n, "%ld:%.*s|", at, (int)len, doc);
    if (r < 0)
        snprintf(out + n, outlen - n, "!%ld", at);
    assert_int_equal(cdp_ndjson_next(&it, &doc, &len, &at), r < 0 ? -1 : 0);
}

static void check(const char *body, bool as_array, const char *want)
{
    char got[512];
    split(body, as_array, got, sizeof(got));
    assert_string_equal(got, want);
}

static void test_lines(void **state)
{
    (void)state;
    check("", false, "");
    check("{\"a\":1}", false, "1:{\"a\":1}|");
    check("{\"a\":1}\n\n  \t\n {\"b\": [1, 2]} \r\n{bad\n", false,
          "1:{\"a\":1}|4:{\"b\": [1, 2]}|5:{bad|");
    check("\n\n\n", false, "");
    /* an array body read as NDJSON is one line, as is a string holding a bracket */
    check("[1, 2]\n{\"s\": \"]\\n[\"}", false, "1:[1, 2]|2:{\"s\": \"]\\n[\"}|");
    /* a byte order mark is not part of the first line */
    check("\xEF\xBB\xBF{\"a\":1}\n", false, "1:{\"a\":1}|");
}

static void test_arrays(void **state)
{
    (void)state;
    check("[]", true, "");
    check("  [ ]  \n", true, "");
    check("[{\"a\":1}, {\"b\":[1,{\"c\":\"],\\\"{\"}]} ,3,\"x,y\" ,null]", true,
          "0:{\"a\":1}|1:{\"b\":[1,{\"c\":\"],\\\"{\"}]}|2:3|3:\"x,y\"|4:null|");
    check("[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", true, "0:{\"a\": 1}|1:{\"a\": 2}|");
    /* elements are only delimited: a bad one is the parser's to refuse */
    check("[{bad}, 2]", true, "0:{bad}|1:2|");
    /* not an array: NDJSON */
    check("{\"a\":1}\n[1]", true, "1:{\"a\":1}|2:[1]|");
}

static void test_broken_arrays(void **state)
{
    (void)state;
    check("[", true, "!1");
    check("[{\"a\":1}", true, "!1");
    check("[{\"a\":1},", true, "0:{\"a\":1}|!9");
    check("[1,]", true, "0:1|!3");
    check("[,1]", true, "!1");
    check("[1,,2]", true, "0:1|!3");
    check("[1 2]", true, "0:1 2|"); /* the parser's to refuse */
    check("[1] x", true, "0:1|!4");
    check("[1]]", true, "0:1|!3");
    check("[\"open]", true, "!1");
    check("[\"esc\\", true, "!1");
    check("[{\"a\":1}}, 2]", true, "!1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_broken_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
