"""Shell scripts shipped in Linux bundles: each one hands over to ``installer.cli``.

The agent's wheel is pure Python, so ``python3`` can import the installer straight from it
(zipimport) before any environment exists: the logic stays in tested Python, not in shell.
"""

from __future__ import annotations

import shlex


def bundle_script(command: str, wheel_name: str, description: str) -> str:
    return f"""\
#!/bin/sh
# {description}
# Usage: sh {command}.sh [options]   (run as root; --help lists the options)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${{PARC_PYTHON:-python3}}
PYTHONPATH="$here/wheels/{wheel_name}" exec "$python" -m installer.cli {shlex.quote(command)} \\
  {'"$here" ' if command == "install" else ""}"$@"
"""
