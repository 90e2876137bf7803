# Python twin of w11_subprocess_run.lua: subprocess.run(["/bin/true"]) 1000
# times (ms per run), then 8 at a time from a ThreadPoolExecutor(8).
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

N, REPS, PAR = 1000, 3, 8


def one(_=None):
    return subprocess.run(["/bin/true"]).returncode


def best(fn):
    b = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


def sequential():
    for _ in range(N):
        assert one() == 0


if __name__ == "__main__":
    sequential()
    seq = best(sequential)
    with ThreadPoolExecutor(PAR) as ex:
        def parallel():
            assert all(c == 0 for c in ex.map(one, range(N)))
        parallel()
        par = best(parallel)
    print(f"seq_ms={seq / N * 1e3:.4f} par_ms={par / N * 1e3:.4f}")
