"""Parc deployment installer: builds agent bundles and installs the agent as a service.

Modules, one concept each::

    manifest     sha256 of every bundle file; verification
    archive      reproducible tar.gz and zip writers, safe extraction
    agent_wheel  the agent's own wheel, built reproducibly from the checkout
    wheels       dependency wheels per target platform and Python version (pip download, cached)
    settings     the installed config file (/etc/parc/agent.toml) rendered and parsed
    layout       where things go on each OS (under an optional --root)
    systemd      the hardened unit text
    deb          the parc-agent .deb (dpkg-deb), control file and maintainer scripts
    linux        install, upgrade, uninstall and status on Linux (tarball and --root)
    windows      the Windows zip: PowerShell install/uninstall, service registration
    macos        the macOS bundle: launchd plist, install/uninstall scripts
    venv         the agent's virtual environment, created offline from the bundle's wheels
    enrolment    first-start enrolment and removing the token from the config afterwards
    service      the service entry point (enrol if needed, then run the agent)
    progress     rich progress for long steps (plain lines without rich)
    build        one bundle from its inputs
    cli          the ``parc-installer`` command
"""

from installer.errors import InstallerError

__all__ = ["InstallerError"]
