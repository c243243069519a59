"""The macOS bundle: a launchd daemon plist and install/uninstall scripts.

launchd runs the agent as root from /Library/LaunchDaemons, starts it at boot (RunAtLoad) and
restarts it only when it exits with a failure (KeepAlive SuccessfulExit false). These files
cannot run on the build machine: tests parse the plist with plistlib and check the scripts.
"""

from __future__ import annotations

import plistlib
import shlex

from installer.layout import MacLayout

LAYOUT = MacLayout()


def service_arguments(layout: MacLayout = LAYOUT) -> list[str]:
    return [str(layout.python), "-m", "installer.service", "--config", str(layout.config)]


def launchd_plist(layout: MacLayout = LAYOUT) -> bytes:
    body = {
        "Label": layout.label,
        "ProgramArguments": service_arguments(layout),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": 10,
        "UserName": "root",
        "StandardOutPath": str(layout.log_dir / "agent.log"),
        "StandardErrorPath": str(layout.log_dir / "agent.log"),
    }
    return plistlib.dumps(body, fmt=plistlib.FMT_XML, sort_keys=True)


def install_script(version: str, wheel_name: str, layout: MacLayout = LAYOUT) -> str:
    q = shlex.quote
    return f"""\
#!/bin/sh
# Installs the Parc agent {version} as the launchd daemon {layout.label}.
# Usage: sudo sh install.sh [--token TOKEN] [--python PYTHON3] [--quiet]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
token=""
python=python3
quiet=0
while [ $# -gt 0 ]; do
    case "$1" in
        --token) token="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --quiet) quiet=1; shift ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || {{ echo "install.sh: run as root (sudo)" >&2; exit 1; }}

program={q(str(layout.program_dir))}
data={q(str(layout.data_dir))}
config={q(str(layout.config))}
plist={q(str(layout.plist))}
venv_python={q(str(layout.python))}

# Every file must match the manifest before anything changes.
PYTHONPATH="$here/wheels/{wheel_name}" "$python" -m installer.cli verify "$here" >/dev/null

fresh=0
[ -d "$program" ] || fresh=1
rollback() {{
    if [ "$fresh" = 1 ]; then
        rm -rf "$program"
        rm -f "$config"
    fi
}}
trap 'rollback' EXIT

launchctl bootout system/{layout.label} 2>/dev/null || true
rm -rf "$program/venv"
mkdir -p "$program"
"$python" -m venv --without-pip "$program/venv"
pip_wheel=$(ls "$here"/wheels/pip-*.whl | tail -n 1)
"$venv_python" "$pip_wheel/pip" install --quiet --disable-pip-version-check --no-index \\
    --no-warn-script-location --find-links "$here/wheels" "parc-rmm=={version}"

mkdir -p "$data/state" {q(str(layout.log_dir))}
chmod 0700 "$data" "$data/state"
[ -e "$config" ] || install -m 0600 -o root -g wheel "$here/agent.toml" "$config"
[ -e {q(str(layout.ca_cert))} ] || install -m 0644 "$here/ca.crt" {q(str(layout.ca_cert))}

# Enrol now, so a wrong address or a spent token fails the install, not the daemon.
if [ -n "$token" ]; then
    "$venv_python" -m installer.service --config "$config" --enrol-only --token "$token"
else
    "$venv_python" -m installer.service --config "$config" --enrol-only
fi

install -m 0644 -o root -g wheel "$here/{layout.label}.plist" "$plist"
launchctl bootstrap system "$plist"
trap - EXIT
[ "$quiet" = 1 ] || echo "Parc agent {version} installed ({layout.label})"
"""


def uninstall_script(layout: MacLayout = LAYOUT) -> str:
    q = shlex.quote
    return f"""\
#!/bin/sh
# Removes the Parc agent daemon and program; --purge also removes config and state.
# Usage: sudo sh uninstall.sh [--purge]
set -eu
purge=0
[ "${{1:-}}" = --purge ] && purge=1
[ "$(id -u)" = 0 ] || {{ echo "uninstall.sh: run as root (sudo)" >&2; exit 1; }}
launchctl bootout system/{layout.label} 2>/dev/null || true
rm -f {q(str(layout.plist))}
rm -rf {q(str(layout.program_dir))}
if [ "$purge" = 1 ]; then
    rm -rf {q(str(layout.data_dir))}
fi
"""
