/* Spin-then-sleep worker pool with revocable per-worker mailboxes (see worker_pool.h). */
#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 63
/* A gap this long between two polls of a spin loop (64 pauses, a few microseconds) means another
 * thread ran on the core meanwhile. */
#define CONTENDED_NS 50000u
/* A budget halved below this stops spinning until jobs come quickly again. */
#define MIN_SPIN_NS 20000u

typedef struct {
    void (*body)(void *, size_t);
    void *context;
    size_t chunks;
    atomic_size_t next;    /* next unclaimed chunk */
    atomic_int running;    /* workers that took the job and have not finished it */
} job_t;

typedef struct {
    _Atomic(job_t *) mailbox;  /* a job offered to this worker; taken or revoked by CAS */
    atomic_int sleeping;
    uint64_t budget_ns;        /* this worker's current spin budget (adaptive, at most spin_us) */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
} worker_t;

static worker_t workers[MAX_WORKERS];
static int worker_count;
static unsigned spin_us = 50;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_flag busy = ATOMIC_FLAG_INIT;
/* The caller of the job in progress blocks here for its last running chunks once it has spun its
 * budget; the worker that finishes the last one signals (there is one job at a time). */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static atomic_int caller_blocked;
static _Thread_local int inside_pool;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void run_chunks(job_t *job) {
    for (;;) {
        const size_t i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (i >= job->chunks) return;
        job->body(job->context, i);
    }
}

static job_t *take(worker_t *w) {
    job_t *job = atomic_load_explicit(&w->mailbox, memory_order_acquire);
    if (job && atomic_compare_exchange_strong(&w->mailbox, &job, NULL)) return job;
    return NULL;
}

/* Spins for a job for at most the worker's budget; NULL when it did not come. A poll that came
 * long after the previous one means the thread lost its core to another thread: *contended is set
 * and the spin ends (yielding instead would hand the core to whatever else is runnable, which
 * costs the caller more than a wake-up). */
static job_t *spin_for_job(worker_t *w, uint64_t start, int *contended) {
    uint64_t last = start;
    const uint64_t deadline = start + w->budget_ns;
    for (unsigned spins = 1; w->budget_ns > 0; spins++) {
        job_t *job = take(w);
        if (job) return job;
        cpu_relax();
        if ((spins & 63) == 0) {
            const uint64_t t = now_ns();
            if (t - last >= CONTENDED_NS) { *contended = 1; return take(w); }
            if (t >= deadline) return take(w);
            last = t;
        }
    }
    return take(w);
}

/* Additive increase, multiplicative decrease of the spin budget. A job that came within the full
 * spin time earns back an eighth of it, so a quiet machine keeps spinning between an inference's
 * ops. A longer wait, or a contended core, halves it: under contention the caller's
 * work between ops stretches and a spinning worker only holds a core that the caller or another
 * process needs, so the pool falls back to sleeping. */
static void adapt_budget(worker_t *w, uint64_t waited, int contended) {
    const uint64_t full = (uint64_t)spin_us * 1000u;
    if (!contended && waited <= full) w->budget_ns = full - w->budget_ns <= full / 8 ? full : w->budget_ns + full / 8;
    else w->budget_ns = w->budget_ns / 2 < MIN_SPIN_NS ? 0 : w->budget_ns / 2;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    inside_pool = 1;
    for (;;) {
        const uint64_t start = now_ns();
        int contended = 0;
        job_t *job = spin_for_job(w, start, &contended);
        if (!job) {
            pthread_mutex_lock(&w->lock);
            atomic_store(&w->sleeping, 1);  /* seq_cst: pairs with the caller's mailbox store */
            while (!(job = take(w))) pthread_cond_wait(&w->wake, &w->lock);
            atomic_store(&w->sleeping, 0);
            pthread_mutex_unlock(&w->lock);
        }
        adapt_budget(w, now_ns() - start, contended);
        run_chunks(job);
        /* seq_cst, paired with the caller's store to caller_blocked; `job` is gone once running is 0. */
        if (atomic_fetch_sub(&job->running, 1) == 1 && atomic_load(&caller_blocked)) {
            pthread_mutex_lock(&done_lock);
            pthread_cond_signal(&done);
            pthread_mutex_unlock(&done_lock);
        }
    }
    return NULL;
}

static void start_workers(void) {
    const char *env = getenv("ONBOARD_SPIN_US");
    if (env && *env) spin_us = (unsigned)strtoul(env, NULL, 10);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int wanted = cores > 1 ? (int)(cores - 1) : 0;
    if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
    for (int i = 0; i < wanted; i++) {
        worker_t *w = &workers[i];
        atomic_init(&w->mailbox, NULL);
        atomic_init(&w->sleeping, 0);
        w->budget_ns = (uint64_t)spin_us * 1000u;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&w->thread, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (failed) break;
        worker_count = i + 1;
    }
}

unsigned onboard_pool_spin_microseconds(void) {
    pthread_once(&once, start_workers);
    return spin_us;
}

static void run_alone(size_t chunks, void (*body)(void *, size_t), void *context) {
    for (size_t i = 0; i < chunks; i++) body(context, i);
}

/* Only chunks already running remain. Spin for them a while (on a quiet machine they end within
 * microseconds), then block: a worker that lost its core to another process finishes sooner when
 * this core goes idle and the scheduler can move it here than while this thread spins. */
static void wait_for_running(job_t *job) {
    const uint64_t start = now_ns();
    for (unsigned spins = 1; atomic_load_explicit(&job->running, memory_order_acquire) > 0; spins++) {
        cpu_relax();
        if ((spins & 63) == 0 && now_ns() - start >= (uint64_t)spin_us * 1000u + MIN_SPIN_NS) {
            pthread_mutex_lock(&done_lock);
            atomic_store(&caller_blocked, 1);  /* seq_cst: pairs with the worker's decrement */
            while (atomic_load(&job->running) > 0) pthread_cond_wait(&done, &done_lock);
            atomic_store(&caller_blocked, 0);
            pthread_mutex_unlock(&done_lock);
            return;
        }
    }
}

int onboard_pool_run(size_t chunks, size_t threads, void (*body)(void *context, size_t chunk), void *context) {
    if (chunks == 0) return 1;
    pthread_once(&once, start_workers);
    size_t helpers = threads > 1 ? threads - 1 : 0;
    if (helpers > chunks - 1) helpers = chunks - 1;
    if (helpers > (size_t)worker_count) helpers = (size_t)worker_count;
    if (helpers == 0) { run_alone(chunks, body, context); return 1; }
    if (inside_pool) { run_alone(chunks, body, context); return 1; }
    if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) return 0;
    job_t job = {.body = body, .context = context, .chunks = chunks};
    atomic_init(&job.next, 0);
    atomic_init(&job.running, (int)helpers);
    for (size_t i = 0; i < helpers; i++) {
        worker_t *w = &workers[i];
        atomic_store(&w->mailbox, &job);  /* seq_cst: pairs with the worker's sleeping store */
        if (atomic_load(&w->sleeping)) {
            pthread_mutex_lock(&w->lock);
            pthread_cond_signal(&w->wake);
            pthread_mutex_unlock(&w->lock);
        }
    }
    inside_pool = 1;
    run_chunks(&job);
    inside_pool = 0;
    for (size_t i = 0; i < helpers; i++) {
        job_t *offered = &job;
        if (atomic_compare_exchange_strong(&workers[i].mailbox, &offered, NULL))
            atomic_fetch_sub_explicit(&job.running, 1, memory_order_relaxed);
    }
    wait_for_running(&job);
    atomic_flag_clear_explicit(&busy, memory_order_release);
    return 1;
}
