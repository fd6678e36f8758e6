/* Plugins: text (being written). */
#include "flow/flow.h"

#include <stddef.h>

const struct cdp_plugin *const cdp_plugins_text[] = {NULL};
