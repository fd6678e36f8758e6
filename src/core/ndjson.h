/* Splitting a bulk body into its JSON documents without copying or parsing it: NDJSON (one
 * document per line) or one JSON array whose elements are the documents. Each document comes
 * back as a view into the body, to be checked and parsed on its own, so a bulk import holds one
 * document parsed at a time however large the body is. */
#ifndef CDP_CORE_NDJSON_H
#define CDP_CORE_NDJSON_H

#include <stdbool.h>
#include <stddef.h>

struct cdp_ndjson {
    const char *p;   /* next byte to look at */
    const char *end; /* one past the body */
    const char *body;
    bool array; /* the body is one JSON array */
    bool done;
    bool after;     /* array: an element was read; a ',' or the ']' comes next */
    long line;      /* NDJSON: the line p is on, 1-based */
    long index;     /* array: the number of elements read */
    long broken_at; /* array: where it stopped being one (-1 while it is one) */
};

/* Starts on body[0..len). The body is read as an array when as_array is true and its first
 * non-blank byte is '['; otherwise as NDJSON. */
void cdp_ndjson_init(struct cdp_ndjson *it, const char *body, size_t len, bool as_array);

/* The next document: its bytes (blanks around it left out, never empty) in *doc and *len, and
 * its place in *at: the line number (1-based) of an NDJSON body, the element's index (0-based)
 * in an array. Blank lines are skipped. Returns 1 with a document, 0 at the end, -1 when an
 * array body is not one array (unterminated, or something after its closing ']'); then *at is
 * the byte offset of the problem, and every later call returns -1 too. An array element is only
 * delimited here: whether it is valid JSON is the parser's question. */
int cdp_ndjson_next(struct cdp_ndjson *it, const char **doc, size_t *len, long *at);

#endif
