"""Render a PhaseResult for people: plain text (terminal) or Markdown."""

from __future__ import annotations

from eightfold.results import PhaseResult

_COLUMNS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")


def first_line(text: str, width: int = 300) -> str:
    """The first non-blank line of ``text``, at most ``width`` characters ("" for blank text)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:width]
    return ""


def render_text(result: PhaseResult) -> str:
    changed = ", changed" if result.changed else ""
    lines = [
        f"phase {result.phase}: {result.status}{changed} (rc {result.rc}, {result.duration:.1f} s, "
        f"executor {result.executor}, run {result.ident})"
    ]
    if result.explanation:
        lines.append(f"  {first_line(result.explanation, 1000)}")
    if result.hosts:
        if not result.stats_complete:
            lines.append("  stats rebuilt from task events (the run ended before Ansible's recap)")
        width = max([len(h) for h in result.hosts] + [4])
        header = "  " + "host".ljust(width) + "".join(f" {c:>11}" for c in _COLUMNS)
        lines.append(header)
        for host, stats in sorted(result.hosts.items()):
            values = stats.to_dict()
            lines.append("  " + host.ljust(width) + "".join(f" {values[c]:>11}" for c in _COLUMNS))
    for failure in result.failures:
        kind = "unreachable" if failure.unreachable else "failed"
        lines.append(f"  {kind}: {failure.host}: {failure.task}: {first_line(failure.message)}")
    if result.outputs:
        lines.append("  outputs: " + ", ".join(f"{k}={v!r}" for k, v in sorted(result.outputs.items())))
    if result.artifact_dir:
        lines.append(f"  artifacts: {result.artifact_dir}")
    return "\n".join(lines)


def render_markdown(result: PhaseResult) -> str:
    lines = [
        f"## Phase `{result.phase}`: {result.status}",
        "",
        f"Run `{result.ident}`, rc {result.rc}, {result.duration:.1f} s, executor {result.executor}.",
        "",
    ]
    if result.explanation:
        lines += [first_line(result.explanation, 1000), ""]
    if result.hosts:
        lines.append("| host | " + " | ".join(_COLUMNS) + " |")
        lines.append("| --- |" + " ---: |" * len(_COLUMNS))
        for host, stats in sorted(result.hosts.items()):
            values = stats.to_dict()
            lines.append(f"| {host} | " + " | ".join(str(values[c]) for c in _COLUMNS) + " |")
    if result.failures:
        lines += ["", "| host | task | message |", "| --- | --- | --- |"]
        for f in result.failures:
            message = first_line(f.message).replace("|", "\\|")
            lines.append(f"| {f.host} | {f.task} | {message} |")
    if result.outputs:
        lines += ["", "Outputs:", ""]
        lines += [f"- `{k}`: `{v!r}`" for k, v in sorted(result.outputs.items())]
    return "\n".join(lines) + "\n"


def exit_code(result: PhaseResult) -> int:
    """The CLI's exit code for a result: 0 ok, 2 failed hosts, 3 unreachable, 4 timeout, 5 canceled,
    1 any other failure (status error: the run never reached a host; a host-independent failure)."""
    if result.status == "successful":
        return 0
    if result.status == "timeout":
        return 4
    if result.status == "canceled":
        return 5
    if result.status == "error":
        return 1
    if result.failed_hosts:
        return 2
    if result.unreachable_hosts:
        return 3
    return 1
