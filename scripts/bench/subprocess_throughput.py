# Python twin of subprocess_throughput.lua: 1 GiB from `cat /dev/zero`
# through Popen(...).stdout.read(65536), GB/s (best of 3).
import subprocess
import time

TOTAL, REPS = 1 << 30, 3


def once():
    p = subprocess.Popen(["cat", "/dev/zero"], stdout=subprocess.PIPE)
    got = 0
    while got < TOTAL:
        chunk = p.stdout.read(65536)
        assert chunk
        got += len(chunk)
    p.kill()
    p.wait()
    p.stdout.close()


if __name__ == "__main__":
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        once()
        best = min(best, time.perf_counter() - t0)
    print(f"gbs={TOTAL / best / 1e9:.3f}")
