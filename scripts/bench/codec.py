# Python twin of codec.lua: pickle.dumps+loads of the same records, twice
# (one round for the argument, one for the result, as tide's identity thread
# does), and the real Python equivalent of that thread: an identity task in a
# multiprocessing worker, which pickles and pipes the records both ways.
import gc
import multiprocessing
import pickle
import time

N, REPS = 100_000, 3


def identity(x):
    return x


def best(fn, *args):
    b = float("inf")
    for _ in range(REPS):
        gc.collect()
        t0 = time.perf_counter()
        fn(*args)
        b = min(b, time.perf_counter() - t0)
    return b


def pickle_twice(recs):
    for _ in range(2):
        recs = pickle.loads(pickle.dumps(recs, pickle.HIGHEST_PROTOCOL))
    return recs


if __name__ == "__main__":
    records = [{"id": i, "name": f"item{i}", "tags": ["a", "b", "c"], "score": i * 0.5}
               for i in range(1, N + 1)]
    assert pickle_twice(records) == records

    print(f"pickle_rps={2 * N / best(pickle_twice, records):.0f}")

    with multiprocessing.Pool(1) as pool:
        assert pool.apply(identity, (records,)) == records
        base = best(pool.apply, identity, ([],))
        full = best(pool.apply, identity, (records,))
    print(f"mp_rps={2 * N / (full - base):.0f}")
