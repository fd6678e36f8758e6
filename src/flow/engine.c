/* Being written. */
#include "flow/engine.h"
