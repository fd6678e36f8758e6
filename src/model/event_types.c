/* Tracardi's predefined event types: the table, its JSON form and the profile operations.
 * Field names follow Tracardi's setup/events definitions, with e-mail and phone under .main as
 * in the 0.8+ profile (data.contact.email.main, data.contact.phone.main). */
#include "model/event_types.h"

#include "core/err.h"
#include "core/json.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum op_kind { OP_SET, OP_SET_IF_EMPTY, OP_APPEND, OP_INC, OP_DEC };

static const char *const op_names[] = {"set", "set_if_empty", "append", "increment", "decrement"};

struct op_def {
    const char *event; /* dotted event path, or NULL for the constant 1 */
    enum op_kind kind;
    const char *profile; /* dotted profile path */
};

/* event[to] = a copy of event[from]: Tracardi's "copy" into the event's data and hit. */
struct copy_def {
    const char *to, *from;
};

struct type_def {
    const char *id, *name, *group, *description;
    const char *props; /* "path:type ..." (dotted paths nest), types as JSON Schema's */
    const char *tags;  /* space-separated */
    const char *state; /* journey state or NULL */
    const struct op_def *ops;
    size_t nops;
    /* The "copy" map: the set operations into data.* when copy_sets (Tracardi copies those
     * fields into the event's data and sets the profile from there), then copy. */
    bool copy_sets;
    const struct copy_def *copy;
    size_t ncopy;
};

struct group_def {
    const char *id, *name;
};

#define SET(e, p)                                                                                  \
    {                                                                                              \
        "properties." e, OP_SET, p                                                                 \
    }
#define SAME(x)                                                                                    \
    {                                                                                              \
        "properties." x, OP_SET, "data." x                                                         \
    }
#define APPEND(e, p)                                                                               \
    {                                                                                              \
        "properties." e, OP_APPEND, p                                                              \
    }
#define ADD(e, p)                                                                                  \
    {                                                                                              \
        "properties." e, OP_INC, p                                                                 \
    }
#define COUNT(p)                                                                                   \
    {                                                                                              \
        NULL, OP_INC, p                                                                            \
    }
#define CP(to, from)                                                                               \
    {                                                                                              \
        to, "properties." from                                                                     \
    }
#define OPS(a) a, sizeof(a) / sizeof(a[0])
#define NOOPS  NULL, 0
/* The copy map after the operations: the set operations copied or not, and the list. */
#define COPY(a)          false, a, sizeof(a) / sizeof(a[0])
#define COPY_SETS        true, NULL, 0
#define COPY_SETS_AND(a) true, a, sizeof(a) / sizeof(a[0])
#define NOCOPY           false, NULL, 0

/* ---- profile operations ---- */

static const struct op_def ops_sign[] = {
    SET("email", "data.contact.email.main"),
    SET("login", "data.identifier.token"),
    SET("firstname", "data.pii.firstname"),
    SET("lastname", "data.pii.lastname"),
};

static const struct op_def ops_identification[] = {
    SET("firstname", "data.pii.firstname"),
    SET("lastname", "data.pii.lastname"),
    SET("phone", "data.contact.phone.main"),
    SET("email", "data.contact.email.main"),
    SET("id", "data.identifier.id"),
    SET("login", "data.identifier.token"),
    SET("passport", "data.identifier.passport"),
    SET("credit_card", "data.identifier.credit_card"),
    APPEND("coupon", "data.identifier.coupons"),
    SET("badge", "data.identifier.badge"),
    SET("twitter", "data.contact.app.twitter"),
    SET("whatsapp", "data.contact.app.whatsapp"),
    SET("discord", "data.contact.app.discord"),
    SET("slack", "data.contact.app.slack"),
    SET("telegram", "data.contact.app.telegram"),
    SET("wechat", "data.contact.app.wechat"),
    SET("viber", "data.contact.app.viber"),
    SET("signal", "data.contact.app.signal"),
};

static const struct op_def ops_profile_update[] = {
    SAME("pii.firstname"),
    SAME("pii.lastname"),
    SET("pii.name", "data.pii.display_name"),
    SAME("pii.birthday"),
    SAME("pii.language.native"),
    SAME("pii.language.spoken"),
    SAME("pii.gender"),
    SAME("pii.education.level"),
    SAME("pii.civil.status"),
    SAME("pii.attributes.height"),
    SAME("pii.attributes.weight"),
    SAME("pii.attributes.shoe_number"),
    SAME("identifier.id"),
    SAME("identifier.token"),
    SAME("identifier.passport"),
    SAME("identifier.credit_card"),
    SAME("identifier.coupons"),
    SAME("identifier.badge"),
    SET("contact.email", "data.contact.email.main"),
    SET("contact.phone", "data.contact.phone.main"),
    SAME("contact.app.whatsapp"),
    SAME("contact.app.discord"),
    SAME("contact.app.slack"),
    SAME("contact.app.twitter"),
    SAME("contact.app.telegram"),
    SAME("contact.app.wechat"),
    SAME("contact.app.viber"),
    SAME("contact.app.signal"),
    SAME("contact.address.town"),
    SAME("contact.address.county"),
    SAME("contact.address.country"),
    SAME("contact.address.postcode"),
    SAME("contact.address.street"),
    SAME("contact.address.other"),
    SAME("media.image"),
    SAME("media.webpage"),
    SAME("media.social.twitter"),
    SAME("media.social.facebook"),
    SAME("media.social.youtube"),
    SAME("media.social.instagram"),
    SAME("media.social.tiktok"),
    SAME("media.social.linkedin"),
    SAME("media.social.reddit"),
    SAME("job.position"),
    SAME("job.salary"),
    SAME("job.type"),
    SAME("job.department"),
    SAME("job.company.name"),
    SAME("job.company.size"),
    SAME("job.company.segment"),
    SAME("job.company.country"),
    SAME("preferences.purchases"),
    SAME("preferences.colors"),
    SAME("preferences.sizes"),
    SAME("preferences.devices"),
    SAME("preferences.channels"),
    SAME("preferences.payments"),
    SAME("preferences.brands"),
    SAME("preferences.fragrances"),
    SAME("preferences.services"),
    SAME("preferences.other"),
    SAME("loyalty.codes"),
    SAME("loyalty.card.id"),
    SAME("loyalty.card.name"),
    SAME("loyalty.card.issuer"),
    SAME("loyalty.card.expires"),
    SAME("loyalty.card.points"),
};

static const struct op_def ops_checkout_started[] = {
    ADD("value", "data.metrics.ltcosv"),
    COUNT("data.metrics.ltcosc"),
};

static const struct op_def ops_checkout_completed[] = {
    ADD("value", "data.metrics.ltcocv"),
    COUNT("data.metrics.ltcocc"),
};

static const struct op_def ops_delivery[] = {
    SET("delivery.town", "data.contact.address.town"),
    SET("delivery.county", "data.contact.address.county"),
    SET("delivery.country", "data.contact.address.country"),
    SET("delivery.postcode", "data.contact.address.postcode"),
    SET("delivery.street", "data.contact.address.street"),
};

/* ---- copies into the event (Tracardi's setup/events "copy", paths as in cdpd's props) ---- */

static const struct copy_def copy_product[] = {
    CP("data.ec.product.id", "id"),       CP("data.ec.product.name", "name"),
    CP("data.ec.product.sku", "sku"),     CP("data.ec.product.category", "category"),
    CP("data.ec.product.brand", "brand"), CP("data.ec.product.variant", "variant"),
    CP("data.ec.product.price", "price"), CP("data.ec.product.quantity", "quantity"),
};

static const struct copy_def copy_product_clicked[] = {
    CP("data.ec.product.id", "id"),
    CP("data.ec.product.name", "name"),
    CP("data.ec.product.sku", "sku"),
    CP("data.ec.product.category", "category"),
    CP("data.ec.product.brand", "brand"),
    CP("data.ec.product.variant", "variant"),
    CP("data.ec.product.price", "price"),
    CP("data.ec.product.quantity", "quantity"),
    CP("data.ec.product.position", "position"),
};

static const struct copy_def copy_checkout_started[] = {
    CP("data.ec.order.id", "order_id"),      CP("data.ec.checkout.id", "id"),
    CP("data.ec.checkout.status", "status"), CP("data.ec.checkout.currency", "currency"),
    CP("data.ec.checkout.value", "value"),
};

static const struct copy_def copy_checkout[] = {
    CP("data.ec.checkout.id", "id"),
    CP("data.ec.checkout.status", "status"),
};

static const struct copy_def copy_delivery[] = {
    CP("data.ec.order.id", "order_id"),
};

static const struct copy_def copy_payment[] = {
    CP("data.ec.order.id", "order_id"),
    CP("data.payment.method", "method"),
};

static const struct copy_def copy_order_started[] = {
    CP("data.ec.order.id", "id"),
    CP("data.ec.order.status", "status"),
    CP("data.ec.order.income.value", "income.value"),
    CP("data.ec.order.income.currency", "income.currency"),
    CP("data.ec.order.cost.value", "cost.value"),
    CP("data.ec.order.cost.currency", "cost.currency"),
};

static const struct copy_def copy_order[] = {
    CP("data.ec.order.id", "id"),
    CP("data.ec.order.status", "status"),
};

static const struct copy_def copy_product_shared[] = {
    CP("data.ec.product.id", "id"),
    CP("data.marketing.channel", "media"),
};

static const struct copy_def copy_product_reviewed[] = {
    CP("data.ec.product.id", "id"),
    CP("data.ec.product.review", "review"),
    CP("data.ec.product.rate", "rate"),
};

static const struct copy_def copy_product_returned[] = {
    CP("data.ec.product.id", "id"),
};

static const struct copy_def copy_sale[] = {
    CP("data.ec.order.id", "order_id"),
    CP("data.ec.order.status", "status"),
    CP("data.ec.order.income.value", "value"),
    CP("data.ec.order.income.currency", "currency"),
};

static const struct copy_def copy_page[] = {
    CP("hit.page.category", "category"),
};

static const struct copy_def copy_screen[] = {
    CP("hit.page.name", "name"),
    CP("hit.page.category", "category"),
};

static const struct copy_def copy_search[] = {
    CP("hit.page.search.category", "category"),
    CP("hit.page.search.query", "query"),
};

static const struct copy_def copy_search_result[] = {
    CP("hit.query", "query"),
};

/* ---- the table ---- */

#define PRODUCT_PROPS                                                                              \
    "id:string name:string sku:string category:string brand:string variant.name:string "           \
    "variant.color:string variant.size:string price:number quantity:number url.image:string "      \
    "url.page:string"

static const struct group_def groups[] = {
    {"identity", "Identity"},   {"data", "Data"},       {"ecommerce", "Ecommerce"},
    {"interests", "Interests"}, {"traffic", "Traffic"}, {"internal", "Internal"},
};

static const struct type_def types[] = {
    /* identity */
    {"identification", "Identification", "identity", "User sends personal data.",
     "firstname:string lastname:string phone:string email:string id:string login:string "
     "passport:string credit_card:string coupon:string badge:string twitter:string "
     "whatsapp:string discord:string slack:string telegram:string wechat:string viber:string "
     "signal:string",
     "entity:profile", "consideration", OPS(ops_identification), COPY_SETS},
    {"sign-up", "Sign-up", "identity", "User signs up.",
     "email:string login:string firstname:string lastname:string custom:object", "entity:profile",
     "consideration", OPS(ops_sign), COPY_SETS},
    {"sign-in", "Sign-in", "identity", "User signs in.",
     "email:string login:string firstname:string lastname:string", "entity:profile",
     "consideration", OPS(ops_sign), COPY_SETS},
    {"account-deleted", "Account Deleted", "identity", "User deletes the account.",
     "email:string login:string", "entity:profile", "retention", NOOPS, NOCOPY},
    /* data */
    {"profile-update", "Profile Update", "data", "User updates profile data.",
     "pii.firstname:string pii.lastname:string pii.name:string pii.birthday:string "
     "pii.language.native:string pii.language.spoken:array pii.gender:string "
     "pii.education.level:string pii.civil.status:string pii.attributes.height:number "
     "pii.attributes.weight:number pii.attributes.shoe_number:number identifier.id:string "
     "identifier.token:string identifier.passport:string identifier.credit_card:string "
     "identifier.coupons:array identifier.badge:string contact.email:string "
     "contact.phone:string contact.app:object contact.address:object media.image:string "
     "media.webpage:string media.social:object job.position:string job.salary:number "
     "job.type:string job.department:string job.company:object preferences:object "
     "loyalty.codes:array loyalty.card:object",
     "entity:profile", "awareness", OPS(ops_profile_update), COPY_SETS},
    {"consent-update", "Consent Update", "data", "User updates consents.", "consents:object",
     "entity:profile activity:consent", "awareness", NOOPS, NOCOPY},
    /* ecommerce */
    {"product-viewed", "Product Viewed", "ecommerce", "Customer viewed a product.", PRODUCT_PROPS,
     "activity:browsing event:behavioral", "awareness", NOOPS, COPY(copy_product)},
    {"product-clicked", "Product Clicked", "ecommerce", "Customer clicked on a product.",
     PRODUCT_PROPS " position:number", "activity:browsing event:behavioral", "awareness", NOOPS,
     COPY(copy_product_clicked)},
    {"product-details-page-view", "Product Details Page View", "ecommerce",
     "Customer viewed a product details page.", PRODUCT_PROPS, "activity:browsing event:behavioral",
     "awareness", NOOPS, COPY(copy_product)},
    {"basket-viewed", "Basket Viewed", "ecommerce", "Customer viewed the shopping cart.",
     "id:string", "activity:browsing event:behavioral", "consideration", NOOPS, NOCOPY},
    {"add-to-cart", "Add To Cart", "ecommerce", "Customer added a product to the cart.",
     PRODUCT_PROPS, "event:behavioral", "consideration", NOOPS, COPY(copy_product)},
    {"product-added-to-basket", "Product Added To Basket", "ecommerce",
     "Customer added a product to the shopping cart.", PRODUCT_PROPS, "event:behavioral",
     "consideration", NOOPS, COPY(copy_product)},
    {"remove-from-cart", "Remove From Cart", "ecommerce",
     "Customer removed a product from the cart.", PRODUCT_PROPS, "event:behavioral",
     "consideration", NOOPS, COPY(copy_product)},
    {"product-removed-from-basket", "Product Removed From Basket", "ecommerce",
     "Customer removed a product from the shopping cart.", PRODUCT_PROPS, "event:behavioral",
     "consideration", NOOPS, COPY(copy_product)},
    {"checkout-started", "Checkout Started", "ecommerce", "Customer started the checkout process.",
     "id:string order_id:string currency:string value:number coupon:string", "event:behavioral",
     "purchase", OPS(ops_checkout_started), COPY(copy_checkout_started)},
    {"checkout-completed", "Checkout Completed", "ecommerce",
     "Customer completed the checkout process.", "id:string value:number currency:string",
     "event:operational", "purchase", OPS(ops_checkout_completed), COPY(copy_checkout)},
    {"checkout-status", "Checkout Status", "ecommerce",
     "Customer completed a checkout step; its status changed.", "id:string status:string",
     "event:operational", "purchase", NOOPS, COPY(copy_checkout)},
    {"delivery-info-entered", "Delivery Info Entered", "ecommerce",
     "Customer entered delivery information.",
     "order_id:string delivery.town:string delivery.county:string delivery.country:string "
     "delivery.postcode:string delivery.street:string",
     "event:behavioral", "purchase", OPS(ops_delivery), COPY_SETS_AND(copy_delivery)},
    {"payment-info-entered", "Payment Info Entered", "ecommerce",
     "Customer entered payment information.", "order_id:string method:string", "event:behavioral",
     "purchase", NOOPS, COPY(copy_payment)},
    {"order-started", "Order Started", "ecommerce", "Customer started an order.",
     "id:string income.value:number income.currency:string cost.value:number "
     "cost.currency:string affiliation:string products:array",
     "event:operational", "purchase", NOOPS, COPY(copy_order_started)},
    {"order-completed", "Order Completed", "ecommerce", "Customer completed the order.",
     "id:string status:string value:number currency:string", "event:operational", "purchase", NOOPS,
     COPY(copy_order)},
    {"order-delivered", "Order Delivered", "ecommerce", "Order delivered to the customer.",
     "id:string status:string", "event:operational", "purchase", NOOPS, COPY(copy_order)},
    {"product-shared", "Product Shared", "ecommerce", "Customer shared a product.",
     "id:string media:string", "event:behavioral", "advocacy", NOOPS, COPY(copy_product_shared)},
    {"product-reviewed", "Product Reviewed", "ecommerce", "Customer reviewed a product.",
     "id:string review:string rate:number", "event:behavioral", "retention", NOOPS,
     COPY(copy_product_reviewed)},
    {"product-returned", "Product Returned", "ecommerce", "Customer returned a product.",
     "id:string", "event:behavioral", "retention", NOOPS, COPY(copy_product_returned)},
    {"sale-completed", "Sale Completed", "ecommerce",
     "The sale is final: the product can no longer be returned.",
     "order_id:string value:number currency:string", "event:operational", "purchase", NOOPS,
     COPY(copy_sale)},
    /* interests: operations done in code (apply_interest) */
    {"increase-interest", "Increase Interest", "interests", "Increases an interest of the profile.",
     "interest:string value:number", "event:behavioral", NULL, NOOPS, NOCOPY},
    {"decrease-interest", "Decrease Interest", "interests", "Decreases an interest of the profile.",
     "interest:string value:number", "event:behavioral", NULL, NOOPS, NOCOPY},
    {"reset-interest", "Reset Interest", "interests",
     "Resets an interest of the profile to a value.", "interest:string value:number",
     "event:behavioral", NULL, NOOPS, NOCOPY},
    /* traffic */
    {"page-view", "Page View", "traffic", "Customer views a page.", "category:string", "browsing",
     "awareness", NOOPS, COPY(copy_page)},
    {"page-print", "Page Print", "traffic", "Customer prints a page.", "category:string",
     "printing", "awareness", NOOPS, COPY(copy_page)},
    {"screen-view", "Screen View", "traffic", "Customer views a screen of a mobile app.",
     "name:string category:string", "browsing", NULL, NOOPS, COPY(copy_screen)},
    {"search", "Search", "traffic", "Customer searched for products, services, etc.",
     "category:string query:string", "browsing search", NULL, NOOPS, COPY(copy_search)},
    {"product-search-result", "Product Search Result", "traffic",
     "Customer viewed a product list or category.",
     "type:string query:string filters:array sorting:array products:array",
     "browsing search product", "consideration", NOOPS, COPY(copy_search_result)},
    /* internal */
    {"session-opened", "Session Opened", "internal", "A new session was opened.", "", "internal",
     NULL, NOOPS, NOCOPY},
    {"visit-started", "Visit Started", "internal", "A visit started.", "", "internal", NULL, NOOPS,
     NOCOPY},
    {"visit-ended", "Visit Ended", "internal", "A visit ended.", "", "internal", NULL, NOOPS,
     NOCOPY},
    {"profile-created", "Profile Created", "internal", "A new profile was created.", "", "internal",
     NULL, NOOPS, NOCOPY},
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

/* ---- JSON form ---- */

/* Adds "path:type" to schema (an object schema), creating nested object schemas. */
static bool schema_add(cJSON *schema, const char *spec, size_t len)
{
    const char *colon = memchr(spec, ':', len);
    if (!colon)
        return true;
    const char *p = spec, *end = colon;
    cJSON *cur = schema;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        char key[64], type[16];
        if (n >= sizeof(key) || (size_t)(spec + len - colon - 1) >= sizeof(type))
            return true; /* the table holds no such entries */
        memcpy(key, p, n);
        key[n] = '\0';
        cJSON *props = cdp_json_obj(cur, "properties");
        if (!props)
            return false;
        cJSON *child = cJSON_GetObjectItemCaseSensitive(props, key);
        if (!child) {
            if (!(child = cJSON_CreateObject()) || !cJSON_AddItemToObject(props, key, child)) {
                cJSON_Delete(child);
                return false;
            }
        }
        if (!dot) {
            size_t tn = (size_t)(spec + len - colon - 1);
            memcpy(type, colon + 1, tn);
            type[tn] = '\0';
            return cJSON_AddStringToObject(child, "type", type) != NULL;
        }
        if (!cJSON_GetObjectItemCaseSensitive(child, "type") &&
            !cJSON_AddStringToObject(child, "type", "object"))
            return false;
        cur = child;
        p = dot + 1;
    }
}

static cJSON *schema_build(const char *spec)
{
    cJSON *schema = cJSON_CreateObject();
    if (!schema || !cJSON_AddStringToObject(schema, "type", "object") ||
        !cdp_json_obj(schema, "properties"))
        goto oom;
    for (const char *p = spec; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n && !schema_add(schema, p, n))
            goto oom;
        p += n;
    }
    return schema;
oom:
    cJSON_Delete(schema);
    return NULL;
}

static bool add_strings(cJSON *arr, const char *words)
{
    char buf[64];
    for (const char *p = words; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n && n < sizeof(buf)) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            cJSON *s = cJSON_CreateString(buf);
            if (!s || !cJSON_AddItemToArray(arr, s)) {
                cJSON_Delete(s);
                return false;
            }
        }
        p += n;
    }
    return true;
}

/* The next pair of t's copy map from *i (0 at first): the set operations into data.* when
 * copy_sets, then the copy list. False past the end. */
static bool copy_next(const struct type_def *t, size_t *i, const char **to, const char **from)
{
    for (; t->copy_sets && *i < t->nops; (*i)++) {
        const struct op_def *o = &t->ops[*i];
        if (o->kind == OP_SET && o->event && strncmp(o->profile, "data.", 5) == 0) {
            *to = o->profile;
            *from = o->event;
            (*i)++;
            return true;
        }
    }
    size_t k = *i - (t->copy_sets ? t->nops : 0);
    if (k >= t->ncopy)
        return false;
    *to = t->copy[k].to;
    *from = t->copy[k].from;
    (*i)++;
    return true;
}

static cJSON *type_build(const struct type_def *t)
{
    cJSON *doc = cJSON_CreateObject(), *schema = NULL, *ops, *tags;
    if (!doc || !cJSON_AddStringToObject(doc, "id", t->id) ||
        !cJSON_AddStringToObject(doc, "name", t->name) ||
        !cJSON_AddStringToObject(doc, "group", t->group) ||
        !cJSON_AddStringToObject(doc, "description", t->description) ||
        !(schema = schema_build(t->props)) || !cJSON_AddItemToObject(doc, "properties", schema))
        goto oom;
    schema = NULL;
    if (!(ops = cJSON_AddArrayToObject(doc, "profile")))
        goto oom;
    for (size_t i = 0; i < t->nops; i++) {
        const struct op_def *o = &t->ops[i];
        cJSON *op = cJSON_CreateObject();
        if (!op || !cJSON_AddItemToArray(ops, op)) {
            cJSON_Delete(op);
            goto oom;
        }
        if ((o->event ? !cJSON_AddStringToObject(op, "event", o->event)
                      : !cJSON_AddNumberToObject(op, "value", 1)) ||
            !cJSON_AddStringToObject(op, "op", op_names[o->kind]) ||
            !cJSON_AddStringToObject(op, "profile", o->profile))
            goto oom;
    }
    cJSON *copy = cJSON_AddObjectToObject(doc, "copy");
    if (!copy)
        goto oom;
    const char *to, *from;
    for (size_t i = 0; copy_next(t, &i, &to, &from);) {
        cJSON *f = cJSON_CreateString(from);
        if (!f || !cJSON_AddItemToObject(copy, to, f)) {
            cJSON_Delete(f);
            goto oom;
        }
    }
    if (!(tags = cJSON_AddArrayToObject(doc, "tags")) || !add_strings(tags, t->tags))
        goto oom;
    if (!(t->state ? cJSON_AddStringToObject(doc, "state", t->state)
                   : cJSON_AddNullToObject(doc, "state")))
        goto oom;
    return doc;
oom:
    cJSON_Delete(schema);
    cJSON_Delete(doc);
    return NULL;
}

static pthread_once_t all_once = PTHREAD_ONCE_INIT;
static cJSON *all_types;

static void all_build(void)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return;
    for (size_t i = 0; i < NTYPES; i++) {
        cJSON *t = type_build(&types[i]);
        if (!t || !cJSON_AddItemToArray(arr, t)) {
            cJSON_Delete(t);
            cJSON_Delete(arr);
            return;
        }
    }
    all_types = arr;
}

const cJSON *cdp_event_types_all(void)
{
    pthread_once(&all_once, all_build);
    return all_types;
}

static const struct type_def *type_find(const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < NTYPES; i++)
        if (strcmp(types[i].id, id) == 0)
            return &types[i];
    return NULL;
}

const cJSON *cdp_event_type_get(const char *type_id)
{
    const struct type_def *t = type_find(type_id);
    const cJSON *all = cdp_event_types_all();
    return t && all ? cJSON_GetArrayItem(all, (int)(t - types)) : NULL;
}

cJSON *cdp_event_types_by_type(void)
{
    const cJSON *all = cdp_event_types_all();
    cJSON *doc = cJSON_CreateObject(), *grouped;
    if (!all || !doc || !cJSON_AddNumberToObject(doc, "total", cJSON_GetArraySize(all)) ||
        !(grouped = cJSON_AddObjectToObject(doc, "grouped")))
        goto oom;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        cJSON *list = NULL;
        const cJSON *t;
        cJSON_ArrayForEach(t, all)
        {
            if (strcmp(cdp_json_str(t, "group"), groups[g].id) != 0)
                continue;
            if (!list && !(list = cJSON_AddArrayToObject(grouped, groups[g].name)))
                goto oom;
            cJSON *copy = cJSON_Duplicate(t, true);
            if (!copy || !cJSON_AddItemToArray(list, copy)) {
                cJSON_Delete(copy);
                goto oom;
            }
        }
    }
    return doc;
oom:
    cJSON_Delete(doc);
    return NULL;
}

/* ---- applying ---- */

/* Parent object of the dotted path in profile, created on the way; the last key in *key.
 * NULL on OOM, or with *key "" when the path has an empty segment or one of keylen bytes or
 * more (nothing is created then). */
static cJSON *parent_of(cJSON *profile, const char *path, char *key, size_t keylen)
{
    *key = '\0';
    for (const char *p = path;;) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= keylen)
            return NULL;
        if (!p[n])
            break;
        p += n + 1;
    }
    cJSON *cur = profile;
    for (const char *p = path;;) {
        size_t n = strcspn(p, ".");
        memcpy(key, p, n);
        key[n] = '\0';
        if (!p[n])
            return cur;
        if (!(cur = cdp_json_obj(cur, key)))
            return NULL;
        p += n + 1;
    }
}

/* parent[key] = item (owned); false on OOM (item freed). */
static bool put(cJSON *parent, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (cJSON_GetObjectItemCaseSensitive(parent, key)
            ? cJSON_ReplaceItemInObjectCaseSensitive(parent, key, item)
            : cJSON_AddItemToObject(parent, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static bool is_empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
           ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

static bool list_has(const cJSON *list, const cJSON *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_Compare(it, v, true))
            return true;
    }
    return false;
}

/* Appends v (or each item of a list v) to list unless present. 1 changed, 0 not, NOMEM. */
static int list_add(cJSON *list, const cJSON *v)
{
    int changed = 0;
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            int rc = list_add(list, it);
            if (rc < 0)
                return rc;
            changed |= rc;
        }
        return changed;
    }
    if (list_has(list, v))
        return 0;
    cJSON *c = cJSON_Duplicate(v, true);
    if (!c || !cJSON_AddItemToArray(list, c)) {
        cJSON_Delete(c);
        return CDP_E_NOMEM;
    }
    return 1;
}

static int apply_append(cJSON *parent, const char *key, const cJSON *v)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (cJSON_IsObject(cur))
        return 0;
    if (cJSON_IsArray(cur))
        return list_add(cur, v);
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return CDP_E_NOMEM;
    if (cur && !cJSON_IsNull(cur)) {
        cJSON *c = cJSON_Duplicate(cur, true);
        if (!c || !cJSON_AddItemToArray(list, c)) {
            cJSON_Delete(c);
            cJSON_Delete(list);
            return CDP_E_NOMEM;
        }
    }
    if (list_add(list, v) < 0) {
        cJSON_Delete(list);
        return CDP_E_NOMEM;
    }
    return put(parent, key, list) ? 1 : CDP_E_NOMEM;
}

/* parent[key] += delta (missing or null = 0: the profile's defaults are nulls). 1 changed, 0 not
 * (another kind of target), NOMEM. */
static int add_number(cJSON *parent, const char *key, double delta)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (cJSON_IsNull(cur)) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
        cur = NULL;
    }
    if (cur && !cJSON_IsNumber(cur))
        return 0;
    if (cur) {
        if (delta == 0)
            return 0;
        cJSON_SetNumberValue(cur, cur->valuedouble + delta);
        return 1;
    }
    return put(parent, key, cJSON_CreateNumber(delta)) ? 1 : CDP_E_NOMEM;
}

/* Applies one operation: v (the event value, not NULL) to the profile path. */
static int apply_value(enum op_kind kind, const cJSON *v, const char *path, cJSON *profile)
{
    if (cJSON_IsNull(v))
        return 0;
    if ((kind == OP_INC || kind == OP_DEC) && !cJSON_IsNumber(v))
        return 0;
    char key[256];
    cJSON *parent = parent_of(profile, path, key, sizeof(key));
    if (!parent)
        return *key ? CDP_E_NOMEM : 0;
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(parent, key);
    switch (kind) {
    case OP_SET_IF_EMPTY:
        if (!is_empty(cur))
            return 0;
        __attribute__((fallthrough));
    case OP_SET:
        if (cur && cJSON_Compare(cur, v, true))
            return 0;
        return put(parent, key, cJSON_Duplicate(v, true)) ? 1 : CDP_E_NOMEM;
    case OP_APPEND:
        return apply_append(parent, key, v);
    case OP_INC:
        return add_number(parent, key, v->valuedouble);
    case OP_DEC:
        return add_number(parent, key, -v->valuedouble);
    }
    return 0;
}

static const cJSON one = {.type = cJSON_Number, .valueint = 1, .valuedouble = 1};

static int apply_op(const struct op_def *o, const cJSON *event, cJSON *profile)
{
    const cJSON *v = o->event ? cdp_json_get(event, o->event) : &one;
    return v ? apply_value(o->kind, v, o->profile, profile) : 0;
}

static int op_kind(const char *name)
{
    static const struct {
        const char *name;
        enum op_kind kind;
    } names[] = {
        {"set", OP_SET},
        {"equal", OP_SET},
        {"equals", OP_SET},
        {"set_if_empty", OP_SET_IF_EMPTY},
        {"equals_if_not_exists", OP_SET_IF_EMPTY},
        {"append", OP_APPEND},
        {"increment", OP_INC},
        {"+", OP_INC},
        {"decrement", OP_DEC},
        {"-", OP_DEC},
    };
    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i].name, name) == 0)
            return (int)names[i].kind;
    return -1;
}

int cdp_event_profile_ops_apply(const cJSON *ops, const cJSON *event, cJSON *profile)
{
    if (!cJSON_IsObject(profile))
        return 0;
    int changed = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        int kind = op_kind(cdp_json_str(op, "op"));
        const char *path = cdp_json_str(op, "profile");
        const char *from = cdp_json_str(op, "event");
        const cJSON *v = from ? cdp_json_get(event, from) : cdp_json_get(op, "value");
        if (kind < 0 || !path || !*path || !v)
            continue;
        int rc = apply_value((enum op_kind)kind, v, path, profile);
        if (rc < 0)
            return rc;
        changed |= rc;
    }
    return changed;
}

/* increase-interest / decrease-interest / reset-interest. */
static int apply_interest(const char *type, const cJSON *event, cJSON *profile)
{
    const char *name = cdp_json_str(event, "properties.interest");
    if (!name || !*name)
        return 0;
    bool reset = strcmp(type, "reset-interest") == 0;
    const cJSON *val = cdp_json_get(event, "properties.value");
    double v = reset ? 0 : 1;
    if (val && !cJSON_IsNull(val)) {
        if (!cJSON_IsNumber(val))
            return 0;
        v = val->valuedouble;
    }
    cJSON *interests = cJSON_GetObjectItemCaseSensitive(profile, "interests");
    if (!cJSON_IsObject(interests) && !(interests = cdp_json_obj(profile, "interests")))
        return CDP_E_NOMEM;
    if (reset) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(interests, name);
        if (cJSON_IsNumber(cur) && cur->valuedouble == v)
            return 0;
        return put(interests, name, cJSON_CreateNumber(v)) ? 1 : CDP_E_NOMEM;
    }
    return add_number(interests, name, strcmp(type, "decrease-interest") == 0 ? -v : v);
}

int cdp_event_type_apply(const cJSON *event, cJSON *profile, int64_t now_us)
{
    (void)now_us;
    const char *type = cdp_json_str(event, "type");
    const struct type_def *t = type_find(type);
    if (!t || !cJSON_IsObject(profile))
        return 0;
    if (strcmp(t->group, "interests") == 0)
        return apply_interest(type, event, profile);
    int changed = 0;
    for (size_t i = 0; i < t->nops; i++) {
        int rc = apply_op(&t->ops[i], event, profile);
        if (rc < 0)
            return rc;
        changed |= rc;
    }
    return changed;
}

int cdp_event_type_copy(cJSON *event)
{
    const struct type_def *t = type_find(cdp_json_str(event, "type"));
    if (!t || !cJSON_IsObject(event))
        return 0;
    int changed = 0;
    const char *to, *from;
    for (size_t i = 0; copy_next(t, &i, &to, &from);) {
        const cJSON *v = cdp_json_get(event, from);
        if (!v)
            continue;
        int rc = apply_value(OP_SET, v, to, event);
        if (rc < 0)
            return rc;
        changed |= rc;
    }
    return changed;
}
