"""Batch analysis of many recordings: one process pool on a laptop, or a Dask cluster.

``imurep batch PATH|DIR|GLOB... --out DIR`` (:mod:`imurep.cli.batch`) plans one
:class:`~imurep.batch.task.Task` per recording (:func:`~imurep.batch.runner.plan`), runs
:func:`~imurep.batch.task.run_task` on each (:func:`~imurep.batch.runner.run`: in this process,
a local process pool or Dask workers, the same function everywhere) and writes one JSON per
recording plus ``reps.parquet`` and ``sets.parquet`` for the batch
(:func:`~imurep.batch.runner.write_tables`).
"""

from __future__ import annotations

from imurep.batch.runner import find_recordings, plan, run, write_tables
from imurep.batch.task import Outcome, Task, run_task, task_key

__all__ = ["Outcome", "Task", "find_recordings", "plan", "run", "run_task", "task_key", "write_tables"]
