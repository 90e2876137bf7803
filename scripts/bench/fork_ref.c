/* C reference for W8 fork (the limit): fork + _exit(0) in the child +
 * waitpid, N times, best of REPS; prints "c_ms=<ms per process>". Built by
 * CMake as bench_fork_ref. Usage: bench_fork_ref [N] [REPS] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000, reps = argc > 2 ? atoi(argv[2]) : 3;
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid < 0) return 1;
      if (pid == 0) _exit(0);
      int status;
      if (waitpid(pid, &status, 0) != pid || status != 0) return 1;
    }
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  printf("c_ms=%.4f\n", best / n * 1e3);
  return 0;
}
