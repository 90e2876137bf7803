/* The engine's limit for the cluster benchmark (scripts/bench/w12_cluster.lua):
 * the Redis Streams round trip tide.cluster makes per task, in bare C with
 * hiredis and nothing else (no signing, no codec, no Lua).
 *
 *   bench_cluster_ref HOST PORT N WORKERS
 *
 * A producer XADDs N tiny tasks (pipelined) to a stream with a consumer
 * group; WORKERS forked consumers each loop XREADGROUP COUNT 1, then send
 * the result (XADD to a result stream), XACK and XDEL pipelined with their
 * next XREADGROUP, one round trip per task as a tide worker loop does; the
 * producer XREADs results until it has N. Prints c_tasks_per_s=... c_us_per_task=... */
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static redisContext* connect_or_die(const char* host, int port) {
  redisContext* c = redisConnect(host, port);
  if (!c || c->err) {
    fprintf(stderr, "cannot connect to Redis at %s:%d: %s\n", host, port, c ? c->errstr : "out of memory");
    exit(1);
  }
  return c;
}

static redisReply* get(redisContext* c) {
  void* r = NULL;
  if (redisGetReply(c, &r) != REDIS_OK) {
    fprintf(stderr, "Redis: %s\n", c->errstr);
    exit(1);
  }
  return r;
}

static void consumer(const char* host, int port, int index) {
  redisContext* c = connect_or_die(host, port);
  char name[32];
  snprintf(name, sizeof name, "c%d", index);
  char last_id[64] = "", value[64] = "";
  for (;;) {
    int queued = 0;  /* the last task's result, ack and delete go with the next read */
    if (last_id[0]) {
      redisAppendCommand(c, "XADD ref:results * v %s", value);
      redisAppendCommand(c, "XACK ref:tasks g %s", last_id);
      redisAppendCommand(c, "XDEL ref:tasks %s", last_id);
      queued = 3;
      last_id[0] = '\0';
    }
    redisAppendCommand(c, "XREADGROUP GROUP g %s COUNT 1 BLOCK 1000 STREAMS ref:tasks >", name);
    for (int k = 0; k < queued; ++k) freeReplyObject(get(c));
    redisReply* r = get(c);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
      redisReply* entries = r->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; ++i) {
        redisReply* e = entries->element[i];
        const char* id = e->element[0]->str;
        const char* v = e->element[1]->element[1]->str;
        if (strcmp(v, "stop") == 0) {
          freeReplyObject(redisCommand(c, "XACK ref:tasks g %s", id));
          freeReplyObject(r);
          redisFree(c);
          exit(0);
        }
        snprintf(last_id, sizeof last_id, "%s", id);
        snprintf(value, sizeof value, "%s", v);  /* the "result": the task's value */
      }
    }
    freeReplyObject(r);
  }
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s HOST PORT N WORKERS\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  long n = atol(argv[3]);
  int workers = atoi(argv[4]);
  redisContext* c = connect_or_die(host, port);
  freeReplyObject(redisCommand(c, "DEL ref:tasks ref:results"));
  freeReplyObject(redisCommand(c, "XGROUP CREATE ref:tasks g 0 MKSTREAM"));
  pid_t pids[64];
  if (workers < 1 || workers > 64) return 2;
  for (int w = 0; w < workers; ++w) {
    pids[w] = fork();
    if (pids[w] == 0) consumer(host, port, w);
  }
  double t0 = now();
  for (long i = 0; i < n; ++i) {
    redisAppendCommand(c, "XADD ref:tasks * v %ld", i);
    if (i % 1000 == 999 || i == n - 1) {
      long batch = i % 1000 + 1;
      for (long k = 0; k < batch; ++k) freeReplyObject(get(c));
    }
  }
  long got = 0;
  char last[64] = "0-0";
  while (got < n) {
    redisReply* r = redisCommand(c, "XREAD COUNT 1000 BLOCK 5000 STREAMS ref:results %s", last);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
      fprintf(stderr, "no results for 5 s (got %ld of %ld)\n", got, n);
      return 1;
    }
    redisReply* entries = r->element[0]->element[1];
    got += (long)entries->elements;
    snprintf(last, sizeof last, "%s", entries->element[entries->elements - 1]->element[0]->str);
    freeReplyObject(r);
  }
  double dt = now() - t0;
  for (int w = 0; w < workers; ++w) freeReplyObject(redisCommand(c, "XADD ref:tasks * v stop"));
  for (int w = 0; w < workers; ++w) waitpid(pids[w], NULL, 0);
  freeReplyObject(redisCommand(c, "DEL ref:tasks ref:results"));
  redisFree(c);
  printf("c_tasks_per_s=%.0f c_us_per_task=%.2f\n", n / dt, dt / n * 1e6);
  return 0;
}
