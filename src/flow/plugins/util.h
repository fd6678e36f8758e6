/* What the plugin files share: reading a node's config with messages that name the field, and
 * the two answers most runs end with. Internal to src/flow/plugins/. */
#ifndef CDP_FLOW_PLUGINS_UTIL_H
#define CDP_FLOW_PLUGINS_UTIL_H

#include "flow/flow.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The opening of every plugin's config schema (JSON Schema draft 2020-12, an object). */
#define CDP_SCHEMA_HEAD                                                                            \
    "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"type\": \"object\", "

/* Config readers: 0, or CDP_E_INVALID with "<key>: why" in err. */
/* A boolean: absent or null means def; anything but a JSON bool is an error. */
int cdp_cfg_bool(const cJSON *init, const char *key, bool def, bool *out, char *err, size_t errlen);
/* A finite number, as a JSON number or a numeric string (the GUI's text inputs send those);
 * absent or null means def. */
int cdp_cfg_number(const cJSON *init, const char *key, double def, double *out, char *err,
                   size_t errlen);
/* A required string; blank (only white space) counts as missing unless allow_blank, which
 * still refuses "". *out points into init. */
int cdp_cfg_text(const cJSON *init, const char *key, bool allow_blank, const char **out, char *err,
                 size_t errlen);
/* An object template as a JSON object or JSON text of one (Tracardi stores text); absent, null
 * or blank text is {}. *out is a new tree (CDP_E_NOMEM when it cannot be made). */
int cdp_cfg_template(const cJSON *init, const char *key, cJSON **out, char *err, size_t errlen);

/* A list of ids, each a string or {id, name} as the GUI's pickers store them; absent or null is
 * []. *out is a new array of id strings. Messages say "<key>: must be a list of <list_of>" and
 * "<key>: item N must be <item> or {id, name}". */
int cdp_cfg_id_list(const cJSON *init, const char *key, const char *list_of, const char *item,
                    cJSON **out, char *err, size_t errlen);

/* Passes the input payload on port. */
int cdp_emit_payload(struct cdp_flow_call *c, const char *port);
/* Tracardi's handled error: {"message": ...} on the "error" port, logged as an error. */
int cdp_emit_error(struct cdp_flow_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
