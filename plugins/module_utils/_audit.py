# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only evaluation of control catalogue checks on a Debian host (standard library only).

One function per check type (CHECKS). Each takes the Host and the control's check dict and returns
(status, evidence) with status pass, fail, not_applicable or deferred. `Host(root=...)` reads files under
another root (tests); `Host(run=...)` replaces the command runner.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import re
import shutil
import stat
import subprocess

from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    in_container,
    os_release,
    parse_dpkg_status,
    parse_fstab,
    parse_mountinfo,
)

PASS, FAIL, NA, DEFERRED, WAIVED = "pass", "fail", "not_applicable", "deferred", "waived"
STATUSES = (PASS, FAIL, NA, DEFERRED, WAIVED)
EVIDENCE_MAX = 400
SBIN = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _run_command(argv):
    """Run argv; return (rc, stdout, stderr); rc None when the program does not exist."""
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
            env=dict(os.environ, LC_ALL="C", SYSTEMD_PAGER="", SYSTEMD_COLORS="0"),
            check=False,
        )
    except FileNotFoundError:
        return None, "", f"not found: {argv[0]}"
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after 60 s: {}".format(" ".join(argv))
    return proc.returncode, proc.stdout, proc.stderr


class Host:
    """The audited host: files under `root`, commands through `run`, results cached for one audit."""

    def __init__(self, root="/", run=None, container=None):
        self.root = root or "/"
        self._run = run or _run_command
        self._cache = {}
        self.container = in_container(self.root) if container is None else container

    # files
    def path(self, path):
        if self.root == "/":
            return path
        return os.path.join(self.root, path.lstrip("/"))

    def show(self, real):
        """The host path of a real path (strips the test root)."""
        if self.root == "/":
            return real
        return "/" + os.path.relpath(real, self.root)

    def read(self, path):
        """Text of a host path, or None when it does not exist or cannot be read."""
        try:
            with open(self.path(path), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
            return None

    def glob(self, patterns):
        """Host paths matching the patterns, in pattern order, each pattern's matches sorted; no repeats."""
        out = []
        for pattern in patterns:
            for real in sorted(glob.glob(self.path(pattern))):
                shown = self.show(real)
                if shown not in out and os.path.isfile(real):
                    out.append(shown)
        return out

    def stat(self, path, follow=True):
        try:
            return os.stat(self.path(path)) if follow else os.lstat(self.path(path))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _names(self, path):
        key = ("names", path)
        if key not in self._cache:
            names = {}
            for line in (self.read(path) or "").splitlines():
                fields = line.split(":")
                if len(fields) >= 3 and fields[2].isdigit():
                    names.setdefault(int(fields[2]), fields[0])
            self._cache[key] = names
        return self._cache[key]

    def user(self, uid):
        return self._names("/etc/passwd").get(uid, str(uid))

    def group(self, gid):
        return self._names("/etc/group").get(gid, str(gid))

    # commands
    def which(self, name):
        if self.root != "/":
            for directory in SBIN:
                if os.access(self.path(os.path.join(directory, name)), os.X_OK):
                    return os.path.join(directory, name)
            return None
        found = shutil.which(name)
        if found:
            return found
        for directory in SBIN:
            candidate = os.path.join(directory, name)
            if os.access(candidate, os.X_OK):
                return candidate
        return None

    def run(self, argv):
        key = ("run", tuple(argv))
        if key not in self._cache:
            self._cache[key] = self._run(list(argv))
        return self._cache[key]

    def cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # facts


# helpers


def _short(text, limit=EVIDENCE_MAX):
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", str(text)).replace("\n", "; ").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _paths(check):
    return list(check["paths"]) if "paths" in check else [check["path"]]


def _int(value):
    try:
        return (
            int(str(value).strip(), 0)
            if str(value).strip().lower().startswith("0x")
            else int(str(value).strip())
        )
    except (TypeError, ValueError):
        return None


def _norm(value):
    return str(value).strip().lower()


def _list(items, limit=6):
    items = list(items)
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


# sysctl

SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)


def _sysctl_value(value):
    """Normalise a sysctl value: int, list of ints, or whitespace-collapsed string."""
    if isinstance(value, list):
        return [int(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parts = str(value).split()
    if parts and all(_int(p) is not None and re.match(r"^-?\d+$", p) for p in parts):
        ints = [int(p) for p in parts]
        return ints[0] if len(ints) == 1 else ints
    return " ".join(parts)


def _show_sysctl(value):
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def sysctl_config(host):
    """{key: (value, file)} as systemd-sysctl would apply it: files by name across dirs, sysctl.conf last."""

    def compute():
        by_name = {}
        for directory in reversed(SYSCTL_DIRS):  # earlier directories override same-named files
            for real in glob.glob(host.path(directory + "/*.conf")):
                by_name[os.path.basename(real)] = host.show(real)
        files = [by_name[name] for name in sorted(by_name)] + ["/etc/sysctl.conf"]
        config = {}
        for path in files:
            for line in (host.read(path) or "").splitlines():
                line = line.strip()
                if not line or line[0] in "#;" or "=" not in line:
                    continue
                key, value = line.split("=", 1)
                key = key.strip().lstrip("-").strip().replace("/", ".")
                config[key] = (value.strip(), path)
        return config

    return host.cached("sysctl_config", compute)


def check_sysctl(host, check):
    key = check["key"]
    expected = _sysctl_value(check["value"])
    raw = host.read("/proc/sys/" + key.replace(".", "/"))
    runtime = None if raw is None else _sysctl_value(raw)
    configured = sysctl_config(host).get(key)
    conf_ok = configured is not None and _sysctl_value(configured[0]) == expected
    conf_text = f"configured {configured[0]} in {configured[1]}" if configured else "not set in /etc/sysctl.d"
    want = _show_sysctl(expected)
    if runtime == expected:
        return PASS, f"{key} = {want}"
    if runtime is None:
        if not host.container:
            return NA, f"the kernel has no {key}"
        if conf_ok:
            return DEFERRED, f"{key} not visible in this container; {conf_text}"
        return FAIL, f"{key} not visible in this container and {conf_text} (want {want})"
    if host.container and conf_ok:
        return (
            DEFERRED,
            f"runtime {key} = {_show_sysctl(runtime)}, {conf_text} (container: /proc/sys is read-only)",
        )
    return FAIL, f"runtime {key} = {_show_sysctl(runtime)}, want {want}; {conf_text}"


# key/value files


def _settings(host, paths, separator):
    """Last occurrence of each key across the files (later files win); (settings, files read)."""
    settings, files = {}, []
    for path in host.glob(paths):
        text = host.read(path)
        if text is None:
            continue
        files.append(path)
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ";", "[")):
                continue
            if separator:
                if separator not in line:
                    continue
                key, value = line.split(separator, 1)
            else:
                parts = line.split(None, 1)
                key, value = parts[0], parts[1] if len(parts) > 1 else ""
            value = value.split(" #", 1)[0].strip().strip("\"'")
            settings[key.strip()] = (value, path)
    return settings, files


def _compare(op, actual, wanted):
    """(ok, description of what is wanted) for scalar comparisons."""
    if op == "eq":
        return _norm(actual) == _norm(wanted), f"want {wanted}"
    if op in ("le", "ge", "range"):
        number = _int(actual)
        if number is None:
            return False, "not a number"
        if op == "le":
            return number <= wanted, f"want at most {wanted}"
        if op == "ge":
            return number >= wanted, f"want at least {wanted}"
        return wanted[0] <= number <= wanted[1], f"want {wanted[0]} to {wanted[1]}"
    if op == "in":
        return _norm(actual) in [_norm(w) for w in wanted], f"want one of {_list(wanted)}"
    if op == "regex":
        return re.search(wanted, str(actual)) is not None, f"want a match for /{wanted}/"
    raise ValueError(f"unknown op {op}")


def check_file_setting(host, check):
    settings, files = _settings(host, _paths(check), check.get("separator"))
    where = " or ".join(_paths(check))
    if not files:
        return FAIL, f"no file: {where}"
    key = check["key"]
    if key not in settings:
        return FAIL, f"{key} is not set in {_list(files)}"
    value, path = settings[key]
    ok, wanted = _compare(check["op"], value, check["value"])
    return (PASS if ok else FAIL), "{}: {} {}{}".format(path, key, value, "" if ok else f" ({wanted})")


# sshd


def sshd_config(host):
    """(settings {key: [values]}, error) from `sshd -T`, run once; settings None when sshd is missing."""

    def compute():
        sshd = host.which("sshd")
        if not sshd:
            return None, "sshd is not installed"
        rc, out, err = host.run([sshd, "-T"])
        if rc != 0 and "privilege separation directory" in err:
            # /run/sshd exists only while sshd runs; make it in a private mount namespace, not on the host.
            unshare = host.which("unshare")
            if unshare:
                script = f"mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec {sshd} -T"
                rc, out, err = host.run([unshare, "--mount", "--propagation", "private", "sh", "-c", script])
        if rc != 0:
            return {}, f"sshd -T failed (rc {rc}): {_short(err or out, 200)}"
        settings = {}
        for line in out.splitlines():
            parts = line.strip().split(None, 1)
            if parts:
                settings.setdefault(parts[0].lower(), []).append(parts[1] if len(parts) > 1 else "")
        return settings, None

    return host.cached("sshd", compute)


def check_sshd(host, check):
    settings, error = sshd_config(host)
    if settings is None:
        return NA, error
    if error:
        return FAIL, error
    op, wanted = check["op"], check.get("value")
    if op == "nonempty":
        keys = check["key"] if isinstance(check["key"], list) else [check["key"]]
        set_keys = [k for k in keys if any(v.strip() and v.strip() != "none" for v in settings.get(k, []))]
        if set_keys:
            return PASS, "; ".join("{} {}".format(k, " ".join(settings[k])) for k in set_keys)
        return FAIL, "none of {} is set".format(" / ".join(keys))
    key = check["key"]
    if key not in settings:
        return FAIL, f"{key} is not in the sshd -T output"
    values = settings[key]
    if op in ("subset", "not_contains"):
        items = [item.strip() for value in values for item in value.split(",") if item.strip()]
        allowed = [str(w) for w in wanted]
        bad = [i for i in items if i not in allowed] if op == "subset" else [i for i in items if i in allowed]
        if bad:
            return FAIL, "{} {}: not allowed: {}".format(key, ",".join(items), _list(bad))
        return PASS, "{} {}".format(key, _short(",".join(items), 300))
    actual = values[0]
    ok, text = _compare(op, actual, wanted)
    return (PASS if ok else FAIL), "{} {}{}".format(key, actual, "" if ok else f" ({text})")


# files


def check_file_mode(host, check):
    maximum = int(check["mode"], 8)
    missing_policy = check.get("missing", "fail")
    problems, seen, missing = [], [], []
    for path in _paths(check):
        st = host.stat(path)
        if st is None:
            missing.append(path)
            continue
        mode = stat.S_IMODE(st.st_mode)
        owner, group = host.user(st.st_uid), host.group(st.st_gid)
        shown = f"{path} {mode:04o} {owner}:{group}"
        seen.append(shown)
        wrong = []
        if mode & ~maximum:
            wrong.append(f"mode {mode:04o} exceeds {maximum:04o}")
        if "owner" in check and owner != check["owner"]:
            wrong.append("owner {}, want {}".format(owner, check["owner"]))
        if "group" in check and group != check["group"]:
            wrong.append("group {}, want {}".format(group, check["group"]))
        if wrong:
            problems.append("{}: {}".format(path, ", ".join(wrong)))
    if missing and missing_policy == "fail":
        problems.extend(f"{p}: missing" for p in missing)
    if problems:
        return FAIL, "; ".join(problems)
    if not seen:
        if missing_policy == "not_applicable":
            return NA, f"missing: {_list(missing)}"
        return PASS, f"missing (allowed): {_list(missing)}"
    return PASS, "; ".join(seen)


def check_file_exists(host, check):
    st = host.stat(check["path"])
    if st is None:
        return FAIL, "{} is missing".format(check["path"])
    return PASS, "{} exists".format(check["path"])


def check_file_absent(host, check):
    if host.stat(check["path"], follow=False) is not None:
        return FAIL, "{} exists".format(check["path"])
    return PASS, "{} is absent".format(check["path"])


def check_file_contains(host, check):
    files = host.glob(_paths(check))
    texts = [(path, host.read(path)) for path in files]
    texts = [(path, text) for path, text in texts if text is not None]
    if not texts:
        return FAIL, "no file: {}".format(" or ".join(_paths(check)))
    patterns = ([check["regex"]] if "regex" in check else []) + list(check.get("all", []))
    found, missing = [], []
    for pattern in patterns:
        regex = re.compile(pattern, re.MULTILINE)
        where = next((path for path, text in texts if regex.search(text)), None)
        if where is None:
            missing.append(pattern)
        elif where not in found:
            found.append(where)
    if missing:
        return FAIL, "missing /{}/ in {}".format("/, /".join(missing), _list([item[0] for item in texts], 4))
    return PASS, f"found in {_list(found)}"


# packages


def dpkg_installed(host):
    def compute():
        text = host.read("/var/lib/dpkg/status")
        return None if text is None else set(parse_dpkg_status(text))

    return host.cached("dpkg", compute)


def check_package_installed(host, check):
    installed = dpkg_installed(host)
    if installed is None:
        return FAIL, "no dpkg status database (/var/lib/dpkg/status)"
    missing = [n for n in check["names"] if n not in installed]
    if missing:
        return FAIL, f"not installed: {_list(missing)}"
    return PASS, "installed: {}".format(_list(check["names"]))


def check_package_absent(host, check):
    installed = dpkg_installed(host)
    if installed is None:
        return FAIL, "no dpkg status database (/var/lib/dpkg/status)"
    present = [n for n in check["names"] if n in installed]
    if present:
        return FAIL, f"installed: {_list(present)}"
    return PASS, "none installed of {}".format(_list(check["names"]))


# services

ENABLED = ("enabled", "enabled-runtime", "alias", "generated")


def _systemctl(host, verb, name):
    systemctl = host.which("systemctl")
    if not systemctl:
        return None, "systemctl not found"
    _rc, out, err = host.run([systemctl, verb, name])
    state = out.strip().splitlines()[0] if out.strip() else ""
    return state, _short(err, 160)


def check_service_enabled(host, check):
    state, err = _systemctl(host, "is-enabled", check["name"])
    if state is None:
        return FAIL, err
    if state in ENABLED:
        return PASS, "{} is {}".format(check["name"], state)
    return FAIL, "{} is {}".format(
        check["name"], state or ("not installed" if "No such file" in err else err)
    )


def check_service_active(host, check):
    name = check["name"]
    state, err = _systemctl(host, "is-active", name)
    if state is None:
        return FAIL, err
    if state == "active":
        return PASS, f"{name} is active"
    enabled, _enabled_err = _systemctl(host, "is-enabled", name)
    if not enabled:
        return FAIL, f"{name} is {state or err}; unit not installed"
    # Installed and configured: a container may keep it disabled so that it does not fail at each boot.
    if host.container:
        return DEFERRED, f"{name} is {enabled} and {state} (it cannot run in a container)"
    return FAIL, f"{name} is {state or err} ({enabled})"


# kernel modules

MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
STOPPERS = r"(/usr)?/bin/(false|true)"


def _mod_pattern(name):
    return "".join("[-_]" if ch in "-_" else re.escape(ch) for ch in name)


def check_kmod_disabled(host, check):
    name = check["name"]
    canonical = name.replace("-", "_")
    files = host.glob([d + "/*.conf" for d in MODPROBE_DIRS])
    install_re = re.compile(rf"^\s*install\s+{_mod_pattern(name)}\s+{STOPPERS}\b", re.MULTILINE)
    blacklist_re = re.compile(rf"^\s*blacklist\s+{_mod_pattern(name)}\s*$", re.MULTILINE)
    install_in = blacklist_in = None
    for path in files:
        text = host.read(path) or ""
        if install_in is None and install_re.search(text):
            install_in = path
        if blacklist_in is None and blacklist_re.search(text):
            blacklist_in = path
    mounts = [
        line.split()[1]
        for line in (host.read("/proc/mounts") or "").splitlines()
        if len(line.split()) > 2 and line.split()[2].replace("-", "_") == canonical
    ]
    if mounts:
        return FAIL, f"{name} in use: mounted at {_list(mounts, 3)}"
    missing = []
    if not install_in:
        missing.append(f"no 'install {name} /bin/false'")
    if not blacklist_in:
        missing.append(f"no 'blacklist {name}'")
    if missing:
        return FAIL, "{} in modprobe.d".format(" and ".join(missing))
    modules = host.read("/proc/modules") or ""
    loaded = any(line.split()[0] == canonical for line in modules.splitlines() if line.split())
    configured = f"install and blacklist in {_list(sorted({install_in, blacklist_in}))}"
    if loaded:
        if host.container:
            return DEFERRED, f"{name} is loaded in the host kernel; {configured}"
        return FAIL, f"{name} is loaded (unload it or reboot); {configured}"
    return PASS, f"{configured}; not loaded"


# mounts


def _mountinfo(host):
    """[(mount point, options)] from /proc/self/mountinfo, the mount's own options then its superblock's."""
    return [
        (point, entry["options"])
        for point, entry in parse_mountinfo(host.read("/proc/self/mountinfo") or "").items()
    ]


def _fstab(host):
    return {
        point: (entry["fstype"], entry["options"])
        for point, entry in parse_fstab(host.read("/etc/fstab") or "").items()
    }


def check_mount_option(host, check):
    path, wanted = check["path"], check["options"]
    entries = [e for e in _mountinfo(host) if e[0] == path]
    fstab = _fstab(host).get(path)
    fstab_ok = fstab is not None and all(o in fstab[1] for o in wanted)
    fstab_text = "fstab: {}".format(",".join(fstab[1])) if fstab else "no fstab entry"
    if not entries:
        if fstab is None:
            return NA, f"{path} is not a separate mount"
        if host.container and fstab_ok:
            return DEFERRED, f"{path} is not mounted in this container; {fstab_text}"
        return FAIL, f"{path} is not mounted; {fstab_text}"
    options = entries[-1][1]
    missing = [o for o in wanted if o not in options]
    if not missing:
        return PASS, "{} mounted {}".format(path, ",".join(o for o in options if o in wanted))
    if host.container and fstab_ok:
        return DEFERRED, "{} mounted without {}; {}".format(path, ",".join(missing), fstab_text)
    return FAIL, "{} mounted without {}; {}".format(path, ",".join(missing), fstab_text)


HIDEPID_OK = ("hidepid=2", "hidepid=invisible", "hidepid=4", "hidepid=ptraceable")


def check_proc_hidepid(host, check):
    entries = [e for e in _mountinfo(host) if e[0] == "/proc"]
    options = entries[-1][1] if entries else []
    current = [o for o in options if o.startswith("hidepid=")]
    if any(o in HIDEPID_OK for o in options):
        return PASS, "/proc mounted with {}".format(",".join(current))
    fstab = _fstab(host).get("/proc")
    fstab_ok = fstab is not None and any(o in HIDEPID_OK for o in fstab[1])
    fstab_text = "fstab: {}".format(",".join(fstab[1])) if fstab else "no fstab entry for /proc"
    if host.container and fstab_ok:
        return DEFERRED, "/proc mounted {}; {}".format(",".join(current) or "without hidepid", fstab_text)
    return FAIL, "/proc mounted {}; {}".format(",".join(current) or "without hidepid", fstab_text)


def check_suid_absent(host, check):
    found, present = [], 0
    for path in check["paths"]:
        st = host.stat(path)
        if st is None:
            continue
        present += 1
        bits = [b for b, flag in (("setuid", stat.S_ISUID), ("setgid", stat.S_ISGID)) if st.st_mode & flag]
        if bits:
            found.append("{} ({})".format(path, "+".join(bits)))
    if found:
        return FAIL, f"set-id bit on {_list(found, 8)}"
    return PASS, f"no set-id bit on the {present} of {len(check['paths'])} listed programs present"


# firewall


def nft_ruleset(host):
    def compute():
        nft = host.which("nft")
        if not nft:
            return None, "nft is not installed"
        rc, out, err = host.run([nft, "-j", "list", "ruleset"])
        if rc != 0:
            return None, f"nft -j list ruleset failed (rc {rc}): {_short(err or out, 200)}"
        try:
            data = json.loads(out or "{}")
        except ValueError as exc:
            return None, f"nft -j output is not JSON: {exc}"
        return data.get("nftables", []), None

    return host.cached("nft", compute)


def check_nft_policy(host, check):
    items, error = nft_ruleset(host)
    if items is None:
        return FAIL, error
    hook, policy = check["hook"], check["policy"]
    chains = [i["chain"] for i in items if isinstance(i, dict) and isinstance(i.get("chain"), dict)]
    base = [c for c in chains if c.get("hook") == hook]
    shown = [
        "{} {} {}: policy {}".format(
            c.get("family"), c.get("table"), c.get("name"), c.get("policy", "accept")
        )
        for c in base
    ]
    if any(c.get("policy", "accept") == policy for c in base):
        return PASS, _list(shown, 4)
    if not base:
        return FAIL, f"no base chain on hook {hook}"
    return FAIL, _list(shown, 4)


# ssh moduli and banners


def check_moduli_min(host, check):
    text = host.read(check["path"])
    if text is None:
        return NA, "{} is missing (no SSH server)".format(check["path"])
    sizes = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 7 and not line.lstrip().startswith("#") and fields[4].isdigit():
            sizes.append(int(fields[4]))
    if not sizes:
        return FAIL, "{} has no moduli".format(check["path"])
    small = sorted({s for s in sizes if s < check["bits"]})
    if small:
        count = sum(1 for s in sizes if s < check["bits"])
        return FAIL, (
            f"{count} of {len(sizes)} moduli smaller than {check['bits']} bits (sizes {_list(small)})"
        )
    return PASS, f"{len(sizes)} moduli, smallest {min(sizes)} bits"


BANNER_ESCAPES = re.compile(r"\\[mrsv]")


def check_banner(host, check):
    path = check["path"]
    text = host.read(path)
    allow_empty = check.get("allow_empty", False)
    if text is None:
        return (PASS, f"{path} is absent") if allow_empty else (FAIL, f"{path} is missing")
    if not text.strip():
        return (PASS, f"{path} is empty") if allow_empty else (FAIL, f"{path} is empty")
    problems = sorted(set(BANNER_ESCAPES.findall(text)))
    own = os_release(host.root).get("ID", "").lower()
    names = sorted({"debian", own} - {""})
    problems += [n for n in names if re.search(r"\b" + re.escape(n) + r"\b", text, re.IGNORECASE)]
    if problems:
        return FAIL, "{} shows OS details: {}".format(path, ", ".join(problems))
    return PASS, f"{path} has {len(text.splitlines())} lines and no OS details"


CHECKS = {
    "sysctl": check_sysctl,
    "file_setting": check_file_setting,
    "sshd": check_sshd,
    "file_mode": check_file_mode,
    "file_exists": check_file_exists,
    "file_absent": check_file_absent,
    "file_contains": check_file_contains,
    "package_installed": check_package_installed,
    "package_absent": check_package_absent,
    "service_enabled": check_service_enabled,
    "service_active": check_service_active,
    "kmod_disabled": check_kmod_disabled,
    "mount_option": check_mount_option,
    "proc_hidepid": check_proc_hidepid,
    "suid_absent": check_suid_absent,
    "nft_policy": check_nft_policy,
    "moduli_min": check_moduli_min,
    "banner": check_banner,
}


def evaluate_control(host, control):
    """(status, evidence) of one control; an unexpected error is a fail with the error as evidence."""
    check = control.get("check") or {}
    func = CHECKS.get(check.get("type"))
    if func is None:
        return FAIL, "unknown check type {!r}".format(check.get("type"))
    try:
        status, evidence = func(host, check)
    except Exception as exc:
        return FAIL, "error evaluating {}: {}: {}".format(check.get("type"), type(exc).__name__, exc)
    if status == DEFERRED and not (host.container and control.get("container") == "deferred"):
        status = FAIL
        evidence += " (control {} is enforced in containers too)".format(control.get("id"))
    return status, evidence


def _parse_day(value):
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value).strip())


def audit(controls, waivers=None, today=None, skip=None, host=None):
    """Evaluate every control; apply skips and waivers; return the module's result dict (no 'changed')."""
    host = host or Host()
    today = _parse_day(today) if today else datetime.date.today()
    waived = {w["id"]: w for w in waivers or []}
    skipped = set(skip or [])
    results = []
    for control in controls:
        cid = control["id"]
        if cid in skipped:
            status, evidence = NA, "skipped by request"
        else:
            status, evidence = evaluate_control(host, control)
        result = {
            "id": cid,
            "title": control.get("title", ""),
            "area": control.get("area", ""),
            "role": control.get("role", ""),
            "severity": control.get("severity", ""),
            "cis": control.get("cis"),
            "container": control.get("container", "enforced"),
            "status": status,
            "evidence": _short(evidence),
        }
        waiver = waived.get(cid)
        if waiver and status == FAIL:
            info = {"reason": str(waiver["reason"]), "expires": str(waiver["expires"])}
            result["waiver"] = info
            if _parse_day(waiver["expires"]) >= today:
                result["status"] = WAIVED
                result["evidence"] = _short(
                    "waived until {}: {}; {}".format(info["expires"], info["reason"], evidence)
                )
            else:
                result["evidence"] = _short(
                    "waiver expired on {}: {}; {}".format(info["expires"], info["reason"], evidence)
                )
        results.append(result)
    summary = {s: 0 for s in STATUSES}
    for result in results:
        summary[result["status"]] += 1
    summary["total"] = len(results)
    release = os_release(host.root)
    return {
        "results": results,
        "summary": summary,
        "failing": [r["id"] for r in results if r["status"] == FAIL],
        "container": host.container,
        "host": {
            "hostname": os.uname().nodename
            if host.root == "/"
            else (host.read("/etc/hostname") or "").strip(),
            "os": release.get("PRETTY_NAME", ""),
            "os_id": release.get("ID", ""),
            "os_version": release.get("VERSION_ID", ""),
            "kernel": os.uname().release,
        },
        "today": today.isoformat(),
        "audited_at": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
    }
