"""The `eightfold` command. For now it only tells what it is; the phase commands arrive with the API."""

from __future__ import annotations

import argparse

from eightfold import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eightfold",
        description=(
            "Run the eightfold.devops collection from the command line. "
            "Phase commands (run, pipeline, lab, report) are not available yet; "
            "use `make demo` or ansible-playbook with the playbooks under playbooks/."
        ),
    )
    parser.add_argument("--version", action="version", version=f"eightfold {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
