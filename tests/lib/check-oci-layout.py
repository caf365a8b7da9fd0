#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check an OCI image layout (a directory) or an oci-archive (its tar) as
the image spec says it must be, then print what it holds as JSON.

  check-oci-layout.py LAYOUT-DIR|ARCHIVE.tar

Checked: oci-layout's version; index.json's one manifest; every blob the
index, the manifest and the config name is there and its sha256 and size
are its descriptor's; rootfs.diff_ids are the (uncompressed) layers'
digests; each layer is a readable tar.  Printed: {"ref", "platform",
"config", "layers": [{NAME: {type, mode, uid, gid, size, link, dev,
xattrs}}]}.  Any mismatch: a message on stderr and exit status 1.
"""
import hashlib
import io
import json
import os
import sys
import tarfile

LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def fail(msg):
    sys.stderr.write("check-oci-layout: %s\n" % msg)
    sys.exit(1)


class Layout:
    def __init__(self, path):
        self.tar = None
        if os.path.isdir(path):
            self.dir = path
        else:
            self.tar = tarfile.open(path)
            names = self.tar.getnames()
            for n in names:
                if n.startswith("/") or ".." in n.split("/"):
                    fail("archive member %r is not inside the layout" % n)

    def read(self, name):
        if self.tar is None:
            p = os.path.join(self.dir, name)
            if not os.path.isfile(p) or os.path.islink(p):
                fail("%s is missing or not a regular file" % name)
            with open(p, "rb") as f:
                return f.read()
        try:
            m = self.tar.getmember(name)
        except KeyError:
            fail("%s is not in the archive" % name)
        if not m.isfile():
            fail("%s in the archive is not a regular file" % name)
        return self.tar.extractfile(m).read()

    def blob(self, desc, what):
        d = desc.get("digest", "")
        if not d.startswith("sha256:") or len(d) != 71:
            fail("%s: digest %r is not sha256" % (what, d))
        data = self.read("blobs/sha256/" + d[7:])
        if hashlib.sha256(data).hexdigest() != d[7:]:
            fail("%s: blob %s does not hash to its name" % (what, d))
        if len(data) != desc.get("size"):
            fail("%s: blob %s is %d bytes, its descriptor says %r" % (what, d, len(data), desc.get("size")))
        return data


def member(m):
    types = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.LNKTYPE: "hardlink",
             tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block",
             tarfile.DIRTYPE: "dir", tarfile.FIFOTYPE: "fifo"}
    return {"type": types.get(m.type, repr(m.type)), "mode": "%04o" % m.mode, "uid": m.uid,
            "gid": m.gid, "size": m.size, "mtime": m.mtime, "link": m.linkname,
            "dev": "%d:%d" % (m.devmajor, m.devminor),
            "xattrs": {k[len("SCHILY.xattr."):]: v for k, v in m.pax_headers.items()
                       if k.startswith("SCHILY.xattr.")}}


def main(path):
    lay = Layout(path)
    try:
        version = json.loads(lay.read("oci-layout"))["imageLayoutVersion"]
    except (ValueError, KeyError):
        fail("oci-layout is not {\"imageLayoutVersion\": ...}")
    if version != "1.0.0":
        fail("imageLayoutVersion is %r" % version)
    index = json.loads(lay.read("index.json"))
    if index.get("schemaVersion") != 2 or len(index.get("manifests", [])) != 1:
        fail("index.json: not schemaVersion 2 with one manifest")
    entry = index["manifests"][0]
    manifest = json.loads(lay.blob(entry, "manifest"))
    if manifest.get("mediaType") != entry.get("mediaType"):
        fail("the manifest's mediaType is not the index's")
    config = json.loads(lay.blob(manifest["config"], "config"))
    layers = []
    for i, desc in enumerate(manifest.get("layers", [])):
        if desc.get("mediaType") != LAYER_TAR:
            fail("layer %d: mediaType %r" % (i + 1, desc.get("mediaType")))
        data = lay.blob(desc, "layer %d" % (i + 1))
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            layers.append({m.name.rstrip("/"): member(m) for m in t.getmembers()})
    if config.get("rootfs", {}).get("diff_ids") != [d["digest"] for d in manifest["layers"]]:
        fail("rootfs.diff_ids are not the layers' digests")
    json.dump({"ref": entry.get("annotations", {}).get("org.opencontainers.image.ref.name"),
               "platform": entry.get("platform"), "config": config, "layers": layers}, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
