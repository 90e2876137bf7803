/* C reference for W2 and the pipe (the limit): one producer and one consumer
 * passing the integers 1..N through a bounded ring of CAP slots (default
 * 4096, a power of two up to 65536), best of REPS, start of the second thread or process and join included as in W2.
 * Four figures, M items/s:
 *   thread_mutex_mps  threads, a pthread mutex + two condvars (signalled only
 *                     when the other side sleeps)
 *   thread_spsc_mps   threads, a lock-free single-producer single-consumer
 *                     ring (spin briefly, then sched_yield, when full/empty)
 *   proc_mutex_mps, proc_spsc_mps  the same across a fork, in a MAP_SHARED
 *                     mapping with process-shared mutex and condvars
 * Built by CMake as bench_mutex_ring_ref. Usage: bench_mutex_ring_ref [N] [REPS] [CAP] */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAP 65536

struct ring {
  /* mutex ring */
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  long head, tail;
  int sleeping_consumer, sleeping_producer;
  /* SPSC ring: each index on its own cache line, so neither side's writes
   * evict the other's index */
  _Alignas(64) atomic_long spsc_head;
  _Alignas(64) atomic_long spsc_tail;
  _Alignas(64) long sum;
  long n, cap;
  long slots[MAX_CAP];
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void init(struct ring* r, long n, long cap, int pshared) {
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  pthread_mutexattr_init(&ma);
  pthread_condattr_init(&ca);
  if (pshared) {
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  }
  pthread_mutex_init(&r->mu, &ma);
  pthread_cond_init(&r->not_empty, &ca);
  pthread_cond_init(&r->not_full, &ca);
  pthread_mutexattr_destroy(&ma);
  pthread_condattr_destroy(&ca);
  r->head = r->tail = 0;
  r->sleeping_consumer = r->sleeping_producer = 0;
  atomic_store(&r->spsc_head, 0);
  atomic_store(&r->spsc_tail, 0);
  r->sum = 0;
  r->n = n;
  r->cap = cap;
}

static void fini(struct ring* r) {
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->not_empty);
  pthread_cond_destroy(&r->not_full);
}

static void* mutex_produce(void* arg) {
  struct ring* r = arg;
  for (long i = 1; i <= r->n; ++i) {
    pthread_mutex_lock(&r->mu);
    while (r->tail - r->head == r->cap) {
      r->sleeping_producer = 1;
      pthread_cond_wait(&r->not_full, &r->mu);
    }
    r->slots[r->tail++ & (r->cap - 1)] = i;
    if (r->sleeping_consumer) {
      r->sleeping_consumer = 0;
      pthread_cond_signal(&r->not_empty);
    }
    pthread_mutex_unlock(&r->mu);
  }
  return NULL;
}

static void* mutex_consume(void* arg) {
  struct ring* r = arg;
  long s = 0;
  for (long i = 0; i < r->n; ++i) {
    pthread_mutex_lock(&r->mu);
    while (r->tail == r->head) {
      r->sleeping_consumer = 1;
      pthread_cond_wait(&r->not_empty, &r->mu);
    }
    s += r->slots[r->head++ & (r->cap - 1)];
    if (r->sleeping_producer) {
      r->sleeping_producer = 0;
      pthread_cond_signal(&r->not_full);
    }
    pthread_mutex_unlock(&r->mu);
  }
  r->sum = s;
  return NULL;
}

/* Spin a little (the other side is usually running on the other core), then
 * give the core away (it may be waiting for it). */
static void backoff(int* spins) {
  if (++*spins < 100) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    sched_yield();
  }
}

static void* spsc_produce(void* arg) {
  struct ring* r = arg;
  long tail = 0, head = 0;
  for (long i = 1; i <= r->n; ++i) {
    int spins = 0;
    while (tail - head == r->cap) {
      head = atomic_load_explicit(&r->spsc_head, memory_order_acquire);
      if (tail - head == r->cap) backoff(&spins);
    }
    r->slots[tail & (r->cap - 1)] = i;
    atomic_store_explicit(&r->spsc_tail, ++tail, memory_order_release);
  }
  return NULL;
}

static void* spsc_consume(void* arg) {
  struct ring* r = arg;
  long head = 0, tail = 0, s = 0;
  for (long i = 0; i < r->n; ++i) {
    int spins = 0;
    while (head == tail) {
      tail = atomic_load_explicit(&r->spsc_tail, memory_order_acquire);
      if (head == tail) backoff(&spins);
    }
    s += r->slots[head & (r->cap - 1)];
    atomic_store_explicit(&r->spsc_head, ++head, memory_order_release);
  }
  r->sum = s;
  return NULL;
}

static double run(struct ring* r, long n, long cap, int procs, void* (*prod)(void*), void* (*cons)(void*)) {
  init(r, n, cap, procs);
  double t0 = now();
  if (procs) {
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid == 0) {
      cons(r);
      _exit(0);
    }
    prod(r);
    int status;
    if (waitpid(pid, &status, 0) != pid || status != 0) exit(1);
  } else {
    pthread_t c, p;
    if (pthread_create(&c, NULL, cons, r) != 0 || pthread_create(&p, NULL, prod, r) != 0) exit(1);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
  }
  double dt = now() - t0;
  fini(r);
  if (r->sum != n * (n + 1) / 2) {
    fprintf(stderr, "sum %ld, expected %ld\n", r->sum, n * (n + 1) / 2);
    exit(1);
  }
  return dt;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  long cap = argc > 3 ? atol(argv[3]) : 4096;
  if (cap < 1 || cap > MAX_CAP || (cap & (cap - 1))) {
    fprintf(stderr, "CAP must be a power of two up to %d\n", MAX_CAP);
    return 2;
  }
  struct ring* r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) return 1;
  static const char* names[4] = {"thread_mutex_mps", "thread_spsc_mps", "proc_mutex_mps", "proc_spsc_mps"};
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  /* Interleaved, so that a change in the machine's load falls on all four. */
  for (int rep = 0; rep < reps; ++rep)
    for (int k = 0; k < 4; ++k) {
      int spsc = k & 1, procs = k >> 1;
      double dt = run(r, n, cap, procs, spsc ? spsc_produce : mutex_produce, spsc ? spsc_consume : mutex_consume);
      if (dt < best[k]) best[k] = dt;
    }
  for (int k = 0; k < 4; ++k) printf("%s%s=%.3f", k ? " " : "", names[k], n / best[k] / 1e6);
  printf("\n");
  return 0;
}
