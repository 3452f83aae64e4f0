/* INT8 codecs, AVX2: the loops of q8_codecs_body.h built for it (q8_codecs_kernels.h). */
#include "q8_codecs_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2")))
#define BODY_SUFFIX __avx2
#include "q8_codecs_body.h"
#endif
