"""The hardened systemd unit for the agent."""

from __future__ import annotations

from installer.layout import LinuxLayout
from installer.service import EXIT_TOKEN_REFUSED

MEMORY_MAX = "256M"


def service_command(layout: LinuxLayout) -> str:
    """What the service runs: enrol on first start if needed, then the agent in the foreground."""
    return f"{layout.python} -m installer.service --config {layout.config}"


def condition_command(layout: LinuxLayout) -> str:
    """Exits 0 when the service can start: the machine is enrolled or the config holds a token."""
    return f"{service_command(layout)} --check"


def unit_text(layout: LinuxLayout) -> str:
    return f"""\
[Unit]
Description=Parc agent (reports this machine to the Parc collector)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
# Neither an identity nor a token (a .deb installed without PARC_TOKEN): the start is skipped,
# not failed, so Restart= does not retry it every RestartSec; enrolling starts it.
ExecCondition={condition_command(layout)}
ExecStart={service_command(layout)}
Restart=on-failure
RestartSec=10
# The collector refused the configured token: restarting cannot help (a new token must be given).
RestartPreventExitStatus={EXIT_TOKEN_REFUSED}
# The agent runs as root: it reads hardware and SMART data, and later runs signed package
# installs. The hardening below removes what it never needs without breaking those.
NoNewPrivileges=yes
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
# No ProtectSystem=strict (nor =full): package installs must write /usr, /etc and /opt.
# No PrivateDevices=: smartctl needs the raw disks (/dev/sd*, /dev/nvme*) and their ioctls.
# No CapabilityBoundingSet restriction for the same two reasons (CAP_SYS_RAWIO, CAP_SYS_ADMIN).
ReadWritePaths={layout.state_dir} {layout.config_dir}
StateDirectory=parc-agent
StateDirectoryMode=0700
UMask=0077
# A ceiling, so a runaway agent can never starve the machine it looks after; low CPU and I/O
# priority, so reporting never slows the user down.
MemoryMax={MEMORY_MAX}
Nice=10
IOSchedulingClass=idle
CPUWeight=20

[Install]
WantedBy=multi-user.target
"""
