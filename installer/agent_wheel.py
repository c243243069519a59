"""The agent's own wheel, written straight from the source tree so it is byte-for-byte reproducible.

It holds the packages a managed machine needs (``agent``, ``installer`` and the generated wire
code ``parc``), the base dependencies of ``parc-rmm`` (never the collector's extras) and the
``parc-agent`` and ``parc-installer`` commands. Entries are sorted and dated ``epoch``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import time
import tomllib
import zipfile
from pathlib import Path

import agent
import installer
from installer.errors import BuildError

DISTRIBUTION = "parc-rmm"
PACKAGES = ("agent", "installer", "parc")
SUFFIXES = (".py", ".pyi", ".proto", ".typed")
ENTRY_POINTS = (
    "[console_scripts]\nparc-agent = agent.cli:main\nparc-installer = installer.cli:main\n"
)
FALLBACK_REQUIREMENTS = (
    "pywin32>=306; sys_platform == 'win32'",
    "psutil>=5.9",
    "grpcio>=1.85.1",
    "protobuf>=6.31",
    "apscheduler<4,>=3.10",
    "cryptography>=42",
    "py-cpuinfo>=9",
)


def agent_version() -> str:
    return agent.__version__


def wheel_name(version: str | None = None) -> str:
    return f"parc_rmm-{version or agent_version()}-py3-none-any.whl"


def base_requirements() -> list[str]:
    """The agent's dependencies: parc-rmm's requirements that belong to no extra.

    Read from the checkout's pyproject.toml when there is one (it is the source of truth; an
    installed copy's metadata can be older), else from the installed distribution.
    """
    pyproject = Path(agent.__file__).parent.parent / "pyproject.toml"
    if pyproject.is_file():
        declared_here = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        return sorted(str(r) for r in declared_here["dependencies"])
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return list(FALLBACK_REQUIREMENTS)
    base = [r.strip() for r in declared if "extra ==" not in r]
    return sorted(base) or list(FALLBACK_REQUIREMENTS)


def package_roots() -> dict[str, Path]:
    import parc

    return {
        "agent": Path(agent.__file__).parent,
        "installer": Path(installer.__file__).parent,
        "parc": Path(parc.__file__).parent,
    }


def _source_files() -> list[tuple[str, Path]]:
    files = []
    for package, root in package_roots().items():
        for path in root.rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix in SUFFIXES:
                files.append((f"{package}/{path.relative_to(root).as_posix()}", path))
    return sorted(files)


def _metadata(version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DISTRIBUTION}",
        f"Version: {version}",
        "Summary: Parc agent (managed-machine side) and deployment installer",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {req}" for req in base_requirements()),
    ]
    return "\n".join(lines) + "\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_agent_wheel(out_dir: Path, epoch: int) -> Path:
    """Writes the agent wheel into ``out_dir`` and returns its path."""
    version = agent_version()
    dist_info = f"parc_rmm-{version}.dist-info"
    contents: list[tuple[str, bytes]] = [
        (name, path.read_bytes()) for name, path in _source_files()
    ]
    if not any(name.startswith("agent/") for name, _ in contents):
        raise BuildError("the agent's source files were not found")
    contents += [
        (f"{dist_info}/METADATA", _metadata(version).encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: parc-installer\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n",
        ),
        (f"{dist_info}/entry_points.txt", ENTRY_POINTS.encode()),
        (f"{dist_info}/top_level.txt", "".join(f"{p}\n" for p in PACKAGES).encode()),
    ]
    record = [_record_line(name, data) for name, data in contents] + [f"{dist_info}/RECORD,,"]
    contents.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    out = out_dir / wheel_name(version)
    with zipfile.ZipFile(out, "w") as wheel:
        for name, data in contents:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data, compresslevel=9)
    return out
