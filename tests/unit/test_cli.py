import subprocess
import sys

import pytest

from eightfold import __version__
from eightfold.cli import main


def test_help_is_printed_without_arguments(capsys):
    assert main([]) == 0
    assert "usage: eightfold" in capsys.readouterr().out


def test_version_matches_the_package(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"eightfold {__version__}"


def test_unknown_option_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "eightfold", "--nope"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unrecognized arguments: --nope" in result.stderr
