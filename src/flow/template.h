/* Tracardi's two kinds of templates over dot-notation references (flow/path.h). String templates
 * replace every `{{ source@path }}` in a text with the value as text, for message bodies (SMTP,
 * Slack, the Template plugin, non-JSON Remote API bodies). Object templates reshape a JSON
 * document: string leaves that are whole references become copies of the referenced values, for
 * Create response, Inject payload, Join, Remote API JSON bodies and destination mappings. Both
 * only read the documents in struct cdp_refs. */
#ifndef CDP_FLOW_TEMPLATE_H
#define CDP_FLOW_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "flow/path.h"

/* Deepest object template cdp_template_object accepts (tpl's nesting, root at depth 1). */
#define CDP_TEMPLATE_MAX_DEPTH 64

/* Appends tpl to out with every `{{ source@path }}` (spaces inside the braces optional) replaced
 * by the value: strings as they are, numbers in their shortest exact form, true/false, null as
 * "null", objects and arrays as compact JSON. Other text is copied verbatim. CDP_E_INVALID with
 * a message in err when a reference is missing, the braces hold something else or a `{{` is not
 * closed; buffer errors (CDP_E_NOMEM, CDP_E_TOO_LARGE) pass through. On failure out is left as
 * it was before the call. */
int cdp_template_render(const char *tpl, const struct cdp_refs *r, struct cdp_buf *out, char *err,
                        size_t errlen);

/* Sets *out to a deep copy of tpl (the caller frees it with cJSON_Delete) in which every string
 * leaf that is a whole reference is replaced by a copy of the value; other strings stay literal.
 * A key ending in `?` is written without it and left out when its value is missing, null, "",
 * [] or {}. Otherwise a missing reference is CDP_E_INVALID when strict, else null.
 * CDP_E_INVALID also past CDP_TEMPLATE_MAX_DEPTH, CDP_E_NOMEM on allocation failure; *out is
 * NULL on failure. */
int cdp_template_object(const cJSON *tpl, const struct cdp_refs *r, bool strict, cJSON **out,
                        char *err, size_t errlen);

/* Checks an object template when it is saved: every string leaf that looks like a reference is
 * a whole one, from one of the sources whose bits (1 << enum cdp_path_source) are in sources
 * (0: any; reads names them in the message, e.g. "event@… and session@…"), and tpl nests no
 * deeper than CDP_TEMPLATE_MAX_DEPTH. CDP_E_INVALID with "<at>.<key>[i]: why" in err. */
int cdp_template_object_check(const cJSON *tpl, unsigned sources, const char *reads, const char *at,
                              char *err, size_t errlen);

#endif
