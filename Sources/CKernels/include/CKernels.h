#ifndef ONBOARD_CKERNELS_H
#define ONBOARD_CKERNELS_H

#include <stdint.h>
#include <stddef.h>

#include "isa.h"
#include "f32_math.h"
#include "f32_gemm.h"
#include "f32_scan.h"
#include "q8_gemm.h"
#include "q4_gemm.h"
#include "q8_codecs.h"
#include "q8_rows.h"
#include "movement.h"
#include "worker_pool.h"
#endif
