/* The cleanup macro for a cJSON tree (see sandbox/base/cleanup.h), for every
 * module that parses or builds JSON with cJSON. */
#ifndef COLDSTART_CJSON_CLEANUP_H
#define COLDSTART_CJSON_CLEANUP_H

#include <cjson/cJSON.h>

#include "sandbox/base/cleanup.h"

static inline void cleanup_cjsonp(cJSON **j)
{
    cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cleanup_cjsonp)

#endif
