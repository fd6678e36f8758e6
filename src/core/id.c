/* Identifiers from libsodium's CSPRNG, so ids are unguessable as well as unique. */
#include "core/id.h"

#include <sodium.h>
#include <stdint.h>

void cdp_id_uuid4(char out[CDP_UUID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

void cdp_id_hex(char *out, size_t n)
{
    uint8_t b[64];
    if (n > sizeof(b))
        n = sizeof(b);
    randombytes_buf(b, n);
    sodium_bin2hex(out, 2 * n + 1, b, n);
}
