/* JSON Schema validation for event types: a schema (a stored entity) is compiled once into an
 * immutable tree (struct cdp_jsonschema) and many documents are validated against it; the tree
 * is never written after compiling, so one may be shared by threads.
 *
 * Dialect: draft 2020-12 core, applicator and validation keywords, with the draft-4..7
 * spellings still in use: type (names or a list; "integer" is a number without fractional part,
 * so 1.0 is one), enum, const (deep equality: numbers by value, objects unordered), multipleOf,
 * maximum, exclusiveMaximum, minimum, exclusiveMinimum (numbers, or draft-4 booleans that make
 * maximum/minimum exclusive), maxLength, minLength (in Unicode code points), pattern, maxItems,
 * minItems, uniqueItems, prefixItems, items (a schema for the items after prefixItems; an array
 * is draft-7 tuple form, with additionalItems for the rest), contains, minContains,
 * maxContains, maxProperties, minProperties, required, properties, patternProperties,
 * additionalProperties, propertyNames, dependentRequired, dependentSchemas, dependencies
 * (draft 7: arrays are dependentRequired, schemas dependentSchemas), allOf, anyOf, oneOf, not,
 * if/then/else, unevaluatedProperties, unevaluatedItems (they see what properties,
 * patternProperties, additionalProperties, prefixItems, items, contains and nested unevaluated*
 * evaluated through $ref, allOf, passing anyOf/oneOf branches, if/then/else and
 * dependentSchemas), $ref, $defs, definitions, and the boolean schemas true and false.
 * Not asserted: format (an annotation only), $anchor, $dynamicRef/$recursiveRef, $id as a base
 * URI, content*; unknown keywords, title, description, default, examples, $comment and the like
 * are ignored. Siblings of $ref apply alongside it (2020-12), not replaced by it (draft 7).
 *
 * $ref: only references inside the schema ("#", "#/json/pointer" with ~0 ~1 and %-escapes)
 * are resolved; anything else (remote or relative URIs, "#anchor" names) is refused when
 * compiling. Patterns are PCRE2 regexes in UTF mode with ECMA-262 flavour ($ only at the end,
 * \uhhhh escapes, ASCII \d \w \s), searched (not anchored) in the string, with match limits.
 *
 * Limits: subschemas nest at most CDP_JSONSCHEMA_MAX_DEPTH deep (and the schema document at
 * most CDP_JSONSCHEMA_MAX_VALUE_DEPTH); validation recurses at most
 * CDP_JSONSCHEMA_MAX_EVAL_DEPTH schemas deep (which stops $ref cycles), compares values at most
 * CDP_JSONSCHEMA_MAX_VALUE_DEPTH deep and does at most CDP_JSONSCHEMA_MAX_STEPS steps; a
 * document that hits a limit is reported invalid with a message that says so. */
#ifndef CDP_MODEL_JSONSCHEMA_H
#define CDP_MODEL_JSONSCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define CDP_JSONSCHEMA_MAX_DEPTH       64
#define CDP_JSONSCHEMA_MAX_VALUE_DEPTH 512
#define CDP_JSONSCHEMA_MAX_EVAL_DEPTH  256
#define CDP_JSONSCHEMA_MAX_STEPS       20000000L

struct cdp_jsonschema;

/* Compiles schema into *out (free with cdp_jsonschema_free); schema is copied, the caller
 * keeps it. On failure *out is NULL and the result is CDP_E_INVALID with "<schema JSON pointer>:
 * <what is wrong>" in err (e.g. "/properties/age/minimum: expected a number"; the root is "")
 * or CDP_E_NOMEM. */
int cdp_jsonschema_compile(const cJSON *schema, struct cdp_jsonschema **out, char *err,
                           size_t errlen);

/* True when doc is valid against s. Otherwise false with the first error found as
 * "<instance JSON pointer>: <what>" in err (e.g. "/total: 5 is less than the minimum 10"; the
 * root is ""). Numbers are compared by valuedouble. Safe to call from many threads at once. */
bool cdp_jsonschema_validate(const struct cdp_jsonschema *s, const cJSON *doc, char *err,
                             size_t errlen);

void cdp_jsonschema_free(struct cdp_jsonschema *s);

#endif
