/* The condition language: a hand-written lexer and recursive-descent parser that build an
 * immutable tree once, and an evaluator that walks it against the flow's documents. Recursion
 * in both is bounded by CDP_TQL_MAX_DEPTH because AND/OR chains are n-ary nodes and every
 * nesting construct counts against the depth. See tql.h for grammar and semantics. */
#include "flow/tql.h"

#include "core/clock.h"
#include "core/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum test_op {
    T_EQ,
    T_NE,
    T_GT,
    T_GE,
    T_LT,
    T_LE,
    T_BETWEEN,
    T_IS_NULL,
    T_NOT_NULL,
    T_EXISTS,
    T_NOT_EXISTS,
    T_EMPTY,
    T_NOT_EMPTY,
    T_CONTAINS,
    T_STARTS,
    T_ENDS,
};

enum fn {
    FN_NOW,
    FN_NOW_OFFSET,
    FN_NOW_TZ_OFFSET,
    FN_DATETIME,
    FN_DATETIME_OFFSET,
    FN_DATETIME_TZ,
    FN_FROM_TIMESTAMP,
    FN_LOWER,
    FN_UPPER,
};

/* Name, function, argument counts, and which argument (if any, else -1) holds an offset or an
 * ISO date, so that a constant one can be checked when parsing. */
static const struct fn_def {
    const char *name;
    enum fn fn;
    int min_args, max_args;
    int offset_arg, date_arg;
} fn_defs[] = {
    /* now("Europe/Warsaw") and the other zones are accepted and ignored: times are UTC. */
    {"now", FN_NOW, 0, 1, -1, -1},
    {"utcnow", FN_NOW, 0, 0, -1, -1},
    {"now.timezone", FN_NOW, 1, 1, -1, -1},
    {"now.offset", FN_NOW_OFFSET, 1, 1, 0, -1},
    {"now.timezone.offset", FN_NOW_TZ_OFFSET, 2, 2, 1, -1},
    {"datetime", FN_DATETIME, 1, 1, -1, 0},
    {"datetime.offset", FN_DATETIME_OFFSET, 2, 2, 1, 0},
    {"datetime.timezone", FN_DATETIME_TZ, 2, 2, -1, 0},
    {"datetime.from_timestamp", FN_FROM_TIMESTAMP, 1, 1, -1, -1},
    {"lowercase", FN_LOWER, 1, 1, -1, -1},
    {"uppercase", FN_UPPER, 1, 1, -1, -1},
};
#define NFNS     (sizeof(fn_defs) / sizeof(fn_defs[0]))
#define MAX_ARGS 2

enum opnd_kind { OPND_FIELD, OPND_CONST, OPND_FUNC };

struct opnd {
    enum opnd_kind kind;
    struct cdp_path *path; /* OPND_FIELD */
    cJSON *value;          /* OPND_CONST */
    enum fn fn;            /* OPND_FUNC */
    int nargs;
    struct opnd *args[MAX_ARGS];
};

enum node_kind { NODE_OR, NODE_AND, NODE_NOT, NODE_TEST };

struct node {
    enum node_kind kind;
    size_t n; /* children of OR/AND/NOT */
    struct node **kids;
    enum test_op op; /* NODE_TEST */
    struct opnd *lhs, *a, *b;
};

struct cdp_tql {
    struct node *root;
};

enum tk { TK_EOF, TK_LP, TK_RP, TK_LB, TK_RB, TK_COMMA, TK_OP, TK_STR, TK_NUM, TK_FIELD, TK_WORD };

struct tok {
    enum tk k;
    size_t pos, len;
    enum test_op op; /* TK_OP */
    double num;      /* TK_NUM (a time literal is a number of seconds) */
    char *str;       /* TK_STR, decoded; next() frees it */
};

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    struct tok cur;
    char *err;
    size_t errlen;
    int rc;
    const char *bare; /* cdp_tql_parse_in: the source of fields written without one */
};

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a syntax error at byte pos as "at <pos+1>: <message>"; the first error wins. */
static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->rc < 0)
        return p->rc; /* keep the first message */
    p->rc = CDP_E_INVALID;
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "at %zu: ", pos + 1);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return p->rc;
}

static int nomem(struct parser *p)
{
    if (p->rc < 0)
        return p->rc;
    p->rc = CDP_E_NOMEM;
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "out of memory");
    return p->rc;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '.';
}

static const struct {
    const char *text;
    enum test_op op;
} ops[] = {
    /* Two-character spellings first so "==" is not read as "=" then "=". */
    {"==", T_EQ}, {"!=", T_NE}, {">=", T_GE}, {"=>", T_GE}, {"<=", T_LE},
    {"=<", T_LE}, {"=", T_EQ},  {">", T_GT},  {"<", T_LT},
};

static int lex_string(struct parser *p, size_t start)
{
    const char *s = p->s;
    size_t i = start + 1;
    char *out = malloc(p->len - start);
    if (!out)
        return nomem(p);
    size_t n = 0;
    for (;;) {
        if (i >= p->len) {
            free(out);
            return fail(p, start, "unterminated string");
        }
        char c = s[i++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i >= p->len) {
                free(out);
                return fail(p, start, "unterminated string");
            }
            char e = s[i++];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    p->cur.k = TK_STR;
    p->cur.str = out;
    p->cur.len = i - start;
    return 0;
}

/* A number, optionally signed, with fraction and exponent; a unit letter right after an
 * integer or decimal makes it a time literal in seconds (10m = 600). */
static int lex_number(struct parser *p, size_t start)
{
    const char *s = p->s;
    size_t i = start;
    if (s[i] == '-' || s[i] == '+')
        i++;
    size_t digits = 0;
    while (i < p->len && is_digit(s[i]))
        i++, digits++;
    if (i < p->len && s[i] == '.') {
        i++;
        while (i < p->len && is_digit(s[i]))
            i++, digits++;
    }
    if (!digits)
        return fail(p, start, "expected a number");
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (s[j] == '-' || s[j] == '+'))
            j++;
        if (j < p->len && is_digit(s[j])) {
            while (j < p->len && is_digit(s[j]))
                j++;
            i = j;
        }
    }
    char buf[64];
    if (i - start >= sizeof(buf))
        return fail(p, start, "number too long");
    memcpy(buf, s + start, i - start);
    buf[i - start] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return fail(p, start, "number out of range");
    if (i < p->len && is_alpha(s[i]) && (i + 1 >= p->len || !is_word_char(s[i + 1]))) {
        static const char units[] = "smhdw";
        static const double secs[] = {1, 60, 3600, 86400, 604800};
        const char *u = strchr(units, s[i] | 0x20);
        if (!u)
            return fail(p, i, "expected a time unit (s, m, h, d or w) after the number");
        v *= secs[u - units];
        if (!isfinite(v))
            return fail(p, start, "number out of range");
        i++;
    } else if (i < p->len && (is_alpha(s[i]) || s[i] == '_')) {
        return fail(p, i, "expected a separator after the number");
    }
    p->cur.k = TK_NUM;
    p->cur.num = v;
    p->cur.len = i - start;
    return 0;
}

/* Reads the next token into p->cur, freeing the previous token's string. */
static int next(struct parser *p)
{
    free(p->cur.str);
    memset(&p->cur, 0, sizeof(p->cur));
    const char *s = p->s;
    while (p->pos < p->len &&
           (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r'))
        p->pos++;
    size_t start = p->pos;
    p->cur.pos = start;
    if (start >= p->len) {
        p->cur.k = TK_EOF;
        return 0;
    }
    char c = s[start];
    int rc = 0;
    p->cur.len = 1;
    switch (c) {
    case '(':
        p->cur.k = TK_LP;
        break;
    case ')':
        p->cur.k = TK_RP;
        break;
    case '[':
        p->cur.k = TK_LB;
        break;
    case ']':
        p->cur.k = TK_RB;
        break;
    case ',':
        p->cur.k = TK_COMMA;
        break;
    case '"':
        rc = lex_string(p, start);
        break;
    default:
        if (is_digit(c) || ((c == '-' || c == '+' || c == '.') && start + 1 < p->len &&
                            (is_digit(s[start + 1]) || s[start + 1] == '.'))) {
            rc = lex_number(p, start);
        } else if (is_alpha(c) || c == '_') {
            size_t n = cdp_path_scan(s + start, p->len - start);
            if (n) {
                p->cur.k = TK_FIELD;
                p->cur.len = n;
            } else {
                n = 0;
                while (start + n < p->len && is_word_char(s[start + n]))
                    n++;
                p->cur.k = TK_WORD;
                p->cur.len = n;
            }
        } else {
            for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
                size_t n = strlen(ops[i].text);
                if (start + n <= p->len && memcmp(s + start, ops[i].text, n) == 0) {
                    p->cur.k = TK_OP;
                    p->cur.op = ops[i].op;
                    p->cur.len = n;
                    p->pos = start + n;
                    return 0;
                }
            }
            if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                return fail(p, start, "unexpected character '%c'", c);
            return fail(p, start, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
        }
    }
    if (rc < 0)
        return rc;
    p->pos = start + p->cur.len;
    return 0;
}

static bool is_kw(const struct parser *p, const char *kw)
{
    return p->cur.k == TK_WORD && strlen(kw) == p->cur.len &&
           strncasecmp(p->s + p->cur.pos, kw, p->cur.len) == 0;
}

/* Fails with "expected <what>, found <current token>". */
static int expected(struct parser *p, const char *what)
{
    if (p->cur.k == TK_EOF)
        return fail(p, p->cur.pos, "expected %s, found end of input", what);
    int n = p->cur.len > 24 ? 24 : (int)p->cur.len;
    return fail(p, p->cur.pos, "expected %s, found '%.*s%s'", what, n, p->s + p->cur.pos,
                p->cur.len > 24 ? "..." : "");
}

static int enter(struct parser *p)
{
    if (++p->depth > CDP_TQL_MAX_DEPTH)
        return fail(p, p->cur.pos, "nesting deeper than %d", CDP_TQL_MAX_DEPTH);
    return 0;
}

static void opnd_free(struct opnd *o)
{
    if (!o)
        return;
    cdp_path_free(o->path);
    cJSON_Delete(o->value);
    for (int i = 0; i < o->nargs; i++)
        opnd_free(o->args[i]);
    free(o);
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    free(n->kids);
    opnd_free(n->lhs);
    opnd_free(n->a);
    opnd_free(n->b);
    free(n);
}

void cdp_tql_free(struct cdp_tql *q)
{
    if (!q)
        return;
    node_free(q->root);
    free(q);
}

static struct node *parse_or(struct parser *p);
static struct opnd *parse_operand(struct parser *p, const char *after);

/* A literal value as a cJSON tree: scalars, strings and (nested) lists. */
static cJSON *parse_literal(struct parser *p, const char *after)
{
    cJSON *v = NULL;
    if (p->cur.k == TK_NUM) {
        v = cJSON_CreateNumber(p->cur.num);
    } else if (p->cur.k == TK_STR) {
        v = cJSON_CreateString(p->cur.str);
    } else if (is_kw(p, "null")) {
        v = cJSON_CreateNull();
    } else if (is_kw(p, "true")) {
        v = cJSON_CreateTrue();
    } else if (is_kw(p, "false")) {
        v = cJSON_CreateFalse();
    } else if (p->cur.k == TK_LB) {
        if (enter(p) < 0)
            return NULL;
        cJSON *list = cJSON_CreateArray();
        if (!list) {
            nomem(p);
            return NULL;
        }
        if (next(p) < 0)
            goto bad_list;
        if (p->cur.k != TK_RB) {
            for (;;) {
                cJSON *item = parse_literal(p, "'[' or ','");
                if (!item)
                    goto bad_list;
                cJSON_AddItemToArray(list, item);
                if (p->cur.k == TK_RB)
                    break;
                if (p->cur.k != TK_COMMA) {
                    expected(p, "',' or ']' in the list");
                    goto bad_list;
                }
                if (next(p) < 0)
                    goto bad_list;
            }
        }
        p->depth--;
        if (next(p) < 0) {
            cJSON_Delete(list);
            return NULL;
        }
        return list;
    bad_list:
        cJSON_Delete(list);
        return NULL;
    } else {
        char what[64];
        if (after)
            snprintf(what, sizeof(what), "a value after %s", after);
        else
            snprintf(what, sizeof(what), "a condition (a field, value, function, NOT or '(')");
        expected(p, what);
        return NULL;
    }
    if (!v) {
        nomem(p);
        return NULL;
    }
    if (next(p) < 0) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static const struct fn_def *find_fn(const char *s, size_t n)
{
    for (size_t i = 0; i < NFNS; i++)
        if (strlen(fn_defs[i].name) == n && strncasecmp(fn_defs[i].name, s, n) == 0)
            return &fn_defs[i];
    return NULL;
}

static struct opnd *parse_call(struct parser *p, struct opnd *o)
{
    size_t pos = p->cur.pos, len = p->cur.len;
    const struct fn_def *def = find_fn(p->s + pos, len);
    if (!def) {
        int n = len > 32 ? 32 : (int)len;
        fail(p, pos, "unknown function or keyword '%.*s'", n, p->s + pos);
        goto bad;
    }
    o->kind = OPND_FUNC;
    o->fn = def->fn;
    if (enter(p) < 0 || next(p) < 0)
        goto bad;
    if (p->cur.k != TK_LP) {
        expected(p, "'(' after the function name");
        goto bad;
    }
    if (next(p) < 0)
        goto bad;
    if (p->cur.k != TK_RP) {
        for (;;) {
            if (o->nargs == def->max_args) {
                fail(p, p->cur.pos, "too many arguments to %s()", def->name);
                goto bad;
            }
            struct opnd *a = parse_operand(p, o->nargs ? "','" : "'('");
            if (!a)
                goto bad;
            o->args[o->nargs++] = a;
            if (p->cur.k == TK_RP)
                break;
            if (p->cur.k != TK_COMMA) {
                expected(p, "',' or ')' after the argument");
                goto bad;
            }
            if (next(p) < 0)
                goto bad;
        }
    }
    if (o->nargs < def->min_args) {
        fail(p, p->cur.pos, "%s() takes %d argument%s", def->name, def->min_args,
             def->min_args == 1 ? "" : "s");
        goto bad;
    }
    p->depth--;
    if (next(p) < 0)
        goto bad;
    /* A constant offset is checked now, so a typo is a syntax error rather than a false. */
    /* Constant offsets and dates are checked now, so a typo is a syntax error, not a false. */
    const cJSON *c = def->offset_arg >= 0 && o->args[def->offset_arg]->kind == OPND_CONST
                         ? o->args[def->offset_arg]->value
                         : NULL;
    int64_t t;
    if (cJSON_IsString(c) && cdp_tql_parse_offset(c->valuestring, &t) < 0) {
        fail(p, pos, "invalid time offset \"%.32s\" in %s()", c->valuestring, def->name);
        goto bad;
    }
    c = def->date_arg >= 0 && o->args[def->date_arg]->kind == OPND_CONST
            ? o->args[def->date_arg]->value
            : NULL;
    if (cJSON_IsString(c) && cdp_clock_parse_iso(c->valuestring, &t) < 0) {
        fail(p, pos, "invalid ISO 8601 date \"%.32s\" in %s()", c->valuestring, def->name);
        goto bad;
    }
    return o;
bad:
    opnd_free(o);
    return NULL;
}

/* A word is read as a function call when it names one or a '(' follows; other words (AND, OR,
 * misspelt sources) fall through to "expected a value". */
static bool looks_like_call(const struct parser *p)
{
    if (find_fn(p->s + p->cur.pos, p->cur.len))
        return true;
    size_t i = p->pos;
    while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t'))
        i++;
    return i < p->len && p->s[i] == '(';
}

/* An operand: a field, a literal or a function call. after names what precedes it, for the
 * error message; NULL at the start of a condition. */
static struct opnd *parse_operand(struct parser *p, const char *after)
{
    struct opnd *o = calloc(1, sizeof(*o));
    if (!o) {
        nomem(p);
        return NULL;
    }
    if (p->cur.k == TK_FIELD) {
        o->kind = OPND_FIELD;
        int rc = cdp_path_parse(p->s + p->cur.pos, p->cur.len, &o->path);
        if (rc == CDP_E_NOMEM) {
            nomem(p);
            goto bad;
        }
        if (rc < 0) {
            int n = p->cur.len > 40 ? 40 : (int)p->cur.len;
            fail(p, p->cur.pos, "invalid reference '%.*s'", n, p->s + p->cur.pos);
            goto bad;
        }
        if (next(p) < 0)
            goto bad;
        return o;
    }
    if (p->cur.k == TK_WORD && p->bare && !looks_like_call(p)) {
        /* a field without its source (`type`, `data.contact.email.main`), but for keywords */
        static const char *const words[] = {"null",     "true",    "false", "and",    "or",
                                            "not",      "between", "is",    "exists", "empty",
                                            "contains", "starts",  "ends",  "with"};
        bool word = false;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            word = word || is_kw(p, words[i]);
        size_t n = strlen(p->bare) + 1 + p->cur.len;
        char *ref = word ? NULL : malloc(n + 1);
        if (ref) {
            snprintf(ref, n + 1, "%s@%.*s", p->bare, (int)p->cur.len, p->s + p->cur.pos);
            o->kind = OPND_FIELD;
            int rc = cdp_path_parse(ref, n, &o->path);
            free(ref);
            if (rc == CDP_E_NOMEM) {
                nomem(p);
                goto bad;
            }
            if (rc < 0) {
                int m = p->cur.len > 40 ? 40 : (int)p->cur.len;
                fail(p, p->cur.pos, "invalid field '%.*s'", m, p->s + p->cur.pos);
                goto bad;
            }
            if (next(p) < 0)
                goto bad;
            return o;
        }
        if (!word) {
            nomem(p);
            goto bad;
        }
    }
    if (p->cur.k == TK_WORD && looks_like_call(p))
        return parse_call(p, o);
    o->kind = OPND_CONST;
    o->value = parse_literal(p, after);
    if (!o->value)
        goto bad;
    return o;
bad:
    opnd_free(o);
    return NULL;
}

static struct node *new_test(struct parser *p, struct opnd *lhs, enum test_op op)
{
    struct node *n = calloc(1, sizeof(*n));
    if (!n) {
        opnd_free(lhs);
        nomem(p);
        return NULL;
    }
    n->kind = NODE_TEST;
    n->lhs = lhs;
    n->op = op;
    return n;
}

/* The part of a condition after its left operand. */
static struct node *parse_cond(struct parser *p)
{
    struct opnd *lhs = parse_operand(p, NULL);
    if (!lhs)
        return NULL;
    struct node *n;
    char after[48];
    if (p->cur.k == TK_OP) {
        int len = (int)p->cur.len;
        snprintf(after, sizeof(after), "'%.*s'", len, p->s + p->cur.pos);
        if (!(n = new_test(p, lhs, p->cur.op)) || next(p) < 0)
            goto bad;
        if (!(n->a = parse_operand(p, after)))
            goto bad;
        return n;
    }
    if (is_kw(p, "between")) {
        if (!(n = new_test(p, lhs, T_BETWEEN)) || next(p) < 0)
            goto bad;
        if (!(n->a = parse_operand(p, "BETWEEN")))
            goto bad;
        if (!is_kw(p, "and")) {
            expected(p, "AND after BETWEEN's lower bound");
            goto bad;
        }
        if (next(p) < 0 || !(n->b = parse_operand(p, "BETWEEN ... AND")))
            goto bad;
        return n;
    }
    if (is_kw(p, "is")) {
        if (!(n = new_test(p, lhs, T_IS_NULL)) || next(p) < 0)
            goto bad;
        if (is_kw(p, "not")) {
            n->op = T_NOT_NULL;
            if (next(p) < 0)
                goto bad;
        }
        if (!is_kw(p, "null")) {
            expected(p, n->op == T_NOT_NULL ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
            goto bad;
        }
        if (next(p) < 0)
            goto bad;
        return n;
    }
    bool neg = false;
    if (is_kw(p, "not")) {
        neg = true;
        if (next(p) < 0) {
            opnd_free(lhs);
            return NULL;
        }
    }
    if (is_kw(p, "exists") || is_kw(p, "empty")) {
        enum test_op op =
            is_kw(p, "exists") ? (neg ? T_NOT_EXISTS : T_EXISTS) : (neg ? T_NOT_EMPTY : T_EMPTY);
        if (!(n = new_test(p, lhs, op)) || next(p) < 0)
            goto bad;
        return n;
    }
    if (neg) {
        expected(p, "EXISTS or EMPTY after NOT");
        opnd_free(lhs);
        return NULL;
    }
    if (is_kw(p, "contains")) {
        if (!(n = new_test(p, lhs, T_CONTAINS)) || next(p) < 0)
            goto bad;
        if (!(n->a = parse_operand(p, "CONTAINS")))
            goto bad;
        return n;
    }
    if (is_kw(p, "starts") || is_kw(p, "ends")) {
        bool starts = is_kw(p, "starts");
        if (!(n = new_test(p, lhs, starts ? T_STARTS : T_ENDS)) || next(p) < 0)
            goto bad;
        if (!is_kw(p, "with")) {
            expected(p, starts ? "WITH after STARTS" : "WITH after ENDS");
            goto bad;
        }
        if (next(p) < 0 || !(n->a = parse_operand(p, starts ? "STARTS WITH" : "ENDS WITH")))
            goto bad;
        return n;
    }
    expected(p, "an operator (==, !=, >, BETWEEN, IS NULL, EXISTS, EMPTY, CONTAINS, ...)");
    opnd_free(lhs);
    return NULL;
bad:
    /* new_test took lhs (or freed it when it failed). */
    if (n)
        node_free(n);
    return NULL;
}

static struct node *parse_unary(struct parser *p)
{
    if (enter(p) < 0)
        return NULL;
    struct node *n = NULL;
    if (is_kw(p, "not")) {
        if (next(p) < 0)
            return NULL;
        struct node *kid = parse_unary(p);
        if (!kid)
            return NULL;
        n = calloc(1, sizeof(*n));
        struct node **kids = malloc(sizeof(*kids));
        if (!n || !kids) {
            free(n);
            free(kids);
            node_free(kid);
            nomem(p);
            return NULL;
        }
        n->kind = NODE_NOT;
        n->n = 1;
        n->kids = kids;
        kids[0] = kid;
    } else if (p->cur.k == TK_LP) {
        size_t open = p->cur.pos;
        if (next(p) < 0 || !(n = parse_or(p)))
            return NULL;
        if (p->cur.k != TK_RP) {
            char what[64];
            snprintf(what, sizeof(what), "')' to close the '(' at %zu", open + 1);
            expected(p, what);
            node_free(n);
            return NULL;
        }
        if (next(p) < 0) {
            node_free(n);
            return NULL;
        }
    } else {
        n = parse_cond(p);
    }
    if (n)
        p->depth--;
    return n;
}

/* AND chains (kind NODE_AND, operand parse_unary) and OR chains (NODE_OR, parse_and). */
static struct node *parse_chain(struct parser *p, enum node_kind kind, const char *kw,
                                struct node *(*sub)(struct parser *))
{
    struct node *first = sub(p);
    if (!first || !is_kw(p, kw))
        return first;
    struct node *n = calloc(1, sizeof(*n));
    if (!n) {
        node_free(first);
        nomem(p);
        return NULL;
    }
    n->kind = kind;
    size_t cap = 0;
    struct node *kid = first;
    for (;;) {
        if (n->n == cap) {
            cap = cap ? cap * 2 : 4;
            struct node **k = realloc(n->kids, cap * sizeof(*k));
            if (!k) {
                node_free(kid);
                node_free(n);
                nomem(p);
                return NULL;
            }
            n->kids = k;
        }
        n->kids[n->n++] = kid;
        if (!is_kw(p, kw))
            return n;
        if (next(p) < 0 || !(kid = sub(p))) {
            node_free(n);
            return NULL;
        }
    }
}

static struct node *parse_and(struct parser *p)
{
    return parse_chain(p, NODE_AND, "and", parse_unary);
}

static struct node *parse_or(struct parser *p)
{
    return parse_chain(p, NODE_OR, "or", parse_and);
}

int cdp_tql_parse(const char *text, struct cdp_tql **out, char *err, size_t errlen)
{
    return cdp_tql_parse_in(text, NULL, out, err, errlen);
}

int cdp_tql_parse_in(const char *text, const char *source, struct cdp_tql **out, char *err,
                     size_t errlen)
{
    struct parser p = {.s = text, .err = err, .errlen = errlen, .bare = source};
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!text)
        return fail(&p, 0, "no condition");
    p.len = strnlen(text, CDP_TQL_MAX_LEN + 1);
    if (p.len > CDP_TQL_MAX_LEN)
        return fail(&p, CDP_TQL_MAX_LEN, "condition longer than %d bytes", CDP_TQL_MAX_LEN);
    struct node *root = NULL;
    if (next(&p) < 0)
        goto bad;
    if (p.cur.k == TK_EOF) {
        fail(&p, 0, "expected a condition, found end of input");
        goto bad;
    }
    if (!(root = parse_or(&p)))
        goto bad;
    if (p.cur.k != TK_EOF) {
        expected(&p, "AND, OR or the end of the condition");
        goto bad;
    }
    struct cdp_tql *q = malloc(sizeof(*q));
    if (!q) {
        nomem(&p);
        goto bad;
    }
    q->root = root;
    *out = q;
    return 0;
bad:
    free(p.cur.str);
    node_free(root);
    return p.rc < 0 ? p.rc : CDP_E_INTERNAL;
}

int cdp_tql_parse_offset(const char *s, int64_t *us)
{
    static const struct {
        const char *word;
        double secs;
    } units[] = {
        {"seconds", 1},  {"second", 1},  {"secs", 1},   {"sec", 1},        {"s", 1},
        {"minutes", 60}, {"minute", 60}, {"mins", 60},  {"min", 60},       {"m", 60},
        {"hours", 3600}, {"hour", 3600}, {"hrs", 3600}, {"hr", 3600},      {"h", 3600},
        {"days", 86400}, {"day", 86400}, {"d", 86400},  {"weeks", 604800}, {"week", 604800},
        {"w", 604800},
    };
    if (!s)
        return -1;
    const char *p = s;
    while (*p == ' ')
        p++;
    double sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    double total = 0;
    int parts = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (!is_digit(*p) && *p != '.')
            return -1;
        double v = 0, scale = 0;
        int nd = 0;
        for (; is_digit(*p) || (*p == '.' && scale == 0); p++) {
            if (*p == '.') {
                scale = 1;
                continue;
            }
            if (++nd > 12)
                return -1;
            v = v * 10 + (*p - '0');
            if (scale)
                scale *= 10;
        }
        if (!nd)
            return -1;
        if (scale)
            v /= scale;
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (is_alpha(p[n]))
            n++;
        double secs = n ? 0 : 1; /* a bare number counts seconds, as pytimeparse does */
        for (size_t i = 0; n && i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].word) == n && strncasecmp(units[i].word, p, n) == 0) {
                secs = units[i].secs;
                break;
            }
        if (!secs)
            return -1;
        p += n;
        total += v * secs;
        parts++;
        while (*p == ' ' || *p == ',')
            p++;
    }
    /* About 3000 years keeps every sum with a sane timestamp inside int64 microseconds. */
    if (!parts || total > 1e11)
        return -1;
    *us = (int64_t)(sign * total * 1e6);
    return 0;
}

enum vkind { V_MISSING, V_NULL, V_BOOL, V_NUM, V_STR, V_TIME, V_JSON };

struct val {
    enum vkind k;
    bool b;
    double num;
    const char *s;
    int64_t t;
    const cJSON *j; /* V_JSON: an array or object */
    char *owned;    /* a string made by a function, freed with the value */
};

#define TIME_LIMIT_US ((int64_t)1e17) /* about ±3000 years around the epoch */

static void val_of_json(const cJSON *j, struct val *v)
{
    memset(v, 0, sizeof(*v));
    if (!j)
        v->k = V_MISSING;
    else if (cJSON_IsBool(j))
        v->k = V_BOOL, v->b = cJSON_IsTrue(j);
    else if (cJSON_IsNumber(j))
        v->k = V_NUM, v->num = j->valuedouble;
    else if (cJSON_IsString(j) && j->valuestring)
        v->k = V_STR, v->s = j->valuestring;
    else if (cJSON_IsArray(j) || cJSON_IsObject(j))
        v->k = V_JSON, v->j = j;
    else
        v->k = V_NULL;
}

static void val_time(struct val *v, int64_t t)
{
    if (t > TIME_LIMIT_US || t < -TIME_LIMIT_US)
        v->k = V_MISSING;
    else
        v->k = V_TIME, v->t = t;
}

static bool as_time(const struct val *v, int64_t *t)
{
    if (v->k == V_TIME) {
        *t = v->t;
        return true;
    }
    return v->k == V_STR && cdp_clock_parse_iso(v->s, t) == 0;
}

struct ctx {
    const struct cdp_refs *r;
    int64_t now;
    char *err;
    size_t errlen;
};

static int eval_opnd(const struct ctx *c, const struct opnd *o, struct val *out);

static int eval_fn(const struct ctx *c, const struct opnd *o, struct val *out)
{
    struct val a[MAX_ARGS];
    int rc = 0;
    memset(a, 0, sizeof(a));
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < o->nargs; i++)
        if ((rc = eval_opnd(c, o->args[i], &a[i])) < 0)
            goto out;
    int64_t off, t;
    switch (o->fn) {
    case FN_NOW:
        val_time(out, c->now);
        break;
    case FN_NOW_OFFSET:
    case FN_NOW_TZ_OFFSET: {
        const struct val *ov = &a[o->fn == FN_NOW_OFFSET ? 0 : 1];
        if (ov->k == V_STR && cdp_tql_parse_offset(ov->s, &off) == 0 &&
            !__builtin_add_overflow(c->now, off, &t))
            val_time(out, t);
        break;
    }
    case FN_DATETIME:
    case FN_DATETIME_TZ:
    case FN_DATETIME_OFFSET:
    case FN_FROM_TIMESTAMP:
        if (o->fn != FN_FROM_TIMESTAMP && as_time(&a[0], &t)) {
            val_time(out, t);
        } else if (a[0].k == V_NUM && isfinite(a[0].num) && fabs(a[0].num) < 1e11) {
            val_time(out, (int64_t)(a[0].num * 1e6));
        }
        if (o->fn == FN_DATETIME_OFFSET && out->k == V_TIME) {
            if (a[1].k == V_STR && cdp_tql_parse_offset(a[1].s, &off) == 0 &&
                !__builtin_add_overflow(out->t, off, &t))
                val_time(out, t);
            else
                out->k = V_MISSING;
        }
        break;
    case FN_LOWER:
    case FN_UPPER:
        if (a[0].k != V_STR) {
            *out = a[0];
            a[0].owned = NULL; /* moved */
            break;
        }
        out->owned = strdup(a[0].s);
        if (!out->owned) {
            rc = CDP_E_NOMEM;
            if (c->err && c->errlen)
                snprintf(c->err, c->errlen, "out of memory");
            break;
        }
        for (char *s = out->owned; *s; s++)
            if (o->fn == FN_LOWER && *s >= 'A' && *s <= 'Z')
                *s = (char)(*s + 32);
            else if (o->fn == FN_UPPER && *s >= 'a' && *s <= 'z')
                *s = (char)(*s - 32);
        out->k = V_STR;
        out->s = out->owned;
        break;
    }
out:
    for (int i = 0; i < MAX_ARGS; i++)
        free(a[i].owned);
    return rc;
}

static int eval_opnd(const struct ctx *c, const struct opnd *o, struct val *out)
{
    switch (o->kind) {
    case OPND_FIELD:
        val_of_json(cdp_path_resolve(c->r, o->path), out);
        return 0;
    case OPND_CONST:
        val_of_json(o->value, out);
        return 0;
    case OPND_FUNC:
        return eval_fn(c, o, out);
    }
    return CDP_E_INTERNAL;
}

static bool equal(const struct val *a, const struct val *b)
{
    if (a->k == V_MISSING || b->k == V_MISSING)
        return false;
    if (a->k == V_TIME || b->k == V_TIME) {
        int64_t x, y;
        return as_time(a, &x) && as_time(b, &y) && x == y;
    }
    if (a->k != b->k)
        return false;
    switch (a->k) {
    case V_NULL:
        return true;
    case V_BOOL:
        return a->b == b->b;
    case V_NUM:
        return a->num == b->num;
    case V_STR:
        return strcmp(a->s, b->s) == 0;
    case V_JSON:
        return cJSON_Compare(a->j, b->j, true);
    default:
        return false;
    }
}

/* Whether a and b are ordered at all, and if so *cmp as strcmp would give. */
static bool order(const struct val *a, const struct val *b, int *cmp)
{
    if (a->k == V_TIME || b->k == V_TIME) {
        int64_t x, y;
        if (!as_time(a, &x) || !as_time(b, &y))
            return false;
        *cmp = (x > y) - (x < y);
        return true;
    }
    if (a->k == V_NUM && b->k == V_NUM) {
        *cmp = (a->num > b->num) - (a->num < b->num);
        return !isnan(a->num) && !isnan(b->num);
    }
    if (a->k == V_STR && b->k == V_STR) {
        int r = strcmp(a->s, b->s);
        *cmp = (r > 0) - (r < 0);
        return true;
    }
    return false;
}

static bool member(const struct val *x, const cJSON *list)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        struct val v;
        val_of_json(it, &v);
        if (equal(x, &v))
            return true;
    }
    return false;
}

static bool is_list(const struct val *v)
{
    return v->k == V_JSON && cJSON_IsArray(v->j);
}

static bool test(enum test_op op, const struct val *l, const struct val *a, const struct val *b)
{
    int c1, c2;
    switch (op) {
    case T_IS_NULL:
        return l->k == V_MISSING || l->k == V_NULL;
    case T_NOT_NULL:
        return !(l->k == V_MISSING || l->k == V_NULL);
    case T_EXISTS:
        return l->k != V_MISSING;
    case T_NOT_EXISTS:
        return l->k == V_MISSING;
    case T_EMPTY:
    case T_NOT_EMPTY: {
        bool empty = l->k == V_MISSING || l->k == V_NULL || (l->k == V_STR && !*l->s) ||
                     (l->k == V_JSON && !l->j->child);
        return op == T_EMPTY ? empty : !empty;
    }
    default:
        break;
    }
    if (l->k == V_MISSING || a->k == V_MISSING)
        return false;
    switch (op) {
    case T_EQ:
    case T_NE: {
        bool eq = is_list(a) && !is_list(l) ? member(l, a->j) : equal(l, a);
        return op == T_EQ ? eq : !eq;
    }
    case T_GT:
        return order(l, a, &c1) && c1 > 0;
    case T_GE:
        return order(l, a, &c1) && c1 >= 0;
    case T_LT:
        return order(l, a, &c1) && c1 < 0;
    case T_LE:
        return order(l, a, &c1) && c1 <= 0;
    case T_BETWEEN:
        return b->k != V_MISSING && order(l, a, &c1) && order(l, b, &c2) && c1 >= 0 && c2 <= 0;
    case T_CONTAINS:
        if (l->k == V_STR && a->k == V_STR)
            return strstr(l->s, a->s) != NULL;
        if (is_list(l))
            return member(a, l->j);
        if (l->k == V_JSON && a->k == V_STR)
            return cJSON_GetObjectItemCaseSensitive(l->j, a->s) != NULL;
        return false;
    case T_STARTS:
    case T_ENDS: {
        if (is_list(l)) {
            const cJSON *it = op == T_STARTS ? l->j->child : NULL;
            if (op == T_ENDS)
                for (it = l->j->child; it && it->next; it = it->next)
                    ;
            struct val v;
            val_of_json(it, &v);
            return equal(&v, a);
        }
        if (l->k != V_STR || a->k != V_STR)
            return false;
        size_t n = strlen(l->s), m = strlen(a->s);
        if (m > n)
            return false;
        return memcmp(op == T_STARTS ? l->s : l->s + n - m, a->s, m) == 0;
    }
    default:
        return false;
    }
}

static int eval_node(const struct ctx *c, const struct node *n, bool *res)
{
    int rc;
    switch (n->kind) {
    case NODE_AND:
    case NODE_OR:
        /* Lazy: a missing field is a plain false, so skipping the rest changes nothing. */
        for (size_t i = 0; i < n->n; i++) {
            if ((rc = eval_node(c, n->kids[i], res)) < 0)
                return rc;
            if (*res == (n->kind == NODE_OR))
                return 0;
        }
        return 0;
    case NODE_NOT:
        if ((rc = eval_node(c, n->kids[0], res)) < 0)
            return rc;
        *res = !*res;
        return 0;
    case NODE_TEST:
        break;
    }
    struct val l, a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if ((rc = eval_opnd(c, n->lhs, &l)) < 0)
        return rc;
    if (n->a && (rc = eval_opnd(c, n->a, &a)) < 0)
        goto out;
    if (n->b && (rc = eval_opnd(c, n->b, &b)) < 0)
        goto out;
    *res = test(n->op, &l, &a, &b);
out:
    free(l.owned);
    free(a.owned);
    free(b.owned);
    return rc;
}

int cdp_tql_eval(const struct cdp_tql *q, const struct cdp_refs *r, int64_t now_us, bool *result,
                 char *err, size_t errlen)
{
    static const struct cdp_refs none;
    struct ctx c = {.r = r ? r : &none, .now = now_us, .err = err, .errlen = errlen};
    *result = false;
    if (err && errlen)
        err[0] = '\0';
    if (!q)
        return CDP_E_INVALID;
    return eval_node(&c, q->root, result);
}

/* --- the tree as data, for query translators (cdp_tql_describe) --- */

static const char *const test_names[] = {
    [T_EQ] = "==",
    [T_NE] = "!=",
    [T_GT] = ">",
    [T_GE] = ">=",
    [T_LT] = "<",
    [T_LE] = "<=",
    [T_BETWEEN] = "between",
    [T_IS_NULL] = "is null",
    [T_NOT_NULL] = "is not null",
    [T_EXISTS] = "exists",
    [T_NOT_EXISTS] = "not exists",
    [T_EMPTY] = "empty",
    [T_NOT_EMPTY] = "not empty",
    [T_CONTAINS] = "contains",
    [T_STARTS] = "starts with",
    [T_ENDS] = "ends with",
};

static const char *const fn_names[] = {
    [FN_NOW] = "now",
    [FN_NOW_OFFSET] = "now.offset",
    [FN_NOW_TZ_OFFSET] = "now.timezone.offset",
    [FN_DATETIME] = "datetime",
    [FN_DATETIME_OFFSET] = "datetime.offset",
    [FN_DATETIME_TZ] = "datetime.timezone",
    [FN_FROM_TIMESTAMP] = "datetime.from_timestamp",
    [FN_LOWER] = "lowercase",
    [FN_UPPER] = "uppercase",
};

static const char *const path_sources[] = {
    [CDP_PATH_PROFILE] = "profile", [CDP_PATH_EVENT] = "event", [CDP_PATH_SESSION] = "session",
    [CDP_PATH_PAYLOAD] = "payload", [CDP_PATH_FLOW] = "flow",   [CDP_PATH_MEMORY] = "memory",
};

static bool reads_a_field(const struct opnd *o)
{
    if (o->kind == OPND_FIELD)
        return true;
    for (int i = 0; i < o->nargs; i++)
        if (reads_a_field(o->args[i]))
            return true;
    return false;
}

static cJSON *describe_val(const struct val *v)
{
    cJSON *d = cJSON_CreateObject(), *x = NULL;
    char t[24];
    switch (v->k) {
    case V_MISSING:
        x = cJSON_AddTrueToObject(d, "missing");
        break;
    case V_NULL:
        x = cJSON_AddNullToObject(d, "value");
        break;
    case V_BOOL:
        x = cJSON_AddBoolToObject(d, "value", v->b);
        break;
    case V_NUM:
        x = cJSON_AddNumberToObject(d, "value", v->num);
        break;
    case V_STR:
        x = cJSON_AddStringToObject(d, "value", v->s);
        break;
    case V_TIME: /* a decimal string: microseconds overflow a double's exact integers */
        snprintf(t, sizeof(t), "%lld", (long long)v->t);
        x = cJSON_AddStringToObject(d, "time", t);
        break;
    case V_JSON:
        x = cJSON_Duplicate(v->j, true);
        if (x && !cJSON_AddItemToObject(d, "value", x)) {
            cJSON_Delete(x);
            x = NULL;
        }
        break;
    }
    if (!x) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

static cJSON *describe_opnd(const struct ctx *c, const struct opnd *o)
{
    cJSON *d = NULL;
    if (o->kind == OPND_FIELD) {
        d = cJSON_CreateObject();
        cJSON *path = NULL;
        if (!cJSON_AddStringToObject(d, "field", path_sources[o->path->source]) ||
            !(path = cJSON_AddArrayToObject(d, "path")))
            goto nomem;
        for (size_t i = 0; i < o->path->nseg; i++)
            if (!cJSON_AddItemToArray(path, cJSON_CreateString(o->path->seg[i])))
                goto nomem;
        return d;
    }
    if (o->kind == OPND_CONST) {
        struct val v;
        val_of_json(o->value, &v);
        return describe_val(&v);
    }
    if (!reads_a_field(o)) { /* constant arguments: the value it has at c->now */
        struct val v;
        if (eval_fn(c, o, &v) < 0)
            return NULL;
        d = describe_val(&v);
        free(v.owned);
        return d;
    }
    d = cJSON_CreateObject();
    cJSON *args = NULL;
    if (!cJSON_AddStringToObject(d, "fn", fn_names[o->fn]) ||
        !(args = cJSON_AddArrayToObject(d, "args")))
        goto nomem;
    for (int i = 0; i < o->nargs; i++) {
        cJSON *a = describe_opnd(c, o->args[i]);
        if (!a || !cJSON_AddItemToArray(args, a)) {
            cJSON_Delete(a);
            goto nomem;
        }
    }
    return d;
nomem:
    cJSON_Delete(d);
    return NULL;
}

static cJSON *describe_node(const struct ctx *c, const struct node *n)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    if (n->kind == NODE_OR || n->kind == NODE_AND) {
        cJSON *kids = cJSON_AddArrayToObject(d, n->kind == NODE_OR ? "or" : "and");
        if (!kids)
            goto nomem;
        for (size_t i = 0; i < n->n; i++) {
            cJSON *k = describe_node(c, n->kids[i]);
            if (!k || !cJSON_AddItemToArray(kids, k)) {
                cJSON_Delete(k);
                goto nomem;
            }
        }
        return d;
    }
    if (n->kind == NODE_NOT) {
        cJSON *k = describe_node(c, n->kids[0]);
        if (!k || !cJSON_AddItemToObject(d, "not", k)) {
            cJSON_Delete(k);
            goto nomem;
        }
        return d;
    }
    if (!cJSON_AddStringToObject(d, "test", test_names[n->op]))
        goto nomem;
    const struct opnd *parts[] = {n->lhs, n->a, n->b};
    static const char *const keys[] = {"lhs", "a", "b"};
    for (size_t i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        cJSON *p = describe_opnd(c, parts[i]);
        if (!p || !cJSON_AddItemToObject(d, keys[i], p)) {
            cJSON_Delete(p);
            goto nomem;
        }
    }
    return d;
nomem:
    cJSON_Delete(d);
    return NULL;
}

int cdp_tql_describe(const struct cdp_tql *q, int64_t now_us, cJSON **out)
{
    *out = NULL;
    if (!q)
        return CDP_E_INVALID;
    static const struct cdp_refs none;
    struct ctx c = {.r = &none, .now = now_us};
    *out = describe_node(&c, q->root);
    return *out ? 0 : CDP_E_NOMEM;
}
