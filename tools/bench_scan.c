/* Times the selective scan kernels (Sources/CKernels/f32_scan*) on Vim-T's shape, one core: every
 * kernel of the list this CPU has, with the ISA cap at its flags, in alternating rounds (each round
 * runs every kernel once), over `layers` layers of both directions, each layer with inputs of its
 * own laid out as Vim's forward has them (u and dt [L, ED], z the second half of in_proj's [L, 2 ED],
 * B and C inside x_proj's [L, dt_rank + 2 N]). Prints each kernel's median and fastest round and
 * its ns per (token, channel, state), and its largest difference from the scalar kernel relative
 * to the largest output. Built and run by tools/bench_scan.sh.
 * Usage: bench_scan [rounds] [layers] [length] [channels] [state] */
#include "CKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t seed = 0x9E3779B97F4A7C15ULL;
static float uniform(float low, float high) { /* SplitMix64 */
    uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return low + (high - low) * (float)(z >> 40) / (float)(1 << 24);
}

typedef struct {
    float *u, *dt, *dt_bias, *A, *x_proj, *D, *in_proj, *y[2];
} layer_inputs;

static float *filled(size_t count, float low, float high) {
    float *values = malloc(count * sizeof *values);
    if (!values) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < count; i++) values[i] = uniform(low, high);
    return values;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 7, layers = argc > 2 ? atoi(argv[2]) : 24;
    const size_t length = argc > 3 ? (size_t)atoi(argv[3]) : 197, channels = argc > 4 ? (size_t)atoi(argv[4]) : 384;
    const size_t state = argc > 5 ? (size_t)atoi(argv[5]) : 16, rank = (channels + 15) / 16, bc_stride = rank + 2 * state;
    if (rounds < 1 || layers < 1 || length < 1 || channels < 1 || state < 1) { fprintf(stderr, "arguments must be positive\n"); return 1; }

    layer_inputs *inputs = malloc((size_t)layers * sizeof *inputs);
    for (int l = 0; l < layers; l++) {
        layer_inputs *in = &inputs[l];
        in->u = filled(length * channels, -2, 2);
        in->dt = filled(length * channels, -6, 1);
        in->dt_bias = filled(channels, -4, -2);
        in->A = filled(channels * state, 0, 0);
        for (size_t i = 0; i < channels * state; i++) in->A[i] = -expf(logf((float)(i % state + 1)) + uniform(-0.3f, 0.3f));
        in->x_proj = filled(length * bc_stride, -1, 1);
        in->D = filled(channels, -1, 1);
        in->in_proj = filled(length * 2 * channels, -3, 3);
        in->y[0] = filled(length * channels, 0, 0);
        in->y[1] = filled(length * channels, 0, 0);
    }

    onboard_kernel kernels[16];
    size_t count = 0;
    const uint32_t cpu = onboard_cpu_isa_flags();
    for (size_t i = 0; i < onboard_kernel_count() && count < 16; i++) {
        const onboard_kernel k = onboard_kernel_at(i);
        if (!strcmp(k.op, "f32_selective_scan") && (cpu & k.isa_flags) == k.isa_flags) kernels[count++] = k;
    }
    double *seconds = malloc(count * (size_t)rounds * sizeof *seconds);
    float **last_y = malloc(count * sizeof *last_y);
    for (size_t p = 0; p < count; p++) last_y[p] = malloc(length * channels * sizeof(float));

    for (int r = -1; r < rounds; r++) { /* round -1 warms up */
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            const double start = now();
            for (int l = 0; l < layers; l++) {
                const layer_inputs *in = &inputs[l];
                for (int reverse = 0; reverse < 2; reverse++)
                    onboard_f32_selective_scan(length, state, 0, channels, reverse, in->u, channels, in->dt, channels, in->dt_bias,
                                               in->A, in->x_proj + rank, in->x_proj + rank + state, bc_stride, in->D,
                                               in->in_proj + channels, 2 * channels, NULL, in->y[reverse], channels);
            }
            if (r >= 0) seconds[p * (size_t)rounds + (size_t)r] = now() - start;
            memcpy(last_y[p], inputs[layers - 1].y[1], length * channels * sizeof(float));
        }
    }
    onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);

    const double elements = (double)length * (double)channels * (double)state * 2.0 * layers;
    printf("selective scan, L %zu, ED %zu, N %zu, both directions, %d layers, one core, %d rounds:\n", length, channels, state,
           layers, rounds);
    const float *reference = last_y[count - 1]; /* the scalar kernel: last in the list */
    float largest = 0;
    for (size_t i = 0; i < length * channels; i++) largest = fmaxf(largest, fabsf(reference[i]));
    for (size_t p = 0; p < count; p++) {
        double *mine = seconds + p * (size_t)rounds;
        qsort(mine, (size_t)rounds, sizeof *mine, by_value);
        const double median = rounds % 2 ? mine[rounds / 2] : 0.5 * (mine[rounds / 2 - 1] + mine[rounds / 2]);
        float difference = 0;
        for (size_t i = 0; i < length * channels; i++) difference = fmaxf(difference, fabsf(last_y[p][i] - reference[i]));
        printf("  %-40s median %8.2f ms  fastest %8.2f ms  %6.3f ns per (token, channel, state)  max diff %.1e of max |y|\n",
               kernels[p].name, 1e3 * median, 1e3 * mine[0], 1e9 * median / elements, difference / fmaxf(largest, 1e-30f));
    }
    return 0;
}
