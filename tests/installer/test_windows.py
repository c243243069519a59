"""The Windows bundle, checked by reading what it would run (PowerShell is not available here).

The service command line is split the way the service control manager splits it
(CommandLineToArgvW rules), and PowerShell string literals are unquoted the way PowerShell does.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.platform import windows_service
from installer import settings
from installer.archive import extract
from installer.build import BuildResult
from installer.manifest import verify
from installer.windows import command_line, service_arguments
from tests.e2e.processes import Collector
from tests.installer.conftest import Builder


def split_command_line(text: str) -> list[str]:
    """CommandLineToArgvW: the program name is taken verbatim up to its closing quote."""
    args: list[str] = []
    i = 0
    if text.startswith('"'):
        end = text.index('"', 1)
        args.append(text[1:end])
        i = end + 1
    else:
        end = len(text) if " " not in text else text.index(" ")
        args.append(text[:end])
        i = end
    current: list[str] | None = None
    quoted = False
    while i < len(text):
        char = text[i]
        if char in " \t" and not quoted:
            if current is not None:
                args.append("".join(current))
                current = None
            i += 1
            continue
        current = current if current is not None else []
        if char == "\\":
            run = len(text[i:]) - len(text[i:].lstrip("\\"))
            if i + run < len(text) and text[i + run] == '"':
                current.append("\\" * (run // 2))
                if run % 2:
                    current.append('"')
                    i += run + 1
                else:
                    i += run
                continue
            current.append("\\" * run)
            i += run
            continue
        if char == '"':
            if quoted and i + 1 < len(text) and text[i + 1] == '"':
                current.append('"')
                i += 2
                continue
            quoted = not quoted
            i += 1
            continue
        current.append(char)
        i += 1
    if current is not None:
        args.append("".join(current))
    return args


def ps_string(script: str, variable: str) -> str:
    """The value of ``$variable = '...'`` in a PowerShell script."""
    match = re.search(rf"^\${variable} = '((?:[^']|'')*)'\r?$", script, re.M)
    assert match is not None, variable
    return match.group(1).replace("''", "'")


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_characters="\0"), max_size=12), max_size=4)
)
def test_arguments_survive_the_windows_command_line(arguments: list[str]) -> None:
    program = r"C:\Program Files\Parc Agent\venv\Scripts\python.exe"
    assert split_command_line(command_line([program, *arguments])) == [program, *arguments]


@pytest.fixture(scope="module")
def windows_bundle(builder: Builder, collector: Collector) -> BuildResult:
    return builder("windows", "collector.example.net:50051", collector.ca_cert, token="baked-tok")


@pytest.fixture(scope="module")
def unpacked(windows_bundle: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract(windows_bundle.path, tmp_path_factory.mktemp("windows"))


def test_zip_structure_and_wheels(windows_bundle: BuildResult, unpacked: Path) -> None:
    with zipfile.ZipFile(windows_bundle.path) as archive:
        names = archive.namelist()
    assert names == sorted(names)
    top = "parc-agent-0.1.0-windows-amd64/"
    for name in ("install.ps1", "uninstall.ps1", "agent.toml", "ca.crt", "MANIFEST.json"):
        assert top + name in names
    wheels = [n.removeprefix(top + "wheels/") for n in names if n.startswith(top + "wheels/")]
    for dist in ("pywin32-", "tzdata-", "grpcio-", "cryptography-", "pip-", "parc_rmm-"):
        assert any(w.startswith(dist) for w in wheels), dist
    assert not any("manylinux" in w or "macosx" in w for w in wheels)
    assert all(w.endswith(("win_amd64.whl", "none-any.whl")) for w in wheels if w)
    assert verify(unpacked).info["os"] == "windows"


def test_config_uses_programdata(unpacked: Path) -> None:
    config = settings.load(unpacked / "agent.toml")
    assert config.state_dir == r"C:\ProgramData\Parc\state"
    assert config.ca_cert == r"C:\ProgramData\Parc\ca.crt"
    assert config.server == "collector.example.net:50051"
    assert config.enroll_server == "collector.example.net:50052"
    assert config.token == "baked-tok"


def test_the_service_command_line_is_quoted_for_the_service_manager(unpacked: Path) -> None:
    script = (unpacked / "install.ps1").read_bytes().decode()
    assert "\r\n" in script and "\n" not in script.replace("\r\n", "")
    binary_path = ps_string(script, "BinaryPath")
    assert binary_path.startswith('"C:\\Program Files\\Parc Agent\\venv\\Scripts\\python.exe" ')
    assert split_command_line(binary_path) == service_arguments()
    assert service_arguments() == [
        r"C:\Program Files\Parc Agent\venv\Scripts\python.exe",
        "-m",
        "agent.platform.windows_service",
        "--config",
        r"C:\ProgramData\Parc\agent.toml",
    ]
    assert ps_string(script, "ServiceName") == "ParcAgent"
    assert ps_string(script, "DataDir") == r"C:\ProgramData\Parc"
    assert "New-Service -Name $ServiceName -BinaryPathName $BinaryPath" in script


def test_install_script_is_silent_capable_checks_the_manifest_and_recovers(unpacked: Path) -> None:
    script = (unpacked / "install.ps1").read_bytes().decode().replace("\r\n", "\n")
    param = script.split("param(", 1)[1].split(")\n", 1)[0]
    assert "[string]$Token" in param
    assert "[string]$Python" in param
    assert "[switch]$Quiet" in param
    assert "$ErrorActionPreference = 'Stop'" in script
    assert "Get-FileHash -Algorithm SHA256" in script
    assert script.index("Get-FileHash") < script.index("-m venv")
    assert "--no-index" in script
    recovery = "actions= restart/60000/restart/60000/restart/300000"
    assert f"sc.exe failure $ServiceName reset= 86400 {recovery}" in script
    icacls = [line for line in script.splitlines() if "icacls.exe" in line]
    assert len(icacls) == 1
    assert "/inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'" in icacls[0]
    assert not re.search(r"Users|Everyone|S-1-1-0|S-1-5-32-545", icacls[0])
    assert script.index("icacls.exe") < script.index(
        "Copy-Item -LiteralPath (Join-Path $Here 'agent.toml')"
    )
    assert "'--enrol-only'" in script
    assert "$EnrolArgs += @('--token', $Token)" in script
    assert script.count("{") == script.count("}")
    assert script.count("(") == script.count(")")


def test_uninstall_script_keeps_state_unless_purge(unpacked: Path) -> None:
    script = (unpacked / "uninstall.ps1").read_bytes().decode().replace("\r\n", "\n")
    assert "[switch]$Purge" in script
    assert "[switch]$Quiet" in script
    assert "sc.exe delete $ServiceName" in script
    data_removals = [line for line in script.splitlines() if "LiteralPath $DataDir }" in line]
    assert data_removals and all(line.startswith("if ($Purge -and") for line in data_removals)


def test_the_service_module_imports_here_and_reads_its_command_line() -> None:
    assert windows_service.parse_args(["--config", r"C:\ProgramData\Parc\agent.toml"]) == Path(
        r"C:\ProgramData\Parc\agent.toml"
    )
    assert windows_service.HAVE_PYWIN32 is False
    assert windows_service.main() == 1
    assert windows_service.ParcAgentService._svc_name_ == "ParcAgent"
