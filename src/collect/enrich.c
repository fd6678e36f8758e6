/* Enrichment steps; each reads the payload and writes only the documents it is given. */
#include "collect/enrich.h"
#include "core/json.h"
#include "model/useragent.h"

#include <stdio.h>
#include <string.h>

static bool in_list(const char *list, const char *item, size_t n)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

void cdp_enrich_client_ip(const char *peer, const char *xff, const char *trusted, char *out,
                          size_t outlen)
{
    snprintf(out, outlen, "%s", peer ? peer : "");
    if (!xff || !trusted || !*trusted || !in_list(trusted, peer, strlen(peer)))
        return;
    /* Walk from the right: each hop was added by the proxy before it. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        size_t n = (size_t)(b - a);
        if (n && n < outlen) {
            memcpy(out, a, n);
            out[n] = '\0';
            if (!in_list(trusted, a, n))
                return;
        }
        end = start > xff ? start - 1 : xff;
    }
}

static void put_if_str(cJSON *dst, const char *key, const cJSON *src)
{
    if (cJSON_IsString(src) || cJSON_IsNumber(src) || cJSON_IsBool(src))
        cdp_json_put(dst, key, cJSON_Duplicate(src, false));
}

cJSON *cdp_enrich_ua_fields(const struct cdp_ua_db *ua_db, const char *ua)
{
    struct cdp_ua u;
    cdp_ua_parse(ua_db, ua, strlen(ua), &u);
    cJSON *f = cJSON_CreateObject();
    cJSON *os = cdp_json_obj(f, "os");
    cJSON *device = cdp_json_obj(f, "device");
    cJSON *app = cdp_json_obj(f, "app");
    cdp_json_put_str(os, "name", u.os);
    cdp_json_put_str(os, "version", u.os_version);
    cdp_json_put_str(device, "name", u.device);
    cdp_json_put_str(device, "brand", u.brand);
    cdp_json_put_str(device, "model", u.model);
    cdp_json_put_str(device, "type", u.device_type);
    cdp_json_put_bool(device, "touch", u.touch);
    cdp_json_put_str(app, "type", "browser");
    cdp_json_put_str(app, "name", u.browser);
    cdp_json_put_str(app, "version", u.browser_version);
    cdp_json_put_bool(app, "bot", u.bot);
    return f;
}

void cdp_enrich_session(cJSON *session, cJSON *ctx, const cJSON *ua_fields, const char *ip)
{
    cJSON *device = cdp_json_obj(session, "device");
    cJSON *app = cdp_json_obj(session, "app");
    if (ua_fields)
        cdp_json_merge(session, ua_fields);
    if (ip && *ip)
        cdp_json_put_str(device, "ip", ip);
    if (!cJSON_IsObject(ctx))
        return;
    const cJSON *lang = cdp_json_get(ctx, "browser.local.browser.language");
    put_if_str(app, "language", lang);
    const cJSON *screen = cdp_json_get(ctx, "screen.local");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(screen, "width");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(screen, "height");
    if (cJSON_IsNumber(w) && cJSON_IsNumber(h)) {
        char res[48];
        snprintf(res, sizeof(res), "%dx%d", w->valueint, h->valueint);
        cdp_json_put_str(device, "resolution", res);
        cdp_json_put_str(app, "resolution", res);
    }
    put_if_str(device, "color_depth", cJSON_GetObjectItemCaseSensitive(screen, "colorDepth"));
    put_if_str(device, "orientation", cJSON_GetObjectItemCaseSensitive(screen, "orientation"));
    const cJSON *dev_override = cJSON_GetObjectItemCaseSensitive(ctx, "device");
    if (cJSON_IsObject(dev_override))
        cdp_json_merge(device, dev_override);
    cJSON *utm = cJSON_DetachItemFromObjectCaseSensitive(ctx, "utm");
    if (cJSON_IsObject(utm)) {
        static const char *const keys[] = {"source", "medium", "campaign", "term", "content", NULL};
        cJSON *su = cdp_json_obj(session, "utm");
        for (int i = 0; keys[i]; i++)
            put_if_str(su, keys[i], cJSON_GetObjectItemCaseSensitive(utm, keys[i]));
    }
    cJSON_Delete(utm);
    cJSON *loc = cJSON_DetachItemFromObjectCaseSensitive(ctx, "location");
    if (cJSON_IsObject(loc))
        cdp_json_put(device, "geo", loc);
    else
        cJSON_Delete(loc);
}

void cdp_enrich_strip_context(cJSON *ctx)
{
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "utm");
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "location");
}

void cdp_enrich_event(cJSON *event, const cJSON *session)
{
    static const char *const copied[] = {"os", "app", "device", "utm", NULL};
    for (int i = 0; session && copied[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(session, copied[i]);
        if (cJSON_IsObject(v))
            cdp_json_put(event, copied[i], cdp_json_borrow(v));
    }
    const cJSON *page = cdp_json_get(event, "context.page");
    if (!cJSON_IsObject(page))
        return;
    cJSON *hit = cdp_json_obj(event, "hit");
    put_if_str(hit, "name", cJSON_GetObjectItemCaseSensitive(page, "title"));
    put_if_str(hit, "url", cJSON_GetObjectItemCaseSensitive(page, "url"));
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(page, "referer");
    if (cJSON_IsObject(ref))
        put_if_str(hit, "referer", cJSON_GetObjectItemCaseSensitive(ref, "host"));
    else
        put_if_str(hit, "referer", ref);
    put_if_str(hit, "query", cJSON_GetObjectItemCaseSensitive(page, "query"));
}
