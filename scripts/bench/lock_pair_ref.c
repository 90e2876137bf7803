/* C reference for W7 (the limit): 2 threads x N of pthread_mutex_lock;
 * counter++; pthread_mutex_unlock, best of REPS; prints
 * "c_ns_per_pair=<wall ns / (2N)>". Built by CMake as bench_lock_pair_ref.
 * Usage: bench_lock_pair_ref [N] [REPS] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define THREADS 2

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long n_iter;
static atomic_int go;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void* worker(void* arg) {
  (void)arg;
  /* Both threads start together, as W7's Event does, so the figure is
   * contended pairs rather than one thread running alone. */
  while (!atomic_load_explicit(&go, memory_order_acquire)) {
  }
  for (long i = 0; i < n_iter; ++i) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char** argv) {
  n_iter = argc > 1 ? atol(argv[1]) : 500000;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    pthread_t ts[THREADS];
    counter = 0;
    atomic_store(&go, 0);
    for (int i = 0; i < THREADS; ++i)
      if (pthread_create(&ts[i], NULL, worker, NULL) != 0) return 1;
    double t0 = now();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (int i = 0; i < THREADS; ++i) pthread_join(ts[i], NULL);
    double dt = now() - t0;
    if (counter != n_iter * THREADS) {
      fprintf(stderr, "count %ld, expected %ld\n", counter, n_iter * THREADS);
      return 1;
    }
    if (dt < best) best = dt;
  }
  printf("c_ns_per_pair=%.2f\n", best / (n_iter * THREADS) * 1e9);
  return 0;
}
