/* The installation's secret key and JSON values sealed under it (secret.h). */
#include "core/secret.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALG        "xchacha20poly1305"
#define NONCE_LEN  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_LEN    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_ID_LEN 4 /* bytes shown, as 8 hex digits */
/* Sealed values are small config secrets; anything longer is not one of ours. */
#define MAX_SEALED (1u << 20)

int cdp_secret_key_parse(const char *text, unsigned char key[CDP_SECRET_KEY_LEN])
{
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    size_t got = 0;
    const char *end = NULL;
    if (n == 2 * CDP_SECRET_KEY_LEN &&
        sodium_hex2bin(key, CDP_SECRET_KEY_LEN, p, n, NULL, &got, &end) == 0 &&
        got == CDP_SECRET_KEY_LEN && end == p + n)
        return 0;
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        if (sodium_base642bin(key, CDP_SECRET_KEY_LEN, p, n, NULL, &got, &end, variants[i]) == 0 &&
            got == CDP_SECRET_KEY_LEN && end == p + n)
            return 0;
    }
    sodium_memzero(key, CDP_SECRET_KEY_LEN);
    return CDP_E_INVALID;
}

int cdp_secret_key_path(const struct cdp_config *cfg, char *out, size_t outlen, char *err,
                        size_t errlen)
{
    if (*cfg->secret_key_file) {
        snprintf(out, outlen, "%s", cfg->secret_key_file);
        return 0;
    }
    /* The data directory as the store reads it: a plain path or sqlite:PATH. */
    const char *dir = cfg->data;
    const char *colon = strchr(dir, ':');
    if (strncmp(dir, "sqlite:", 7) == 0) {
        dir += 7;
    } else if (colon && colon != dir && !(strchr(dir, '/') && strchr(dir, '/') < colon)) {
        snprintf(err, errlen,
                 "the store %s has no data directory for the secret key: set --secret-key-file "
                 "or " CDP_SECRET_ENV,
                 cfg->data);
        return CDP_E_CONFIG;
    }
    if ((size_t)snprintf(out, outlen, "%s/secret.key", dir) >= outlen) {
        snprintf(err, errlen, "data directory path too long for the secret key file");
        return CDP_E_CONFIG;
    }
    return 0;
}

static bool env_key_set(void)
{
    const char *v = getenv(CDP_SECRET_ENV);
    return v && *v;
}

int cdp_secret_key_ensure(const struct cdp_config *cfg, bool *created, char *err, size_t errlen)
{
    if (created)
        *created = false;
    if (env_key_set())
        return 0;
    char path[600];
    int rc = cdp_secret_key_path(cfg, path, sizeof(path), err, errlen);
    if (rc)
        return rc;
    if (access(path, F_OK) == 0)
        return 0;
    /* Written whole under a temporary name, then linked into place: a process starting at the
     * same moment sees either no file or the complete one, and only one key wins. */
    char tmp[640];
    snprintf(tmp, sizeof(tmp), "%s", path);
    char *sep = strrchr(tmp, '/');
    if (sep && sep != tmp) { /* a data directory that holds only the key (scale-out) */
        *sep = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s for the secret key: %s", tmp, strerror(errno));
            return CDP_E_CONFIG;
        }
    }
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the secret key file %s: %s", path, strerror(errno));
        return CDP_E_IO;
    }
    unsigned char key[CDP_SECRET_KEY_LEN];
    char text[2 * CDP_SECRET_KEY_LEN + 2];
    randombytes_buf(key, sizeof(key));
    sodium_bin2hex(text, sizeof(text), key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    size_t len = strlen(text);
    text[len++] = '\n';
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    sodium_memzero(text, sizeof(text));
    ok = close(fd) == 0 && ok;
    int e = errno;
    if (ok && link(tmp, path) != 0) {
        e = errno;
        ok = e == EEXIST; /* another process made it first: use theirs */
    } else if (ok && created) {
        *created = true;
    }
    unlink(tmp);
    if (!ok) {
        snprintf(err, errlen, "cannot write the secret key file %s: %s", path, strerror(e));
        return CDP_E_IO;
    }
    /* The new name must survive a crash too. */
    char dir[600];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int cdp_secret_key_load(const struct cdp_config *cfg, unsigned char key[CDP_SECRET_KEY_LEN],
                        char *err, size_t errlen)
{
    if (env_key_set()) {
        if (cdp_secret_key_parse(getenv(CDP_SECRET_ENV), key)) {
            snprintf(err, errlen,
                     CDP_SECRET_ENV " must be 64 hex digits or the base64 of 32 bytes");
            return CDP_E_CONFIG;
        }
        return 0;
    }
    char path[600];
    int rc = cdp_secret_key_path(cfg, path, sizeof(path), err, errlen);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the secret key file %s: %s", path, strerror(errno));
        return CDP_E_CONFIG;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        cdp_warn("secret key file %s may be read by other users (mode %03o): chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
    char text[256];
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    rc = cdp_secret_key_parse(text, key);
    sodium_memzero(text, sizeof(text));
    if (rc) {
        snprintf(err, errlen,
                 "secret key file %s must hold 64 hex digits or the base64 of 32 bytes", path);
        return CDP_E_CONFIG;
    }
    return 0;
}

/* A name for the key that says nothing of it: a keyed hash of a fixed text. */
static void key_id(const unsigned char key[CDP_SECRET_KEY_LEN], char out[2 * KEY_ID_LEN + 1])
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    static const char label[] = "cdpd secret key id";
    crypto_generichash(h, sizeof(h), (const unsigned char *)label, sizeof(label) - 1, key,
                       CDP_SECRET_KEY_LEN);
    sodium_bin2hex(out, 2 * KEY_ID_LEN + 1, h, KEY_ID_LEN);
}

/* The associated data: a version and the context, so a value opens only where it was sealed. */
static char *aad_of(const char *context, size_t *len)
{
    size_t n = strlen(context ? context : "");
    char *a = malloc(n + 16);
    if (a)
        *len = (size_t)snprintf(a, n + 16, "cdpd/1/%s", context ? context : "");
    return a;
}

static char *b64(const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (s)
        sodium_bin2base64(s, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

int cdp_secret_seal(const unsigned char key[CDP_SECRET_KEY_LEN], const char *context,
                    const cJSON *value, cJSON **out)
{
    *out = NULL;
    int rc = CDP_E_NOMEM;
    size_t adlen = 0;
    char *plain = cdp_json_print(value), *ad = aad_of(context, &adlen), *nonce_s = NULL,
         *ct_s = NULL;
    unsigned char *ct = NULL;
    size_t plen = plain ? strlen(plain) : 0;
    if (!plain || !ad || !(ct = malloc(plen + MAC_LEN)))
        goto out;
    unsigned char nonce[NONCE_LEN];
    randombytes_buf(nonce, sizeof(nonce));
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, (const unsigned char *)plain, plen,
                                               (const unsigned char *)ad, adlen, NULL, nonce, key);
    char kid[2 * KEY_ID_LEN + 1];
    key_id(key, kid);
    if (!(nonce_s = b64(nonce, sizeof(nonce))) || !(ct_s = b64(ct, (size_t)clen)))
        goto out;
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "alg", ALG) ||
        !cJSON_AddStringToObject(j, "key_id", kid) ||
        !cJSON_AddStringToObject(j, "nonce", nonce_s) ||
        !cJSON_AddStringToObject(j, "ciphertext", ct_s)) {
        cJSON_Delete(j);
        goto out;
    }
    *out = j;
    rc = 0;
out:
    if (plain) {
        sodium_memzero(plain, plen);
        free(plain);
    }
    free(ad);
    free(ct);
    free(nonce_s);
    free(ct_s);
    return rc;
}

bool cdp_secret_is_sealed(const cJSON *v)
{
    const char *alg = cdp_json_str(v, "alg");
    return cJSON_IsObject(v) && alg && strcmp(alg, ALG) == 0 && cdp_json_str(v, "nonce") &&
           cdp_json_str(v, "ciphertext");
}

int cdp_secret_open(const unsigned char key[CDP_SECRET_KEY_LEN], const char *context,
                    const cJSON *sealed, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cdp_secret_is_sealed(sealed)) {
        snprintf(err, errlen, "not a sealed value (alg " ALG ", nonce, ciphertext)");
        return CDP_E_INVALID;
    }
    char kid[2 * KEY_ID_LEN + 1];
    key_id(key, kid);
    const char *stored_kid = cdp_json_str(sealed, "key_id");
    if (stored_kid && strcmp(stored_kid, kid) != 0) {
        snprintf(err, errlen, "sealed under the key with id %.16s, this server's key is %s",
                 stored_kid, kid);
        return CDP_E_CONFIG;
    }
    const char *nonce_s = cdp_json_str(sealed, "nonce"), *ct_s = cdp_json_str(sealed, "ciphertext");
    size_t ct_max = strlen(ct_s);
    if (ct_max > MAX_SEALED) {
        snprintf(err, errlen, "sealed value longer than %u bytes", MAX_SEALED);
        return CDP_E_INVALID;
    }
    int rc = CDP_E_NOMEM;
    size_t adlen = 0, nlen = 0, clen = 0;
    char *ad = aad_of(context, &adlen);
    unsigned char nonce[NONCE_LEN];
    unsigned char *ct = malloc(ct_max + 1), *plain = malloc(ct_max + 1);
    unsigned long long plen = 0;
    if (!ad || !ct || !plain)
        goto out;
    if (sodium_base642bin(nonce, sizeof(nonce), nonce_s, strlen(nonce_s), NULL, &nlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        nlen != sizeof(nonce) ||
        sodium_base642bin(ct, ct_max + 1, ct_s, ct_max, NULL, &clen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        clen < MAC_LEN) {
        snprintf(err, errlen, "malformed nonce or ciphertext");
        rc = CDP_E_INVALID;
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &plen, NULL, ct, clen, (const unsigned char *)ad, adlen, nonce, key) != 0) {
        snprintf(err, errlen,
                 "the ciphertext fails authentication (altered, damaged, or sealed "
                 "for another record)");
        rc = CDP_E_STORE;
        goto out;
    }
    size_t pos = 0;
    *out = cdp_json_parse((const char *)plain, (size_t)plen, &pos);
    if (*out) {
        rc = 0;
    } else {
        snprintf(err, errlen, "the opened value is not JSON");
        rc = CDP_E_STORE;
    }
    sodium_memzero(plain, (size_t)plen);
out:
    free(ad);
    free(ct);
    free(plain);
    return rc;
}
