/* cJSON helpers: dotted paths, get-or-create, deep merge, and a depth check that runs before
 * parsing so hostile nesting is refused without recursion. Getters are case-sensitive. */
#ifndef CDP_CORE_JSON_H
#define CDP_CORE_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* True when the JSON text nests objects/arrays no deeper than max_depth. */
bool cdp_json_depth_ok(const char *s, size_t len, int max_depth);

/* Parses one JSON value that must fill the text (whitespace aside). NULL when the text is not
 * JSON, then *err_pos (if given) is the byte offset of the problem. Check depth first. */
cJSON *cdp_json_parse(const char *s, size_t len, size_t *err_pos);

/* Item at a dotted path ("a.b.c") under obj, or NULL. */
cJSON *cdp_json_get(const cJSON *obj, const char *path);
/* String at path, or NULL when absent or not a string. */
const char *cdp_json_str(const cJSON *obj, const char *path);
/* Child object named key, created (replacing a non-object) when missing. NULL on OOM. */
cJSON *cdp_json_obj(cJSON *obj, const char *key);
/* Sets obj[key] = item, replacing any previous value; takes ownership of item. */
void cdp_json_put(cJSON *obj, const char *key, cJSON *item);
void cdp_json_put_str(cJSON *obj, const char *key, const char *s); /* NULL s puts null */
void cdp_json_put_num(cJSON *obj, const char *key, double v);
void cdp_json_put_bool(cJSON *obj, const char *key, bool v);
/* A node that shows v's members without copying them (a cJSON reference), for documents that
 * are printed and freed while v still stands; scalars are copied. */
cJSON *cdp_json_borrow(const cJSON *v);
/* Replaces every borrowed part of doc (cdp_json_borrow) by a copy of its own, so doc can be
 * changed without touching what it borrowed from. Returns false on OOM (doc is then partly
 * unborrowed, still consistent). */
bool cdp_json_unborrow(cJSON *doc);
/* Sets the value at a dotted path, creating objects on the way; takes ownership of item. */
void cdp_json_set(cJSON *obj, const char *path, cJSON *item);
/* Deep-merges src into dst: objects merge key by key, anything else in src replaces. Returns
 * whether dst changed (equal values are left alone). */
bool cdp_json_merge(cJSON *dst, const cJSON *src);
/* The differences from before to after as a list of {path, old, new} (dotted paths to the
 * deepest objects that differ; old or new absent when the key is new or gone). NULL on OOM. */
cJSON *cdp_json_diff(const cJSON *before, const cJSON *after);
/* doc[key] in Tracardi's {id, name} form: a non-empty string or an object with a non-empty id
 * becomes {id, name} (name defaulting to the id). Returns the id (inside doc), or NULL when
 * there is none, leaving doc[key] as it was. */
const char *cdp_json_named(cJSON *doc, const char *key);
/* The head every config entity shares: doc must be an object (else "body: expected <what>
 * object"), its id a string of at most 128 bytes (a new UUID4 when absent or empty), its name
 * not blank ("name:
 * <what> needs a name"). CDP_E_INVALID with the message in err. what: "a segment", … */
int cdp_json_entity_head(cJSON *doc, const char *what, char *err, size_t errlen);
/* doc[key] as an object: {} when absent or null, else CDP_E_INVALID with "<prefix><key>: must
 * be an object" in err. */
int cdp_json_object_or_empty(cJSON *doc, const char *key, const char *prefix, char *err,
                             size_t errlen);
/* doc[key] as a list of strings: absent or null becomes [def] ([] when def is NULL), a lone
 * string (when single) a one-item list; else CDP_E_INVALID naming the field or item in err. */
int cdp_json_string_list(cJSON *doc, const char *key, const char *def, bool single, char *err,
                         size_t errlen);
/* Boolean flag as Tracardi's is_on(): the bool value when key holds a bool, else def. */
bool cdp_json_flag(const cJSON *obj, const char *key, bool def);
/* {"detail": "<message>"}, the body of every error answer (Tracardi's shape). */
cJSON *cdp_json_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct cdp_buf;
/* Appends the compact text of item to b. Numbers are exact (see json.c). */
int cdp_json_write(struct cdp_buf *b, const cJSON *item);
/* Compact text of item (free with free()), or NULL on OOM. */
char *cdp_json_print(const cJSON *item);

#endif
