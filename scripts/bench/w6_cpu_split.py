# Python twin of w6_cpu_split.lua. 2e6 iterations rather than 2e7: the loop
# is ~10x slower in CPython and the run must stay short; the Lua side
# compares per-iteration rates.
import threading
import time

N, REPS = 2_000_000, 5


def loop(a, b, out, k):
    s = 0
    for i in range(a, b + 1):
        s += i % 7
    out[k] = s


def expected(n):
    r = n % 7
    return n // 7 * 21 + r * (r + 1) // 2


def run(nthreads):
    out = [0] * nthreads
    step = N // nthreads
    bounds = [(k * step + 1, N if k == nthreads - 1 else (k + 1) * step) for k in range(nthreads)]
    ts = [threading.Thread(target=loop, args=(a, b, out, k)) for k, (a, b) in enumerate(bounds)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(out) == expected(N), (sum(out), expected(N))


def timed(nthreads):
    t0 = time.perf_counter()
    run(nthreads)
    return time.perf_counter() - t0


# Interleaved so both variants see the same background noise.
one = two = float("inf")
for _ in range(REPS):
    one = min(one, timed(1))
    two = min(two, timed(2))
print(f"iterations={N}")
print(f"one_s={one:.6f}")
print(f"two_s={two:.6f}")
