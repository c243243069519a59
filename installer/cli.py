"""The ``parc-installer`` command: build, install, uninstall, status, verify.

Exit codes: 0 success, 1 failure (the message says why, on stderr), 2 bad usage.
``install``/``uninstall``/``status``/``verify`` use only the standard library and this package,
so they run from the bundle itself (``install.sh`` imports them from the agent's wheel).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from installer.errors import InstallerError
from installer.layout import LinuxLayout


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parc-installer", description="Builds Parc agent bundles and installs them."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build a deployment bundle")
    build.add_argument("--format", required=True, choices=("deb", "tar", "windows", "macos"))
    build.add_argument("--server", required=True, metavar="HOST:PORT", help="collector agent port")
    build.add_argument("--enroll-server", metavar="HOST:PORT", help="enrolment port (default +1)")
    build.add_argument("--ca-cert", required=True, type=Path, metavar="FILE")
    build.add_argument("--token", help="bake this enrolment token into the bundle")
    build.add_argument("--out", required=True, type=Path, metavar="DIR")
    build.add_argument(
        "--python-version",
        action="append",
        default=[],
        metavar="X.Y",
        help="target Python version (repeat; default 3.11, 3.12 and 3.13)",
    )
    build.add_argument(
        "--arch",
        choices=("amd64", "arm64"),
        help="target CPU (default amd64; arm64 for macos: Apple silicon)",
    )
    build.add_argument("--wheel-cache", type=Path, metavar="DIR", help="downloaded wheels cache")
    build.add_argument("--quiet", action="store_true", help="no progress output")

    install = commands.add_parser("install", help="install or upgrade from a bundle (Linux)")
    install.add_argument("bundle", type=Path, metavar="BUNDLE", help=".tar.gz or its folder")
    install.add_argument("--token", help="enrolment token (when none is baked in)")
    install.add_argument("--root", type=Path, default=Path("/"), metavar="DIR")
    install.add_argument("--python", metavar="PYTHON", help="python3 for the environment")

    uninstall = commands.add_parser("uninstall", help="remove the agent (Linux)")
    uninstall.add_argument("--purge", action="store_true", help="also remove config and state")
    uninstall.add_argument("--root", type=Path, default=Path("/"), metavar="DIR")

    status = commands.add_parser("status", help="what is installed (Linux)")
    status.add_argument("--root", type=Path, default=Path("/"), metavar="DIR")
    status.add_argument("--json", action="store_true")

    verify = commands.add_parser("verify", help="check a bundle against its manifest")
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "build": _build,
        "install": _install,
        "uninstall": _uninstall,
        "status": _status,
        "verify": _verify,
    }
    try:
        return handlers[args.command](args)
    except InstallerError as exc:
        print(f"parc-installer: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _build(args: argparse.Namespace) -> int:
    from installer import wheels
    from installer.build import BuildRequest, build, source_date_epoch
    from installer.progress import progress
    from installer.settings import make_settings

    make_settings(args.server, "ca", "state", args.enroll_server, args.token)  # checks them
    request = BuildRequest(
        fmt=args.format,
        server=args.server,
        ca_cert=args.ca_cert,
        out_dir=args.out,
        token=args.token,
        enroll_server=args.enroll_server,
        python_versions=tuple(args.python_version) or wheels.DEFAULT_PYTHON_VERSIONS,
        arch=args.arch or ("arm64" if args.format == "macos" else "amd64"),
        wheel_cache=args.wheel_cache or wheels.default_cache_dir(),
        epoch=source_date_epoch(),
    )
    with progress(f"parc-installer build {args.format}", args.quiet) as step:
        result = build(request, step)
    print(f"{result.path}  {result.size} bytes  manifest {result.manifest_digest[:16]}")
    return 0


def _install(args: argparse.Namespace) -> int:
    from installer.linux import install

    result = install(args.bundle.resolve(), LinuxLayout(args.root), args.token, args.python)
    print(result.message if result.changed else f"nothing to do: {result.message}")
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    from installer.linux import uninstall

    removed = uninstall(LinuxLayout(args.root), args.purge)
    print("removed: " + ", ".join(removed) if removed else "nothing to remove")
    return 0


def _status(args: argparse.Namespace) -> int:
    from installer.linux import status

    report = status(LinuxLayout(args.root))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0 if report["installed"] else 1


def _verify(args: argparse.Namespace) -> int:
    from installer.verify import verify_bundle

    found = verify_bundle(args.bundle)
    print(f"ok: {len(found.files)} files match the manifest ({found.info.get('format')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
