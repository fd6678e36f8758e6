/* Secrets at rest. The installation has one secret key: 32 random bytes from the environment
 * (CDPD_SECRET_KEY) or from the key file (--secret-key-file, default DATA/secret.key, made with
 * mode 0600 at first start). JSON values such as resource credentials are sealed under it with
 * XChaCha20-Poly1305 and a random nonce each time, bound to a context string naming their
 * record, so the store holds ciphertext that is useless without the key and that cannot be
 * altered, or moved to another record, without opening failing. */
#ifndef CDP_CORE_SECRET_H
#define CDP_CORE_SECRET_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define CDP_SECRET_KEY_LEN 32
#define CDP_SECRET_ENV     "CDPD_SECRET_KEY"

struct cdp_config;

/* Parses a key's text: 64 hex digits or the base64 (standard or URL-safe, padded or not) of 32
 * bytes; white space around it is ignored. 0 or CDP_E_INVALID. */
int cdp_secret_key_parse(const char *text, unsigned char key[CDP_SECRET_KEY_LEN]);

/* The key file of cfg: --secret-key-file, else secret.key in the data directory. CDP_E_CONFIG
 * (why in err) when there is neither (the store is a URL without a directory). */
int cdp_secret_key_path(const struct cdp_config *cfg, char *out, size_t outlen, char *err,
                        size_t errlen);

/* Makes the key file with a new random key (64 hex digits, mode 0600) unless CDPD_SECRET_KEY is
 * set or the file exists; *created (may be NULL) says whether it did. Safe when several
 * processes start at once: one file wins, whole. CDP_E_IO or CDP_E_CONFIG with err. */
int cdp_secret_key_ensure(const struct cdp_config *cfg, bool *created, char *err, size_t errlen);

/* Reads the key: CDPD_SECRET_KEY when set, else the key file (which it warns about when other
 * users may read it). CDP_E_CONFIG with the reason in err. */
int cdp_secret_key_load(const struct cdp_config *cfg, unsigned char key[CDP_SECRET_KEY_LEN],
                        char *err, size_t errlen);

/* Seals the compact JSON text of value under key, bound to context, into a new object
 * {"alg": "xchacha20poly1305", "key_id", "nonce", "ciphertext"} (base64; key_id tells keys
 * apart without saying anything of them). The caller frees *out. 0 or CDP_E_NOMEM. */
int cdp_secret_seal(const unsigned char key[CDP_SECRET_KEY_LEN], const char *context,
                    const cJSON *value, cJSON **out);

/* Opens what cdp_secret_seal made with the same context into a new tree (*out, the caller frees
 * it). CDP_E_CONFIG when it was sealed under another key, CDP_E_STORE when it fails
 * authentication (altered, damaged, or sealed for another context), CDP_E_INVALID when it is not
 * a sealed value, CDP_E_NOMEM; a message in err. */
int cdp_secret_open(const unsigned char key[CDP_SECRET_KEY_LEN], const char *context,
                    const cJSON *sealed, cJSON **out, char *err, size_t errlen);

/* True when v looks like what cdp_secret_seal makes. */
bool cdp_secret_is_sealed(const cJSON *v);

#endif
