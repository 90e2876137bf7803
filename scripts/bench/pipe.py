# Python twin of pipe.lua: 100,000 small messages (integers) between a
# parent and a fork child over multiprocessing.Pipe (duplex), messages per
# second, round trips and streaming.
import multiprocessing as mp
import time

N, REPS = 100000, 5


def echo(c):
    c.send("ready")
    for _ in range(N):
        c.send(c.recv())


def sink(c):
    c.send("ready")
    s = 0
    for _ in range(N):
        s += c.recv()
    c.send(s)


def round_trips(c):
    for i in range(N):
        c.send(i)
        assert c.recv() == i


def streaming(c):
    for i in range(1, N + 1):
        c.send(i)
    assert c.recv() == N * (N + 1) // 2


def timed(serve, body):
    mine, theirs = mp.Pipe()
    p = mp.get_context("fork").Process(target=serve, args=(theirs,))
    p.start()
    theirs.close()
    assert mine.recv() == "ready"
    t0 = time.perf_counter()
    body(mine)
    dt = time.perf_counter() - t0
    p.join()
    assert p.exitcode == 0
    mine.close()
    return dt


round_best = min(timed(echo, round_trips) for _ in range(REPS))
stream_best = min(timed(sink, streaming) for _ in range(REPS))
print(f"round_per_s={N / round_best:.0f} stream_per_s={N / stream_best:.0f}")
