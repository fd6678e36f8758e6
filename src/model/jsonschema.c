/* JSON Schema validation (being written). */
#include "model/jsonschema.h"

int cdp_jsonschema_placeholder(void);
int cdp_jsonschema_placeholder(void)
{
    return 0;
}
