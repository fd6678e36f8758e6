/* Random identifiers: UUID4 for entities, hex tokens for sessions of the management API. */
#ifndef CDP_CORE_ID_H
#define CDP_CORE_ID_H

#include <stddef.h>

#define CDP_UUID_LEN 37 /* 36 chars + NUL */

void cdp_id_uuid4(char out[CDP_UUID_LEN]);
/* UUID version 7: a millisecond timestamp, then 74 random bits. Ids made in time order land at
 * the end of the store's index instead of on a random page. */
void cdp_id_uuid7(char out[CDP_UUID_LEN]);
/* n random bytes as 2n hex chars into out (size >= 2n+1). */
void cdp_id_hex(char *out, size_t n);

#endif
