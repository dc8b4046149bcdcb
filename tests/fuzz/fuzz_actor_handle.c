/* libFuzzer target: mt_actor_from_bytes on arbitrary bytes (handles arrive
 * as task arguments and inside objects). Outside a driver a well-formed
 * handle ends in MT_ESTATE (not initialised); anything else must be
 * MT_EPARSE. Must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "manta/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_actor *a = (mt_actor *)1;
    mt_error err;
    mt_status st = mt_actor_from_bytes(data, size, &a, &err);
    if (st == MT_OK || a != NULL) abort();
    if (st != MT_EPARSE && st != MT_ESTATE) abort();
    return 0;
}
