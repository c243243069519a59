"""The ``parc-agent`` Debian package, built with ``dpkg-deb``.

The package ships the wheels, not a ready environment: ``postinst`` builds /opt/parc-agent/venv
offline with the target's own python3, so one package serves every Python the wheels cover.
``remove`` stops the service and deletes the program but keeps /etc/parc and the state;
``purge`` deletes those too. The token-bearing config is copied (0600) only when absent, so an
upgrade never brings a spent token back, and it is not a conffile (its token is removed on the
first start, which must not make dpkg ask about local changes).

Enrolment at install time: ``sudo env PARC_TOKEN=… apt-get install ./parc-agent_….deb`` (or
``dpkg -i``) enrols in ``postinst configure`` before the service starts. A failed enrolment
fails the configure step, so apt and dpkg report it and a fleet script sees a non-zero exit: the
package stays half-configured with its service stopped and disabled, and
``sudo env PARC_TOKEN=… dpkg --configure parc-agent`` retries. With no token at all (none in the
environment or baked into the config) and no identity, the install succeeds without starting
the service and prints the command that enrols it (``dpkg-reconfigure`` with PARC_TOKEN). An
enrolled machine keeps its identity and its service is restarted; a baked token
(``parc-installer build --token``) still enrols on the service's first start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from installer.errors import BuildError
from installer.layout import DEB_LAYOUT, PACKAGE_NAME, SERVICE_NAME

SHARE = DEB_LAYOUT.opt_dir / "share"
# The install-time token: ``sudo env PARC_TOKEN=… apt-get install ./parc-agent_….deb``.
TOKEN_VARIABLE = "PARC_TOKEN"  # noqa: S105 - the name of a variable, not a secret
MANIFEST_PATH = (DEB_LAYOUT.opt_dir / "MANIFEST.json").relative_to("/").as_posix()


def control(version: str, arch: str, installed_kib: int) -> str:
    return f"""\
Package: {PACKAGE_NAME}
Version: {version}
Architecture: {arch}
Maintainer: Parc <parc@localhost>
Installed-Size: {installed_kib}
Depends: python3 (>= 3.11)
Section: admin
Priority: optional
Description: Parc agent: reports this machine to a Parc collector
 Runs as the parc-agent systemd service. Install with PARC_TOKEN set in the
 environment (sudo env PARC_TOKEN=TOKEN apt-get install ./FILE.deb) to enrol the machine
 at install time; a token baked into /etc/parc/agent.toml enrols it on the first start
 instead and is then removed from that file.
"""


ENROL_LATER = f"sudo env {TOKEN_VARIABLE}=TOKEN dpkg-reconfigure {PACKAGE_NAME}"
# A failed configure leaves the package half-configured (apt and dpkg show the error); this
# runs postinst again. dpkg-reconfigure (ENROL_LATER) only takes fully installed packages.
RETRY = f"sudo env {TOKEN_VARIABLE}=TOKEN dpkg --configure {PACKAGE_NAME}"


def postinst(version: str) -> str:
    o = DEB_LAYOUT
    service = f"{o.python} -m installer.service --config {o.config}"
    return f"""\
#!/bin/sh
set -e
systemd_running() {{ [ -d /run/systemd/system ]; }}
if [ "$1" = configure ]; then
    # The environment is built here, offline, from the packaged wheels and the system python3.
    rm -rf {o.venv}
    python3 -m venv --without-pip {o.venv}
    pip_wheel=$(ls {o.wheels}/pip-*.whl | tail -n 1)
    {o.python} "$pip_wheel/pip" install --quiet --disable-pip-version-check --no-index \\
        --no-warn-script-location --find-links {o.wheels} parc-rmm=={version}
    install -d -m 0755 {o.config_dir}
    install -d -m 0700 {o.state_dir}
    chmod 0700 {o.state_dir}
    # Kept on upgrade: it holds the site's settings (and, until the first start, a baked token).
    if [ ! -e {o.config} ]; then
        install -m 0600 -o root -g root {SHARE}/agent.toml {o.config}
    fi
    if [ ! -e {o.ca_cert} ]; then
        install -m 0644 -o root -g root {SHARE}/ca.crt {o.ca_cert}
    fi
    if systemd_running; then
        systemctl daemon-reload
    fi
    # {TOKEN_VARIABLE} from the installing command enrols now (an enrolled machine keeps its
    # identity and ignores it). The token goes through the environment, never argv, a file or
    # this script's output, and is not kept: enrolment also removes a baked one from the config.
    if [ -n "${{{TOKEN_VARIABLE}:-}}" ]; then
        if device=$({service} --enrol-only --token-env {TOKEN_VARIABLE}); then
            echo "{PACKAGE_NAME}: this machine is enrolled as device $device"
        else
            if systemd_running; then
                systemctl disable --now {SERVICE_NAME}.service >/dev/null 2>&1 || true
            fi
            retry="{RETRY}"
            if [ "${{DEBCONF_RECONFIGURE:-}}" = 1 ]; then
                retry="{ENROL_LATER}"
            fi
            cat >&2 <<EOF
{PACKAGE_NAME}: NOT enrolled (the line above says why); the service is stopped and disabled.
{PACKAGE_NAME}: a refused or expired token needs a new one from the dashboard's Add devices
{PACKAGE_NAME}: page; an unreachable collector needs the network, a firewall rule or a bundle
{PACKAGE_NAME}: built for the right address. Then finish the install with:
{PACKAGE_NAME}:     $retry
{PACKAGE_NAME}: or take it off again with: sudo dpkg --purge {PACKAGE_NAME}
EOF
            exit 1
        fi
    fi
    if {service} --check 2>/dev/null; then
        if systemd_running; then
            systemctl enable {SERVICE_NAME}.service
            systemctl restart {SERVICE_NAME}.service
        fi
    else
        # No identity and no token: a start would only fail, so none is made (the unit's
        # ExecCondition also skips manual and boot-time starts until the machine is enrolled).
        if systemd_running; then
            systemctl disable --now {SERVICE_NAME}.service >/dev/null 2>&1 || true
        fi
        cat <<EOF
{PACKAGE_NAME}: installed, but this machine is not enrolled, so the service was not started.
{PACKAGE_NAME}: enrol it with a token from the dashboard's Add devices page:
{PACKAGE_NAME}:     {ENROL_LATER}
EOF
    fi
fi
exit 0
"""


def prerm() -> str:
    return f"""\
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop {SERVICE_NAME}.service || true
    if [ "$1" = remove ]; then
        systemctl disable {SERVICE_NAME}.service || true
    fi
fi
exit 0
"""


def postrm() -> str:
    o = DEB_LAYOUT
    return f"""\
#!/bin/sh
set -e
case "$1" in
    remove)
        # The environment is not a packaged file: dpkg does not know to delete it.
        rm -rf {o.venv}
        rmdir {o.opt_dir} 2>/dev/null || true
        ;;
    purge)
        rm -rf {o.venv} {o.opt_dir} {o.config} {o.ca_cert} {o.state_dir}
        rmdir {o.config_dir} 2>/dev/null || true
        ;;
esac
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
exit 0
"""


def _md5sums(root: Path) -> str:
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "DEBIAN" not in p.parts):
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    return "".join(lines)


def _normalise(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_dir() or path.stat().st_mode & 0o100:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def build_deb(root: Path, out: Path, version: str, arch: str, epoch: int) -> Path:
    """Turns the staged tree ``root`` (without DEBIAN/) into ``out``/parc-agent_V_ARCH.deb."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb is not installed (apt-get install dpkg)")
    _normalise(root)
    (root / SHARE.relative_to("/") / "agent.toml").chmod(0o600)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    (debian / "md5sums").write_text(_md5sums(root))
    (debian / "control").write_text(control(version, arch, (size + 1023) // 1024))
    for name, text in (("postinst", postinst(version)), ("prerm", prerm()), ("postrm", postrm())):
        (debian / name).write_text(text)
        (debian / name).chmod(0o755)
    for path in [debian, *debian.rglob("*")]:
        os.utime(path, (epoch, epoch))
    target = out / f"{PACKAGE_NAME}_{version}_{arch}.deb"
    # gzip: the payload is wheels, already compressed; xz saves ~0% and takes ten times longer
    done = subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)},
    )
    if done.returncode != 0:
        raise BuildError(f"dpkg-deb failed: {done.stderr.strip()}")
    return target
