"""No secret leaks, whatever the channel, the shape of the secret and the way the run ends.

Channels: the API (``secrets=``), ``--secret NAME=ENVVAR``, ``--secret-file``, a pipeline's hand-off (an
output derived from a secret). Shapes: plain, with spaces, a multi-line PEM key, unicode - every run
carries all four; a 3-character secret is refused before anything is written. Endings: success, failure,
cancel, timeout, the caller's exit without waiting, SIGTERM, SIGKILL of the caller (then ``runs prune``).
The playbook (playbooks/secrets.yml) is careless on purpose: it gathers facts, caches the secrets as a
fact, prints them with their base64 and URL-encoded forms, splits them into the words of a command, keeps
a module busy with them in its arguments, fails with one in its message. After each run nothing holds a
secret or a form derived from it (its lines, its words, escapes, base64, URL encoding): not the run
directory, Ansible's temp directory, /tmp, the processes sampled every 50 ms during the run (command lines
and environments), nor what the caller printed or received.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import INVENTORY, ROOT, run_processes

from eightfold import PhaseInputError, prune_runs, run_phase, run_pipeline
from eightfold._secrets import derived_forms

HERE = Path(__file__).resolve().parent
LEAK = str(HERE / "playbooks" / "secrets.yml")
NEXT = str(HERE / "playbooks" / "secrets_next.yml")
BUSY_TASK = "Keep a module busy"
ANSIBLE_TMP = Path("~/.ansible/tmp").expanduser()
_PEM_FRAME = ("-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----")


def _pem() -> str:
    body = [base64.b64encode(os.urandom(48)).decode() for _ in range(3)]
    body.append(base64.b64encode(os.urandom(18)).decode())  # a shorter last line, as in real keys
    return "\n".join([_PEM_FRAME[0], *body, _PEM_FRAME[1]]) + "\n"


SHAPES = {
    "leak_plain": f"plain-{secrets.token_hex(8)}",
    "leak_spaces": " ".join(secrets.token_hex(5) for _ in range(4)),
    "leak_pem": _pem(),
    "leak_unicode": f"pässwörd-ünïcødé-{secrets.token_hex(4)}",
}
DIGESTS = [hashlib.sha256(v.encode()).hexdigest() for v in SHAPES.values()]
_FRAME_WORDS = {w for line in _PEM_FRAME for w in (line, *line.split())}
#: Every form of every secret that would give it (or a part of it) away.
NEEDLES = sorted(
    {f for v in SHAPES.values() for f in derived_forms(v) if len(f) >= 8 and f not in _FRAME_WORDS},
    key=len,
)
NEEDLE_BYTES = [n.encode() for n in NEEDLES]
EXTRAVARS = {"leak_names": list(SHAPES)}
#: Files the tests wrote with the secrets (the input of --secret-file): not scanned.
_INPUTS: set[Path] = set()


# -- where a secret could end up ----------------------------------------------------------------------


class ProcessSampler(threading.Thread):
    """Reads the command line and environment of every process on the machine every 50 ms, and every file
    of the runs directory that is new or changed. Not the ``-partial.json`` files: ansible-runner's
    callback hands each event over in one (unmasked, 0600, removed within milliseconds; see
    docs/python-api.md)."""

    def __init__(self, runs_dir: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.runs_dir = runs_dir
        self._seen: dict[Path, tuple[float, int]] = {}
        self.ignore: set[int] = {os.getpid()}
        #: Ignore the eightfold command this test starts with secrets in its environment (the channel).
        self.ignore_cli = False
        self.hits: set[str] = set()
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.05):
            self.sample()

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) in self.ignore:
                continue
            if self.ignore_cli and self._is_cli(entry.path):
                continue
            for source in ("cmdline", "environ"):
                try:
                    data = Path(entry.path, source).read_bytes()
                except OSError:
                    continue
                for needle in NEEDLE_BYTES:
                    if needle in data:
                        comm = Path(entry.path, "comm").read_text(errors="replace").strip() if data else "?"
                        self.hits.add(f"process {entry.name} ({comm}) {source}: {needle[:24]!r}")
        if self.runs_dir is not None:
            self._sample_files(self.runs_dir)
        self.samples += 1

    def _sample_files(self, root: Path) -> None:
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                path = Path(dirpath, name)
                if "-partial.json" in name:
                    continue
                try:
                    stat = path.stat()
                    if self._seen.get(path) == (stat.st_mtime, stat.st_size):
                        continue
                    self._seen[path] = (stat.st_mtime, stat.st_size)
                    data = path.read_bytes()
                except OSError:
                    continue
                for needle in NEEDLE_BYTES:
                    if needle in data:
                        self.hits.add(f"during the run, {path}: {needle[:24]!r}")

    @staticmethod
    def _is_cli(proc: str) -> bool:
        try:
            ppid = int(Path(proc, "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = Path(proc, "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return False
        return ppid == os.getpid() and cmdline[1:4] == [b"-m", b"eightfold", b"run"]

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def _scan_tree(root: Path, skip: set[Path]) -> list[str]:
    hits = []
    for dirpath, _, filenames in os.walk(root, followlinks=False):
        for name in filenames:
            path = Path(dirpath, name)
            if path in skip:
                continue
            try:
                if not path.is_file() or path.is_symlink() or path.stat().st_size > 5_000_000:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: {n[:24]!r}" for n in NEEDLE_BYTES if n in data]
    return hits


def _scan_texts(texts: list[str]) -> list[str]:
    return [f"caller's output: {n[:24]!r}" for t in texts for n in NEEDLES if n in t]


@contextlib.contextmanager
def _sampling(runs_dir: Path) -> Iterator[ProcessSampler]:
    sampler = ProcessSampler(runs_dir)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()


def _no_process_left(ident: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while run_processes(ident) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run_processes(ident) == [], f"processes of run {ident} still alive after {within} s"


def _assert_nothing_leaked(runs_dir: Path, sampler: ProcessSampler, texts: list[str]) -> None:
    assert sampler.samples >= 3, "the process table was not sampled during the run"
    hits = sorted(sampler.hits)
    hits += _scan_tree(runs_dir, _INPUTS)
    hits += _scan_tree(ANSIBLE_TMP, _INPUTS)
    hits += _scan_tree(Path("/tmp"), _INPUTS)
    hits += _scan_texts(texts)
    assert hits == [], "secret found:\n" + "\n".join(hits[:20])


def _assert_run_clean(runs_dir: Path, ident: str) -> dict:
    """The run left its result and nothing private: no variables, no temp dirs, no fact cache."""
    run_dir = runs_dir / ident
    artifact_dir = run_dir / "artifacts" / ident
    result = json.loads((artifact_dir / "eightfold-result.json").read_text())
    for name in ("env", "inventory", "project", "tmp"):
        assert not (run_dir / name).exists(), f"{name} left in the run directory"
    assert not (artifact_dir / "fact_cache").exists()
    assert not list(artifact_dir.glob("job_events/*partial*"))
    assert not list(Path("/tmp").glob(f"ef-{ident[:12]}-*")), "the run's scratch directory is left"
    return result


def _is_busy(event: dict, task: str = BUSY_TASK) -> bool:
    return event.get("event") == "runner_on_start" and task in event.get("event_data", {}).get("task", "")


def _wait_busy(runs_dir: Path, proc: subprocess.Popen | None = None, timeout: float = 90) -> str:
    """Wait until the run in runs_dir starts the busy task; return its ident."""
    seen: set[Path] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in runs_dir.glob("*/artifacts/*/job_events/*.json"):
            if path in seen:
                continue
            seen.add(path)
            with contextlib.suppress(OSError, ValueError):
                if _is_busy(json.loads(path.read_text())):
                    return path.parent.parent.name
        assert proc is None or proc.poll() is None, "the caller ended before the busy task"
        time.sleep(0.05)
    raise AssertionError("the busy task did not start")


# -- the API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["success", "failure", "cancel", "timeout", "cancel, no pipelining"])
def test_api_secrets_leak_nowhere(runs_dir, ending):
    """The last ending turns pipelining off: the busy module's arguments are then a file of the remote
    temp directory (~/.ansible/tmp, this machine for these hosts), which the cancel must remove."""
    extravars = dict(EXTRAVARS)
    if ending == "failure":
        extravars["leak_fail"] = True
    if ending != "success" and ending != "failure":
        extravars["leak_sleep"] = 60
    stop = threading.Event()
    seen: list[str] = []

    def on_event(event: dict) -> None:
        seen.append(json.dumps(event, ensure_ascii=False))
        if ending.startswith("cancel") and _is_busy(event):
            stop.set()

    with _sampling(runs_dir) as sampler:
        result = run_phase(
            LEAK,
            inventory=str(INVENTORY),
            limit="h1",
            extravars=extravars,
            secrets=SHAPES,
            on_event=on_event,
            cancel=stop,
            timeout=5 if ending == "timeout" else None,
            envvars={"ANSIBLE_PIPELINING": "False"} if "no pipelining" in ending else None,
        )
        _no_process_left(result.ident, within=2)
    expected = {"success": "successful", "failure": "failed", "timeout": "timeout"}.get(ending, "canceled")
    assert result.status == expected, result.explanation
    if ending in ("success", "failure"):
        assert result.outputs["leak_digests"] == DIGESTS, "every secret reached Ansible intact"
        assert result.outputs["leak_token"] == "token-********"
    if ending == "failure":
        assert result.failures[0].message == "refused ********"
    stored = _assert_run_clean(runs_dir, result.ident)
    assert stored["options"]["secrets"] == sorted(SHAPES)
    assert "msg: ******** / ******** / ********" in (result.artifact_dir / "stdout").read_text()
    assert any('"cmd": ["echo", "********", "********"' in e for e in seen), "the words of cmd are masked"
    _assert_nothing_leaked(runs_dir, sampler, [*seen, json.dumps(result.to_dict(), ensure_ascii=False)])


_CALLER = """
import json, sys, time
from eightfold import start_phase
spec = json.loads(sys.stdin.readline())
run = start_phase(spec["playbook"], inventory=spec["inventory"], limit="h1", extravars=spec["extravars"],
                  secrets=spec["secrets"])
for event in run.events():
    if event["event"] == "runner_on_start" and spec["busy"] in event["event_data"].get("task", ""):
        print(run.ident, flush=True)
        break
if spec["ending"] == "exit":
    sys.exit(0)  # without wait(): the run is canceled and finished at exit
time.sleep(600)
"""


@pytest.mark.parametrize("ending", ["exit", "sigterm", "sigkill"])
def test_api_caller_dies_and_nothing_is_left(runs_dir, ending):
    """A program that exits without waiting, or is killed (SIGTERM without a handler, SIGKILL): the run
    is finished all the same - by atexit, by its reaper process, then by runs prune."""
    spec = {
        "playbook": LEAK,
        "inventory": str(INVENTORY),
        "extravars": {**EXTRAVARS, "leak_sleep": 60},
        "secrets": SHAPES,
        "busy": BUSY_TASK,
        "ending": ending,
    }
    with _sampling(runs_dir) as sampler:
        caller = subprocess.Popen(
            [sys.executable, "-c", _CALLER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert caller.stdin is not None and caller.stdout is not None
        caller.stdin.write(json.dumps(spec) + "\n")
        caller.stdin.flush()
        ident = caller.stdout.readline().strip()
        assert len(ident) == 32, caller.stderr.read() if caller.poll() is not None else "no ident"
        if ending != "exit":
            caller.send_signal(signal.SIGTERM if ending == "sigterm" else signal.SIGKILL)
        out, err = caller.communicate(timeout=60)
        _no_process_left(ident)
        if ending == "sigkill":
            report = prune_runs(runs_dir)
            assert ident not in [i.ident for i in report.removed]
    result = _assert_run_clean(runs_dir, ident)
    assert result["status"] == "canceled"
    if ending == "exit":
        assert caller.returncode == 0, err
        assert "exited before it ended" in result["explanation"]
    else:
        assert "abandoned" in result["explanation"]
        assert result["hosts"]["h1"]["ok"] >= 4, "stats rebuilt from the events on disk"
    _assert_nothing_leaked(runs_dir, sampler, [out, err, json.dumps(result, ensure_ascii=False)])


# -- the CLI ------------------------------------------------------------------------------------------


def _cli_env(runs_dir: Path) -> dict[str, str]:
    return {**os.environ, "EIGHTFOLD_RUNS_DIR": str(runs_dir), "ANSIBLE_NOCOLOR": "1"}


@pytest.mark.parametrize("ending", ["success", "failure", "sigint", "timeout", "sigterm", "sigkill"])
@pytest.mark.parametrize("channel", ["--secret", "--secret-file"])
def test_cli_secrets_leak_nowhere(runs_dir, tmp_path, channel, ending):
    env = _cli_env(runs_dir)
    argv = [sys.executable, "-m", "eightfold", "run", LEAK, "-i", str(INVENTORY), "-l", "h1", "--json"]
    extravars = dict(EXTRAVARS)
    if channel == "--secret":
        for name, value in SHAPES.items():
            env[f"EF_{name.upper()}"] = value
            argv += ["--secret", f"{name}=EF_{name.upper()}"]
    else:
        secret_file = tmp_path / "secrets.json"
        secret_file.write_text(json.dumps(SHAPES))
        secret_file.chmod(0o600)
        _INPUTS.add(secret_file)  # the caller's own input
        argv += ["--secret-file", str(secret_file)]
    if ending == "failure":
        extravars["leak_fail"] = True
    if ending in ("sigint", "timeout", "sigterm", "sigkill"):
        extravars["leak_sleep"] = 60
    if ending == "timeout":
        argv += ["--timeout", "5"]
    argv += ["-e", json.dumps(extravars)]

    with _sampling(runs_dir) as sampler:
        # With --secret the caller hands the values to eightfold in its environment: that process is the
        # channel (its /proc environ keeps what it was started with); what it starts must not have them.
        sampler.ignore_cli = channel == "--secret"
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        ident = ""
        signals = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}
        if ending in signals:
            ident = _wait_busy(runs_dir, proc)
            proc.send_signal(signals[ending])
            sent = time.monotonic()
        out, err = proc.communicate(timeout=120)
        if ending in signals:
            _no_process_left(ident, within=max(0.5, 5 - (time.monotonic() - sent)))
        texts = [out, err]
        if ending == "sigkill":
            prune = subprocess.run(
                [sys.executable, "-m", "eightfold", "runs", "prune"],
                capture_output=True,
                text=True,
                env=_cli_env(runs_dir),
            )
            assert prune.returncode == 0, prune.stderr
            texts += [prune.stdout, prune.stderr]
        else:
            ident = json.loads(out)["ident"]
        _no_process_left(ident, within=2)
    result = _assert_run_clean(runs_dir, ident)
    codes = {"success": 0, "failure": 2, "sigint": 5, "timeout": 4, "sigterm": 5, "sigkill": -9}
    statuses = {"success": "successful", "failure": "failed", "timeout": "timeout"}
    assert proc.returncode == codes[ending], err
    assert result["status"] == statuses.get(ending, "canceled"), result["explanation"]
    if ending in ("sigint", "sigterm"):
        assert result["explanation"] == f"canceled: {ending.upper()} to eightfold"
    if ending in ("success", "failure"):
        assert result["outputs"]["leak_digests"] == DIGESTS
    assert all(len(line) < 400 for line in err.splitlines()), "one-line messages"
    _assert_nothing_leaked(runs_dir, sampler, texts)


# -- a pipeline's hand-off ----------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["success", "failure", "cancel", "timeout"])
def test_pipeline_hands_real_values_on_and_leaks_nothing(runs_dir, ending):
    extravars = {**EXTRAVARS, "leak_gather": False}  # facts are the other tests' concern
    if ending == "failure":
        extravars["next_fail"] = True
    if ending in ("cancel", "timeout"):
        extravars["next_sleep"] = 60
    stop = threading.Event()
    seen: list[str] = []

    def on_event(event: dict) -> None:
        seen.append(json.dumps(event, ensure_ascii=False))
        if ending == "cancel" and _is_busy(event, "Keep a module busy with it in"):
            stop.set()

    # leak_token is also given as a secret: the output of the same name replaces it, still a secret.
    given = {**SHAPES, "leak_token": f"given-{secrets.token_hex(8)}"}
    with _sampling(runs_dir) as sampler:
        results = run_pipeline(
            [LEAK, NEXT],
            inventory=str(INVENTORY),
            limit="h1",
            extravars=extravars,
            secrets=given,
            on_event=on_event,
            cancel=stop,
            timeout=8 if ending == "timeout" else None,
        )
    first, second = results
    assert first.status == "successful", first.explanation
    assert first.outputs["leak_token"] == "token-********", "masked in the result"
    expected = {"success": "successful", "failure": "failed", "cancel": "canceled", "timeout": "timeout"}
    assert second.status == expected[ending], second.explanation
    if ending in ("success", "failure"):
        real = hashlib.sha256(f"token-{SHAPES['leak_plain']}".encode()).hexdigest()
        assert second.outputs["leak_token_digest"] == real, "the real value was handed on, not its mask"
    assert "leak_token" in second.options.secrets and "leak_token" not in second.options.extravars
    for result in results:
        _assert_run_clean(runs_dir, result.ident)
        _no_process_left(result.ident, within=2)
    needle_free = [*seen, *[json.dumps(r.to_dict(), ensure_ascii=False) for r in results]]
    assert given["leak_token"] not in "".join(needle_free)
    _assert_nothing_leaked(runs_dir, sampler, needle_free)


# -- refused before anything is written ---------------------------------------------------------------


def test_short_secrets_are_refused_without_showing_them(runs_dir, tmp_path):
    with pytest.raises(PhaseInputError) as info:
        run_phase(LEAK, inventory=str(INVENTORY), secrets={"pin": "x7q"})
    assert info.value.parameter == "secrets" and "pin" in str(info.value) and "x7q" not in str(info.value)
    with pytest.raises(PhaseInputError):
        run_phase(LEAK, inventory=str(INVENTORY), secrets={"db": {"password": "long-enough-1", "port": 5432}})
    with pytest.raises(PhaseInputError):
        run_pipeline([LEAK, NEXT], inventory=str(INVENTORY), secrets={"pin": "x7q"})
    assert not runs_dir.exists() or not any(runs_dir.iterdir())

    env = {**_cli_env(runs_dir), "EF_PIN": "x7q"}
    secret_file = tmp_path / "short.yml"
    secret_file.write_text("pin: x7q\n")
    for extra in (["--secret", "pin=EF_PIN"], ["--secret-file", str(secret_file)]):
        proc = subprocess.run(
            [sys.executable, "-m", "eightfold", "run", LEAK, "-i", str(INVENTORY), *extra],
            capture_output=True,
            text=True,
            env=env,
        )
        assert proc.returncode == 64
        assert proc.stderr.count("\n") == 1 and "pin is shorter than 8 characters" in proc.stderr
        assert "x7q" not in proc.stdout + proc.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_masking_covers_derived_forms():
    from eightfold._secrets import MASK, Masker

    value = SHAPES["leak_spaces"]
    masker = Masker([value, SHAPES["leak_pem"], SHAPES["leak_unicode"]])
    words = value.split()
    pem_line = SHAPES["leak_pem"].splitlines()[2]
    samples = {
        "cmd": json.dumps(["echo", *words]),
        "b64": base64.b64encode(value.encode()).decode(),
        "url": "https://x/?q=" + value.replace(" ", "%20"),
        "plus": value.replace(" ", "+"),
        "pem line": f"    {pem_line}",
        "unicode escaped": json.dumps(SHAPES["leak_unicode"]),
        "yaml folded": f"msg: >-\n  {words[0]} {words[1]}\n  {words[2]} {words[3]}",
    }
    for kind, text in samples.items():
        masked = masker.text(text)
        assert MASK in masked, kind
        assert not any(w in masked for w in [*words, pem_line]), (kind, masked)
    assert masker.text("nothing secret here") == "nothing secret here"
    assert ROOT.is_dir()
