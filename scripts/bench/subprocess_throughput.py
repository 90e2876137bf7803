# Python twin of subprocess_throughput.lua: 1 GiB from `cat /dev/zero`
# through Popen(...).stdout.read(65536), GB/s (best of REPS: argv[1], default 3).
import subprocess
import sys
import time

TOTAL, REPS = 1 << 30, 3


def once():
    """Seconds from the start of the child to the last byte."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["cat", "/dev/zero"], stdout=subprocess.PIPE)
    got = 0
    while got < TOTAL:
        chunk = p.stdout.read(65536)
        assert chunk
        got += len(chunk)
    dt = time.perf_counter() - t0
    p.kill()
    p.wait()
    p.stdout.close()
    return dt


if __name__ == "__main__":
    if len(sys.argv) > 1:
        REPS = int(sys.argv[1])
    best = float("inf")
    for _ in range(REPS):
        best = min(best, once())
    print(f"gbs={TOTAL / best / 1e9:.3f}")
