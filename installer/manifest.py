"""The bundle manifest: the sha256 and size of every file, checked before anything is installed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from installer.errors import BundleError

MANIFEST_FILE = "MANIFEST.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_files(root: Path, manifest_name: str = MANIFEST_FILE) -> list[str]:
    """Relative POSIX paths of the regular files under ``root`` (sorted), manifest excluded."""
    names = []
    for path in root.rglob("*"):
        if path.is_symlink():
            raise BundleError(f"{path}: bundles hold no symbolic links")
        if path.is_file():
            names.append(path.relative_to(root).as_posix())
    return sorted(n for n in names if n != manifest_name)


@dataclass(frozen=True, slots=True)
class Manifest:
    """``files`` maps each relative path to its sha256; ``info`` says what the bundle is."""

    files: dict[str, str]
    info: dict[str, str]

    def to_json(self) -> str:
        body = {"bundle": self.info, "files": dict(sorted(self.files.items()))}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"

    @property
    def digest(self) -> str:
        """One sha256 over the whole manifest: equal digests mean identical bundles."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def make_manifest(root: Path, info: dict[str, str], name: str = MANIFEST_FILE) -> Manifest:
    files = {f: sha256_file(root / f) for f in bundle_files(root, name)}
    return Manifest(files, dict(info))


def write_manifest(root: Path, info: dict[str, str], name: str = MANIFEST_FILE) -> Manifest:
    manifest = make_manifest(root, info, name)
    (root / name).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_manifest(root: Path, name: str = MANIFEST_FILE) -> Manifest:
    path = root / name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{root} is not a Parc bundle: {MANIFEST_FILE} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: unreadable manifest: {exc}") from None
    files, info = raw.get("files"), raw.get("bundle")
    if not isinstance(files, dict) or not isinstance(info, dict):
        raise BundleError(f"{path}: the manifest has no files/bundle tables")
    return Manifest(
        {str(k): str(v) for k, v in files.items()}, {str(k): str(v) for k, v in info.items()}
    )


def verify(root: Path, name: str = MANIFEST_FILE) -> Manifest:
    """The manifest of the bundle at ``root``, or BundleError naming every file that differs."""
    manifest = read_manifest(root, name)
    present = set(bundle_files(root, name))
    problems = [f"missing: {name}" for name in sorted(set(manifest.files) - present)]
    problems += [f"not in the manifest: {name}" for name in sorted(present - set(manifest.files))]
    problems += [
        f"checksum mismatch: {name}"
        for name in sorted(present & set(manifest.files))
        if sha256_file(root / name) != manifest.files[name]
    ]
    if problems:
        raise BundleError(
            f"the bundle at {root} does not match its manifest (tampered with or corrupt): "
            + "; ".join(problems)
        )
    return manifest
