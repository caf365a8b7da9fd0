#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write an OCI-SIF as sylabs/oci-tools lays it out (sif-format.md section 5):
for each image its squashfs layer blobs, its config blob and its manifest
blob (datatype 0x400b), then the root index (0x400a); deterministic header,
no partitions, no alignment, group 1, extra = "sha256:<hex>\\0".

  make-oci-sif.py OUT.sif --image OS/ARCH[/VARIANT][@CONFIGARCH] CONFIG.json LAYER.sqfs[,LAYER...] ...

LAYERs are bottom first, as in the manifest.

CONFIG.json is the image's "config" object (Cmd, Env, ...); the config
blob gets os/architecture from OS/ARCH and rootfs.diff_ids from the layers.
"""
import hashlib
import json
import struct
import sys

DESC_SIZE = 585
DESC_OFF = 4096
SQUASHFS_LAYER = "application/vnd.sylabs.image.layer.v1.squashfs"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main(argv):
    out = argv[1]
    images = []
    i = 2
    while i < len(argv):
        if argv[i] != "--image" or i + 3 >= len(argv):
            sys.exit("usage: make-oci-sif.py OUT.sif --image OS/ARCH CONFIG.json LAYERS ...")
        images.append((argv[i + 1], argv[i + 2], argv[i + 3].split(",")))
        i += 4
    blobs = []  # (datatype, data)
    index_entries = []
    for platform, config_path, layer_paths in images:
        # OS/ARCH@CONFIGARCH: the config blob names another architecture
        platform, _, config_arch = platform.partition("@")
        os_name, arch, *variant = platform.split("/", 2)
        layers = []
        for lp in layer_paths:
            with open(lp, "rb") as f:
                data = f.read()
            blobs.append((0x400B, data))
            layers.append({"mediaType": SQUASHFS_LAYER, "digest": digest(data), "size": len(data)})
        with open(config_path, "rb") as f:
            config = json.load(f)
        blob = {"architecture": config_arch or arch, "os": os_name, "config": config,
                "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}
        if variant:
            blob["variant"] = variant[0]
        cdata = json.dumps(blob, sort_keys=True).encode()
        blobs.append((0x400B, cdata))
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                    "config": {"mediaType": CONFIG_TYPE, "digest": digest(cdata), "size": len(cdata)},
                    "layers": layers}
        mdata = json.dumps(manifest, sort_keys=True).encode()
        blobs.append((0x400B, mdata))
        entry_platform = {"os": os_name, "architecture": arch}
        if variant:
            entry_platform["variant"] = variant[0]
        index_entries.append({"mediaType": MANIFEST_TYPE, "digest": digest(mdata), "size": len(mdata),
                              "platform": entry_platform})
    index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": index_entries}
    blobs.append((0x400A, json.dumps(index, sort_keys=True).encode()))

    total = len(blobs)
    data_off = DESC_OFF + total * DESC_SIZE
    header = bytearray(128)
    header[32:42] = b"SIF_MAGIC\0"
    header[42:45] = b"01\0"
    header[45:48] = b"00\0"
    descs = bytearray()
    body = bytearray()
    for n, (dtype, data) in enumerate(blobs):
        extra = digest(data).encode() + b"\0"
        d = struct.pack("<iBIIIqqqqqqq", dtype, 1, n + 1, 0xF0000001, 0,
                        data_off + len(body), len(data), len(data), 0, 0, 0, 0)
        d += bytes(128) + extra + bytes(384 - len(extra))
        assert len(d) == DESC_SIZE
        descs += d
        body += data
    struct.pack_into("<qqqqqq", header, 80, 0, total, DESC_OFF, total * DESC_SIZE, data_off, len(body))
    with open(out, "wb") as f:
        f.write(header + bytes(DESC_OFF - 128) + descs + body)


if __name__ == "__main__":
    main(sys.argv)
