"""eightfold: run the phases of the eightfold.devops collection from Python, over ansible-runner.

The public surface: ``run_phase``, ``start_phase`` (returns a ``PhaseRun``), ``run_pipeline``,
``load_result``, the result types ``PhaseResult`` / ``HostStats`` / ``Failure``, the executors
``LocalExecutor`` / ``ContainerExecutor`` / ``RemoteExecutor`` and the errors. See docs/python-api.md.
"""

from eightfold.api import PhaseRun, default_runs_dir, load_result, run_phase, run_pipeline, start_phase
from eightfold.errors import EightfoldError, ExecutorError, PhaseInputError
from eightfold.executors import ContainerExecutor, Executor, LocalExecutor, RemoteExecutor
from eightfold.results import Failure, HostStats, PhaseResult

__version__ = "0.1.0"

__all__ = [
    "ContainerExecutor",
    "EightfoldError",
    "Executor",
    "ExecutorError",
    "Failure",
    "HostStats",
    "LocalExecutor",
    "PhaseInputError",
    "PhaseResult",
    "PhaseRun",
    "RemoteExecutor",
    "__version__",
    "default_runs_dir",
    "load_result",
    "run_phase",
    "run_pipeline",
    "start_phase",
]
