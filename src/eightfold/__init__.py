"""eightfold: run the phases of the eightfold.devops collection from Python, over ansible-runner.

The public surface: ``run_phase``, ``start_phase`` (returns a ``PhaseRun``), ``run_pipeline``,
``load_result``, ``phases``, ``list_runs`` / ``prune_runs``, the result types ``PhaseResult`` /
``HostStats`` / ``Failure`` / ``RunOptions``, the executors ``LocalExecutor`` / ``ContainerExecutor`` /
``RemoteExecutor`` and the errors. See docs/python-api.md; the result file's format is described by
the JSON schema ``result.schema.json`` of this package (``RESULT_SCHEMA``).
"""

from pathlib import Path

from eightfold._collection import PhaseInfo, phases
from eightfold._runs import PruneReport, RunInfo
from eightfold.api import (
    PhaseRun,
    default_runs_dir,
    list_runs,
    load_result,
    prune_runs,
    run_phase,
    run_pipeline,
    start_phase,
)
from eightfold.errors import EightfoldError, ExecutorError, PhaseInputError
from eightfold.executors import ContainerExecutor, Executor, LocalExecutor, RemoteExecutor
from eightfold.results import Failure, HostStats, PhaseResult, RunOptions

__version__ = "0.1.0"

#: The JSON schema of a result file (``PhaseResult.to_dict()``, ``eightfold report --format json``).
RESULT_SCHEMA = Path(__file__).with_name("result.schema.json")

__all__ = [
    "RESULT_SCHEMA",
    "ContainerExecutor",
    "EightfoldError",
    "Executor",
    "ExecutorError",
    "Failure",
    "HostStats",
    "LocalExecutor",
    "PhaseInfo",
    "PhaseInputError",
    "PhaseResult",
    "PhaseRun",
    "PruneReport",
    "RemoteExecutor",
    "RunInfo",
    "RunOptions",
    "__version__",
    "default_runs_dir",
    "list_runs",
    "load_result",
    "phases",
    "prune_runs",
    "run_phase",
    "run_pipeline",
    "start_phase",
]
