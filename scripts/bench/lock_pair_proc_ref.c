/* C reference for W10 (the limit): 2 forked processes x N of lock; counter++;
 * unlock on a process-shared pthread mutex in a MAP_SHARED mapping, fork and
 * waitpid included as in W10, best of REPS. Twice: a plain process-shared
 * mutex, and a robust one (what tide's locks must be, to report a dead
 * holder). Prints "c_us_per_increment=... c_robust_us_per_increment=...".
 * Built by CMake as bench_lock_pair_proc_ref.
 * Usage: bench_lock_pair_proc_ref [N] [REPS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCS 2

struct shared {
  pthread_mutex_t lock;
  long counter;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double run(struct shared* s, long n, int robust) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (robust) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->lock, &a);
  pthread_mutexattr_destroy(&a);
  s->counter = 0;
  pid_t pids[PROCS];
  double t0 = now();
  for (int p = 0; p < PROCS; ++p) {
    pids[p] = fork();
    if (pids[p] < 0) exit(1);
    if (pids[p] == 0) {
      for (long i = 0; i < n; ++i) {
        pthread_mutex_lock(&s->lock);
        s->counter++;
        pthread_mutex_unlock(&s->lock);
      }
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; ++p) {
    int status;
    if (waitpid(pids[p], &status, 0) != pids[p] || status != 0) exit(1);
  }
  double dt = now() - t0;
  pthread_mutex_destroy(&s->lock);
  if (s->counter != n * PROCS) {
    fprintf(stderr, "count %ld, expected %ld\n", s->counter, n * PROCS);
    exit(1);
  }
  return dt;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  struct shared* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  double best[2] = {1e30, 1e30};
  for (int r = 0; r < reps; ++r)
    for (int robust = 0; robust < 2; ++robust) {
      double dt = run(s, n, robust);
      if (dt < best[robust]) best[robust] = dt;
    }
  printf("c_us_per_increment=%.4f c_robust_us_per_increment=%.4f\n", best[0] / (n * PROCS) * 1e6,
         best[1] / (n * PROCS) * 1e6);
  return 0;
}
