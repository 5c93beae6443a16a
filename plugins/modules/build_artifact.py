#!/usr/bin/python
# Copyright: eightfold.devops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_artifact
short_description: Build a reproducible .tar.gz of a directory tree (same input, same sha256)
version_added: "0.1.0"
description:
  - Packs the files under O(src) into the gzip-compressed tar archive O(path), with the paths relative to
    O(src), in a form that depends only on the content - the same tree gives the same bytes and so the same
    sha256 on any machine and at any time.
  - Members are sorted by name; every member gets the same modification time (O(source_date_epoch), or the
    time of the last commit of the git repository O(src) is in); owner and group are 0/root; modes are
    normalised (directories and executable files 0755, other files 0644); the gzip header carries no file
    name and time 0. Symbolic links are stored as links; other special files fail the module.
  - O(files) adds or replaces files with a given content (for example the version file the build writes).
  - The archive is written to a temporary file beside O(path) and moved into place only when its content
    differs from the existing one, so an unchanged build reports C(changed=false) and keeps the file.
  - O(checksum_file) writes C(<path>.sha256) in the format of C(sha256sum) beside the archive.
  - Runs where the source is, normally on the controller (delegated to localhost). Standard library only.
author:
  - eightfold.devops maintainers (@eightfold)
options:
  src:
    description:
      - Directory whose content is packed; member names are relative to it (C(src/notes/app.py) under
        O(src=src) becomes C(notes/app.py)).
    type: path
    required: true
  path:
    description: The archive to write; its directory must exist. The name should end in C(.tar.gz).
    type: path
    required: true
  files:
    description:
      - Files to add or replace, as member name (relative, C(/) separated) to text content.
      - Used for content that is not in the source tree, such as C(notes/VERSION) written from a git tag.
    type: dict
    default: {}
  exclude:
    description:
      - Glob patterns of names to leave out, matched against each path component (C(__pycache__) leaves out
        every such directory with everything in it) and against the whole relative path.
    type: list
    elements: str
    default: [__pycache__, "*.pyc", "*.pyo", .pytest_cache, "*.egg-info", .git]
  source_date_epoch:
    description:
      - Modification time of every member, in seconds since the epoch.
      - Default is the committer time of C(HEAD) of the git repository O(src) is in (read with C(git log));
        without a repository and without this option the module fails.
    type: int
  checksum_file:
    description: Also write C(<path>.sha256) (C(<sha256>  <file name>)), only when it differs.
    type: bool
    default: true
  compresslevel:
    description: gzip compression level. Part of what the bytes depend on, so keep it fixed between builds.
    type: int
    default: 9
notes:
  - The bytes also depend on Python's tarfile and zlib; builds on the same controller are identical, and in
    practice so are builds with the same Python minor version.
attributes:
  check_mode:
    support: full
    description: The archive is built in a temporary file to learn its sha256, then removed; nothing is kept.
  diff_mode:
    support: full
    description: The checksum and the member list of the archive before and after.
  platform:
    support: full
    platforms: posix
    description: Runs where the source tree is, normally the controller; Python standard library only.
"""

EXAMPLES = r"""
- name: Build the service's artifact from the checkout
  eightfold.devops.build_artifact:
    src: /home/me/.cache/eightfold/lifecycle/work/1.2.0/src
    path: /home/me/.cache/eightfold/lifecycle/builds/notes-1.2.0.tar.gz
    files:
      notes/VERSION: "1.2.0\n"
  delegate_to: localhost
  register: build

- name: Same bytes with a given time (no git repository)
  eightfold.devops.build_artifact:
    src: /tmp/tree
    path: /tmp/out/tree.tar.gz
    source_date_epoch: 1767225600
    exclude: ["*.log", __pycache__]
    checksum_file: false
"""

RETURN = r"""
path:
  description: The archive.
  returned: always
  type: str
  sample: /home/me/.cache/eightfold/lifecycle/builds/notes-1.2.0.tar.gz
sha256:
  description: sha256 of the archive (of the one that would be written, in check mode).
  returned: always
  type: str
  sample: 5c1f0e7a9d0b8f8e1c7f6f0c1e0c8a5d4f2b1c3a9e8d7f6c5b4a3928171605f4
size:
  description: Size of the archive in bytes.
  returned: always
  type: int
  sample: 20480
members:
  description: Member names in archive order (directories end in C(/)).
  returned: always
  type: list
  elements: str
  sample: [notes/, notes/VERSION, notes/__init__.py]
mtime:
  description: The modification time given to every member (seconds since the epoch).
  returned: always
  type: int
  sample: 1767225600
checksum_path:
  description: The C(.sha256) file, when O(checksum_file) is true.
  returned: when checksum_file is true
  type: str
  sample: /home/me/.cache/eightfold/lifecycle/builds/notes-1.2.0.tar.gz.sha256
previous_sha256:
  description: sha256 of the archive that was there before, or null.
  returned: always
  type: str
  sample: null
"""

import fnmatch
import gzip
import hashlib
import io
import os
import stat
import subprocess
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

CHUNK = 1 << 20


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def excluded(relative, patterns):
    parts = relative.split("/")
    return any(
        fnmatch.fnmatchcase(relative, p) or any(fnmatch.fnmatchcase(c, p) for c in parts) for p in patterns
    )


def commit_time(src):
    try:
        proc = subprocess.run(
            ["git", "-C", src, "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        return None, f"git cannot run ({exc})"
    out = proc.stdout.strip()
    if proc.returncode or not out.isdigit():
        return None, (proc.stderr.strip() or "no commit").splitlines()[-1]
    return int(out), None


def collect(src, patterns):
    """(relative name, absolute path, lstat) of every member under src, sorted, directories included."""
    entries = []
    for root, dirs, files in os.walk(src):
        rel_root = os.path.relpath(root, src)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
        dirs[:] = [d for d in dirs if not excluded(rel_root + d, patterns)]
        for name in dirs + files:
            relative = rel_root + name
            if name in files and excluded(relative, patterns):
                continue
            full = os.path.join(root, name)
            entries.append((relative, full, os.lstat(full)))
    return entries


def tarinfo(name, mtime, kind, size=0, executable=False, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755 if kind == tarfile.DIRTYPE or executable else 0o644
    if kind == tarfile.SYMTYPE:
        info.mode, info.linkname = 0o777, linkname
    return info


def build(module, src, files, patterns, mtime, compresslevel, out):
    """Write the archive to the open binary file out; return the member names."""
    entries = {}
    for relative, full, st in collect(src, patterns):
        if stat.S_ISDIR(st.st_mode):
            entries[relative + "/"] = ("dir", None, False)
        elif stat.S_ISLNK(st.st_mode):
            entries[relative] = ("link", os.readlink(full), False)
        elif stat.S_ISREG(st.st_mode):
            entries[relative] = ("file", full, bool(st.st_mode & 0o111))
        else:
            module.fail_json(msg=f"src: {full} is not a file, directory or symbolic link; cannot pack it")
    for name, content in files.items():
        parts = name.split("/")
        for depth in range(1, len(parts)):
            entries.setdefault("/".join(parts[:depth]) + "/", ("dir", None, False))
        entries.pop(name + "/", None)
        entries[name] = ("data", content.encode("utf-8"), False)

    names = sorted(entries)
    gz = gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=compresslevel)
    with gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            kind, value, executable = entries[name]
            if kind == "dir":
                tar.addfile(tarinfo(name.rstrip("/"), mtime, tarfile.DIRTYPE))
            elif kind == "link":
                tar.addfile(tarinfo(name, mtime, tarfile.SYMTYPE, linkname=value))
            elif kind == "data":
                tar.addfile(tarinfo(name, mtime, tarfile.REGTYPE, size=len(value)), io.BytesIO(value))
            else:
                with open(value, "rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    tar.addfile(tarinfo(name, mtime, tarfile.REGTYPE, size, executable), handle)
    return names


def existing_members(path):
    try:
        with tarfile.open(path, "r:gz") as tar:
            return [m.name + ("/" if m.isdir() else "") for m in tar.getmembers()]
    except (OSError, tarfile.TarError, EOFError):
        return ["(not a readable .tar.gz)"]


def write_if_different(path, content, mode=0o644):
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == content:
                return False
    except FileNotFoundError:
        pass
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".build_artifact.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(temp, mode)
    os.replace(temp, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            path=dict(type="path", required=True),
            files=dict(type="dict", default={}),
            exclude=dict(
                type="list",
                elements="str",
                default=["__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "*.egg-info", ".git"],
            ),
            source_date_epoch=dict(type="int"),
            checksum_file=dict(type="bool", default=True),
            compresslevel=dict(type="int", default=9),
        ),
        supports_check_mode=True,
    )
    p = module.params
    src, path = p["src"], p["path"]
    if not os.path.isdir(src):
        module.fail_json(msg=f"src: {src} is not a directory")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg=f"path: the directory {directory} of {path} does not exist")
    if os.path.isdir(path):
        module.fail_json(msg=f"path: {path} is a directory; give the archive's file name")
    if not 0 <= p["compresslevel"] <= 9:
        module.fail_json(msg=f"compresslevel: {p['compresslevel']} is not between 0 and 9")
    files = {}
    for name, content in p["files"].items():
        clean = str(name).strip("/")
        if not clean or name.startswith("/") or any(part in ("", ".", "..") for part in clean.split("/")):
            module.fail_json(msg=f"files: {name!r} is not a relative member name (a/b/c, no '..')")
        if not isinstance(content, str):
            module.fail_json(msg=f"files: the content of {name} must be text, not {type(content).__name__}")
        files[clean] = content

    mtime = p["source_date_epoch"]
    if mtime is None:
        mtime, error = commit_time(src)
        if mtime is None:
            module.fail_json(
                msg=f"source_date_epoch is not set and {src} has no git commit to take the time from: {error}"
            )
    if mtime < 0:
        module.fail_json(msg=f"source_date_epoch: {mtime} is negative")

    previous = sha256_of(path) if os.path.isfile(path) else None
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".build_artifact.", suffix=".tar.gz")
    try:
        with os.fdopen(fd, "wb") as out:
            members = build(module, src, files, p["exclude"], mtime, p["compresslevel"], out)
        digest = sha256_of(temp)
        size = os.path.getsize(temp)
        changed = digest != previous
        before_members = existing_members(path) if previous and changed and module._diff else None
        if changed and not module.check_mode:
            os.chmod(temp, 0o644)
            os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)

    result = dict(
        changed=changed,
        path=path,
        sha256=digest,
        size=size,
        members=members,
        mtime=mtime,
        previous_sha256=previous,
    )
    if p["checksum_file"]:
        checksum_path = path + ".sha256"
        line = f"{digest}  {os.path.basename(path)}\n"
        if module.check_mode:
            try:
                with open(checksum_path, encoding="utf-8") as handle:
                    stale = handle.read() != line
            except OSError:
                stale = True
        else:
            stale = write_if_different(checksum_path, line)
        result["changed"] = result["changed"] or stale
        result["checksum_path"] = checksum_path
    if module._diff and changed:
        result["diff"] = dict(
            before_header=path,
            after_header=path,
            before=""
            if previous is None
            else f"sha256 {previous}\n" + "\n".join(before_members or []) + "\n",
            after=f"sha256 {digest}\n" + "\n".join(members) + "\n",
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
