/* The table behind cdp_err_str and cdp_err_status. */
#include "core/err.h"

#include <stddef.h>

static const struct {
    int code;
    int status;
    const char *msg;
} errtab[] = {
#define CDP_ERR_ROW(name, code, status, msg) {code, status, msg},
    CDP_ERRORS(CDP_ERR_ROW)
#undef CDP_ERR_ROW
};

static int err_index(int err)
{
    for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
        if (errtab[i].code == err)
            return (int)i;
    return 2; /* CDP_E_INTERNAL */
}

const char *cdp_err_str(int err)
{
    return errtab[err_index(err)].msg;
}

int cdp_err_status(int err)
{
    return errtab[err_index(err)].status;
}
