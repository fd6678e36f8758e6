/* Growable buffer: doubles its capacity, refuses to pass its cap. */
#include "core/buf.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cdp_buf_init(struct cdp_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void cdp_buf_fini(struct cdp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static int buf_reserve(struct cdp_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (b->max && need > b->max + 1) {
        b->failed = true;
        return CDP_E_TOO_LARGE;
    }
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (b->max && cap > b->max + 1) /* so that fitting the capacity means fitting the cap */
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return CDP_E_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int cdp_buf_grow_append(struct cdp_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cdp_buf_puts(struct cdp_buf *b, const char *s)
{
    return cdp_buf_append(b, s, strlen(s));
}

int cdp_buf_printf(struct cdp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CDP_E_INTERNAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *cdp_buf_steal(struct cdp_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
