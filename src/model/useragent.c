/* User-agent parsing with uap-core's regexes.yaml. The file is read once through libyaml's
 * document API and every regex is compiled (JIT when the platform allows, else interpreted) into
 * an immutable table; cdp_ua_parse only reads that table and owns its match data, so any number
 * of threads may parse at once. Field extraction follows uap-core's specification.md; the
 * device_type heuristics on top of it mirror the Python user_agents library Tracardi uses. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "model/useragent.h"

#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Longer input is cut before matching: real UAs stay far below this, and it bounds what a
 * hostile header can cost across a thousand regexes. */
#define UA_MAX_INPUT 1024
/* Backtracking budget per regex and call; the uap-core regexes need a tiny fraction of it. */
#define UA_MATCH_LIMIT 100000
/* Most output slots a section has (os_parsers: family, major, minor, patch, patch_minor). */
#define UA_MAX_SLOTS 5
/* Scratch size for one expanded replacement; every output field is smaller. */
#define UA_SCRATCH 256
/* How much of a failing regex an error message quotes. */
#define UA_ERR_REGEX_CHARS 80

enum ua_section { SEC_UA, SEC_OS, SEC_DEVICE, SEC_COUNT };

enum { SLOT_FAMILY, SLOT_MAJOR, SLOT_MINOR, SLOT_PATCH };
enum { SLOT_DEVICE, SLOT_BRAND, SLOT_MODEL };

/* How one regexes.yaml section maps its replacement keys to output slots. */
struct ua_section_spec {
    const char *name;
    const char *keys[UA_MAX_SLOTS];  /* replacement key per slot, NULL past the last */
    int default_group[UA_MAX_SLOTS]; /* capture a slot takes when its key is absent; 0 = none */
};

static const struct ua_section_spec section_specs[SEC_COUNT] = {
    [SEC_UA] = {"user_agent_parsers",
                {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement"},
                {1, 2, 3, 4}},
    [SEC_OS] = {"os_parsers",
                {"os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
                 "os_v4_replacement"},
                {1, 2, 3, 4, 5}},
    [SEC_DEVICE] = {"device_parsers",
                    {"device_replacement", "brand_replacement", "model_replacement"},
                    {1, 0, 1}},
};

/* A byte string from the YAML file; s == NULL means the key was absent. */
struct ua_text {
    char *s;
    size_t len;
};

struct ua_rule {
    pcre2_code *re;
    struct ua_text repl[UA_MAX_SLOTS];
};

struct ua_rules {
    struct ua_rule *v;
    size_t n;
};

struct cdp_ua_db {
    struct ua_rules sec[SEC_COUNT];
    pcre2_match_context *mctx;
    uint32_t ovector_pairs; /* enough for the regex with the most captures */
};

/* One successful match: the subject and the ovector pcre2_match filled. */
struct ua_match {
    const char *subject;
    const PCRE2_SIZE *ov;
    int rc; /* highest set group + 1; pairs at or past it hold stale data */
};

/* A bounded string builder that drops leading blanks, since uap-core trims results. */
struct ua_buf {
    char *p;
    size_t len, cap;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void buf_put(struct ua_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && b->len + 1 < b->cap; i++) {
        if (b->len == 0 && is_blank(s[i]))
            continue;
        b->p[b->len++] = s[i];
    }
}

static bool match_group(const struct ua_match *m, unsigned g, const char **s, size_t *n)
{
    if (g >= (unsigned)m->rc || m->ov[2 * g] == PCRE2_UNSET)
        return false;
    *s = m->subject + m->ov[2 * g];
    *n = m->ov[2 * g + 1] - m->ov[2 * g];
    return true;
}

/* Expands one slot: the replacement with $1..$9 filled in (unset groups become ""), or the
 * slot's default capture when there is no replacement. Returns the trimmed length; 0 means the
 * slot is absent, as uap-core treats empty results. */
static size_t expand_slot(const struct ua_text *repl, int default_group, const struct ua_match *m,
                          char *out, size_t cap)
{
    struct ua_buf b = {out, 0, cap};
    const char *g;
    size_t glen;

    if (!repl->s) {
        if (default_group > 0 && match_group(m, (unsigned)default_group, &g, &glen))
            buf_put(&b, g, glen);
    } else {
        for (size_t i = 0; i < repl->len; i++) {
            char c = repl->s[i];
            if (c == '$' && i + 1 < repl->len && repl->s[i + 1] >= '1' && repl->s[i + 1] <= '9') {
                if (match_group(m, (unsigned)(repl->s[i + 1] - '0'), &g, &glen))
                    buf_put(&b, g, glen);
                i++;
            } else {
                buf_put(&b, &c, 1);
            }
        }
    }
    while (b.len > 0 && is_blank(b.p[b.len - 1]))
        b.len--;
    b.p[b.len] = '\0';
    return b.len;
}

/* Copies s[0..n) into a fixed field, cutting on a UTF-8 character boundary. */
static void set_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* uap-core names an unknown family "Other", whether nothing matched or the match left it empty. */
static void set_family(char *dst, size_t cap, const char *s, size_t n)
{
    static const char other[] = "Other";
    if (n == 0)
        set_field(dst, cap, other, sizeof(other) - 1);
    else
        set_field(dst, cap, s, n);
}

/* Joins major[.minor[.patch]], stopping at the first absent part; a part that does not fit
 * whole is left out rather than cut, so a version never reads as a different one. */
static void set_version(char *dst, size_t cap, char parts[][UA_SCRATCH], const size_t *lens,
                        int nparts)
{
    size_t len = 0;
    dst[0] = '\0';
    for (int i = 0; i < nparts && lens[i] > 0; i++) {
        size_t need = lens[i] + (i > 0);
        if (len + need >= cap)
            break;
        if (i > 0)
            dst[len++] = '.';
        memcpy(dst + len, parts[i], lens[i]);
        len += lens[i];
        dst[len] = '\0';
    }
}

/* Runs a section's rules in file order; the first match wins. A rule that errors (match
 * limit, JIT stack) counts as not matching so one bad regex cannot hide the rest. */
static const struct ua_rule *match_first(const struct cdp_ua_db *db, enum ua_section sec,
                                         const char *s, size_t n, pcre2_match_data *md, int *rc)
{
    const struct ua_rules *rules = &db->sec[sec];
    for (size_t i = 0; i < rules->n; i++) {
        *rc = pcre2_match(rules->v[i].re, (PCRE2_SPTR)s, n, 0, 0, md, db->mctx);
        if (*rc > 0)
            return &rules->v[i];
    }
    return NULL;
}

/* Fills nslots expanded slots for section sec; returns false when no rule matched. */
static bool parse_section(const struct cdp_ua_db *db, enum ua_section sec, const char *s, size_t n,
                          pcre2_match_data *md, char slots[][UA_SCRATCH], size_t *lens)
{
    const struct ua_section_spec *spec = &section_specs[sec];
    int rc = 0;
    const struct ua_rule *rule = md ? match_first(db, sec, s, n, md, &rc) : NULL;
    struct ua_match m = {s, md ? pcre2_get_ovector_pointer(md) : NULL, rc};

    for (int i = 0; i < UA_MAX_SLOTS; i++) {
        slots[i][0] = '\0';
        lens[i] = 0;
        if (rule && spec->keys[i])
            lens[i] = expand_slot(&rule->repl[i], spec->default_group[i], &m, slots[i], UA_SCRATCH);
    }
    return rule != NULL;
}

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    const char *end = s + n;
    for (const char *p = s; k <= (size_t)(end - p); p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - k + 1);
        if (!p)
            return false;
        if (memcmp(p, needle, k) == 0)
            return true;
    }
    return false;
}

static bool contains_any(const char *s, size_t n, const char *const *needles)
{
    for (int i = 0; needles[i]; i++)
        if (contains(s, n, needles[i]))
            return true;
    return false;
}

static bool is_one_of(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Device families uap-core gives tablets and phones, after the user_agents library's lists. */
static const char *const tablet_devices[] = {
    "iPad",
    "Generic Tablet",
    "Kindle",
    "Kindle Fire",
    "Kindle Fire HD",
    "Galaxy Tab",
    "Xoom",
    "BlackBerry Playbook",
    "Blackberry Playbook",
    "Dell Streak",
    NULL,
};
static const char *const mobile_devices[] = {
    "iPhone",     "iPod", "Generic Smartphone", "Generic Feature Phone", "PlayStation Vita",
    "iOS-Device", NULL,
};
static const char *const mobile_oses[] = {
    "Windows Phone", "Windows Mobile", "Windows CE", "Symbian OS", "Symbian^3",
    "BlackBerry OS", "Bada",           "Maemo",      "MeeGo",      "KaiOS",
    "Firefox OS",    "Tizen",          NULL,
};
static const char *const mobile_browsers[] = {
    "Chrome Mobile",  "Chrome Mobile iOS", "Chrome Mobile WebView",
    "Firefox Mobile", "IE Mobile",         "Opera Mini",
    "Opera Mobile",   "Edge Mobile",       NULL,
};
/* UA words a tablet shows (Firefox writes "Android; Tablet;", Silk runs on Kindle Fire). */
static const char *const tablet_words[] = {"iPad", "PlayBook", "Kindle", "Silk/", NULL};
/* UA words a phone shows; checked after the tablet tests, so a bare "Android" is a phone
 * only when "Mobile" is also present or a phone browser was recognised. */
static const char *const mobile_words[] = {
    "Mobile",     "iPhone", "iPod", "Windows Phone", "BlackBerry", "BB10",
    "Opera Mini", "J2ME",   "MIDP", "Symbian",       "webOS",      NULL,
};

/* "Tablet" marks Android and Firefox OS tablets, but old IE on Windows says "Tablet PC". */
static bool says_tablet(const char *s, size_t n)
{
    static const char word[] = "Tablet", pc[] = " PC";
    const size_t wl = sizeof(word) - 1, pl = sizeof(pc) - 1;
    for (size_t i = 0; i + wl <= n; i++) {
        if (memcmp(s + i, word, wl) != 0)
            continue;
        if (!(i + wl + pl <= n && memcmp(s + i + wl, pc, pl) == 0))
            return true;
    }
    return false;
}

static void classify(struct cdp_ua *out, const char *s, size_t n)
{
    bool android = strcmp(out->os, "Android") == 0 || contains(s, n, "Android");
    bool phone_browser = is_one_of(out->browser, mobile_browsers);

    out->bot = strcmp(out->device, "Spider") == 0;
    if (out->bot) {
        out->device_type = "bot";
    } else if (is_one_of(out->device, tablet_devices) || contains_any(s, n, tablet_words) ||
               says_tablet(s, n) || (android && !contains(s, n, "Mobile") && !phone_browser)) {
        out->device_type = "tablet";
    } else if (android || phone_browser || is_one_of(out->device, mobile_devices) ||
               is_one_of(out->os, mobile_oses) || contains_any(s, n, mobile_words)) {
        out->device_type = "mobile";
    } else {
        out->device_type = "pc";
    }
    out->touch = strcmp(out->device_type, "mobile") == 0 || strcmp(out->device_type, "tablet") == 0;
}

void cdp_ua_parse(const struct cdp_ua_db *db, const char *ua, size_t len, struct cdp_ua *out)
{
    char slots[UA_MAX_SLOTS][UA_SCRATCH];
    size_t lens[UA_MAX_SLOTS];

    if (!ua)
        len = 0;
    if (len > UA_MAX_INPUT) {
        len = UA_MAX_INPUT;
        while (len > 0 && ((unsigned char)ua[len] & 0xC0) == 0x80)
            len--;
    }
    if (!ua)
        ua = "";

    /* Sized for the largest capture count, so one block serves every regex of this call;
     * the ovector is per-call state, which is what keeps the shared db lock-free. Without
     * memory every section falls back to "Other". */
    pcre2_match_data *md = db ? pcre2_match_data_create(db->ovector_pairs, NULL) : NULL;

    parse_section(db, SEC_UA, ua, len, md, slots, lens);
    set_family(out->browser, sizeof(out->browser), slots[SLOT_FAMILY], lens[SLOT_FAMILY]);
    set_version(out->browser_version, sizeof(out->browser_version), slots + SLOT_MAJOR,
                lens + SLOT_MAJOR, 3);

    parse_section(db, SEC_OS, ua, len, md, slots, lens);
    set_family(out->os, sizeof(out->os), slots[SLOT_FAMILY], lens[SLOT_FAMILY]);
    set_version(out->os_version, sizeof(out->os_version), slots + SLOT_MAJOR, lens + SLOT_MAJOR, 3);

    parse_section(db, SEC_DEVICE, ua, len, md, slots, lens);
    set_family(out->device, sizeof(out->device), slots[SLOT_DEVICE], lens[SLOT_DEVICE]);
    set_field(out->brand, sizeof(out->brand), slots[SLOT_BRAND], lens[SLOT_BRAND]);
    set_field(out->model, sizeof(out->model), slots[SLOT_MODEL], lens[SLOT_MODEL]);

    pcre2_match_data_free(md);
    classify(out, ua, len);
}

void cdp_ua_db_free(struct cdp_ua_db *db)
{
    if (!db)
        return;
    for (int s = 0; s < SEC_COUNT; s++) {
        for (size_t i = 0; i < db->sec[s].n; i++) {
            pcre2_code_free(db->sec[s].v[i].re);
            for (int k = 0; k < UA_MAX_SLOTS; k++)
                free(db->sec[s].v[i].repl[k].s);
        }
        free(db->sec[s].v);
    }
    pcre2_match_context_free(db->mctx);
    free(db);
}

static bool scalar_is(const yaml_node_t *node, const char *s)
{
    size_t n = strlen(s);
    return node && node->type == YAML_SCALAR_NODE && node->data.scalar.length == n &&
           memcmp(node->data.scalar.value, s, n) == 0;
}

/* libyaml does not resolve tags, so "key:", "key: ~" and "key: null" arrive as plain
 * scalars; treat them like a missing key. */
static bool scalar_is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    if (!node || node->type != YAML_SCALAR_NODE)
        return !node;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (int i = 0; nulls[i]; i++)
        if (scalar_is(node, nulls[i]))
            return true;
    return false;
}

static yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        if (scalar_is(yaml_document_get_node(doc, p->key), key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static unsigned long line_of(const yaml_node_t *node)
{
    return (unsigned long)node->start_mark.line + 1;
}

static int compile_rule(struct cdp_ua_db *db, struct ua_rule *rule, const yaml_node_t *regex,
                        uint32_t options, const char *where, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE offset;
    rule->re = pcre2_compile((PCRE2_SPTR)regex->data.scalar.value, regex->data.scalar.length,
                             options, &code, &offset, NULL);
    if (!rule->re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        int shown = regex->data.scalar.length > UA_ERR_REGEX_CHARS ? UA_ERR_REGEX_CHARS
                                                                   : (int)regex->data.scalar.length;
        snprintf(err, errlen, "%s: cannot compile regex '%.*s%s': %s at offset %zu", where, shown,
                 (const char *)regex->data.scalar.value,
                 shown < (int)regex->data.scalar.length ? "..." : "", (const char *)msg,
                 (size_t)offset);
        return -1;
    }
    /* Interpreted matching is slower but gives the same answers, so a JIT failure (no
     * executable memory, unsupported CPU) is not an error. */
    (void)pcre2_jit_compile(rule->re, PCRE2_JIT_COMPLETE);

    uint32_t captures = 0;
    pcre2_pattern_info(rule->re, PCRE2_INFO_CAPTURECOUNT, &captures);
    if (captures + 1 > db->ovector_pairs)
        db->ovector_pairs = captures + 1;
    return 0;
}

static int load_rule(struct cdp_ua_db *db, yaml_document_t *doc, enum ua_section sec,
                     const yaml_node_t *item, size_t idx, const char *path, char *err,
                     size_t errlen)
{
    const struct ua_section_spec *spec = &section_specs[sec];
    struct ua_rule *rule = &db->sec[sec].v[idx];
    char where[256];
    snprintf(where, sizeof(where), "%s:%lu: %s[%zu]", path, line_of(item), spec->name, idx);

    if (item->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: expected a mapping with a regex", where);
        return -1;
    }
    const yaml_node_t *regex = map_get(doc, item, "regex");
    if (!regex || regex->type != YAML_SCALAR_NODE) {
        snprintf(err, errlen, "%s: missing regex", where);
        return -1;
    }
    uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    const yaml_node_t *flag = map_get(doc, item, "regex_flag");
    if (scalar_is(flag, "i")) {
        options |= PCRE2_CASELESS;
    } else if (!scalar_is_null(flag)) {
        snprintf(err, errlen, "%s: unsupported regex_flag (only 'i' is known)", where);
        return -1;
    }
    for (int k = 0; k < UA_MAX_SLOTS && spec->keys[k]; k++) {
        const yaml_node_t *v = map_get(doc, item, spec->keys[k]);
        if (scalar_is_null(v))
            continue;
        if (v->type != YAML_SCALAR_NODE) {
            snprintf(err, errlen, "%s: %s must be a string", where, spec->keys[k]);
            return -1;
        }
        rule->repl[k].s = malloc(v->data.scalar.length + 1);
        if (!rule->repl[k].s) {
            snprintf(err, errlen, "%s: out of memory", where);
            return -1;
        }
        memcpy(rule->repl[k].s, v->data.scalar.value, v->data.scalar.length);
        rule->repl[k].s[v->data.scalar.length] = '\0';
        rule->repl[k].len = v->data.scalar.length;
    }
    return compile_rule(db, rule, regex, options, where, err, errlen);
}

static int load_section(struct cdp_ua_db *db, yaml_document_t *doc, const yaml_node_t *root,
                        enum ua_section sec, const char *path, char *err, size_t errlen)
{
    const char *name = section_specs[sec].name;
    const yaml_node_t *list = map_get(doc, root, name);
    if (!list) {
        snprintf(err, errlen, "%s: no %s section (is this uap-core's regexes.yaml?)", path, name);
        return -1;
    }
    if (list->type != YAML_SEQUENCE_NODE) {
        snprintf(err, errlen, "%s:%lu: %s must be a list", path, line_of(list), name);
        return -1;
    }
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    db->sec[sec].v = calloc(n ? n : 1, sizeof(*db->sec[sec].v));
    if (!db->sec[sec].v) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        /* Count the rule first so cdp_ua_db_free releases whatever it holds on failure. */
        db->sec[sec].n = i + 1;
        const yaml_node_t *item = yaml_document_get_node(doc, list->data.sequence.items.start[i]);
        if (load_rule(db, doc, sec, item, i, path, err, errlen))
            return -1;
    }
    return 0;
}

int cdp_ua_db_open(struct cdp_ua_db **out, const char *path, char *err, size_t errlen)
{
    char dummy[1];
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ready = false, doc_ready = false;
    FILE *f = NULL;
    int rc = -1;

    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    struct cdp_ua_db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open user-agent regexes %s: %s", path, strerror(errno));
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: cannot initialise the YAML parser", path);
        goto out;
    }
    parser_ready = true;
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: invalid YAML: %s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "unknown error");
        goto out;
    }
    doc_ready = true;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: expected a mapping of parser sections", path);
        goto out;
    }
    for (int s = 0; s < SEC_COUNT; s++)
        if (load_section(db, &doc, root, (enum ua_section)s, path, err, errlen))
            goto out;

    db->mctx = pcre2_match_context_create(NULL);
    if (!db->mctx) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    pcre2_set_match_limit(db->mctx, UA_MATCH_LIMIT);
    *out = db;
    db = NULL;
    rc = 0;
out:
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    if (f)
        fclose(f);
    cdp_ua_db_free(db);
    return rc;
}
