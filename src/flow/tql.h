/* Tracardi's condition language (TQL), used by the If node, segments, destinations and
 * run_once. A condition is parsed once into a tree (struct cdp_tql) and evaluated many times
 * against the flow's documents; the tree is immutable after parsing, so one may be shared by
 * threads.
 *
 * Grammar (keywords case-insensitive):
 *   expr    := and (OR and)*
 *   and     := unary (AND unary)*
 *   unary   := NOT unary | "(" expr ")" | cond
 *   cond    := operand OP operand | operand BETWEEN operand AND operand
 *            | operand IS [NOT] NULL | operand [NOT] EXISTS | operand [NOT] EMPTY
 *            | operand CONTAINS operand | operand STARTS WITH operand | operand ENDS WITH operand
 *   OP      := == = != > >= => < <= =<
 *   operand := source@path | NULL | TRUE | FALSE | number | "string" (\" \\ \n \t escapes)
 *            | [value, ...] | time literal (10s 5m 2h 3d 1w: a number of seconds)
 *            | function(operand, ...)
 * Functions: now(), utcnow(), now(tz), now.timezone(tz), now.offset(off),
 * now.timezone.offset(tz, off), datetime(x), datetime.offset(x, off), datetime.timezone(x, tz),
 * datetime.from_timestamp(x), lowercase(x), uppercase(x). Offsets are "-15m", "+700 days",
 * "1h 30m" (units s m h d w and their English words). Time zones are accepted and ignored:
 * every time is UTC. datetime(x) reads ISO 8601 (not dateparser's free text) or epoch seconds.
 *
 * Semantics as Tracardi's, except where cdpd deliberately differs:
 *  - a general prefix NOT exists (`NOT (a == 1)`); Tracardi only has NOT EXISTS / NOT EMPTY;
 *  - AND binds tighter than OR, so `a AND b OR c` is `(a AND b) OR c`; Tracardi refuses it;
 *  - a missing field makes a comparison (and CONTAINS, STARTS/ENDS WITH, BETWEEN) false
 *    instead of failing the whole evaluation; `!=` with a missing side is false too. So
 *    `NOT profile@x == 1` is true when x is missing;
 *  - EMPTY is true for missing, null, "", [] and {}; EXISTS is true when the path resolves,
 *    even to null; IS NULL is true for null or missing (IS NOT NULL is its negation);
 *  - field == field compares the two fields (Tracardi swaps a variable there);
 *  - AND and OR evaluate lazily.
 * Values: `==` with a list on the right is membership (`!=` its negation); CONTAINS is
 * substring on strings, membership on lists and key presence on objects; STARTS/ENDS WITH on a
 * list compare its first/last item. Numbers compare as doubles, strings byte-wise; a string
 * against a number is never equal and never ordered. When one side is a time (a datetime or
 * now function), a string on the other side that parses as ISO 8601 compares as a time.
 * lowercase/uppercase change ASCII letters only.
 * Limits: text up to CDP_TQL_MAX_LEN bytes, nesting (parentheses, NOT, lists, function calls)
 * up to CDP_TQL_MAX_DEPTH. */
#ifndef CDP_FLOW_TQL_H
#define CDP_FLOW_TQL_H

#include "flow/path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDP_TQL_MAX_LEN   8192
#define CDP_TQL_MAX_DEPTH 64

struct cdp_tql;

/* Parses text into *out (free with cdp_tql_free). On failure returns CDP_E_INVALID (syntax,
 * limits) or CDP_E_NOMEM and writes "at <1-based char>: <what was expected>" into err. */
int cdp_tql_parse(const char *text, struct cdp_tql **out, char *err, size_t errlen);
/* cdp_tql_parse as searches read conditions (Tracardi's /select): a field may also be written
 * without its source (`type == "page-view"`, `data.contact.email.main EXISTS`), and then is a
 * field of source ("event", "profile", ...). Keywords and function names are never fields. */
int cdp_tql_parse_in(const char *text, const char *source, struct cdp_tql **out, char *err,
                     size_t errlen);
void cdp_tql_free(struct cdp_tql *q);
/* Evaluates q against r's documents with now_us as the current time (microseconds since the
 * epoch). 0 and *result on success; a negative code and a message in err otherwise (only
 * allocation failure today). */
int cdp_tql_eval(const struct cdp_tql *q, const struct cdp_refs *r, int64_t now_us, bool *result,
                 char *err, size_t errlen);
/* Parses an offset such as "-15m", "+700 days" or "1h 30m" into microseconds; -1 if invalid. */
int cdp_tql_parse_offset(const char *s, int64_t *us);
/* The parsed tree as a new JSON tree, for backends that translate conditions into their own
 * query language (store/query.c). Functions of constants are folded to their value at now_us
 * (the value cdp_tql_eval with that now_us sees), so a translation needs no clock:
 *   node  := {"or": [node...]} | {"and": [node...]} | {"not": node}
 *          | {"test": "==" | "!=" | ">" | ">=" | "<" | "<=" | "between" | "is null" |
 *                     "is not null" | "exists" | "not exists" | "empty" | "not empty" |
 *                     "contains" | "starts with" | "ends with",
 *             "lhs": opnd, "a": opnd (second operand), "b": opnd (BETWEEN's upper bound)}
 *   opnd  := {"field": "profile" | "event" | ..., "path": [key...]}   ([] is the whole document)
 *          | {"value": JSON literal} | {"time": "<microseconds since the epoch, decimal>"}
 *          | {"missing": true} (a function of constants without a value)
 *          | {"fn": "lowercase" | "datetime" | ..., "args": [opnd...]} (a function of fields)
 * CDP_E_NOMEM on allocation failure. */
int cdp_tql_describe(const struct cdp_tql *q, int64_t now_us, cJSON **out);

#endif
