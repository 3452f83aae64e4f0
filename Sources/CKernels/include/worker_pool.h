#ifndef ONBOARD_WORKER_POOL_H
#define ONBOARD_WORKER_POOL_H

#include <stddef.h>

/* A process-wide pool of worker threads for the data-parallel loops of an inference.
 *
 * Between an inference's ops (microseconds apart) the workers spin, so a job of a few hundred
 * microseconds starts on every core at once; after a while without work they sleep on a
 * condition variable. The spin adapts, so that under contention the workers do not hold cores
 * that the caller or another process needs. Chunks are claimed from a shared counter, and the caller claims too: a
 * worker that has not picked its job up by the time the caller ran out of chunks is revoked,
 * so a late or descheduled worker never delays the caller beyond the chunk it already runs. */

/* Runs body(context, i) for every i in [0, chunks) on up to `threads` threads (the caller
 * included) and returns 1 when all are done. Called from inside a pool job (a nested loop) it
 * runs them on the calling thread alone. While another thread's job holds the pool it runs
 * nothing and returns 0, so the caller can use another scheduler. */
int onboard_pool_run(size_t chunks, size_t threads, void (*body)(void *context, size_t chunk), void *context);

/* The most microseconds a worker spins for new work before it sleeps (default 50; the
 * environment variable ONBOARD_SPIN_US sets it at first use, 0 disables spinning). Each worker
 * spins less while waits are long or while it loses its core to other threads. */
unsigned onboard_pool_spin_microseconds(void);

#endif
