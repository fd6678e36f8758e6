/* Plugins: profile (being written). */
#include "flow/flow.h"

#include <stddef.h>

const struct cdp_plugin *const cdp_plugins_profile[] = {NULL};
