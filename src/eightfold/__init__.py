"""eightfold: run the eightfold.devops life-cycle phases from Python (API grows with the phases)."""

__version__ = "0.1.0"
