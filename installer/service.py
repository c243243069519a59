"""The service's entry point: ``python -m installer.service --config FILE``.

On the first start it enrols with the token from the config and removes the token from it;
then it replaces itself with ``parc-agent run`` (the service manager sees the agent's process).
``--enrol-only`` stops after enrolment (install time); ``--token-env NAME`` takes the token
from that environment variable rather than the command line, where ``ps`` would show it to
every user (the .deb's postinst passes ``PARC_TOKEN`` so). ``--check`` only says whether the
service can start: it exits 0 when the machine is enrolled or the config holds a token, else 1
(the unit's ExecCondition, so a machine with neither skips the start instead of failing and
restarting forever). ``--root DIR`` re-roots the config's paths, for trees installed with
``parc-installer install --root``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from installer.errors import EnrolmentRefused, InstallerError

# The collector refused the token (EX_CONFIG): the unit's RestartPreventExitStatus names it, so
# a wrong or spent token baked into a bundle does not restart the service every RestartSec.
EXIT_TOKEN_REFUSED = 78

if TYPE_CHECKING:
    from installer.settings import InstallSettings


def _rooted(root: Path | None, path: str) -> Path:
    if root is None:
        return Path(path)
    return root / Path(path).relative_to(Path(path).anchor)


def _check(current: InstallSettings, state_dir: Path, config: Path) -> int:
    from installer.enrolment import device_id

    if device_id(state_dir) is not None or current.token:
        return 0
    print(
        f"parc-agent service: not starting: this machine is not enrolled ({state_dir} holds "
        f"no identity) and {config} holds no enrolment token",
        file=sys.stderr,
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m installer.service")
    parser.add_argument("--config", type=Path, required=True, metavar="FILE")
    parser.add_argument("--root", type=Path, metavar="DIR")
    parser.add_argument("--enrol-only", action="store_true")
    parser.add_argument("--token", help="enrol with this token instead of the config's")
    parser.add_argument("--token-env", metavar="NAME", help="the token is in this variable")
    parser.add_argument("--check", action="store_true", help="exit 0 only if it can start")
    args = parser.parse_args(argv)

    from installer import enrolment, settings

    config = _rooted(args.root, str(args.config)) if args.root else args.config
    try:
        current = settings.load(config)
        state_dir = _rooted(args.root, current.state_dir)
        if args.check:
            return _check(current, state_dir, config)
        token = (
            args.token or (os.environ.get(args.token_env, "") if args.token_env else "")
        ).strip()
        if token:
            current = replace(current, token=token)
        device = enrolment.enrol(current, state_dir, _rooted(args.root, current.ca_cert))
        current = enrolment.forget_token(config, settings.load(config))
    except EnrolmentRefused as exc:
        print(f"parc-agent service: {exc}; not retrying with this token", file=sys.stderr)
        return EXIT_TOKEN_REFUSED
    except InstallerError as exc:
        print(f"parc-agent service: {exc}", file=sys.stderr)
        return 1
    if args.enrol_only:
        print(device)
        return 0
    command = [
        sys.executable,
        "-m",
        "agent.cli",
        "run",
        "--state-dir",
        str(state_dir),
        "--server",
        current.server,
        "--log-level",
        current.log_level,
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # noqa: S606 - the service becomes the agent process


if __name__ == "__main__":
    sys.exit(main())
