/* A growable byte buffer with a size cap, for building responses and SQL-free text. */
#ifndef CDP_CORE_BUF_H
#define CDP_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct cdp_buf {
    char *data; /* always NUL-terminated when len > 0; owned by the buffer */
    size_t len;
    size_t cap;
    size_t max;  /* 0 = no cap */
    bool failed; /* set when an append hit the cap or ran out of memory */
};

void cdp_buf_init(struct cdp_buf *b, size_t max);
void cdp_buf_fini(struct cdp_buf *b);
int cdp_buf_grow_append(struct cdp_buf *b, const void *p, size_t n);

/* The common case inline (the JSON writer appends a few bytes at a time); growth out of line. */
static inline int cdp_buf_append(struct cdp_buf *b, const void *p, size_t n)
{
    if (b->len + n < b->cap) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return cdp_buf_grow_append(b, p, n);
}
int cdp_buf_puts(struct cdp_buf *b, const char *s);
int cdp_buf_printf(struct cdp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives the caller the bytes (free with free()) and resets the buffer. */
char *cdp_buf_steal(struct cdp_buf *b, size_t *len);

#endif
