/* The fixture the plugin tests share: a context with a profile, an event and a session, and
 * helpers that run one plugin (cdp_plugin_run1) and compare what it emitted. The including file
 * defines profile_json, event_json, session_json and NOW_US first. */
#ifndef CDP_TESTS_PLUGIN_FIXTURE_H
#define CDP_TESTS_PLUGIN_FIXTURE_H

struct fx {
    struct cdp_flow_ctx ctx;
    cJSON *memory;
    char err[512];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->ctx.profile = cJSON_Parse(profile_json);
    f->ctx.event = cJSON_Parse(event_json);
    f->ctx.session = cJSON_Parse(session_json);
    f->memory = cJSON_CreateObject();
    assert_non_null(f->ctx.profile);
    assert_non_null(f->ctx.event);
    assert_non_null(f->ctx.session);
    f->ctx.now_us = NOW_US;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    cJSON_Delete(f->ctx.profile);
    cJSON_Delete(f->ctx.event);
    cJSON_Delete(f->ctx.session);
    cJSON_Delete(f->ctx.response);
    cJSON_Delete(f->ctx.ux);
    cJSON_Delete(f->ctx.logs);
    cJSON_Delete(f->ctx.merge);
    cJSON_Delete(f->memory);
    free(f);
    return 0;
}

static const struct cdp_plugin *find(const char *module, const char *cls)
{
    const struct cdp_plugin *p = cdp_plugin_find(module, cls);
    if (!p)
        fail_msg("no plugin %s.%s", module, cls ? cls : "(none)");
    assert_string_equal(p->module, module);
    if (cls)
        assert_string_equal(p->class_name, cls);
    else
        assert_null(p->class_name);
    return p;
}

static cJSON *parse(const char *s)
{
    cJSON *v = cJSON_Parse(s);
    if (!v)
        fail_msg("bad test JSON: %s", s);
    return v;
}

/* Runs the plugin with init and payload (JSON texts; NULL payload is {}); *out gets the emitted
 * [{port, value}] on success. Returns run1's code. */
static int run(struct fx *f, const char *module, const char *cls, const char *init,
               const char *payload, cJSON **out)
{
    const struct cdp_plugin *p = find(module, cls);
    cJSON *in = parse(init);
    struct cdp_plugin_single *single = NULL;
    f->err[0] = '\0';
    int rc = cdp_plugin_run1(p, in, &f->ctx, payload ? parse(payload) : NULL, f->memory, out,
                             &single, f->err, sizeof(f->err));
    cJSON_Delete(in);
    assert_null(single);
    return rc;
}

static void assert_json(const cJSON *got, const char *want)
{
    cJSON *w = parse(want);
    if (!cJSON_Compare(got, w, true)) {
        char *s = cdp_json_print(got);
        fail_msg("got %s, want %s", s ? s : "NULL", want);
    }
    cJSON_Delete(w);
}

/* Runs and checks the outputs against want (a JSON array of {port, value}). */
static void expect(struct fx *f, const char *module, const char *cls, const char *init,
                   const char *payload, const char *want)
{
    cJSON *out = NULL;
    int rc = run(f, module, cls, init, payload, &out);
    if (rc)
        fail_msg("%s %s: rc %d: %s", cls ? cls : module, init, rc, f->err);
    assert_json(out, want);
    cJSON_Delete(out);
}

/* Runs and checks that setup or run failed with a message containing sub. */
static void expect_fail(struct fx *f, const char *module, const char *cls, const char *init,
                        const char *payload, const char *sub)
{
    cJSON *out = NULL;
    int rc = run(f, module, cls, init, payload, &out);
    if (rc == 0) {
        char *s = cdp_json_print(out);
        fail_msg("%s %s: succeeded with %s, want error '%s'", cls ? cls : module, init, s, sub);
    }
    assert_int_equal(rc, CDP_E_INVALID);
    assert_null(out);
    if (!strstr(f->err, sub))
        fail_msg("%s %s: error '%s' lacks '%s'", cls ? cls : module, init, f->err, sub);
}

static void assert_at(const struct fx *f, const char *ref, const char *want)
{
    struct cdp_refs r = {.profile = f->ctx.profile,
                         .event = f->ctx.event,
                         .session = f->ctx.session,
                         .memory = f->memory};
    const cJSON *v = cdp_path_get(&r, ref);
    if (!want) {
        if (v)
            fail_msg("%s should be missing", ref);
        return;
    }
    if (!v)
        fail_msg("%s is missing, want %s", ref, want);
    assert_json(v, want);
}

static void drop_profile(struct fx *f)
{
    cJSON_Delete(f->ctx.profile);
    f->ctx.profile = NULL;
}

/* The last log entry's type and message. */
static void assert_log(const struct fx *f, const char *type, const char *msg)
{
    int n = cJSON_GetArraySize(f->ctx.logs);
    if (n == 0)
        fail_msg("no log entry, want %s '%s'", type, msg);
    const cJSON *l = cJSON_GetArrayItem(f->ctx.logs, n - 1);
    assert_string_equal(cdp_json_str(l, "type"), type);
    assert_string_equal(cdp_json_str(l, "message"), msg);
}

#endif
