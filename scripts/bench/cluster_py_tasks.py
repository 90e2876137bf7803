# The tasks of the cluster benchmark's Python twins (w12_cluster.py): RQ
# imports them by name in its workers; Celery registers them on its app.
import os

from celery import Celery

app = Celery("cluster_py_tasks", broker=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0"),
             backend=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0"))
app.conf.update(worker_prefetch_multiplier=4, task_acks_late=False, result_expires=600,
                worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)


def ident(x):
    return x


def square_chunk(xs):
    return [x * x for x in xs]


@app.task(name="ident")
def c_ident(x):
    return x


@app.task(name="square")
def c_square(x):
    return x * x
