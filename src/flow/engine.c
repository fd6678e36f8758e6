/* The workflow engine: compiles a flow's JSON into a plan and runs plans (engine.h).
 *
 * Semantics follow tracardi-flows.md §4: nodes run one after another in topological order; a
 * start node runs once with payload {}; any other node runs once per result that reached it,
 * that is per (in-edge, upstream result on that edge's port), each time with its own copy of
 * the payload; a Join node runs once with all of them. A failing node stops its flow. Where
 * Tracardi has no answer cdpd adds one: cycles are refused when the flow is saved, and every
 * run has a time limit and a limit on node executions. */
#include "flow/engine.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pnode {
    const struct cdp_plugin *p;
    void *state;
    cJSON *init;
    char *id, *name;
    bool start, skip, block, debug_only, append_input;
    int *in; /* edge indexes */
    int nin;
};

struct pedge {
    char *id, *key; /* key: the edge's data.name or its id, for Join */
    int src, dst;   /* node indexes in plan order */
    char *port;     /* sourceHandle */
};

struct cdp_flow_plan {
    atomic_int refs;
    char *id, *name;
    int n, ne;
    struct pnode *nodes; /* in execution (topological) order */
    struct pedge *edges;
};

/* --- compiling --- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return CDP_E_INVALID;
}

static char *dupstr(const char *s)
{
    return strdup(s ? s : "");
}

static void plan_free(struct cdp_flow_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        struct pnode *n = &p->nodes[i];
        if (n->p && n->p->free && n->state)
            n->p->free(n->state);
        cJSON_Delete(n->init);
        free(n->id);
        free(n->name);
        free(n->in);
    }
    for (int i = 0; i < p->ne; i++) {
        free(p->edges[i].id);
        free(p->edges[i].key);
        free(p->edges[i].port);
    }
    free(p->nodes);
    free(p->edges);
    free(p->id);
    free(p->name);
    free(p);
}

struct cdp_flow_plan *cdp_flow_plan_ref(struct cdp_flow_plan *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void cdp_flow_plan_unref(struct cdp_flow_plan *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        plan_free(p);
}

const char *cdp_flow_plan_id(const struct cdp_flow_plan *p)
{
    return p->id;
}

const char *cdp_flow_plan_name(const struct cdp_flow_plan *p)
{
    return p->name;
}

static bool has_port(const char *list, const char *port)
{
    size_t n = strlen(port);
    for (const char *s = list ? list : ""; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && strncmp(s, port, n) == 0)
            return true;
        s += len + (e ? 1 : 0);
    }
    return false;
}

static int find_node(cJSON *const *raw, int n, const char *id)
{
    for (int i = 0; id && i < n; i++)
        if (strcmp(cdp_json_str(raw[i], "id"), id) == 0)
            return i;
    return -1;
}

/* The raw graph: {flowGraph: {nodes, edges}} or {nodes, edges}. */
static const cJSON *graph_of(const cJSON *flow)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(flow, "flowGraph");
    return cJSON_IsObject(g) ? g : flow;
}

/* Builds the node at raw index i: plugin, config, flags. */
static int build_node(struct pnode *n, const cJSON *raw, char *err, size_t errlen)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(raw, "data");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(data, "spec");
    const char *module = cdp_json_str(spec, "module");
    const char *cls = cdp_json_str(spec, "className");
    n->id = dupstr(cdp_json_str(raw, "id"));
    const char *name = cdp_json_str(data, "metadata.name");
    n->p = cdp_plugin_find(module, cls);
    n->name = dupstr(name && *name ? name : n->p ? n->p->name : n->id);
    if (!n->id || !n->name)
        return CDP_E_NOMEM;
    if (!n->p)
        return fail(err, errlen, "node `%s` (%s): unknown plugin %s%s%s", n->name, n->id,
                    module ? module : "(no module)", cls ? "." : "", cls ? cls : "");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(spec, "init");
    n->init = cJSON_IsObject(init) ? cJSON_Duplicate(init, true) : cJSON_CreateObject();
    if (!n->init)
        return CDP_E_NOMEM;
    char why[400] = "";
    if (n->p->setup && n->p->setup(n->init, &n->state, why, sizeof(why)))
        return fail(err, errlen, "node `%s` (%s): %s", n->name, n->id,
                    *why ? why : "invalid configuration");
    n->skip = cdp_json_flag(spec, "skip", false);
    n->block = cdp_json_flag(spec, "block_flow", false);
    n->append_input = cdp_json_flag(spec, "append_input_payload", false);
    n->debug_only = (n->p->flags & CDP_PLUGIN_DEBUG) || cdp_json_flag(data, "debug", false);
    n->start = (n->p->flags & CDP_PLUGIN_START) && cdp_json_flag(data, "start", true);
    return 0;
}

int cdp_flow_compile(const cJSON *flow, struct cdp_flow_plan **out, char *err, size_t errlen)
{
    *out = NULL;
    const cJSON *g = graph_of(flow);
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(g, "nodes");
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(g, "edges");
    if (!cJSON_IsArray(nodes))
        return fail(err, errlen, "flowGraph.nodes: expected a list of nodes");
    if (edges && !cJSON_IsNull(edges) && !cJSON_IsArray(edges))
        return fail(err, errlen, "flowGraph.edges: expected a list of edges");
    int n = cJSON_GetArraySize(nodes), ne = cJSON_GetArraySize(edges);
    if (n > CDP_FLOW_MAX_NODES)
        return fail(err, errlen, "flowGraph.nodes: more than %d nodes", CDP_FLOW_MAX_NODES);
    if (ne > 4 * CDP_FLOW_MAX_NODES)
        return fail(err, errlen, "flowGraph.edges: more than %d edges", 4 * CDP_FLOW_MAX_NODES);

    int rc = CDP_E_NOMEM, m = 0;
    struct cdp_flow_plan *p = calloc(1, sizeof(*p));
    cJSON **raw = calloc((size_t)n + 1, sizeof(*raw));
    struct pnode *tmp = calloc((size_t)n + 1, sizeof(*tmp));
    int *order = calloc((size_t)n + 1, sizeof(int)), *pos = calloc((size_t)n + 1, sizeof(int));
    int *indeg = calloc((size_t)n + 1, sizeof(int)), *queue = calloc((size_t)n + 1, sizeof(int));
    bool *reach = calloc((size_t)n + 1, sizeof(bool));
    struct pedge *es = calloc((size_t)ne + 1, sizeof(*es));
    if (!p || !raw || !tmp || !order || !pos || !indeg || !queue || !reach || !es)
        goto out;
    atomic_init(&p->refs, 1);
    p->id = dupstr(cdp_json_str(flow, "id"));
    p->name = dupstr(cdp_json_str(flow, "name"));
    if (!p->id || !p->name)
        goto out;

    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, nodes)
    {
        const char *id = cdp_json_str(it, "id");
        rc = CDP_E_INVALID;
        if (!cJSON_IsObject(it) || !id || !*id) {
            fail(err, errlen, "flowGraph.nodes[%d]: a node needs a string id", i);
            goto out;
        }
        if (find_node(raw, i, id) >= 0) {
            fail(err, errlen, "flowGraph.nodes[%d]: duplicate node id `%s`", i, id);
            goto out;
        }
        raw[i] = (cJSON *)(uintptr_t)it;
        if ((rc = build_node(&tmp[i], it, err, errlen)))
            goto out;
        i++;
    }

    /* Edges: both ends must exist and name ports the plugins have; duplicates collapse. */
    i = 0;
    cJSON_ArrayForEach(it, edges)
    {
        const char *eid = cdp_json_str(it, "id");
        int s = find_node(raw, n, cdp_json_str(it, "source"));
        int d = find_node(raw, n, cdp_json_str(it, "target"));
        const char *port = cdp_json_str(it, "sourceHandle");
        rc = CDP_E_INVALID;
        char label[80];
        snprintf(label, sizeof(label), "edge `%s`", eid ? eid : "");
        if (!eid)
            snprintf(label, sizeof(label), "flowGraph.edges[%d]", i);
        if (s < 0 || d < 0) {
            fail(err, errlen, "%s: unknown %s node `%s`", label, s < 0 ? "source" : "target",
                 s < 0 ? cdp_json_str(it, "source") ? cdp_json_str(it, "source") : ""
                 : cdp_json_str(it, "target") ? cdp_json_str(it, "target")
                                              : "");
            goto out;
        }
        if (!port || !*port)
            port = tmp[s].p->outputs; /* Tracardi's editor always names it; take the first */
        char first[64];
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(port, ","), port);
        if (!has_port(tmp[s].p->outputs, first)) {
            fail(err, errlen, "%s: node `%s` has no output port `%s`", label, tmp[s].name, first);
            goto out;
        }
        if (!*tmp[d].p->inputs && !(tmp[d].p->flags & CDP_PLUGIN_START)) {
            fail(err, errlen, "%s: node `%s` takes no input", label, tmp[d].name);
            goto out;
        }
        i++;
        bool dup = false;
        for (int k = 0; k < m; k++)
            if (es[k].src == s && es[k].dst == d && strcmp(es[k].port, first) == 0)
                dup = true;
        if (dup)
            continue;
        const char *key = cdp_json_str(it, "data.name");
        rc = CDP_E_NOMEM;
        es[m] = (struct pedge){.id = dupstr(eid ? eid : ""),
                               .key = dupstr(key && *key ? key
                                             : eid       ? eid
                                                         : ""),
                               .src = s,
                               .dst = d,
                               .port = dupstr(first)};
        if (!es[m].id || !es[m].key || !es[m].port)
            goto out;
        m++;
    }

    /* A node that receives an edge is not a start node, whatever its plugin. */
    for (int k = 0; k < m; k++)
        tmp[es[k].dst].start = false;
    int nq = 0;
    for (int k = 0; k < n; k++)
        if (tmp[k].start)
            reach[k] = true, queue[nq++] = k;
    rc = CDP_E_INVALID;
    if (nq == 0) {
        fail(err, errlen, "the flow has no start node (add a Start node without inputs)");
        goto out;
    }
    for (int h = 0; h < nq; h++)
        for (int k = 0; k < m; k++)
            if (es[k].src == queue[h] && !reach[es[k].dst])
                reach[es[k].dst] = true, queue[nq++] = es[k].dst;
    /* Kahn's algorithm over the reachable part; what is left over sits on a cycle. */
    for (int k = 0; k < m; k++)
        if (reach[es[k].src])
            indeg[es[k].dst]++;
    int no = 0, nreach = nq;
    nq = 0;
    for (int k = 0; k < n; k++)
        if (reach[k] && indeg[k] == 0)
            queue[nq++] = k;
    for (int h = 0; h < nq; h++) {
        int v = queue[h];
        order[no++] = v;
        for (int k = 0; k < m; k++)
            if (es[k].src == v && --indeg[es[k].dst] == 0)
                queue[nq++] = es[k].dst;
    }
    if (no < nreach) {
        for (int k = 0; k < n; k++)
            if (reach[k] && indeg[k] > 0) {
                fail(err, errlen, "node `%s` (%s) is on a cycle: flows must not loop", tmp[k].name,
                     tmp[k].id);
                break;
            }
        goto out;
    }

    /* Keep the reachable nodes in order, and the edges between them. */
    rc = CDP_E_NOMEM;
    p->nodes = calloc((size_t)no + 1, sizeof(*p->nodes));
    p->edges = calloc((size_t)m + 1, sizeof(*p->edges));
    if (!p->nodes || !p->edges)
        goto out;
    for (int k = 0; k < n; k++)
        pos[k] = -1;
    for (int k = 0; k < no; k++) {
        pos[order[k]] = k;
        p->nodes[k] = tmp[order[k]];
        memset(&tmp[order[k]], 0, sizeof(tmp[0])); /* moved */
    }
    p->n = no;
    for (int k = 0; k < m; k++) {
        if (pos[es[k].src] < 0) {
            free(es[k].id), free(es[k].key), free(es[k].port);
            continue;
        }
        es[k].src = pos[es[k].src];
        es[k].dst = pos[es[k].dst];
        struct pnode *d = &p->nodes[es[k].dst];
        int *in = realloc(d->in, (size_t)(d->nin + 1) * sizeof(int));
        if (!in) {
            free(es[k].id), free(es[k].key), free(es[k].port);
            for (int r = k + 1; r < m; r++)
                free(es[r].id), free(es[r].key), free(es[r].port);
            m = 0;
            goto out;
        }
        d->in = in;
        d->in[d->nin++] = p->ne;
        p->edges[p->ne++] = es[k];
    }
    m = 0; /* moved into the plan */
    *out = p;
    p = NULL;
    rc = 0;
out:
    for (int k = 0; tmp && k < n; k++) {
        struct pnode *t = &tmp[k];
        if (t->p && t->p->free && t->state)
            t->p->free(t->state);
        cJSON_Delete(t->init);
        free(t->id);
        free(t->name);
        free(t->in);
    }
    for (int k = 0; es && k < m; k++)
        free(es[k].id), free(es[k].key), free(es[k].port);
    plan_free(p);
    free(raw);
    free(tmp);
    free(order);
    free(pos);
    free(indeg);
    free(queue);
    free(reach);
    free(es);
    return rc;
}

/* --- running --- */

struct cdp_flow_run {
    struct cdp_flow_plan *plan;
    struct cdp_flow_ctx *ctx;
    cJSON *memory, *flow_ref;
    cJSON **outputs; /* per node: array of {port, value} over all its executions */
    double started, deadline;
    int executions;
    /* cursor: node, then (in-edge, result on it) within the node */
    int ni, ei, oi;
    bool node_started;
    /* the call in progress while waiting */
    struct cdp_flow_call call;
    int call_edge;     /* the in-edge its payload came on, -1 for start and join calls */
    cJSON *call_input; /* copy of the input, for the trace and append_input_payload */
    double call_started;
    bool waiting;
    bool cut_short; /* the wait was shortened to the time limit: the run ends after it */
    char *error;
    cJSON *trace; /* NULL unless tracing */
};

struct cdp_flow_run *cdp_flow_run_new(struct cdp_flow_plan *p, struct cdp_flow_ctx *ctx,
                                      int64_t time_limit_us, bool trace)
{
    struct cdp_flow_run *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->plan = cdp_flow_plan_ref(p);
    r->ctx = ctx;
    r->memory = cJSON_CreateObject();
    r->flow_ref = cJSON_CreateObject();
    r->outputs = calloc((size_t)p->n + 1, sizeof(cJSON *));
    r->started = cdp_clock_mono();
    r->deadline = time_limit_us > 0 ? r->started + (double)time_limit_us / 1e6 : 1e300;
    if (trace) {
        r->trace = cJSON_CreateObject();
        cJSON *f = cdp_json_obj(r->trace, "flow");
        cdp_json_put_str(f, "id", p->id);
        cdp_json_put_str(f, "name", p->name);
        cJSON_AddArrayToObject(f, "error");
        cdp_json_put_str(cdp_json_obj(r->trace, "event"), "id", cdp_json_str(ctx->event, "id"));
        cJSON_AddNumberToObject(r->trace, "timestamp", (double)ctx->now_us / 1e6);
        cJSON_AddObjectToObject(r->trace, "nodes");
        cJSON *edges = cJSON_AddObjectToObject(r->trace, "edges");
        for (int i = 0; i < p->ne; i++)
            cJSON_AddArrayToObject(cdp_json_obj(edges, p->edges[i].id), "active");
    }
    if (!r->memory || !r->flow_ref || !r->outputs || (trace && !r->trace)) {
        cdp_flow_run_free(r);
        return NULL;
    }
    cdp_json_put_str(r->flow_ref, "id", p->id);
    cdp_json_put_str(r->flow_ref, "name", p->name);
    return r;
}

static void call_clear(struct cdp_flow_call *c)
{
    cJSON_Delete((cJSON *)(uintptr_t)c->io);
    cJSON_Delete(c->payload);
    cJSON_Delete(c->out);
    free(c->error);
    cdp_flow_wait_clear(&c->wait);
    memset(c, 0, sizeof(*c));
}

void cdp_flow_run_free(struct cdp_flow_run *r)
{
    if (!r)
        return;
    call_clear(&r->call);
    cJSON_Delete(r->call_input);
    for (int i = 0; r->outputs && i < r->plan->n; i++)
        cJSON_Delete(r->outputs[i]);
    free(r->outputs);
    cJSON_Delete(r->memory);
    cJSON_Delete(r->flow_ref);
    cJSON_Delete(r->trace);
    free(r->error);
    cdp_flow_plan_unref(r->plan);
    free(r);
}

static int run_fail(struct cdp_flow_run *r, int rc, const struct pnode *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int run_fail(struct cdp_flow_run *r, int rc, const struct pnode *n, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char full[900];
    if (n)
        snprintf(full, sizeof(full), "Flow `%s` node `%s`: %s", r->plan->name, n->name, msg);
    else
        snprintf(full, sizeof(full), "Flow `%s`: %s", r->plan->name, msg);
    free(r->error);
    r->error = strdup(full);
    if (r->trace)
        cJSON_AddItemToArray(cdp_json_get(r->trace, "flow.error"), cJSON_CreateString(full));
    return rc ? rc : CDP_E_INVALID;
}

const char *cdp_flow_run_error(const struct cdp_flow_run *r)
{
    return r->error;
}

double cdp_flow_run_time_left(const struct cdp_flow_run *r)
{
    return r->deadline - cdp_clock_mono();
}

const struct cdp_flow_wait *cdp_flow_run_wait(const struct cdp_flow_run *r)
{
    return r->waiting ? &r->call.wait : NULL;
}

cJSON *cdp_flow_run_trace(const struct cdp_flow_run *r)
{
    return r->trace;
}

/* The next input of node ni after the cursor: an edge and the result on it, or none. */
static cJSON *next_input(struct cdp_flow_run *r, const struct pnode *n, int *edge)
{
    for (; r->ei < n->nin; r->ei++, r->oi = 0) {
        const struct pedge *e = &r->plan->edges[n->in[r->ei]];
        cJSON *outs = r->outputs[e->src];
        int k = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            if (k++ < r->oi)
                continue;
            r->oi = k;
            if (strcmp(cdp_json_str(o, "port"), e->port) == 0) {
                *edge = n->in[r->ei];
                return cJSON_GetObjectItemCaseSensitive(o, "value");
            }
        }
    }
    return NULL;
}

static void trace_edge(struct cdp_flow_run *r, int edge, bool active)
{
    if (!r->trace || edge < 0)
        return;
    cJSON *edges = cJSON_GetObjectItemCaseSensitive(r->trace, "edges");
    cJSON *e = cJSON_GetObjectItemCaseSensitive(edges, r->plan->edges[edge].id);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(e, "active"), cJSON_CreateBool(active));
}

static void trace_call(struct cdp_flow_run *r, const struct pnode *n, const char *error)
{
    if (!r->trace)
        return;
    double now = cdp_clock_mono();
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(r->trace, "nodes");
    cJSON *tn = cJSON_GetObjectItemCaseSensitive(nodes, n->id);
    if (!tn) {
        tn = cJSON_AddObjectToObject(nodes, n->id);
        cdp_json_put_str(tn, "id", n->id);
        cdp_json_put_str(tn, "name", n->name);
        cdp_json_put_str(tn, "plugin", n->p->id);
        cJSON_AddNumberToObject(tn, "sequenceNumber", r->ni);
        cJSON_AddNumberToObject(tn, "executionNumber", 0);
        cJSON_AddNumberToObject(tn, "errors", 0);
        cJSON_AddNumberToObject(tn, "warnings", 0);
        cJSON *pr = cJSON_AddObjectToObject(tn, "profiler");
        cJSON_AddNumberToObject(pr, "startTime", r->call_started - r->started);
        cJSON_AddNumberToObject(pr, "endTime", 0);
        cJSON_AddNumberToObject(pr, "runTime", 0);
        cJSON_AddArrayToObject(tn, "calls");
    }
    cJSON *en = cJSON_GetObjectItemCaseSensitive(tn, "executionNumber");
    cJSON_SetNumberValue(en, en->valuedouble + 1);
    cJSON *pr = cJSON_GetObjectItemCaseSensitive(tn, "profiler");
    cJSON *rt = cJSON_GetObjectItemCaseSensitive(pr, "runTime");
    cJSON_SetNumberValue(rt, rt->valuedouble + (now - r->call_started));
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(pr, "endTime"), now - r->started);
    if (error) {
        cJSON *ne = cJSON_GetObjectItemCaseSensitive(tn, "errors");
        cJSON_SetNumberValue(ne, ne->valuedouble + 1);
    }
    cJSON *call = cJSON_CreateObject();
    cJSON_AddBoolToObject(call, "run", true);
    cJSON *cp = cJSON_AddObjectToObject(call, "profiler");
    cJSON_AddNumberToObject(cp, "startTime", r->call_started - r->started);
    cJSON_AddNumberToObject(cp, "endTime", now - r->started);
    cJSON_AddNumberToObject(cp, "runTime", now - r->call_started);
    cJSON *in = cJSON_AddObjectToObject(call, "input");
    if (r->call_edge >= 0)
        cdp_json_put_str(cdp_json_obj(in, "edge"), "id", r->plan->edges[r->call_edge].id);
    else
        cJSON_AddNullToObject(in, "edge");
    cJSON *params = cJSON_AddObjectToObject(in, "params");
    cdp_json_put_str(params, "port", r->call.in_port);
    cdp_json_put(params, "value",
                 r->call_input ? cJSON_Duplicate(r->call_input, true) : cJSON_CreateObject());
    cJSON *out = cJSON_AddObjectToObject(call, "output");
    cJSON_AddNullToObject(out, "edge");
    cdp_json_put(out, "results",
                 r->call.out ? cJSON_Duplicate(r->call.out, true) : cJSON_CreateArray());
    cdp_json_put(call, "init", cJSON_Duplicate(n->init, true));
    cdp_json_put_str(call, "error", error);
    cJSON_AddNumberToObject(call, "errors", error ? 1 : 0);
    cJSON_AddNumberToObject(call, "warnings", 0);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(tn, "calls"), call);
}

/* Starts a call of node n with payload (taken); edge is where it came from (-1: none). */
static void call_prepare(struct cdp_flow_run *r, const struct pnode *n, cJSON *payload, int edge)
{
    call_clear(&r->call);
    cJSON_Delete(r->call_input);
    r->call_input = r->trace || n->append_input ? cJSON_Duplicate(payload, true) : NULL;
    r->call_edge = edge;
    r->call_started = cdp_clock_mono();
    struct cdp_flow_call *c = &r->call;
    c->ctx = r->ctx;
    c->state = n->state;
    c->init = n->init;
    c->node_id = n->id;
    c->node_name = n->name;
    c->in_port = "payload";
    c->payload = payload;
    c->refs = (struct cdp_refs){.profile = r->ctx->profile,
                                .event = r->ctx->event,
                                .session = r->ctx->session,
                                .payload = payload,
                                .flow = r->flow_ref,
                                .memory = r->memory};
}

/* Files the finished call's results under node n. */
static int call_finish(struct cdp_flow_run *r, const struct pnode *n)
{
    trace_call(r, n, NULL);
    cJSON *outs = r->call.out;
    r->call.out = NULL;
    if (!outs)
        return 0;
    if (n->append_input && cJSON_IsObject(r->call_input)) {
        cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
            if (!cJSON_IsObject(v))
                continue;
            cJSON *merged = cJSON_Duplicate(r->call_input, true);
            cdp_json_merge(merged, v);
            cJSON_ReplaceItemInObjectCaseSensitive(o, "value", merged);
        }
    }
    if (!r->outputs[r->ni]) {
        r->outputs[r->ni] = outs;
        return 0;
    }
    while (outs->child)
        cJSON_AddItemToArray(r->outputs[r->ni], cJSON_DetachItemViaPointer(outs, outs->child));
    cJSON_Delete(outs);
    return 0;
}

/* Runs (or resumes) the prepared call of node n. */
static int call_run(struct cdp_flow_run *r, const struct pnode *n)
{
    int rc = n->p->run(&r->call);
    if (rc == CDP_FLOW_WAIT) {
        struct cdp_flow_wait *w = &r->call.wait;
        double left = cdp_flow_run_time_left(r);
        if (left <= 0)
            return run_fail(r, CDP_E_INVALID, n, "the flow's time limit was reached");
        /* A wait never outlasts the flow's time limit. */
        if (w->kind == CDP_WAIT_SLEEP && w->seconds > left) {
            w->seconds = left;
            r->cut_short = true;
        }
        if (w->kind == CDP_WAIT_HTTP && (w->timeout_ms <= 0 || w->timeout_ms > left * 1000))
            w->timeout_ms = (long)(left * 1000) + 1;
        r->waiting = true;
        return CDP_FLOW_WAIT;
    }
    if (rc) {
        const char *why = r->call.error ? r->call.error : cdp_err_str(rc);
        trace_call(r, n, why);
        return run_fail(r, rc, n, "%s", why);
    }
    return call_finish(r, n);
}

void cdp_flow_run_resume(struct cdp_flow_run *r, cJSON *outcome)
{
    cJSON_Delete((cJSON *)(uintptr_t)r->call.io); /* one not consumed yet */
    r->call.io = outcome;
}

/* Gathers a Join node's inputs: {edge key: payload} over its active in-edges. */
static cJSON *join_inputs(struct cdp_flow_run *r, const struct pnode *n)
{
    cJSON *joined = NULL;
    for (int k = 0; k < n->nin; k++) {
        const struct pedge *e = &r->plan->edges[n->in[k]];
        const cJSON *o;
        bool active = false;
        cJSON_ArrayForEach(o, r->outputs[e->src])
        {
            if (strcmp(cdp_json_str(o, "port"), e->port) != 0)
                continue;
            if (!joined && !(joined = cJSON_CreateObject()))
                return NULL;
            cdp_json_put(joined, e->key,
                         cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "value"), true));
            active = true;
        }
        trace_edge(r, n->in[k], active);
    }
    return joined;
}

int cdp_flow_run_step(struct cdp_flow_run *r)
{
    const struct cdp_flow_plan *p = r->plan;
    if (r->error)
        return CDP_E_INVALID;
    if (r->waiting) { /* resumed: the node runs again with call.io set */
        r->waiting = false;
        const struct pnode *n = &p->nodes[r->ni];
        if (r->cut_short) {
            trace_call(r, n, "the flow's time limit was reached");
            return run_fail(r, CDP_E_INVALID, n, "the flow's time limit was reached");
        }
        int rc = call_run(r, n);
        cJSON_Delete((cJSON *)(uintptr_t)r->call.io);
        r->call.io = NULL;
        if (rc)
            return rc;
        if (n->start || (n->p->flags & CDP_PLUGIN_JOIN))
            r->ni++, r->ei = r->oi = 0, r->node_started = false;
    }
    while (r->ni < p->n) {
        const struct pnode *n = &p->nodes[r->ni];
        if ((n->debug_only && !r->ctx->debug) || n->block) {
            r->ni++, r->ei = r->oi = 0;
            continue;
        }
        cJSON *payload = NULL;
        int edge = -1;
        bool once = n->start || (n->p->flags & CDP_PLUGIN_JOIN);
        if (n->start) {
            if (!r->node_started)
                payload = cJSON_CreateObject();
        } else if (n->p->flags & CDP_PLUGIN_JOIN) {
            if (!r->node_started)
                payload = join_inputs(r, n);
        } else {
            const cJSON *v = next_input(r, n, &edge);
            if (v) {
                payload = cJSON_Duplicate(v, true);
                trace_edge(r, edge, true);
            }
        }
        r->node_started = true;
        if (!payload) { /* no (more) input: the next node */
            r->ni++, r->ei = r->oi = 0, r->node_started = false;
            continue;
        }
        if (++r->executions > CDP_FLOW_MAX_EXECUTIONS) {
            cJSON_Delete(payload);
            return run_fail(r, CDP_E_INVALID, n, "more than %d node executions in one run",
                            CDP_FLOW_MAX_EXECUTIONS);
        }
        if (cdp_flow_run_time_left(r) <= 0) {
            cJSON_Delete(payload);
            return run_fail(r, CDP_E_INVALID, n, "the flow's time limit was reached");
        }
        call_prepare(r, n, payload, edge);
        int rc;
        if (n->skip) { /* the input goes out on every port, unprocessed */
            rc = 0;
            const char *s = n->p->outputs;
            while (*s && !rc) {
                size_t len = strcspn(s, ",");
                char port[64];
                snprintf(port, sizeof(port), "%.*s", (int)len, s);
                rc = cdp_flow_emit(&r->call, port, cJSON_Duplicate(r->call.payload, true));
                s += len + (s[len] ? 1 : 0);
            }
            if (!rc)
                rc = call_finish(r, n);
        } else {
            rc = call_run(r, n);
        }
        if (rc)
            return rc;
        if (once)
            r->ni++, r->ei = r->oi = 0, r->node_started = false;
    }
    return 0;
}
