/* Integer row kernels, portable: the loops of q8_rows_body.h without a target attribute
 * (q8_rows_kernels.h). */
#define BODY_ATTR
#define BODY_SUFFIX __scalar
#include "q8_rows_body.h"
