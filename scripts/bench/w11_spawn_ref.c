/* C reference for W11 (the limit): posix_spawn("/bin/true") + waitpid,
 * N times, best of REPS; prints "c_ms=<ms per run>". Built by CMake as
 * bench_w11_spawn_ref. Usage: bench_w11_spawn_ref [N] [REPS] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000, reps = argc > 2 ? atoi(argv[2]) : 3;
  char* args[] = {"/bin/true", NULL};
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    for (int i = 0; i < n; ++i) {
      pid_t pid;
      int status;
      if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0) return 1;
      if (waitpid(pid, &status, 0) != pid || status != 0) return 1;
    }
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  printf("c_ms=%.4f\n", best / n * 1e3);
  return 0;
}
