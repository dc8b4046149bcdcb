/* libFuzzer target: the parsers of handles that travel as bytes (task
 * arguments, objects): mt_actor_from_bytes and mt_ref_from_bytes. Outside a
 * driver a well-formed input ends in MT_ESTATE (not initialised); anything
 * else must be MT_EPARSE with no handle. Must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "manta/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_error err;
    mt_actor *a = (mt_actor *)1;
    mt_status st = mt_actor_from_bytes(data, size, &a, &err);
    if (st == MT_OK || a != NULL || (st != MT_EPARSE && st != MT_ESTATE)) abort();
    mt_ref *r = (mt_ref *)1;
    st = mt_ref_from_bytes(data, size, &r, &err);
    if (st == MT_OK || r != NULL || (st != MT_EPARSE && st != MT_ESTATE)) abort();
    return 0;
}
