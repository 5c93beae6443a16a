# ruff: noqa: E501 - literal file contents and command outputs read best on one line
"""Every check type against real files under a temporary root; commands (sshd, systemctl, nft) are given
their real output formats. The container test (test_container.py) runs the same code on a real host."""

import json
import os
import stat

from ansible_collections.eightfold.devops.plugins.module_utils import _audit as audit

UID = os.getuid()
GID = os.getgid()


def make_host(tmp_path, files=None, container=False, commands=None, programs=()):
    """A Host rooted at tmp_path with the given files; `commands` maps an argv tuple to (rc, out, err)."""
    base = {
        "etc/passwd": f"root:x:{UID}:{GID}:root:/root:/bin/sh\n",
        "etc/group": f"root:x:{GID}:\nshadow:x:42:\n",
    }
    for path, text in {**base, **(files or {})}.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for program in programs:
        target = tmp_path / program.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    calls = []

    def run(argv):
        calls.append(argv)
        key = tuple(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))
        return (commands or {}).get(key, (None, "", f"not found: {argv[0]}"))

    host = audit.Host(root=str(tmp_path), run=run, container=container)
    host.calls = calls
    return host


def ctl(check, container="enforced", cid="TST-001"):
    return {"id": cid, "title": "t", "area": "kernel", "role": "os_hardening", "severity": "low",
            "container": container, "check": check}  # fmt: skip


# sysctl


def test_sysctl_pass_fail_and_list_values(tmp_path):
    host = make_host(
        tmp_path,
        {
            "proc/sys/kernel/randomize_va_space": "2\n",
            "proc/sys/net/ipv4/tcp_rmem": "4096\t131072  6291456\n",
        },
    )
    check = {"type": "sysctl", "key": "kernel.randomize_va_space", "value": 2}
    assert audit.check_sysctl(host, check) == ("pass", "kernel.randomize_va_space = 2")
    status, evidence = audit.check_sysctl(host, {**check, "value": 1})
    assert status == "fail"
    assert "runtime kernel.randomize_va_space = 2, want 1" in evidence
    rmem = {"type": "sysctl", "key": "net.ipv4.tcp_rmem", "value": [4096, 131072, 6291456]}
    assert audit.check_sysctl(host, rmem)[0] == "pass"
    assert audit.check_sysctl(host, {**rmem, "value": "4096 131072 6291456"})[0] == "pass"


def test_sysctl_in_a_container_is_deferred_only_when_configured(tmp_path):
    files = {
        "proc/sys/kernel/kptr_restrict": "0\n",
        "proc/sys/kernel/dmesg_restrict": "0\n",
        "usr/lib/sysctl.d/50-default.conf": "kernel.kptr_restrict = 1\nkernel.dmesg_restrict = 1\n",
        "etc/sysctl.d/99-hardening.conf": "# managed\nkernel/kptr_restrict=2\n",
    }
    host = make_host(tmp_path, files, container=True)
    status, evidence = audit.check_sysctl(host, {"type": "sysctl", "key": "kernel.kptr_restrict", "value": 2})
    assert status == "deferred"
    assert "runtime kernel.kptr_restrict = 0" in evidence
    assert "configured 2 in /etc/sysctl.d/99-hardening.conf" in evidence
    # Configured to another value than the control wants: a failure even in a container.
    assert (
        audit.check_sysctl(host, {"type": "sysctl", "key": "kernel.dmesg_restrict", "value": 2})[0] == "fail"
    )
    # Not visible in this container: deferred with config, fail without.
    missing = {"type": "sysctl", "key": "kernel.yama.ptrace_scope", "value": 1}
    assert audit.check_sysctl(host, missing)[0] == "fail"
    # The same runtime mismatch outside a container is a failure.
    host = make_host(tmp_path, container=False)
    assert (
        audit.check_sysctl(host, {"type": "sysctl", "key": "kernel.kptr_restrict", "value": 2})[0] == "fail"
    )
    assert audit.check_sysctl(host, missing) == (
        "not_applicable",
        "the kernel has no kernel.yama.ptrace_scope",
    )


def test_deferred_is_a_failure_for_enforced_controls(tmp_path):
    files = {"proc/sys/kernel/sysrq": "1\n", "etc/sysctl.conf": "kernel.sysrq = 0\n"}
    host = make_host(tmp_path, files, container=True)
    check = {"type": "sysctl", "key": "kernel.sysrq", "value": 0}
    assert audit.evaluate_control(host, ctl(check, "deferred"))[0] == "deferred"
    status, evidence = audit.evaluate_control(host, ctl(check, "enforced"))
    assert status == "fail"
    assert "enforced in containers" in evidence


# key/value files


def test_file_setting_ops_last_occurrence_and_missing(tmp_path):
    files = {
        "etc/login.defs": "# c\nPASS_MAX_DAYS\t99999\nPASS_MAX_DAYS 180\nENCRYPT_METHOD YESCRYPT\nUMASK 022\n",
        "etc/security/faillock.conf": "# deny = 3\ndeny = 4\n",
    }
    host = make_host(tmp_path, files)
    ld = {"type": "file_setting", "path": "/etc/login.defs"}
    assert audit.check_file_setting(host, {**ld, "key": "PASS_MAX_DAYS", "op": "le", "value": 365}) == (
        "pass",
        "/etc/login.defs: PASS_MAX_DAYS 180",
    )
    status, evidence = audit.check_file_setting(
        host, {**ld, "key": "UMASK", "op": "in", "value": ["027", "077"]}
    )
    assert status == "fail"
    assert "UMASK 022 (want one of 027, 077)" in evidence
    assert (
        audit.check_file_setting(host, {**ld, "key": "ENCRYPT_METHOD", "op": "in", "value": ["YESCRYPT"]})[0]
        == "pass"
    )
    assert (
        audit.check_file_setting(host, {**ld, "key": "ENCRYPT_METHOD", "op": "regex", "value": "^YES"})[0]
        == "pass"
    )
    status, evidence = audit.check_file_setting(host, {**ld, "key": "PASS_MIN_DAYS", "op": "ge", "value": 1})
    assert (status, evidence) == ("fail", "PASS_MIN_DAYS is not set in /etc/login.defs")
    fl = {"type": "file_setting", "path": "/etc/security/faillock.conf", "separator": "="}
    assert audit.check_file_setting(host, {**fl, "key": "deny", "op": "le", "value": 5})[0] == "pass"
    status, evidence = audit.check_file_setting(
        host,
        {
            "type": "file_setting",
            "path": "/etc/security/pwquality.conf",
            "key": "minlen",
            "op": "ge",
            "value": 14,
        },
    )
    assert (status, evidence) == ("fail", "no file: /etc/security/pwquality.conf")


def test_file_setting_drop_ins_later_files_win(tmp_path):
    files = {
        "etc/systemd/coredump.conf": "[Coredump]\nStorage=external\n",
        "etc/systemd/coredump.conf.d/10-a.conf": "[Coredump]\nStorage=journal\n",
        "etc/systemd/coredump.conf.d/90-hardening.conf": "[Coredump]\nStorage=none\n",
    }
    host = make_host(tmp_path, files)
    check = {
        "type": "file_setting",
        "paths": ["/etc/systemd/coredump.conf", "/etc/systemd/coredump.conf.d/*.conf"],
        "key": "Storage",
        "op": "eq",
        "value": "none",
        "separator": "=",
    }
    assert audit.check_file_setting(host, check) == (
        "pass",
        "/etc/systemd/coredump.conf.d/90-hardening.conf: Storage none",
    )


# sshd

SSHD_T = """port 22
permitrootlogin without-password
maxauthtries 6
clientaliveinterval 0
ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com
macs hmac-sha2-512-etm@openssh.com,hmac-sha1
hostkey /etc/ssh/ssh_host_rsa_key
hostkey /etc/ssh/ssh_host_ecdsa_key
hostkey /etc/ssh/ssh_host_ed25519_key
allowgroups sshusers
loglevel INFO
"""


def test_sshd_ops(tmp_path):
    host = make_host(tmp_path, commands={("sshd", "-T"): (0, SSHD_T, "")}, programs=["/usr/sbin/sshd"])
    sshd = {"type": "sshd"}
    status, evidence = audit.check_sshd(host, {**sshd, "key": "permitrootlogin", "op": "eq", "value": "no"})
    assert (status, evidence) == ("fail", "permitrootlogin without-password (want no)")
    assert audit.check_sshd(host, {**sshd, "key": "maxauthtries", "op": "le", "value": 3})[0] == "fail"
    assert audit.check_sshd(host, {**sshd, "key": "maxauthtries", "op": "le", "value": 6})[0] == "pass"
    assert (
        audit.check_sshd(host, {**sshd, "key": "clientaliveinterval", "op": "range", "value": [1, 300]})[0]
        == "fail"
    )
    assert (
        audit.check_sshd(host, {**sshd, "key": "loglevel", "op": "in", "value": ["VERBOSE", "INFO"]})[0]
        == "pass"
    )
    allowed = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes256-ctr", "aes128-ctr"]
    assert audit.check_sshd(host, {**sshd, "key": "ciphers", "op": "subset", "value": allowed})[0] == "pass"
    status, evidence = audit.check_sshd(
        host, {**sshd, "key": "macs", "op": "subset", "value": ["hmac-sha2-512-etm@openssh.com"]}
    )
    assert status == "fail"
    assert evidence.endswith("not allowed: hmac-sha1")
    keys = ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
    status, evidence = audit.check_sshd(host, {**sshd, "key": "hostkey", "op": "subset", "value": keys})
    assert status == "fail"
    assert "ecdsa" in evidence
    assert (
        audit.check_sshd(host, {**sshd, "key": "macs", "op": "not_contains", "value": ["hmac-sha1"]})[0]
        == "fail"
    )
    assert audit.check_sshd(host, {**sshd, "key": ["allowgroups", "allowusers"], "op": "nonempty"}) == (
        "pass",
        "allowgroups sshusers",
    )
    assert (
        audit.check_sshd(host, {**sshd, "key": "banner", "op": "eq", "value": "/etc/issue.net"})[0] == "fail"
    )
    # sshd -T ran once for all of these.
    assert len(host.calls) == 1


def test_sshd_missing_or_broken(tmp_path):
    check = {"type": "sshd", "key": "permitrootlogin", "op": "eq", "value": "no"}
    assert audit.check_sshd(make_host(tmp_path), check) == ("not_applicable", "sshd is not installed")
    host = make_host(
        tmp_path,
        commands={("sshd", "-T"): (255, "", "/etc/ssh/sshd_config line 3: Bad option")},
        programs=["/usr/sbin/sshd"],
    )
    status, evidence = audit.check_sshd(host, check)
    assert status == "fail"
    assert "Bad option" in evidence


# files


def test_file_mode_owner_group_and_missing(tmp_path):
    host = make_host(tmp_path, {"etc/crontab": "x", "etc/cron.d/a": "x", "etc/shadow": "x"})
    (tmp_path / "etc/crontab").chmod(0o644)
    (tmp_path / "etc/cron.d").chmod(0o700)
    (tmp_path / "etc/shadow").chmod(0o640)
    status, evidence = audit.check_file_mode(
        host, {"type": "file_mode", "path": "/etc/crontab", "mode": "0600", "owner": "root"}
    )
    assert status == "fail"
    assert "/etc/crontab: mode 0644 exceeds 0600" in evidence
    (tmp_path / "etc/crontab").chmod(0o600)
    assert (
        audit.check_file_mode(
            host, {"type": "file_mode", "path": "/etc/crontab", "mode": "0600", "owner": "root"}
        )[0]
        == "pass"
    )
    status, evidence = audit.check_file_mode(
        host, {"type": "file_mode", "path": "/etc/shadow", "mode": "0640", "owner": "root", "group": "shadow"}
    )
    assert status == "fail"
    assert "group root, want shadow" in evidence
    dirs = {"type": "file_mode", "paths": ["/etc/cron.d", "/etc/cron.daily"], "mode": "0700"}
    status, evidence = audit.check_file_mode(host, dirs)
    assert status == "fail"
    assert "/etc/cron.daily: missing" in evidence
    assert audit.check_file_mode(host, {**dirs, "missing": "pass"})[0] == "pass"
    assert audit.check_file_mode(host, {**dirs, "paths": ["/etc/cron.weekly"], "missing": "not_applicable"})[
        0
    ] == ("not_applicable")


def test_file_exists_and_absent(tmp_path):
    host = make_host(tmp_path, {"etc/cron.deny": ""})
    assert audit.check_file_absent(host, {"type": "file_absent", "path": "/etc/cron.deny"}) == (
        "fail",
        "/etc/cron.deny exists",
    )
    assert audit.check_file_absent(host, {"type": "file_absent", "path": "/etc/at.deny"})[0] == "pass"
    assert (
        audit.check_file_exists(host, {"type": "file_exists", "path": "/var/lib/aide/aide.db"})[0] == "fail"
    )
    assert audit.check_file_exists(host, {"type": "file_exists", "path": "/etc/cron.deny"})[0] == "pass"


def test_file_contains_names_the_missing_pattern(tmp_path):
    files = {
        "etc/audit/rules.d/10-identity.rules": "-w /etc/passwd -p wa -k identity\n-w /etc/group -p wa -k identity\n",
        "etc/audit/rules.d/20-other.rules": "-w /etc/shadow -p wa -k identity\n",
        "etc/sudoers": "Defaults\tenv_reset\nDefaults use_pty\n",
    }
    host = make_host(tmp_path, files)
    check = {
        "type": "file_contains",
        "paths": ["/etc/audit/rules.d/*.rules"],
        "all": [
            r"^-w\s+/etc/passwd\s+-p\s+wa\b",
            r"^-w\s+/etc/shadow\s+-p\s+wa\b",
            r"^-w\s+/etc/gshadow\s+-p\s+wa\b",
        ],
    }
    status, evidence = audit.check_file_contains(host, check)
    assert status == "fail"
    assert "gshadow" in evidence
    assert "passwd" not in evidence.split(" in ")[0]
    check["all"].pop()
    assert audit.check_file_contains(host, check)[0] == "pass"
    sudo = {
        "type": "file_contains",
        "paths": ["/etc/sudoers", "/etc/sudoers.d/*"],
        "regex": r"^\s*Defaults\s+(.*[\s,])?use_pty\b",
    }
    assert audit.check_file_contains(host, sudo) == ("pass", "found in /etc/sudoers")
    none = {"type": "file_contains", "paths": ["/etc/profile.d/*.sh"], "regex": "umask"}
    assert audit.check_file_contains(host, none) == ("fail", "no file: /etc/profile.d/*.sh")


# packages

DPKG = """Package: auditd
Status: install ok installed
Version: 1

Package: telnet
Status: deinstall ok config-files
Version: 1

Package: nis
Status: install ok installed
Architecture: amd64
"""


def test_packages_from_dpkg_status(tmp_path):
    host = make_host(tmp_path, {"var/lib/dpkg/status": DPKG})
    assert (
        audit.check_package_installed(host, {"type": "package_installed", "names": ["auditd"]})[0] == "pass"
    )
    assert audit.check_package_installed(
        host, {"type": "package_installed", "names": ["auditd", "aide"]}
    ) == (
        "fail",
        "not installed: aide",
    )
    assert (
        audit.check_package_absent(host, {"type": "package_absent", "names": ["telnet", "rsh-client"]})[0]
        == "pass"
    )
    assert audit.check_package_absent(host, {"type": "package_absent", "names": ["telnet", "nis"]}) == (
        "fail",
        "installed: nis",
    )


# services


def test_services(tmp_path):
    commands = {
        ("systemctl", "is-enabled", "nftables.service"): (0, "enabled\n", ""),
        ("systemctl", "is-active", "nftables.service"): (0, "active\n", ""),
        ("systemctl", "is-enabled", "auditd"): (0, "enabled\n", ""),
        ("systemctl", "is-active", "auditd"): (3, "failed\n", ""),
        ("systemctl", "is-enabled", "fail2ban"): (
            1,
            "",
            "Failed to get unit file state for fail2ban.service: No such file or directory\n",
        ),
        ("systemctl", "is-active", "fail2ban"): (4, "inactive\n", ""),
    }
    host = make_host(tmp_path, commands=commands, programs=["/usr/bin/systemctl"], container=True)
    assert (
        audit.check_service_enabled(host, {"type": "service_enabled", "name": "nftables.service"})[0]
        == "pass"
    )
    assert (
        audit.check_service_active(host, {"type": "service_active", "name": "nftables.service"})[0] == "pass"
    )
    assert audit.check_service_enabled(host, {"type": "service_enabled", "name": "fail2ban"}) == (
        "fail",
        "fail2ban is not installed",
    )
    auditd = ctl({"type": "service_active", "name": "auditd"}, "deferred")
    status, evidence = audit.evaluate_control(host, auditd)
    assert status == "deferred"
    assert "auditd is enabled and failed (it cannot run in a container)" in evidence
    assert audit.evaluate_control(host, {**auditd, "container": "enforced"})[0] == "fail"
    assert audit.check_service_active(host, {"type": "service_active", "name": "fail2ban"})[0] == "fail"
    host.container = False
    assert audit.check_service_active(host, {"type": "service_active", "name": "auditd"})[0] == "fail"


# kernel modules


def test_kmod_disabled(tmp_path):
    files = {
        "etc/modprobe.d/eightfold.conf": "install cramfs /bin/false\nblacklist cramfs\n"
        "install usb_storage /bin/true\nblacklist usb-storage\ninstall squashfs /bin/false\nblacklist squashfs\n",
        "proc/modules": "usb_storage 77824 0 - Live 0x0\next4 1 1 - Live 0x0\n",
        "proc/mounts": "/dev/loop0 /snap/core squashfs ro 0 0\n",
    }
    host = make_host(tmp_path, files)
    assert audit.check_kmod_disabled(host, {"type": "kmod_disabled", "name": "cramfs"}) == (
        "pass",
        "install and blacklist in /etc/modprobe.d/eightfold.conf; not loaded",
    )
    status, evidence = audit.check_kmod_disabled(host, {"type": "kmod_disabled", "name": "hfs"})
    assert status == "fail"
    assert "no 'install hfs /bin/false'" in evidence
    # Configured (dash and underscore alike) but loaded: a failure on a host, deferred in a container.
    usb = {"type": "kmod_disabled", "name": "usb-storage"}
    assert audit.check_kmod_disabled(host, usb)[0] == "fail"
    host.container = True
    assert audit.check_kmod_disabled(host, usb)[0] == "deferred"
    status, evidence = audit.check_kmod_disabled(host, {"type": "kmod_disabled", "name": "squashfs"})
    assert (status, evidence) == ("fail", "squashfs in use: mounted at /snap/core")


# mounts

MOUNTINFO = """22 1 0:21 / / rw,relatime - overlay overlay rw
23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
24 22 0:23 / /dev/shm rw,nosuid,nodev - tmpfs shm rw,size=65536k
25 22 0:24 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw
"""


def test_mount_options(tmp_path):
    fstab = "tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\ntmpfs /var/tmp tmpfs nodev,nosuid,noexec 0 0\n"
    host = make_host(tmp_path, {"proc/self/mountinfo": MOUNTINFO, "etc/fstab": fstab})
    opts = ["nodev", "nosuid", "noexec"]
    assert (
        audit.check_mount_option(host, {"type": "mount_option", "path": "/tmp", "options": opts})[0] == "pass"
    )
    status, evidence = audit.check_mount_option(
        host, {"type": "mount_option", "path": "/dev/shm", "options": opts}
    )
    assert status == "fail"
    assert "without noexec" in evidence
    assert audit.check_mount_option(host, {"type": "mount_option", "path": "/home", "options": opts}) == (
        "not_applicable",
        "/home is not a separate mount",
    )
    assert (
        audit.check_mount_option(host, {"type": "mount_option", "path": "/var/tmp", "options": opts})[0]
        == "fail"
    )
    host.container = True
    assert (
        audit.check_mount_option(host, {"type": "mount_option", "path": "/dev/shm", "options": opts})[0]
        == "deferred"
    )
    assert (
        audit.check_mount_option(host, {"type": "mount_option", "path": "/var/tmp", "options": opts})[0]
        == "deferred"
    )


def test_proc_hidepid(tmp_path):
    host = make_host(tmp_path, {"proc/self/mountinfo": MOUNTINFO})
    assert audit.check_proc_hidepid(host, {"type": "proc_hidepid"})[0] == "fail"
    host = make_host(
        tmp_path, {"etc/fstab": "proc /proc proc defaults,hidepid=invisible 0 0\n"}, container=True
    )
    assert audit.check_proc_hidepid(host, {"type": "proc_hidepid"})[0] == "deferred"
    hidden = MOUNTINFO.replace("- proc proc rw", "- proc proc rw,hidepid=invisible")
    host = make_host(tmp_path, {"proc/self/mountinfo": hidden})
    assert audit.check_proc_hidepid(host, {"type": "proc_hidepid"}) == (
        "pass",
        "/proc mounted with hidepid=invisible",
    )


def test_suid_absent(tmp_path):
    host = make_host(tmp_path, programs=["/usr/bin/chfn", "/usr/bin/wall"])
    check = {"type": "suid_absent", "paths": ["/usr/bin/chfn", "/usr/bin/wall", "/usr/bin/rsh"]}
    assert audit.check_suid_absent(host, check)[0] == "pass"
    (tmp_path / "usr/bin/chfn").chmod(0o4755)
    (tmp_path / "usr/bin/wall").chmod(0o2755)
    assert stat.S_IMODE((tmp_path / "usr/bin/wall").stat().st_mode) == 0o2755
    assert audit.check_suid_absent(host, check) == (
        "fail",
        "set-id bit on /usr/bin/chfn (setuid), /usr/bin/wall (setgid)",
    )


# firewall


def nft(chains):
    return json.dumps(
        {"nftables": [{"metainfo": {"json_schema_version": 1}}] + [{"chain": c} for c in chains]}
    )


def test_nft_policy(tmp_path):
    ruleset = nft(
        [
            {
                "family": "inet",
                "table": "filter",
                "name": "input",
                "type": "filter",
                "hook": "input",
                "prio": 0,
                "policy": "drop",
            },
            {
                "family": "inet",
                "table": "filter",
                "name": "forward",
                "type": "filter",
                "hook": "forward",
                "prio": 0,
                "policy": "accept",
            },
            {"family": "inet", "table": "filter", "name": "tcp_in"},
        ]
    )
    host = make_host(
        tmp_path, commands={("nft", "-j", "list", "ruleset"): (0, ruleset, "")}, programs=["/usr/sbin/nft"]
    )
    assert audit.check_nft_policy(host, {"type": "nft_policy", "hook": "input", "policy": "drop"}) == (
        "pass",
        "inet filter input: policy drop",
    )
    assert audit.check_nft_policy(host, {"type": "nft_policy", "hook": "forward", "policy": "drop"}) == (
        "fail",
        "inet filter forward: policy accept",
    )
    assert (
        audit.check_nft_policy(host, {"type": "nft_policy", "hook": "output", "policy": "drop"})[0] == "fail"
    )
    assert audit.check_nft_policy(
        make_host(tmp_path / "other"), {"type": "nft_policy", "hook": "input", "policy": "drop"}
    ) == (
        "fail",
        "nft is not installed",
    )


# ssh moduli and banners


def test_moduli_min(tmp_path):
    line = "20230101000000 2 6 100 {} 2 FFFF\n"
    host = make_host(
        tmp_path,
        {
            "etc/ssh/moduli": "# Time Type Tests Tries Generator Size Modulus\n"
            + line.format(2047)
            + line.format(3071)
            + line.format(4095)
        },
    )
    status, evidence = audit.check_moduli_min(
        host, {"type": "moduli_min", "path": "/etc/ssh/moduli", "bits": 3071}
    )
    assert status == "fail"
    assert evidence == "1 of 3 moduli smaller than 3071 bits (sizes 2047)"
    (tmp_path / "etc/ssh/moduli").write_text(line.format(3071) + line.format(4095))
    host = make_host(tmp_path)
    assert (
        audit.check_moduli_min(host, {"type": "moduli_min", "path": "/etc/ssh/moduli", "bits": 3071})[0]
        == "pass"
    )


def test_banner(tmp_path):
    files = {
        "etc/os-release": 'ID=debian\nNAME="Debian GNU/Linux"\n',
        "etc/issue": "Debian GNU/Linux 12 \\n \\l\n",
        "etc/issue.net": "Authorised access only \\s \\r\n",
        "etc/motd": "",
        "etc/banner": "Authorised access only. Activity is logged.\n",
    }
    host = make_host(tmp_path, files)
    assert audit.check_banner(host, {"type": "banner", "path": "/etc/issue"}) == (
        "fail",
        "/etc/issue shows OS details: debian",
    )
    assert audit.check_banner(host, {"type": "banner", "path": "/etc/issue.net"}) == (
        "fail",
        "/etc/issue.net shows OS details: \\r, \\s",
    )
    assert audit.check_banner(host, {"type": "banner", "path": "/etc/motd"})[0] == "fail"
    assert audit.check_banner(host, {"type": "banner", "path": "/etc/motd", "allow_empty": True})[0] == "pass"
    assert audit.check_banner(host, {"type": "banner", "path": "/etc/banner"})[0] == "pass"


# the whole audit: skips, waivers, counts, errors


def test_audit_waivers_skip_summary_and_errors(tmp_path):
    host = make_host(tmp_path, {"etc/cron.deny": "", "proc/sys/kernel/sysrq": "1\n"}, container=False)
    controls = [
        ctl({"type": "file_absent", "path": "/etc/cron.deny"}, cid="CRON-002"),
        ctl({"type": "file_absent", "path": "/etc/at.deny"}, cid="CRON-004"),
        ctl({"type": "sysctl", "key": "kernel.sysrq", "value": 0}, cid="KRN-012"),
        ctl({"type": "file_exists", "path": "/nope"}, cid="INT-002"),
        ctl({"type": "file_mode", "path": "/etc/x", "mode": "not octal"}, cid="BRK-001"),
    ]
    waivers = [
        {"id": "CRON-002", "reason": "legacy batch host", "expires": "2030-06-30"},
        {"id": "KRN-012", "reason": "console debugging", "expires": "2030-01-31"},
        {"id": "CRON-004", "reason": "not needed", "expires": "2030-01-31"},
    ]
    result = audit.audit(controls, waivers=waivers, today="2030-02-01", skip=["INT-002"], host=host)
    by_id = {r["id"]: r for r in result["results"]}
    assert by_id["CRON-002"]["status"] == "waived"
    assert by_id["CRON-002"]["waiver"] == {"reason": "legacy batch host", "expires": "2030-06-30"}
    assert by_id["KRN-012"]["status"] == "fail"
    assert by_id["KRN-012"]["evidence"].startswith("waiver expired on 2030-01-31: console debugging;")
    assert by_id["CRON-004"]["status"] == "pass"
    assert "waiver" not in by_id["CRON-004"]
    assert by_id["INT-002"] == {
        **by_id["INT-002"],
        "status": "not_applicable",
        "evidence": "skipped by request",
    }
    assert by_id["BRK-001"]["status"] == "fail"
    assert by_id["BRK-001"]["evidence"].startswith("error evaluating file_mode: ValueError")
    assert result["summary"] == {
        "pass": 1,
        "fail": 2,
        "not_applicable": 1,
        "deferred": 0,
        "waived": 1,
        "total": 5,
    }
    assert result["failing"] == ["KRN-012", "BRK-001"]
    # The last day of a waiver still counts.
    result = audit.audit(controls[2:3], waivers=waivers, today="2030-01-31", host=host)
    assert result["results"][0]["status"] == "waived"


def test_container_detection(tmp_path):
    assert audit.Host(root=str(tmp_path)).container is False
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/environ").write_bytes(b"PATH=/bin\0container=docker\0")
    assert audit.Host(root=str(tmp_path)).container is True
