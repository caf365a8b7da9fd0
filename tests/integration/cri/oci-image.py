#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# An OCI image layout tar of one directory, for `ctr image import` (no
# registry, no network):
#   oci-image.py ROOTFS NAME OUT.tar ENTRYPOINT...
# one uncompressed layer (files owned by root), a config with PATH=/bin and
# the given entrypoint, a manifest for this machine's architecture, and the
# index annotation that names the image NAME on import.
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}


def as_root(info):
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def layer_of(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name, filter=as_root)
    return buf.getvalue()


def main():
    if len(sys.argv) < 5:
        print("usage: oci-image.py ROOTFS NAME OUT.tar ENTRYPOINT...", file=sys.stderr)
        return 2
    rootfs, name, out, entrypoint = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    arch = ARCH.get(platform.machine(), platform.machine())
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layer = layer_of(rootfs)
    layer_desc = blob(layer, "application/vnd.oci.image.layer.v1.tar")
    config = {"architecture": arch, "os": "linux",
              "config": {"Env": ["PATH=/bin"], "Entrypoint": entrypoint},
              "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]}}
    config_desc = blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = blob(json.dumps(manifest).encode(),
                         "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["platform"] = {"architecture": arch, "os": "linux"}
    manifest_desc["annotations"] = {"io.containerd.image.name": name}
    index = {"schemaVersion": 2, "manifests": [manifest_desc]}

    def add(tar, path, data):
        info = as_root(tarfile.TarInfo(path))
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(out, "w") as tar:
        add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add(tar, "index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            add(tar, "blobs/sha256/" + digest.split(":", 1)[1], data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
