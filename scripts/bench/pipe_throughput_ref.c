#define _GNU_SOURCE
/* C reference for the subprocess throughput figure: read 1 GiB from
 * `cat /dev/zero` through a pipe in 64 KiB reads; prints "c_gbs=<GB/s>"
 * (best of REPS). Built by CMake as bench_pipe_throughput_ref.
 * Usage: bench_pipe_throughput_ref [BYTES] [REPS] */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double once(long long total) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) exit(1);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  char* args[] = {"cat", "/dev/zero", NULL};
  pid_t pid;
  double t0 = now();
  if (posix_spawnp(&pid, "cat", &fa, NULL, args, environ) != 0) exit(1);
  close(fds[1]);
  static char buf[65536];
  long long got = 0;
  while (got < total) {
    ssize_t r = read(fds[0], buf, sizeof buf);
    if (r <= 0) exit(1);
    got += r;
  }
  double dt = now() - t0;
  kill(pid, SIGKILL);
  close(fds[0]);
  waitpid(pid, NULL, 0);
  posix_spawn_file_actions_destroy(&fa);
  return dt;
}

int main(int argc, char** argv) {
  long long total = argc > 1 ? atoll(argv[1]) : (1LL << 30);
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double dt = once(total);
    if (dt < best) best = dt;
  }
  printf("c_gbs=%.3f\n", total / best / 1e9);
  return 0;
}
