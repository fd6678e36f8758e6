/* Flow waits on the I/O thread (being written). */
#include "flow/io.h"

#include "core/err.h"

int cdp_flow_io_start(struct cdp_flow_io **out, cdp_flow_io_done done, void *ud)
{
    (void)out;
    (void)done;
    (void)ud;
    return CDP_E_INTERNAL;
}

void cdp_flow_io_submit(struct cdp_flow_io *io, const struct cdp_flow_wait *w, void *token)
{
    (void)io;
    (void)w;
    (void)token;
}

void cdp_flow_io_stop(struct cdp_flow_io *io)
{
    (void)io;
}

cJSON *cdp_flow_io_run_sync(const struct cdp_flow_wait *w)
{
    (void)w;
    return NULL;
}
