/* GET /metrics: the process's metrics (core/metrics.h) for Prometheus. It is public on the
 * management listener, which is private (loopback by default), as scrapers send no token; the
 * figures hold no customer data: route templates, never raw paths or ids. */
#include "api/api.h"
#include "core/metrics.h"
#include "http/http.h"

void cdp_api_metrics(struct cdp_http_req *req, void *app)
{
    (void)app;
    size_t len;
    char *text = cdp_metrics_render(&len);
    if (!text) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    cdp_http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
