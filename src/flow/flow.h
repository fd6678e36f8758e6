/* The workflow engine's contract with its plugins (tracardi-flows.md §4.10, mirrored as a C
 * vtable). A plugin is a descriptor (struct cdp_plugin): Tracardi's module and class names, the
 * palette entry, its ports, its default config and a JSON Schema of that config, a setup that
 * validates the config once when the flow is saved, and a run called for each payload that
 * reaches the node.
 *
 * A run reads and writes the documents of the event being processed through the call
 * (struct cdp_flow_call): every write goes through cdp_flow_set / cdp_flow_delete /
 * cdp_flow_touch, which is how the engine knows what changed and must be stored (there is no
 * "Update profile" trap). It answers on named ports with cdp_flow_emit; answering on no port
 * ends the branch. It fails with cdp_flow_fail, which stops the flow (§4.4); handled errors go
 * out on an "error" port instead.
 *
 * A run that needs to wait (an HTTP call, a sleep) describes the wait with cdp_flow_wait_http or
 * cdp_flow_wait_sleep and returns CDP_FLOW_WAIT. The engine parks the flow, the caller performs
 * the wait without blocking anyone else (flow/io.h), and the run is called again with
 * call->io set to the outcome. */
#ifndef CDP_FLOW_FLOW_H
#define CDP_FLOW_FLOW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/path.h"

/* A run's return values besides 0 and the negative CDP_E_* codes. */
#define CDP_FLOW_WAIT 1

/* What changed, in struct cdp_flow_ctx.changed: bit (1u << CDP_PATH_PROFILE) and so on. */
#define CDP_FLOW_CHANGED(src) (1u << (src))

/* Everything the flows of one event share (§4.2): the same profile, session and event are seen
 * and changed by every node of every flow run for the event. */
struct cdp_flow_ctx {
    cJSON *profile; /* NULL when the request is profile-less */
    cJSON *session; /* may be NULL */
    cJSON *event;
    cJSON *response;  /* object: Create response writes here (deep-merged, last wins) */
    cJSON *ux;        /* array: UX plugins append tag descriptors */
    cJSON *logs;      /* array of {type, message, flow_id, node_id}: cdp_flow_log */
    cJSON *merge;     /* NULL or array of merge keys requested by Merge profiles nodes */
    unsigned changed; /* CDP_FLOW_CHANGED bits of the documents written */
    int64_t now_us;   /* the time of the request, microseconds since the epoch */
    bool debug;       /* debug-only nodes run; nothing will be stored */
};

/* A wait a run asks the engine's caller to perform. */
enum cdp_flow_wait_kind { CDP_WAIT_NONE, CDP_WAIT_HTTP, CDP_WAIT_SLEEP };

struct cdp_flow_wait {
    enum cdp_flow_wait_kind kind;
    double seconds; /* SLEEP */
    /* HTTP: all owned by the wait and freed with it (cdp_flow_wait_clear) */
    char *method;    /* "GET", "POST", ... */
    char *url;       /* http:// or https:// */
    cJSON *headers;  /* object of name -> string value, or NULL */
    char *body;      /* NULL for none */
    long timeout_ms; /* whole transfer, per attempt */
    int retries;     /* further attempts after a connection error or timeout */
    bool ssl_check;  /* verify TLS peers */
};
void cdp_flow_wait_clear(struct cdp_flow_wait *w);

struct cdp_flow_node; /* the engine's compiled node */

/* One invocation of a plugin's run. */
struct cdp_flow_call {
    struct cdp_flow_ctx *ctx;
    const void *state;   /* what the plugin's setup built from the node's config */
    const cJSON *init;   /* the node's config as written in the flow */
    const char *node_id; /* for messages */
    const char *node_name;
    const char *in_port;  /* the input port the payload came in on ("payload") */
    cJSON *payload;       /* the input payload, owned by the call (a plugin may steal it) */
    struct cdp_refs refs; /* profile, event, session, payload, flow ({id, name}), memory */
    /* HTTP: {"status": int, "headers": {...}, "content": JSON or string} or
     * {"error": "message"} when no answer came; SLEEP: {}. NULL on the first call. */
    const cJSON *io;
    /* engine-private */
    cJSON *out;                /* array of {port, value} emitted so far */
    char *error;               /* set by cdp_flow_fail */
    struct cdp_flow_wait wait; /* set by cdp_flow_wait_* */
};

/* Answers value (any JSON but null; taken, also on failure) on port. 0 or CDP_E_NOMEM. */
int cdp_flow_emit(struct cdp_flow_call *c, const char *port, cJSON *value);
/* Takes the input payload out of the call (to emit it on): the caller owns it; the call's
 * payload@ is empty afterwards. Never NULL unless out of memory. */
cJSON *cdp_flow_take_payload(struct cdp_flow_call *c);
/* Fails this node (and so its flow) with a message; returns CDP_E_INVALID for `return`. */
int cdp_flow_fail(struct cdp_flow_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a console message (type "info", "warning" or "error") to ctx->logs. */
void cdp_flow_log(struct cdp_flow_call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads: the value at a reference (borrowed), or NULL when missing / not a reference. */
const cJSON *cdp_flow_get(const struct cdp_flow_call *c, const char *ref);
/* A config value as Tracardi reads it (§5): a string that is a reference resolves to a copy of
 * the value (NULL when missing); a string in backticks is resolved and then cast ("true",
 * "null", "1.5"); anything else is a copy of itself. Caller frees. */
cJSON *cdp_flow_value(const struct cdp_flow_call *c, const cJSON *spec);

/* Writes: value at ref (taken, also on failure), creating objects on the way; marks the
 * document changed. CDP_E_FORBIDDEN for flow@, CDP_E_INVALID for a bad reference. Writing
 * payload@ or memory@ changes only this run. */
int cdp_flow_set(struct cdp_flow_call *c, const char *ref, cJSON *value);
/* Removes the value at ref; 0 also when it was not there. */
int cdp_flow_delete(struct cdp_flow_call *c, const char *ref);
/* Marks a document changed after writing into it directly (ctx->profile or ctx->session; never
 * write ctx->event directly: it shares parts of the request's payload until cdp_flow_set or
 * cdp_flow_delete gives it copies of its own). */
void cdp_flow_touch(struct cdp_flow_call *c, enum cdp_path_source src);

/* Waits: fill the wait and return CDP_FLOW_WAIT from run. The strings are copied. */
int cdp_flow_wait_http(struct cdp_flow_call *c, const char *method, const char *url,
                       cJSON *headers /* taken */, const char *body, long timeout_ms, int retries,
                       bool ssl_check);
int cdp_flow_wait_sleep(struct cdp_flow_call *c, double seconds);

/* --- plugins --- */

enum {
    CDP_PLUGIN_START = 1u << 0, /* may start a flow: run once with payload {} */
    CDP_PLUGIN_JOIN = 1u << 1,  /* runs once with all inputs, keyed by edge name (§4.3 Join) */
    CDP_PLUGIN_DEBUG = 1u << 2, /* runs only in debug mode */
};

struct cdp_plugin {
    const char *id;         /* cdpd's own id: "if", "copy-data" */
    const char *module;     /* Tracardi's module, or "cdpd.plugin.<id>" for cdpd's own */
    const char *class_name; /* Tracardi's className, or NULL */
    const char *name;       /* palette: display name, description, group */
    const char *desc;
    const char *group;
    const char *inputs;  /* comma-separated port names: "payload", or "" */
    const char *outputs; /* "true,false" */
    const char *init;    /* default config, JSON text */
    const char *schema;  /* JSON Schema of the config, JSON text, for generated forms */
    unsigned flags;      /* CDP_PLUGIN_* */
    /* Validates the node's config (init is never NULL: an empty object when the flow has none)
     * and builds what run needs into *state. Messages name the config field. NULL: nothing to
     * check. */
    int (*setup)(const cJSON *init, void **state, char *err, size_t errlen);
    void (*free)(void *state);
    int (*run)(struct cdp_flow_call *c);
};

/* The registry: NULL-terminated arrays, one per plugin file (flow/plugins/). */
extern const struct cdp_plugin *const cdp_plugins_control[];
extern const struct cdp_plugin *const cdp_plugins_data[];
extern const struct cdp_plugin *const cdp_plugins_profile[];
extern const struct cdp_plugin *const cdp_plugins_text[];
extern const struct cdp_plugin *const cdp_plugins_remote[];

/* Calls fn for every registered plugin. */
void cdp_plugin_each(void (*fn)(void *ud, const struct cdp_plugin *p), void *ud);
/* A plugin by Tracardi's (module, className), by className alone, or by cdpd's id given as
 * module or className; NULL when unknown. */
const struct cdp_plugin *cdp_plugin_find(const char *module, const char *class_name);
/* The palette entry of a plugin as GET /flow/action/plugins lists it. */
cJSON *cdp_plugin_describe(const struct cdp_plugin *p);

/* Runs one plugin outside a flow, for tests: setup with init, run with payload (taken) on
 * in_port against ctx and memory (may be NULL). On success *out is the array of {port, value}
 * emitted. When the run waits, returns CDP_FLOW_WAIT with *single holding the call: perform
 * (*single)->wait, then cdp_plugin_resume with the outcome. Errors return a CDP_E_* with the
 * message in err. Free *single with cdp_plugin_single_free. */
struct cdp_plugin_single;
int cdp_plugin_run1(const struct cdp_plugin *p, const cJSON *init, struct cdp_flow_ctx *ctx,
                    cJSON *payload, cJSON *memory, cJSON **out, struct cdp_plugin_single **single,
                    char *err, size_t errlen);
const struct cdp_flow_wait *cdp_plugin_single_wait(const struct cdp_plugin_single *s);
int cdp_plugin_resume(struct cdp_plugin_single *s, const cJSON *io, cJSON **out, char *err,
                      size_t errlen);
void cdp_plugin_single_free(struct cdp_plugin_single *s);

#endif
