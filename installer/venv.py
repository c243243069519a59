"""The agent's virtual environment, made offline from the bundle's wheels.

The bundle carries pip itself as a wheel, and a pure-Python wheel can be run as a zip, so the
target needs neither a package index nor its distribution's ``python3-venv``/ensurepip.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from installer.errors import InstallError

MIN_PYTHON = (3, 11)


def find_pip_wheel(wheels: Path) -> Path:
    found = sorted(wheels.glob("pip-*.whl"))
    if not found:
        raise InstallError(f"{wheels}: the bundle has no pip wheel")
    return found[-1]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise InstallError(f"{what} failed:\n{tail}")


def check_python(python: str) -> None:
    code = f"import sys; sys.exit(0 if sys.version_info >= {MIN_PYTHON!r} else 1)"
    done = subprocess.run([python, "-c", code], capture_output=True, check=False)
    if done.returncode != 0:
        raise InstallError(f"{python} is older than Python {'.'.join(map(str, MIN_PYTHON))}")


def create_venv(venv: Path, wheels: Path, requirement: str, python: str | None = None) -> None:
    """Creates ``venv`` with ``requirement`` and its dependencies from ``wheels`` only."""
    base = python or sys.executable
    check_python(base)
    _run([base, "-m", "venv", "--without-pip", str(venv)], f"creating the environment {venv}")
    pip = find_pip_wheel(wheels)
    _run(
        [
            str(venv / "bin" / "python"),
            f"{pip}/pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-warn-script-location",
            requirement,
        ],
        f"installing {requirement} from {wheels}",
    )
