/* Segments (being written). */
#include "api/api.h"
#include "http/http.h"

void cdp_api_segment_put(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}

void cdp_api_segment_get(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}

void cdp_api_segment_delete(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}

void cdp_api_segment_list(struct cdp_http_req *req, void *app)
{
    (void)app;
    cdp_http_reply_error(req, 501, "not implemented yet");
}
