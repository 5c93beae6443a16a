"""eightfold.devops.sysctls on a fake /proc/sys tree: file, diff and check mode, runtime apply, deferral."""

import errno
import json
import os
import stat

import pytest
from ansible.module_utils import basic
from ansible_collections.eightfold.devops.plugins.action import sysctls as action
from ansible_collections.eightfold.devops.plugins.module_utils import _host
from ansible_collections.eightfold.devops.plugins.modules import host_state, sysctls

KERNEL = {
    "kernel/kptr_restrict": "0",
    "kernel/dmesg_restrict": "0",
    "net/ipv4/tcp_rmem": "4096\t131072\t6291456",
    "net/ipv4/conf/all/send_redirects": "1",
    "net/ipv4/conf/eth0.100/forwarding": "0",
    "vm/swappiness": "60",
}


@pytest.fixture
def host(tmp_path, monkeypatch, capsys):
    """A fake kernel and /etc/sysctl.d; .run(**args) calls the module and returns its JSON result."""
    proc = tmp_path / "proc" / "sys"
    for key, value in KERNEL.items():
        (proc / key).parent.mkdir(parents=True, exist_ok=True)
        (proc / key).write_text(value + "\n")
    (tmp_path / "etc" / "sysctl.d").mkdir(parents=True)
    monkeypatch.setattr(sysctls, "PROC_SYS", str(proc))
    monkeypatch.setattr(sysctls, "HOST_ROOT", str(tmp_path))

    class Host:
        path = tmp_path / "etc" / "sysctl.d" / "90-test.conf"
        root = tmp_path

        @staticmethod
        def kernel(key):
            return (proc / key).read_text().strip()

        @staticmethod
        def run(check=False, diff=False, **args):
            args.setdefault("path", str(Host.path))
            args.update(_ansible_check_mode=check, _ansible_diff=diff)
            monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
            monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
            with pytest.raises(SystemExit):
                sysctls.main()
            return json.loads(capsys.readouterr().out)

    return Host


SETTINGS = {"kernel.kptr_restrict": 2, "net.ipv4.conf.all.send_redirects": False, "vm.swappiness": "60"}


def test_writes_sorted_file_and_applies_only_what_differs(host):
    result = host.run(settings=SETTINGS)
    assert result["changed"] and result["file_changed"]
    assert host.path.read_text() == (
        sysctls.HEADER
        + "kernel.kptr_restrict = 2\nnet.ipv4.conf.all.send_redirects = 0\nvm.swappiness = 60\n"
    )
    assert stat.S_IMODE(host.path.stat().st_mode) == 0o644
    assert result["applied"] == {
        "kernel.kptr_restrict": {"before": "0", "after": "2"},
        "net.ipv4.conf.all.send_redirects": {"before": "1", "after": "0"},
    }
    assert host.kernel("kernel/kptr_restrict") == "2"
    assert host.kernel("net/ipv4/conf/all/send_redirects") == "0"
    assert result["deferred"] == {} and result["missing"] == [] and result["container"] is False


def test_second_call_changes_nothing(host):
    host.run(settings=SETTINGS)
    again = host.run(settings=SETTINGS)
    assert again["changed"] is False and again["file_changed"] is False and again["applied"] == {}


def test_whitespace_separated_values_compare_as_lists(host):
    result = host.run(settings={"net.ipv4.tcp_rmem": "4096 131072   6291456"})
    assert result["applied"] == {}
    assert "net.ipv4.tcp_rmem = 4096 131072 6291456\n" in host.path.read_text()
    changed = host.run(settings={"net.ipv4.tcp_rmem": "4096 87380 6291456"})
    assert changed["applied"]["net.ipv4.tcp_rmem"]["after"] == "4096 87380 6291456"


def test_text_for_a_parameter_the_kernel_holds_as_a_number_is_refused_before_any_change(host):
    result = host.run(settings={"kernel.kptr_restrict": 2, "vm.swappiness": "high"})
    assert result["failed"] and "settings['vm.swappiness']: 'high' is not a number" in result["msg"]
    assert "the kernel holds vm.swappiness as '60'" in result["msg"]
    assert not host.path.exists() and host.kernel("kernel/kptr_restrict") == "0"


def test_slash_key_keeps_dots_of_interface_names(host):
    result = host.run(settings={"net/ipv4/conf/eth0.100/forwarding": 1})
    assert result["applied"] == {"net/ipv4/conf/eth0.100/forwarding": {"before": "0", "after": "1"}}


def test_check_mode_touches_nothing_but_reports_everything(host):
    result = host.run(check=True, diff=True, settings=SETTINGS)
    assert result["changed"] and result["file_changed"]
    assert set(result["applied"]) == {"kernel.kptr_restrict", "net.ipv4.conf.all.send_redirects"}
    assert not host.path.exists()
    assert host.kernel("kernel/kptr_restrict") == "0"
    headers = [d["after_header"] for d in result["diff"]]
    assert str(host.path) in headers and any("running kernel" in h for h in headers)


def test_diff_shows_file_and_runtime_change(host):
    host.path.write_text(sysctls.HEADER + "kernel.kptr_restrict = 1\n")
    result = host.run(diff=True, settings={"kernel.kptr_restrict": 2})
    by_header = {d["before_header"]: d for d in result["diff"]}
    file_diff = by_header[str(host.path)]
    assert file_diff["before"].endswith("kernel.kptr_restrict = 1\n")
    assert file_diff["after"].endswith("kernel.kptr_restrict = 2\n")
    runtime = next(d for h, d in by_header.items() if "running kernel" in h)
    assert (
        runtime["before"] == "kernel.kptr_restrict = 0\n" and runtime["after"] == "kernel.kptr_restrict = 2\n"
    )


def test_no_diff_without_diff_mode(host):
    assert host.run(settings=SETTINGS)["diff"] == []


def test_mode_of_existing_file_is_corrected(host):
    host.run(settings=SETTINGS)
    host.path.chmod(0o600)
    result = host.run(settings=SETTINGS)
    assert result["changed"] and result["file_changed"] and result["applied"] == {}
    assert stat.S_IMODE(host.path.stat().st_mode) == 0o644


def read_only(monkeypatch):
    def refuse(path, value):
        raise OSError(errno.EROFS, "Read-only file system", path)

    monkeypatch.setattr(sysctls, "write_proc", refuse)
    monkeypatch.setattr(sysctls, "writable", lambda path: False)


@pytest.mark.parametrize("marker", ["dockerenv", "environ"])
def test_in_a_container_unwritable_keys_are_deferred_and_idempotent(host, monkeypatch, marker):
    if marker == "dockerenv":
        (host.root / ".dockerenv").touch()
    else:
        (host.root / "proc" / "1").mkdir(parents=True)
        (host.root / "proc" / "1" / "environ").write_bytes(b"PATH=/bin\0container=docker\0")
    read_only(monkeypatch)
    first = host.run(settings=SETTINGS)
    assert first["container"] is True and first["changed"] and first["file_changed"]
    assert set(first["deferred"]) == {"kernel.kptr_restrict", "net.ipv4.conf.all.send_redirects"}
    assert "Read-only file system" in first["deferred"]["kernel.kptr_restrict"]
    assert first["applied"] == {}
    second = host.run(settings=SETTINGS)
    assert second["changed"] is False and set(second["deferred"]) == set(first["deferred"])
    check = host.run(check=True, settings=SETTINGS)
    assert check["changed"] is False and set(check["deferred"]) == set(first["deferred"])


def test_container_override(host, monkeypatch):
    read_only(monkeypatch)
    assert host.run(container="true", settings=SETTINGS)["deferred"]
    failed = host.run(container="false", settings={"kernel.kptr_restrict": 2})
    assert failed["failed"] and "settings['kernel.kptr_restrict']: cannot apply '2'" in failed["msg"]


def test_runtime_always_fails_in_a_container_and_writes_no_file(host, monkeypatch):
    (host.root / ".dockerenv").touch()
    read_only(monkeypatch)
    result = host.run(runtime="always", settings=SETTINGS)
    assert result["failed"] and "kernel.kptr_restrict" in result["msg"]
    assert not host.path.exists()


def test_failure_sets_back_keys_already_applied(host, monkeypatch):
    real = sysctls.write_proc

    def refuse_swappiness(path, value):
        if path.endswith("vm/swappiness") and value != "60":
            raise OSError(errno.EINVAL, "Invalid argument", path)
        real(path, value)

    monkeypatch.setattr(sysctls, "write_proc", refuse_swappiness)
    result = host.run(settings={"kernel.kptr_restrict": 2, "vm.swappiness": 10})
    assert result["failed"] and "settings['vm.swappiness']: cannot apply '10'" in result["msg"]
    assert "set back: kernel.kptr_restrict" in result["msg"]
    assert host.kernel("kernel/kptr_restrict") == "0"
    assert not host.path.exists()


def test_runtime_never_only_writes_the_file(host):
    result = host.run(runtime="never", settings=SETTINGS)
    assert result["file_changed"] and result["applied"] == {}
    assert host.kernel("kernel/kptr_restrict") == "0"


def test_missing_key_fails_before_anything_changes(host):
    result = host.run(settings={"kernel.kptr_restrict": 2, "net.bridge.bridge-nf-call-iptables": 1})
    assert result["failed"] and result["missing"] == ["net.bridge.bridge-nf-call-iptables"]
    assert "net.bridge.bridge-nf-call-iptables" in result["msg"] and "ignore_missing" in result["msg"]
    assert host.kernel("kernel/kptr_restrict") == "0" and not host.path.exists()


def test_missing_key_with_ignore_missing_is_reported_and_persisted(host):
    result = host.run(ignore_missing=True, settings={"kernel.kptr_restrict": 2, "net.bridge.x": 1})
    assert not result.get("failed") and result["missing"] == ["net.bridge.x"]
    assert "net.bridge.x = 1\n" in host.path.read_text()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"kernel.kptr_restrict": "1\n2"},
            "settings['kernel.kptr_restrict']: the value '1\\n2' contains a line break",
        ),
        ({"kernel.kptr_restrict": ""}, "settings['kernel.kptr_restrict']: the value is empty"),
        ({"kernel.kptr_restrict": [1]}, "settings['kernel.kptr_restrict']: the value [1] is a list"),
        ({"kernel.kptr_restrict": None}, "settings['kernel.kptr_restrict']: the value None is a NoneType"),
        ({"kernel kptr": 1}, "settings: 'kernel kptr' is not a kernel parameter name"),
        ({"kernel": 1}, "settings: 'kernel' is not a kernel parameter name"),
        ({"kernel..x": 1}, "settings: 'kernel..x' is not a kernel parameter name"),
        ({"../../etc/passwd": 1}, "settings: '../../etc/passwd' is not a kernel parameter name"),
        ({"kernel.x = 1\nvm.y": 1}, "is not a kernel parameter name"),
    ],
)
def test_bad_keys_and_values_fail_naming_the_key_before_anything_changes(host, settings, message):
    result = host.run(settings=dict(settings, **{"vm.swappiness": 10}))
    assert result["failed"] and message in result["msg"]
    assert host.kernel("vm/swappiness") == "60" and not host.path.exists()


def test_missing_directory_is_named(host):
    path = str(host.root / "nowhere" / "x.conf")
    result = host.run(path=path, settings=SETTINGS)
    assert result["failed"] and f"the directory {os.path.dirname(path)}" in result["msg"]


# The action skips the module call when a host_state read proves the module would change nothing; its
# result must then be the module's own.
def read_of(host, settings, container=False):
    """What eightfold.devops.host_state reports for these keys and the file, on the fake kernel."""
    return {
        "container": container,
        "files": {str(host.path): host_state.file_state(str(host.path))},
        "sysctls": _host.sysctl_states(settings, proc_sys=str(host.root / "proc" / "sys")),
    }


def without_reasons(result):
    return dict(result, deferred=sorted(result["deferred"]))


@pytest.mark.parametrize(
    "args",
    [
        {"settings": SETTINGS},
        {"settings": dict(SETTINGS, **{"net.bridge.x": 1}), "ignore_missing": True},
        {"settings": {"vm.swappiness": 10}, "runtime": "never"},
    ],
)
def test_a_read_of_the_converged_host_gives_the_module_result_without_the_call(host, args):
    host.run(**args)
    expected = host.run(**args)
    assert expected["changed"] is False
    as_read = action.result_as_read(dict(args, path=str(host.path)), read_of(host, args["settings"]))
    assert as_read == {k: v for k, v in expected.items() if k in as_read}
    keys = {"changed", "path", "file_changed", "applied", "deferred", "missing", "container", "diff"}
    assert set(as_read) == keys


def test_in_a_container_the_read_gives_the_deferred_keys(host, monkeypatch):
    (host.root / ".dockerenv").touch()
    read_only(monkeypatch)
    monkeypatch.setattr(_host, "sysctl_writable", lambda path: False)
    host.run(settings=SETTINGS)
    expected = host.run(settings=SETTINGS)
    as_read = action.result_as_read(
        {"settings": SETTINGS, "path": str(host.path)}, read_of(host, SETTINGS, container=True)
    )
    assert without_reasons(as_read) == without_reasons({k: v for k, v in expected.items() if k in as_read})


@pytest.mark.parametrize(
    "what, change",
    [
        ("a value to apply", lambda host: (host.root / "proc/sys/vm/swappiness").write_text("10\n")),
        ("the file edited", lambda host: host.path.write_text("vm.swappiness = 1\n")),
        ("the file's mode", lambda host: host.path.chmod(0o600)),
        ("no file", lambda host: host.path.unlink()),
    ],
)
def test_what_the_read_cannot_prove_unchanged_goes_to_the_module(host, what, change):
    host.run(settings=SETTINGS)
    change(host)
    args = {"settings": SETTINGS, "path": str(host.path)}
    assert action.result_as_read(args, read_of(host, SETTINGS)) is None, what
    assert host.run(**args)["changed"] is True


def test_a_read_without_a_key_or_with_bad_input_goes_to_the_module(host):
    host.run(settings=SETTINGS)
    args = {"settings": dict(SETTINGS, **{"kernel.dmesg_restrict": 1}), "path": str(host.path)}
    assert action.result_as_read(args, read_of(host, SETTINGS)) is None
    missing = {"settings": dict(SETTINGS, **{"net.bridge.x": 1}), "path": str(host.path)}
    assert action.result_as_read(missing, read_of(host, missing["settings"])) is None  # the module fails
    bad = {"settings": {"kernel.kptr_restrict": [1]}, "path": str(host.path)}
    assert action.result_as_read(bad, read_of(host, SETTINGS)) is None
