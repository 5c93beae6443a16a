"""Exceptions of the eightfold API."""

from __future__ import annotations


class EightfoldError(Exception):
    """Base class of every error the eightfold API raises."""


class PhaseInputError(EightfoldError, ValueError):
    """Bad input, found before anything runs: unknown phase, bad inventory, bad extra vars, bad timeout.

    ``parameter`` names the argument that is wrong. The CLI turns this into exit code 64.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class ExecutorError(EightfoldError, RuntimeError):
    """The executor cannot run here (no container engine, no image, worker not reachable)."""
