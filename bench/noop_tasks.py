"""Bench-only tasks, never imported by the platform: the benchmark's worker loads this module
with `-I bench.noop_tasks` (bench.common.start_worker(include=...)), so production routing and
the task-name test never see it. `bench.noop` lands on the default queue (grading), the queue
the quiz grading tasks use."""

import os
import time

from celery import shared_task


@shared_task(name="bench.noop", acks_late=True, ignore_result=True)
def noop() -> None:
    """The Celery floor: a task that does nothing, with grading's reliability flags."""


if os.environ.get("BENCH_TASK_CPU"):
    # Where the worker's CPU goes, per task name (BENCH_TASK_CPU=path: appended at each task's end).
    from celery.signals import task_postrun, task_prerun

    _started: dict[str, float] = {}

    @task_prerun.connect
    def _cpu_start(task_id=None, **kwargs):
        _started[task_id] = time.process_time()

    @task_postrun.connect
    def _cpu_end(task_id=None, task=None, **kwargs):
        spent = time.process_time() - _started.pop(task_id, time.process_time())
        with open(os.environ["BENCH_TASK_CPU"], "a") as out:
            out.write(f"{task.name} {spent * 1000:.3f}\n")


if os.environ.get("BENCH_PROFILE"):
    # cProfile of the worker's tasks (BENCH_PROFILE=dir: one stats file per pool process and task name).
    import cProfile

    from celery.signals import task_postrun, task_prerun, worker_process_shutdown

    _profiles: dict[str, cProfile.Profile] = {}

    @task_prerun.connect
    def _prof_start(task=None, **kwargs):
        _profiles.setdefault(task.name, cProfile.Profile()).enable()

    @task_postrun.connect
    def _prof_end(task=None, **kwargs):
        _profiles[task.name].disable()

    @worker_process_shutdown.connect
    def _prof_dump(**kwargs):
        for name, prof in _profiles.items():
            prof.dump_stats(f"{os.environ['BENCH_PROFILE']}/{name}.{os.getpid()}.prof")
