"""The service's entry point: ``python -m installer.service --config FILE``.

On the first start it enrols with the token from the config and removes the token from it;
then it replaces itself with ``parc-agent run`` (the service manager sees the agent's process).
``--enrol-only`` stops after enrolment (install time). ``--root DIR`` re-roots the config's
paths, for trees installed with ``parc-installer install --root``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from installer.errors import InstallerError


def _rooted(root: Path | None, path: str) -> Path:
    if root is None:
        return Path(path)
    return root / Path(path).relative_to(Path(path).anchor)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m installer.service")
    parser.add_argument("--config", type=Path, required=True, metavar="FILE")
    parser.add_argument("--root", type=Path, metavar="DIR")
    parser.add_argument("--enrol-only", action="store_true")
    parser.add_argument("--token", help="enrol with this token instead of the config's")
    args = parser.parse_args(argv)

    from installer import enrolment, settings

    config = _rooted(args.root, str(args.config)) if args.root else args.config
    try:
        current = settings.load(config)
        if args.token:
            current = replace(current, token=args.token)
        state_dir = _rooted(args.root, current.state_dir)
        device = enrolment.enrol(current, state_dir, _rooted(args.root, current.ca_cert))
        current = enrolment.forget_token(config, settings.load(config))
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
