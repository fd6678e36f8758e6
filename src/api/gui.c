/* Serves the GUI on the management listener from the files compiled in (gui/embed.py): the
 * same origin as the API, so the GUI needs no CORS and its token never leaves the listener.
 * Hashed assets are cached for a year; index.html is revalidated so a new build shows at once.
 * Gzip is served to clients that take it. */
#include "api/gui.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

static const char not_built[] =
    "<!doctype html><meta charset=utf-8><title>cdpd</title>"
    "<p>The GUI is not built into this binary. Run <code>make</code> in the source tree (it "
    "builds <code>gui/</code> with npm), or use the management API directly: see "
    "<a href=\"/openapi.json\">/openapi.json</a>.</p>";

static const struct cdp_gui_file *find(const char *path)
{
    for (unsigned i = 0; i < cdp_gui_nfiles; i++)
        if (strcmp(cdp_gui_files[i].path, path) == 0)
            return &cdp_gui_files[i];
    return NULL;
}

static bool accepts(const struct cdp_http_req *req, const char *header, const char *what)
{
    const char *v = cdp_http_header(req, header);
    return v && strstr(v, what);
}

static void serve(struct cdp_http_req *req, const struct cdp_gui_file *f)
{
    bool gz = f->gz && accepts(req, "Accept-Encoding", "gzip");
    size_t len = gz ? f->gzlen : f->len;
    char *body = malloc(len ? len : 1);
    if (!body) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    memcpy(body, gz ? f->gz : f->data, len);
    cdp_http_reply(req, 200, f->ctype, body, len);
    if (f->gz) {
        cdp_http_add_header(req, "Vary", "Accept-Encoding");
        if (gz)
            cdp_http_add_header(req, "Content-Encoding", "gzip");
    }
    cdp_http_add_header(req, "Cache-Control",
                        strncmp(f->path, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable"
                                                             : "no-cache");
    cdp_http_add_header(req, "X-Content-Type-Options", "nosniff");
    if (strcmp(f->ctype, "text/html; charset=utf-8") == 0) {
        /* the flow canvas positions nodes with style attributes, hence 'unsafe-inline' there */
        cdp_http_add_header(req, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; "
                            "style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        cdp_http_add_header(req, "X-Frame-Options", "DENY");
        cdp_http_add_header(req, "Referrer-Policy", "same-origin");
    }
}

static void index_page(struct cdp_http_req *req)
{
    const struct cdp_gui_file *f = find("/index.html");
    if (f) {
        serve(req, f);
        return;
    }
    char *body = strdup(not_built);
    if (!body) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    cdp_http_reply(req, 200, "text/html; charset=utf-8", body, sizeof(not_built) - 1);
}

void cdp_api_root(struct cdp_http_req *req, void *app)
{
    if (accepts(req, "Accept", "text/html"))
        index_page(req);
    else
        cdp_http_version(req, app);
}

void cdp_api_gui(struct cdp_http_req *req, void *app)
{
    (void)app;
    const char *path = cdp_http_path(req);
    const struct cdp_gui_file *f = find(path);
    if (strcmp(path, "/index.html") == 0)
        index_page(req);
    else if (f)
        serve(req, f);
    else
        cdp_http_reply_error(req, 404, "Not Found");
}
