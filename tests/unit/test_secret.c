/* Unit tests of src/core/secret.c: the key's text forms and file, sealing and opening JSON
 * values, and what opening says when the key, the context or the bytes are not the sealed ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/secret.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HEX_KEY[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static int setup(void **state)
{
    (void)state;
    unsetenv(CDP_SECRET_ENV);
    return sodium_init() < 0 ? -1 : 0;
}

static void test_key_parse(void **state)
{
    (void)state;
    unsigned char k[CDP_SECRET_KEY_LEN], want[CDP_SECRET_KEY_LEN];
    for (int i = 0; i < CDP_SECRET_KEY_LEN; i++)
        want[i] = (unsigned char)i;
    assert_int_equal(cdp_secret_key_parse(HEX_KEY, k), 0);
    assert_memory_equal(k, want, sizeof(want));
    char text[100];
    snprintf(text, sizeof(text), "  %s\n", HEX_KEY); /* white space around it */
    assert_int_equal(cdp_secret_key_parse(text, k), 0);
    assert_memory_equal(k, want, sizeof(want));
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    for (size_t i = 0; i < 2; i++) {
        sodium_bin2base64(text, sizeof(text), want, sizeof(want), variants[i]);
        memset(k, 0, sizeof(k));
        assert_int_equal(cdp_secret_key_parse(text, k), 0);
        assert_memory_equal(k, want, sizeof(want));
    }
    assert_int_equal(cdp_secret_key_parse("", k), CDP_E_INVALID);
    assert_int_equal(cdp_secret_key_parse("abc", k), CDP_E_INVALID);
    snprintf(text, sizeof(text), "%.62s", HEX_KEY); /* 31 bytes */
    assert_int_equal(cdp_secret_key_parse(text, k), CDP_E_INVALID);
    snprintf(text, sizeof(text), "%s00", HEX_KEY); /* 33 bytes */
    assert_int_equal(cdp_secret_key_parse(text, k), CDP_E_INVALID);
    snprintf(text, sizeof(text), "%.63sg", HEX_KEY);
    assert_int_equal(cdp_secret_key_parse(text, k), CDP_E_INVALID);
    sodium_bin2base64(text, sizeof(text), want, 16, sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(cdp_secret_key_parse(text, k), CDP_E_INVALID);
}

static void random_key(unsigned char k[CDP_SECRET_KEY_LEN])
{
    randombytes_buf(k, CDP_SECRET_KEY_LEN);
}

static void test_seal_open(void **state)
{
    (void)state;
    unsigned char key[CDP_SECRET_KEY_LEN];
    random_key(key);
    cJSON *v = cJSON_Parse("{\"production\":{\"password\":\"hunter2-very-secret\"},\"test\":{}}");
    cJSON *a = NULL, *b = NULL, *back = NULL;
    assert_int_equal(cdp_secret_seal(key, "resource:r1", v, &a), 0);
    assert_int_equal(cdp_secret_seal(key, "resource:r1", v, &b), 0);
    assert_true(cdp_secret_is_sealed(a));
    assert_false(cdp_secret_is_sealed(v));
    char *text = cdp_json_print(a);
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "password"));
    free(text);
    /* A new nonce every time: the same value never seals the same. */
    assert_string_not_equal(cdp_json_str(a, "nonce"), cdp_json_str(b, "nonce"));
    assert_string_not_equal(cdp_json_str(a, "ciphertext"), cdp_json_str(b, "ciphertext"));
    assert_string_equal(cdp_json_str(a, "key_id"), cdp_json_str(b, "key_id"));
    char err[200];
    assert_int_equal(cdp_secret_open(key, "resource:r1", a, &back, err, sizeof(err)), 0);
    assert_true(cJSON_Compare(back, v, true));
    cJSON_Delete(back);
    /* Scalars and empty objects seal too. */
    cJSON *s = cJSON_CreateString("x"), *sa = NULL;
    assert_int_equal(cdp_secret_seal(key, "", s, &sa), 0);
    assert_int_equal(cdp_secret_open(key, "", sa, &back, err, sizeof(err)), 0);
    assert_string_equal(back->valuestring, "x");
    cJSON_Delete(back);
    cJSON_Delete(s);
    cJSON_Delete(sa);
    cJSON_Delete(v);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Flips one bit of the base64 field key of sealed. */
static void flip(cJSON *sealed, const char *key, size_t at)
{
    const char *b64 = cdp_json_str(sealed, key);
    unsigned char bin[512];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof(bin), b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_true(at < n);
    bin[at] ^= 1;
    char out[700];
    sodium_bin2base64(out, sizeof(out), bin, n, sodium_base64_VARIANT_ORIGINAL);
    cdp_json_put_str(sealed, key, out);
}

static void test_tamper(void **state)
{
    (void)state;
    unsigned char key[CDP_SECRET_KEY_LEN], other[CDP_SECRET_KEY_LEN];
    random_key(key);
    random_key(other);
    cJSON *v = cJSON_Parse("{\"production\":{\"token\":\"t0k3n\"},\"test\":{\"token\":\"x\"}}");
    cJSON *sealed = NULL, *back = NULL;
    char err[200];
    assert_int_equal(cdp_secret_seal(key, "resource:r1", v, &sealed), 0);

    /* Another key: told apart by its id before any decryption. */
    assert_int_equal(cdp_secret_open(other, "resource:r1", sealed, &back, err, sizeof(err)),
                     CDP_E_CONFIG);
    assert_null(back);
    assert_non_null(strstr(err, "key"));
    /* ... and without the id, authentication still fails. */
    cJSON *no_id = cJSON_Duplicate(sealed, true);
    cJSON_DeleteItemFromObjectCaseSensitive(no_id, "key_id");
    assert_int_equal(cdp_secret_open(other, "resource:r1", no_id, &back, err, sizeof(err)),
                     CDP_E_STORE);
    assert_int_equal(cdp_secret_open(key, "resource:r1", no_id, &back, err, sizeof(err)), 0);
    cJSON_Delete(back);
    back = NULL;
    cJSON_Delete(no_id);

    /* Moved to another record: the context is authenticated. */
    assert_int_equal(cdp_secret_open(key, "resource:r2", sealed, &back, err, sizeof(err)),
                     CDP_E_STORE);
    assert_null(back);

    /* One bit changed anywhere in the ciphertext, its tag or the nonce. */
    static const struct {
        const char *field;
        size_t at;
    } flips[] = {
        {"ciphertext", 0}, {"ciphertext", 5}, {"ciphertext", 40}, {"nonce", 0}, {"nonce", 23}};
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        cJSON *t = cJSON_Duplicate(sealed, true);
        flip(t, flips[i].field, flips[i].at);
        assert_int_equal(cdp_secret_open(key, "resource:r1", t, &back, err, sizeof(err)),
                         CDP_E_STORE);
        assert_null(back);
        assert_non_null(strstr(err, "authentication"));
        cJSON_Delete(t);
    }
    /* Cut short, or not base64, or not a sealed value at all. */
    cJSON *t = cJSON_Duplicate(sealed, true);
    cdp_json_put_str(t, "ciphertext", "AAAA");
    assert_int_equal(cdp_secret_open(key, "resource:r1", t, &back, err, sizeof(err)),
                     CDP_E_INVALID);
    cdp_json_put_str(t, "ciphertext", "not base64 !");
    assert_int_equal(cdp_secret_open(key, "resource:r1", t, &back, err, sizeof(err)),
                     CDP_E_INVALID);
    cdp_json_put_str(t, "nonce", "AAAA");
    assert_int_equal(cdp_secret_open(key, "resource:r1", t, &back, err, sizeof(err)),
                     CDP_E_INVALID);
    cJSON_Delete(t);
    assert_int_equal(cdp_secret_open(key, "resource:r1", v, &back, err, sizeof(err)),
                     CDP_E_INVALID);
    cJSON_Delete(v);
    cJSON_Delete(sealed);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/cdpd-secret-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct cdp_config c;
    cdp_config_defaults(&c);
    snprintf(c.data, sizeof(c.data), "%s", dir);
    char path[600], err[700];
    assert_int_equal(cdp_secret_key_path(&c, path, sizeof(path), err, sizeof(err)), 0);
    char want[600];
    snprintf(want, sizeof(want), "%s/secret.key", dir);
    assert_string_equal(path, want);
    unsigned char k1[CDP_SECRET_KEY_LEN], k2[CDP_SECRET_KEY_LEN];
    assert_int_equal(cdp_secret_key_load(&c, k1, err, sizeof(err)), CDP_E_CONFIG); /* none yet */

    bool made = false;
    assert_int_equal(cdp_secret_key_ensure(&c, &made, err, sizeof(err)), 0);
    assert_true(made);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cdp_secret_key_load(&c, k1, err, sizeof(err)), 0);
    /* A second start keeps the key. */
    assert_int_equal(cdp_secret_key_ensure(&c, &made, err, sizeof(err)), 0);
    assert_false(made);
    assert_int_equal(cdp_secret_key_load(&c, k2, err, sizeof(err)), 0);
    assert_memory_equal(k1, k2, sizeof(k1));

    /* sqlite:DIR is the same directory; a store URL without one needs the option. */
    snprintf(c.data, sizeof(c.data), "sqlite:%s", dir);
    assert_int_equal(cdp_secret_key_path(&c, path, sizeof(path), err, sizeof(err)), 0);
    assert_string_equal(path, want);
    snprintf(c.data, sizeof(c.data), "postgres://db.example/cdp");
    assert_int_equal(cdp_secret_key_path(&c, path, sizeof(path), err, sizeof(err)), CDP_E_CONFIG);
    assert_non_null(strstr(err, "secret-key-file"));
    snprintf(c.secret_key_file, sizeof(c.secret_key_file), "%s/other.key", dir);
    assert_int_equal(cdp_secret_key_ensure(&c, &made, err, sizeof(err)), 0);
    assert_true(made);
    assert_int_equal(cdp_secret_key_load(&c, k2, err, sizeof(err)), 0);
    assert_memory_not_equal(k1, k2, sizeof(k1));

    /* The environment wins, and no file is made for it. */
    setenv(CDP_SECRET_ENV, HEX_KEY, 1);
    snprintf(c.secret_key_file, sizeof(c.secret_key_file), "%s/never.key", dir);
    assert_int_equal(cdp_secret_key_ensure(&c, &made, err, sizeof(err)), 0);
    assert_false(made);
    snprintf(want, sizeof(want), "%s/never.key", dir);
    assert_int_not_equal(access(want, F_OK), 0);
    assert_int_equal(cdp_secret_key_load(&c, k2, err, sizeof(err)), 0);
    assert_int_equal(k2[31], 31);
    setenv(CDP_SECRET_ENV, "not a key", 1);
    assert_int_equal(cdp_secret_key_load(&c, k2, err, sizeof(err)), CDP_E_CONFIG);
    assert_non_null(strstr(err, CDP_SECRET_ENV));
    unsetenv(CDP_SECRET_ENV);

    /* A damaged key file is refused, not used. */
    snprintf(c.secret_key_file, sizeof(c.secret_key_file), "%s/secret.key", dir);
    FILE *f = fopen(c.secret_key_file, "w");
    fputs("short\n", f);
    fclose(f);
    assert_int_equal(cdp_secret_key_load(&c, k2, err, sizeof(err)), CDP_E_CONFIG);
    assert_non_null(strstr(err, "64 hex digits"));

    unlink(c.secret_key_file);
    snprintf(path, sizeof(path), "%s/other.key", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
