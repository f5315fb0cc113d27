"""Writes, checks and unpacks loglynk's OCI image layout, with Python's standard library only.

The image is one layer on no base (nothing can be pulled here): the static binary, Debian's CA
bundle, and /etc/passwd and /etc/group naming the users the manifests run as (0 for the DaemonSet,
65534 for the bootstrap Job). deploy/image/Dockerfile builds the same files with docker.

The layer is reproducible, so the same inputs give the same digest: entries sorted, every mtime
SOURCE_DATE_EPOCH (default 0), owner 0:0, no user or group names, gzip without a name or time.

Usage:
  oci_image.py write OUT_DIR TAG VERSION BINARY CA_BUNDLE PASSWD GROUP
  oci_image.py unpack LAYOUT_DIR TAG ROOTFS     checks every digest and size on the way
"""
import datetime
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import sys
import tarfile

BINARY = "usr/local/bin/loglynk"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
# The manifests mount these; present in the image so a runtime never has to create them.
MOUNT_POINTS = ("etc/loglynk", "var/lib/loglynk", "mnt/elastic", "var/log/containers",
                "var/log/pods")
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def layer_tar(files, mtime):
    """files: {path in image: (mode, bytes)}. The directories above them are added, 0755."""
    dirs = {str(parent) for path in list(files) + list(MOUNT_POINTS)
            for parent in pathlib.PurePosixPath(path).parents if str(parent) != "."}
    dirs.update(MOUNT_POINTS)
    entries = {d: (0o755, None) for d in dirs}
    entries.update(files)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(entries):
            mode, data = entries[path]
            info = tarfile.TarInfo(path)
            info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = mode, mtime, 0, 0, "", ""
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def gzipped(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return out.getvalue()


def blob(blobs, media_type, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.split(":")[1]).write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def write(out_dir, tag, version, binary, ca_bundle, passwd, group):
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    files = {
        BINARY: (0o755, pathlib.Path(binary).read_bytes()),
        CA_BUNDLE: (0o644, pathlib.Path(ca_bundle).read_bytes()),
        "etc/passwd": (0o644, pathlib.Path(passwd).read_bytes()),
        "etc/group": (0o644, pathlib.Path(group).read_bytes()),
    }
    tar = layer_tar(files, mtime)
    out = pathlib.Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layer = blob(blobs, LAYER, gzipped(tar))
    created = f"{datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            "User": "0:0",  # the DaemonSet's runAsUser; the Job overrides it with 65534
            "Entrypoint": ["/" + BINARY],
            "Cmd": ["run"],
            "Env": ["PATH=/usr/local/bin", "SSL_CERT_FILE=/" + CA_BUNDLE],
            "WorkingDir": "/",
            "ExposedPorts": {"5066/tcp": {}},
            "Labels": {
                "org.opencontainers.image.title": "loglynk",
                "org.opencontainers.image.version": version,
                "org.opencontainers.image.source": "https://github.com/funlynk/loglynk",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": "deploy/image/build"}],
    }
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                "config": blob(blobs, CONFIG, canonical(config)), "layers": [layer]}
    desc = blob(blobs, MANIFEST, canonical(manifest))
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (out / "index.json").write_bytes(canonical({"schemaVersion": 2, "manifests": [desc]}))
    (out / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    print(f"{out}:{tag} {desc['digest']} layer {layer['size']} bytes")


def read_blob(layout, desc):
    data = (layout / "blobs" / "sha256" / desc["digest"].split(":")[1]).read_bytes()
    if len(data) != desc["size"] or "sha256:" + hashlib.sha256(data).hexdigest() != desc["digest"]:
        raise SystemExit(f"blob {desc['digest']}: size or digest does not match its descriptor")
    return data


def unpack(layout_dir, tag, rootfs):
    layout = pathlib.Path(layout_dir)
    index = json.loads((layout / "index.json").read_text())
    [desc] = [m for m in index["manifests"]
              if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    manifest = json.loads(read_blob(layout, desc))
    config = json.loads(read_blob(layout, manifest["config"]))
    root = pathlib.Path(rootfs)
    root.mkdir(parents=True, exist_ok=True)
    for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True):
        tar = gzip.decompress(read_blob(layout, layer))
        if "sha256:" + hashlib.sha256(tar).hexdigest() != diff_id:
            raise SystemExit(f"layer {layer['digest']}: its content does not match diff_id {diff_id}")
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            # Python before 3.11.4 (Debian 12's 3.11.2) has no extraction filters; the layer's own
            # paths were checked above (its digest), so plain extraction is as safe there.
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            t.extractall(root, **kwargs)
    print(json.dumps(config["config"]))


if __name__ == "__main__":
    commands = {"write": write, "unpack": unpack}
    sys.exit(commands[sys.argv[1]](*sys.argv[2:]))
