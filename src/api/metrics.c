/* GET /metrics: the process's metrics (core/metrics.h) for Prometheus. It is public on the
 * management listener, which is private (loopback by default), as scrapers send no token; the
 * figures hold no customer data: route templates, never raw paths or ids. */
#include "api/api.h"
#include "core/config.h"
#include "core/err.h"
#include "core/metrics.h"
#include "http/http.h"
#include "queue/queue.h"
#include "store/cluster.h"

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

/* GET /storage/backlog: in scale-out mode, how far the storage workers are behind on each
 * context's change stream (entries, delivered and not yet stored, not yet delivered); public
 * on this listener as /metrics is. */
void cdp_api_storage_backlog(struct cdp_http_req *req, void *app)
{
    const struct cdp_config *cfg = cdp_api_config(app);
    cJSON *out = cJSON_CreateObject();
    if (!out ||
        !cJSON_AddStringToObject(out, "mode", cdp_cluster_mode(cfg) ? "scale-out" : "embedded")) {
        cJSON_Delete(out);
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    if (!cdp_cluster_mode(cfg)) {
        cdp_http_reply_json(req, 200, out);
        return;
    }
    char err[256];
    struct cdp_queue *q;
    struct cdp_queue_opts qo = {0};
    if (cdp_queue_open(&q, cfg->queue, &qo, err, sizeof(err))) {
        cJSON_Delete(out);
        cdp_http_reply_error(req, 503, "queue %s: %s", cfg->queue, err);
        return;
    }
    cJSON *ctxs = cJSON_AddObjectToObject(out, "contexts");
    int rc = ctxs ? 0 : CDP_E_NOMEM;
    for (int c = 0; !rc && c < CDP_STORE_NCONTEXTS; c++) {
        char stream[64];
        cdp_cluster_stream((enum cdp_store_context)c, stream, sizeof(stream));
        struct cdp_queue_backlog b;
        cJSON *o = NULL;
        if (!(rc = q->ops->backlog(q, stream, CDP_CLUSTER_GROUP, &b)) &&
            (!(o = cJSON_AddObjectToObject(ctxs, cdp_store_context_name(c))) ||
             !cJSON_AddStringToObject(o, "stream", stream) ||
             !cJSON_AddNumberToObject(o, "length", (double)b.length) ||
             !cJSON_AddNumberToObject(o, "pending", (double)b.pending) ||
             !cJSON_AddNumberToObject(o, "lag", (double)b.lag)))
            rc = CDP_E_NOMEM;
    }
    cdp_queue_close(q);
    if (rc) {
        cJSON_Delete(out);
        cdp_http_reply_error(req, cdp_err_status(rc), "backlog: %s", cdp_err_str(rc));
        return;
    }
    cdp_http_reply_json(req, 200, out);
}
