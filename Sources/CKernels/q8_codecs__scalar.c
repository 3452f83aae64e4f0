/* INT8 codecs, portable: the loops of q8_codecs_body.h without a target attribute, and the table
 * lookup (q8_codecs_kernels.h). */
#define BODY_ATTR
#define BODY_SUFFIX __scalar
#include "q8_codecs_body.h"

bool onboard_q8_lookup_u8__scalar(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
    return true;
}
