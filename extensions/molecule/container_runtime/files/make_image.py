#!/usr/bin/python3
"""Builds a one-binary image from Debian's static busybox, offline: a root file system tarball (for docker
import and podman import) and an OCI image archive (for ctr image import). Usage: make_image.py DIR NAME"""

import hashlib
import io
import json
import os
import sys
import tarfile

out, name = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as tar:
    tar.add("/bin/busybox", arcname="bin/busybox")
    link = tarfile.TarInfo("bin/sh")
    link.type, link.linkname = tarfile.SYMTYPE, "busybox"
    tar.addfile(link)
layer_bytes = layer.getvalue()
with open(os.path.join(out, "rootfs.tar"), "wb") as handle:
    handle.write(layer_bytes)


def blob(data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return digest, {"mediaType": media_type, "digest": digest, "size": len(data)}


layer_digest, layer_desc = blob(layer_bytes, "application/vnd.oci.image.layer.v1.tar")
config = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/busybox", "echo", "hello from busybox"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }
).encode()
_, config_desc = blob(config, "application/vnd.oci.image.config.v1+json")
manifest = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
).encode()
_, manifest_desc = blob(manifest, "application/vnd.oci.image.manifest.v1+json")
manifest_desc["annotations"] = {
    "io.containerd.image.name": name,
    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1],
}
index = json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}).encode()

with tarfile.open(os.path.join(out, "oci.tar"), "w") as tar:
    for path, data in [
        ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
        ("index.json", index),
        *[
            ("blobs/sha256/" + hashlib.sha256(data).hexdigest(), data)
            for data in (layer_bytes, config, manifest)
        ],
    ]:
        info = tarfile.TarInfo(path)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
for path in ("rootfs.tar", "oci.tar"):
    os.chmod(os.path.join(out, path), 0o644)
