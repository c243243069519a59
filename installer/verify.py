"""``parc-installer verify``: any bundle (folder, .tar.gz, .zip or .deb) against its manifest."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from installer import deb, manifest
from installer.errors import BundleError
from installer.linux import opened_bundle


def verify_bundle(bundle: Path) -> manifest.Manifest:
    if bundle.suffix == ".deb":
        if shutil.which("dpkg-deb") is None:
            raise BundleError("dpkg-deb is needed to read a .deb")
        with tempfile.TemporaryDirectory(prefix="parc-deb-") as temp:
            done = subprocess.run(
                ["dpkg-deb", "-x", str(bundle), temp], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise BundleError(f"{bundle}: not a readable .deb: {done.stderr.strip()}")
            return manifest.verify(Path(temp), deb.MANIFEST_PATH)
    with opened_bundle(bundle) as folder:
        return manifest.verify(folder)
