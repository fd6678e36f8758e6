/* The bulk body splitter: a line scan for NDJSON, and for an array a scan that follows strings
 * (and their escapes) and bracket depth just far enough to find where each element ends. */
#include "core/ndjson.h"

#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

void cdp_ndjson_init(struct cdp_ndjson *it, const char *body, size_t len, bool as_array)
{
    memset(it, 0, sizeof(*it));
    it->body = body;
    it->p = body;
    it->end = body + len;
    it->line = 1;
    it->broken_at = -1;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        it->p += 3;
    const char *first = skip_blanks(it->p, it->end);
    if (as_array && first < it->end && *first == '[') {
        it->array = true;
        it->p = first + 1;
    }
}

static int next_line(struct cdp_ndjson *it, const char **doc, size_t *len, long *at)
{
    while (it->p < it->end) {
        const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        const char *eol = nl ? nl : it->end;
        const char *s = skip_blanks(it->p, eol);
        const char *e = eol;
        while (e > s && is_blank(e[-1]))
            e--;
        long line = it->line;
        it->p = nl ? nl + 1 : it->end;
        it->line++;
        if (e > s) {
            *doc = s;
            *len = (size_t)(e - s);
            *at = line;
            return 1;
        }
    }
    it->done = true;
    return 0;
}

static int broken(struct cdp_ndjson *it, const char *where, long *at)
{
    it->done = true;
    it->broken_at = (long)(where - it->body);
    *at = it->broken_at;
    return -1;
}

/* Moves p past one element: to the ',' or ']' that ends it. NULL when the body ends first or a
 * bracket closes that was never opened. */
static const char *element_end(const char *p, const char *end)
{
    long depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && ++p == end)
                    return NULL;
            }
            if (p == end)
                return NULL;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return c == ']' ? p : NULL;
            depth--;
        } else if (c == ',' && depth == 0) {
            return p;
        }
        p++;
    }
    return NULL;
}

static int next_element(struct cdp_ndjson *it, const char **doc, size_t *len, long *at)
{
    const char *p = skip_blanks(it->p, it->end);
    if (p == it->end)
        return broken(it, p, at);
    if (*p == ']') {
        const char *rest = skip_blanks(p + 1, it->end);
        if (rest != it->end)
            return broken(it, rest, at);
        it->p = it->end;
        it->done = true;
        return 0;
    }
    if (it->after) {
        if (*p != ',')
            return broken(it, p, at);
        p = skip_blanks(p + 1, it->end);
    }
    const char *e = element_end(p, it->end);
    if (!e)
        return broken(it, p, at);
    const char *s = p;
    const char *t = e;
    while (t > s && is_blank(t[-1]))
        t--;
    if (t == s) /* "[,", ",]" or ",," */
        return broken(it, e, at);
    it->p = e;
    it->after = true;
    *doc = s;
    *len = (size_t)(t - s);
    *at = it->index++;
    return 1;
}

int cdp_ndjson_next(struct cdp_ndjson *it, const char **doc, size_t *len, long *at)
{
    if (it->broken_at >= 0) {
        *at = it->broken_at;
        return -1;
    }
    if (it->done)
        return 0;
    return it->array ? next_element(it, doc, len, at) : next_line(it, doc, len, at);
}
