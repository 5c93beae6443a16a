#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release
short_description: Unpack a verified artifact into a release directory and switch the current link atomically
version_added: 0.1.0
description:
  - Manages an ansistrano-style layout under O(path) in one call
    (C(releases/<version>/) directories and a C(current) symlink that points to one of them).
  - V(present) unpacks the tarball O(src), already on the host, into C(releases/<version>) after checking
    its sha256 against O(sha256). The archive is unpacked into a hidden temporary directory next to the
    releases and renamed into place, so a release directory is always complete.
  - V(current) does the same when needed and switches C(current) to the release atomically (a symlink to a
    temporary name, then C(rename(2)) over C(current)), so a reader sees the old or the new release, never
    none.
  - V(rollback) switches C(current) back to the release that was current before it, or to the release
    O(version) names.
  - Keeps the O(keep) most recently unpacked or used releases and removes older ones; the
    current release and the previous one (the rollback target) are never removed.
  - "Archive members are checked before anything is unpacked: an absolute path, a C(..) component, a
    symlink or hard link that leaves the release directory, a path through a symlink of the archive, and
    device or FIFO files are refused, naming the member. Set-id bits and group/other write bits are
    cleared; ownership in the archive is ignored (O(owner)/O(group) set it)."
  - "The module keeps its bookkeeping in C(<path>/.release-state.json): the order releases were unpacked
    and activated (for O(keep) and for what is previous) and the sha256 each release was unpacked from.
    A version once unpacked on a host is immutable: the same version from an artifact with a different
    sha256 fails."
author:
  - eightfold.devops maintainers (@eightfold)
options:
  path:
    description:
      - Absolute base directory. The module creates it (mode 0755) and C(releases/) under it when missing.
    type: path
    required: true
  version:
    description:
      - The release version, the name of its directory under C(releases/).
      - Must match C(^[A-Za-z0-9][A-Za-z0-9._+-]*$).
      - Required for V(present) and V(current). For V(rollback), the release to roll back to (it must
        exist); without it, the previous release.
    type: str
  src:
    description:
      - Path of the artifact tarball on the managed host (any compression Python's tarfile reads).
      - Required for V(present) and V(current). Only read when the release is not unpacked yet or the file
        exists (then its checksum is verified too); a missing O(src) for a release already unpacked is fine.
    type: path
  sha256:
    description:
      - The expected sha256 of O(src), 64 hex digits, optionally prefixed with C(sha256:).
      - Required with O(src). A mismatch fails naming the expected and the actual checksum; nothing changes.
    type: str
    aliases: [checksum]
  state:
    description:
      - V(present) unpacks the release only; V(current) unpacks it when needed and makes it current;
        V(rollback) makes the previous (or the named) release current.
      - A V(rollback) without O(version) goes one step back each time it runs; pass O(version) for a
        repeatable (idempotent) rollback.
    type: str
    choices: [present, current, rollback]
    default: current
  keep:
    description:
      - How many releases to keep, counting the current one. V(0) keeps all.
      - The current and the previous release are always kept, so V(1) keeps two.
    type: int
    default: 5
  strip_components:
    description: Leading path components removed from member names, like C(tar --strip-components).
    type: int
    default: 0
  owner:
    description:
      - Owner (name or UID) of the release directory and everything in it. Default, the module's user.
    type: str
  group:
    description:
      - Group (name or GID) of the release directory and everything in it. Default, the module's group.
    type: str
  mode:
    description:
      - Mode of the release directory itself, an octal string such as V('0755') (default V('0755') for a new
        release). Modes of the members come from the archive.
    type: raw
attributes:
  check_mode:
    support: full
    description:
      - Reports what would change (unpack, switch, removals) and touches nothing. The checksum and the
        archive members are verified when O(src) exists; when it does not exist yet (for example because
        the task that copies it ran in check mode too), a warning says so.
  diff_mode:
    support: full
    description: Before and after of the C(current) target and of the list of releases.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (Debian 12 and 13 are tested); Python 3.9 or later on the host.
notes:
  - Runs with the standard library only.
  - Concurrent calls for the same O(path) are serialised with a lock file (C(<path>/.release.lock)).
  - C(current) is a relative symlink (C(releases/<version>)), so the base directory may be moved or
    bind-mounted.
seealso:
  - module: ansible.builtin.unarchive
  - name: ansistrano
    description: The release directory layout this module follows.
    link: https://github.com/ansistrano/deploy
"""

EXAMPLES = r"""
- name: Copy the artifact to the host
  ansible.builtin.copy:
    src: "artifacts/notes-1.4.0.tar.gz"
    dest: /var/cache/notes/notes-1.4.0.tar.gz
    mode: "0644"

- name: Unpack and switch to 1.4.0
  eightfold.devops.release:
    path: /srv/notes
    version: "1.4.0"
    src: /var/cache/notes/notes-1.4.0.tar.gz
    sha256: "{{ notes_artifact_sha256 }}"
    owner: root
    group: notes
    keep: 5
  register: notes_release

- name: Restart the service when the release changed
  ansible.builtin.systemd_service:
    name: notes
    state: restarted
  when: notes_release.changed

- name: Only unpack (pre-stage before a drain)
  eightfold.devops.release:
    path: /srv/notes
    version: "1.4.0"
    src: /var/cache/notes/notes-1.4.0.tar.gz
    sha256: "{{ notes_artifact_sha256 }}"
    state: present

- name: Roll back to the release that was current before
  eightfold.devops.release:
    path: /srv/notes
    state: rollback

- name: Roll back to a named release (repeatable)
  eightfold.devops.release:
    path: /srv/notes
    state: rollback
    version: "{{ notes_release.before_version }}"
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would change in check mode).
  returned: always
  type: bool
version:
  description:
    - The release the call acted on (O(version), or the rollback target).
  returned: success
  type: str
  sample: "1.4.0"
current_version:
  description: The release C(current) points to after the call; null when there is none.
  returned: always
  type: str
  sample: "1.4.0"
before_version:
  description: The release C(current) pointed to before the call; null when there was none.
  returned: always
  type: str
  sample: "1.3.2"
previous_version:
  description:
    - The release a V(rollback) without O(version) would go to now (the one that was current before
      RV(current_version)); null when there is none. After a switch, the release that was current before.
  returned: always
  type: str
  sample: "1.3.2"
path:
  description: The directory of the release RV(version).
  returned: success
  type: str
  sample: /srv/notes/releases/1.4.0
link:
  description: The C(current) symlink.
  returned: always
  type: str
  sample: /srv/notes/current
releases:
  description:
    - The releases on the host after the call, oldest first (by when they were unpacked or last used).
  returned: always
  type: list
  elements: str
  sample: ["1.3.1", "1.3.2", "1.4.0"]
removed:
  description: Releases removed (or that would be removed) to keep O(keep).
  returned: always
  type: list
  elements: str
  sample: ["1.2.0"]
unpacked:
  description: Whether the release was (or would be) unpacked by this call.
  returned: always
  type: bool
switched:
  description: Whether C(current) was (or would be) switched by this call.
  returned: always
  type: bool
sha256:
  description: The actual sha256 of O(src) when it was read; in a checksum failure, the actual one.
  returned: when O(src) was read
  type: str
expected:
  description: The expected sha256, in a checksum failure.
  returned: failure
  type: str
member:
  description: The archive member refused, in a failure over an unsafe member.
  returned: failure
  type: str
"""

import errno
import fcntl
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
SHA256_RE = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")
OCTAL_MODE_RE = re.compile(r"^0?[0-7]{3,4}$")
STATE_FILE = ".release-state.json"
LOCK_FILE = ".release.lock"
LINK_NAME = "current"
RELEASES = "releases"


class ReleaseError(Exception):
    """A failure with a message for the user and extra return values."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


# --- parameters -----------------------------------------------------------------------------------------


def check_version(version, name="version"):
    if not VERSION_RE.match(version) or len(version) > 128:
        raise ReleaseError(
            f"{name} {version!r} is not a valid version: it must match ^[A-Za-z0-9][A-Za-z0-9._+-]*$ "
            "(at most 128 characters)"
        )
    return version


def check_sha256(value):
    match = SHA256_RE.match(value.strip())
    if not match:
        raise ReleaseError(f"sha256 {value!r} is not a sha256 checksum (64 hex digits, optionally 'sha256:')")
    return match.group(1).lower()


def check_mode_value(mode):
    if mode is None:
        return None
    if isinstance(mode, bool):
        raise ReleaseError(f"mode {mode!r} is not an octal mode like '0755'")
    if isinstance(mode, int):
        # As in ansible.builtin.file: an int is the mode itself (YAML 0755 arrives as 493).
        if 0 <= mode <= 0o7777:
            return mode
        raise ReleaseError(f"mode {mode!r} is out of range")
    text = str(mode).strip()
    if not OCTAL_MODE_RE.match(text):
        raise ReleaseError(f"mode {mode!r} is not an octal mode like '0755'")
    return int(text, 8)


def resolve_user(owner):
    if owner is None:
        return -1
    if owner.isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise ReleaseError(f"owner {owner!r} does not exist on the host") from None


def resolve_group(group):
    if group is None:
        return -1
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ReleaseError(f"group {group!r} does not exist on the host") from None


# --- the archive ----------------------------------------------------------------------------------------


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parts(name):
    return [part for part in name.split("/") if part not in ("", ".")]


def safe_members(archive, strip):
    """The members to extract, renamed and sanitised; ReleaseError naming the first unsafe member."""
    members = []
    links = set()  # paths of symlinks and hard links in the archive
    euid, egid = os.geteuid(), os.getegid()
    for member in archive.getmembers():
        name = member.name

        def refuse(why, name=name):
            raise ReleaseError(f"archive member {name!r} {why}: nothing unpacked", member=name)

        if name.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", name):
            refuse("has an absolute path")
        parts = _parts(name)
        if ".." in parts:
            refuse("has '..' in its path")
        if len(parts) <= strip:
            continue  # the leading directories strip_components removes (and the archive's '.')
        parts = parts[strip:]
        rel = "/".join(parts)
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in links:
                refuse(f"goes through the link {'/'.join(parts[:depth])!r} of the archive")
        if member.issym():
            target = member.linkname
            if target.startswith("/"):
                refuse(f"is a symlink to an absolute path ({target})")
            resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
            if resolved == ".." or resolved.startswith("../"):
                refuse(f"is a symlink leaving the release directory ({target})")
            links.add(rel)
        elif member.islnk():
            target = member.linkname
            if target.startswith("/"):
                refuse(f"is a hard link to an absolute path ({target})")
            target_parts = _parts(target)
            if ".." in target_parts:
                refuse(f"is a hard link leaving the release directory ({target})")
            if len(target_parts) <= strip:
                refuse(f"is a hard link to {target!r}, which strip_components removes")
            member.linkname = "/".join(target_parts[strip:])
            links.add(rel)
        elif member.ischr() or member.isblk() or member.isfifo():
            refuse("is a device or FIFO")
        elif not (member.isfile() or member.isdir()):
            refuse("is of a type that cannot be unpacked")
        member.name = rel
        # Ownership of the archive is ignored (owner/group set it); no set-id bits, no group/other write.
        member.uid, member.gid, member.uname, member.gname = euid, egid, "", ""
        if not member.issym():
            member.mode = (member.mode & 0o755) | (0o700 if member.isdir() else 0o600)
        members.append(member)
    return members


def open_archive(src):
    try:
        return tarfile.open(src, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ReleaseError(f"src {src} is not a tar archive that can be read: {exc}") from None


def unpack(src, strip, destination, workdir):
    """Unpack src into destination (which must not exist) through a temporary directory in workdir."""
    with open_archive(src) as archive:
        members = safe_members(archive, strip)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(destination)}.partial-", dir=workdir)
        try:
            os.chmod(tmp, 0o755)
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(tmp, members=members, **kwargs)  # members checked above
            os.rename(tmp, destination)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def check_archive(src, strip):
    """Check mode: verify the members without unpacking."""
    with open_archive(src) as archive:
        safe_members(archive, strip)


# --- the layout -----------------------------------------------------------------------------------------


class Layout:
    def __init__(self, base):
        self.base = base
        self.releases_dir = os.path.join(base, RELEASES)
        self.link = os.path.join(base, LINK_NAME)
        self.state_file = os.path.join(base, STATE_FILE)

    def check(self):
        if os.path.lexists(self.base) and not os.path.isdir(self.base):
            raise ReleaseError(f"path {self.base} exists and is not a directory")
        if os.path.lexists(self.releases_dir) and not os.path.isdir(self.releases_dir):
            raise ReleaseError(f"{self.releases_dir} exists and is not a directory")
        if os.path.lexists(self.link) and not os.path.islink(self.link):
            raise ReleaseError(f"{self.link} exists and is not a symlink; move it away first")

    def on_disk(self):
        if not os.path.isdir(self.releases_dir):
            return set()
        return {
            entry.name
            for entry in os.scandir(self.releases_dir)
            if VERSION_RE.match(entry.name) and entry.is_dir(follow_symlinks=False)
        }

    def current(self):
        if not os.path.islink(self.link):
            return None
        target = os.readlink(self.link)
        head, version = os.path.split(target.rstrip("/"))
        if head not in (RELEASES, self.releases_dir) or not VERSION_RE.match(version):
            raise ReleaseError(
                f"{self.link} points to {target}, not to a release under {self.releases_dir}; "
                "fix or remove the link first"
            )
        return version

    def release_path(self, version):
        return os.path.join(self.releases_dir, version)

    def load_state(self):
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {"order": [], "stack": [], "sha256": {}}
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"cannot read {self.state_file}: {exc}; remove it to start over") from None
        if not isinstance(data, dict):
            raise ReleaseError(f"{self.state_file} is not a JSON object; remove it to start over")
        return {
            "order": [v for v in data.get("order", []) if isinstance(v, str)],
            "stack": [v for v in data.get("stack", []) if isinstance(v, str)],
            "sha256": {k: v for k, v in dict(data.get("sha256", {})).items() if isinstance(v, str)},
        }

    def save_state(self, state):
        text = json.dumps(state, indent=2, sort_keys=True) + "\n"
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                if handle.read() == text:
                    return
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(prefix=".release-state.", dir=self.base)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.state_file)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise

    def switch(self, version):
        tmp = os.path.join(self.base, f".{LINK_NAME}.{os.getpid()}.{os.urandom(4).hex()}")
        os.symlink(os.path.join(RELEASES, version), tmp)
        try:
            os.replace(tmp, self.link)
        except BaseException:
            os.unlink(tmp)
            raise
        fsync_dir(self.base)

    def remove(self, version):
        path = self.release_path(version)
        doomed = os.path.join(self.releases_dir, f".{version}.removing-{os.urandom(4).hex()}")
        os.rename(path, doomed)  # a half-removed release never shows under its name
        shutil.rmtree(doomed)

    def clean_partials(self):
        if not os.path.isdir(self.releases_dir):
            return
        for entry in os.scandir(self.releases_dir):
            if entry.name.startswith(".") and (".partial-" in entry.name or ".removing-" in entry.name):
                shutil.rmtree(entry.path, ignore_errors=True)


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def attributes_to_fix(root, uid, gid, mode):
    """(path, what) pairs where owner/group (whole tree) or mode (root only) differ."""
    todo = []
    if mode is not None and stat.S_IMODE(os.lstat(root).st_mode) != mode:
        todo.append((root, "mode"))
    if uid == -1 and gid == -1:
        return todo
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [None, *dirnames, *filenames]:
            path = dirpath if name is None else os.path.join(dirpath, name)
            st = os.lstat(path)
            if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
                todo.append((path, "owner"))
    return todo


def fix_attributes(todo, uid, gid, mode):
    for path, what in todo:
        if what == "mode":
            os.chmod(path, mode)
        else:
            os.lchown(path, uid, gid)


# --- the run --------------------------------------------------------------------------------------------


def move_to_end(items, value):
    return [item for item in items if item != value] + [value]


def describe(version, releases):
    lines = [f"current -> {RELEASES}/{version}" if version else "current: (none)", "releases:"]
    lines += [f"  - {release}" for release in releases] or ["  (none)"]
    return "\n".join(lines) + "\n"


def run(module):
    params = module.params
    check = module.check_mode
    base = params["path"]
    if not os.path.isabs(base):
        raise ReleaseError(f"path must be absolute: {base}")
    base = os.path.normpath(base)
    state = params["state"]
    version = check_version(params["version"]) if params["version"] is not None else None
    expected = check_sha256(params["sha256"]) if params["sha256"] is not None else None
    if params["keep"] < 0:
        raise ReleaseError(f"keep must be 0 (keep all) or more, not {params['keep']}")
    if params["strip_components"] < 0:
        raise ReleaseError(f"strip_components must be 0 or more, not {params['strip_components']}")
    if state == "rollback" and params["src"] is not None:
        raise ReleaseError("src applies to state present and current, not to rollback")
    mode = check_mode_value(params["mode"])
    uid, gid = resolve_user(params["owner"]), resolve_group(params["group"])

    layout = Layout(base)
    layout.check()
    lock = None
    if not check:
        os.makedirs(base, mode=0o755, exist_ok=True)
        lock = open(os.path.join(base, LOCK_FILE), "a", encoding="utf-8")  # noqa: SIM115 - held until the run ends
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return locked_run(module, layout, state, version, expected, mode, uid, gid)
    finally:
        if lock is not None:
            lock.close()


def locked_run(module, layout, state, version, expected, mode, uid, gid):
    params = module.params
    check = module.check_mode
    if not check:
        layout.clean_partials()
    book = layout.load_state()
    on_disk = layout.on_disk()
    current = layout.current()
    if current is not None and current not in on_disk:
        raise ReleaseError(
            f"{layout.link} points to {current}, which does not exist under {layout.releases_dir}"
        )

    # Reconcile the bookkeeping with what is on disk (a release removed by hand, a link set by hand).
    order = sorted(v for v in on_disk if v not in book["order"]) + [v for v in book["order"] if v in on_disk]
    stack = [v for v in book["stack"] if v in on_disk]
    if current is None:
        stack = []
    elif not stack or stack[-1] != current:
        stack = move_to_end(stack, current)
    sums = {v: s for v, s in book["sha256"].items() if v in on_disk}

    result = dict(changed=False, unpacked=False, switched=False, removed=[], link=layout.link)
    before = (current, sorted(on_disk, key=order.index))
    actual = None
    target = current

    if state in ("present", "current"):
        src = params["src"]
        release = layout.release_path(version)
        exists = version in on_disk
        if os.path.exists(src):
            actual = sha256_of(src)
            result["sha256"] = actual
            if actual != expected:
                raise ReleaseError(
                    f"sha256 of {src} is {actual}, expected {expected}: nothing changed",
                    expected=expected,
                    sha256=actual,
                )
        elif not exists:
            if not check:
                raise ReleaseError(f"src {src} does not exist on the host: nothing changed")
            module.warn(
                f"src {src} does not exist (yet): check mode assumes it will, and has not verified it"
            )
        if exists and sums.get(version, expected) != expected:
            raise ReleaseError(
                f"release {version} under {layout.releases_dir} was unpacked from an artifact with sha256 "
                f"{sums[version]}, not {expected}: a version is immutable, release the new artifact under a "
                "new version",
                expected=expected,
            )
        if not exists:
            if check:
                if actual is not None:
                    check_archive(src, params["strip_components"])
            else:
                os.makedirs(layout.releases_dir, mode=0o755, exist_ok=True)
                unpack(src, params["strip_components"], release, layout.releases_dir)
                os.chmod(release, mode if mode is not None else 0o755)
            result["unpacked"] = True
            on_disk.add(version)
            order = move_to_end(order, version)
        sums[version] = expected
        if exists or not check:
            todo = attributes_to_fix(release, uid, gid, mode)
            if todo:
                result["changed"] = True
                if not check:
                    fix_attributes(todo, uid, gid, mode)
        elif uid != -1 or gid != -1:
            result["changed"] = True
        if state == "current" and current != version:
            target = version
            stack = move_to_end(stack, version)
            order = move_to_end(order, version)
    else:  # rollback
        if version is not None:
            if version not in on_disk:
                raise ReleaseError(
                    f"cannot roll back to {version}: no such release under {layout.releases_dir} "
                    f"(releases: {', '.join(sorted(on_disk, key=order.index)) or 'none'})"
                )
            target = version
        elif current is None:
            raise ReleaseError(f"cannot roll back: {layout.link} does not exist (no current release)")
        elif len(stack) < 2:
            raise ReleaseError(
                f"cannot roll back: no previous release of {current} under {layout.releases_dir} "
                f"(releases: {', '.join(sorted(on_disk, key=order.index))})"
            )
        else:
            target = stack[-2]
        if target != current:
            # The previous release: one step back; another one: it becomes the newest.
            stack = stack[:-1] if len(stack) >= 2 and stack[-2] == target else move_to_end(stack, target)
            order = move_to_end(order, target)
        version = target

    if target != current:
        result["switched"] = True
        if not check:
            layout.switch(target)

    # Keep N: the oldest first, never the current, the previous or the release of this call.
    keep = params["keep"]
    if keep:
        protected = {target, version, *stack[-2:]}
        surplus = len(order) - keep
        for old in list(order):
            if surplus <= 0:
                break
            if old in protected:
                continue
            if not check:
                layout.remove(old)
            result["removed"].append(old)
            order.remove(old)
            on_disk.discard(old)
            sums.pop(old, None)
            surplus -= 1

    if not check:
        layout.save_state({"order": order, "stack": stack, "sha256": sums})

    releases = [v for v in order if v in on_disk]
    result["changed"] = bool(
        result["changed"] or result["unpacked"] or result["switched"] or result["removed"]
    )
    result.update(
        version=version,
        path=layout.release_path(version),
        current_version=target,
        before_version=current,
        previous_version=stack[-2] if len(stack) >= 2 else None,
        releases=releases,
    )
    if module._diff:
        result["diff"] = {
            "before_header": f"{layout.base} (current)",
            "after_header": f"{layout.base} (current)",
            "before": describe(*before),
            "after": describe(target, releases),
        }
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            version=dict(type="str"),
            src=dict(type="path"),
            sha256=dict(type="str", aliases=["checksum"]),
            state=dict(type="str", choices=["present", "current", "rollback"], default="current"),
            keep=dict(type="int", default=5),
            strip_components=dict(type="int", default=0),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
        ),
        required_if=[
            ("state", "present", ("version", "src", "sha256")),
            ("state", "current", ("version", "src", "sha256")),
        ],
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except ReleaseError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.extra)
    except OSError as exc:
        reason = errno.errorcode.get(exc.errno, "error") if exc.errno else "error"
        module.fail_json(msg=f"{exc} ({reason})", changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
