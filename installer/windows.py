"""The Windows bundle: PowerShell install/uninstall scripts and the service registration.

The service is the pywin32 service class ``agent.platform.windows_service`` run by the agent's
own python.exe; ``sc.exe failure`` restarts it after a crash. Config and state live under
ProgramData with an ACL granting SYSTEM and Administrators only (inheritance removed), because
the config holds the enrolment token until the first start.

These files cannot be run on the build machine: tests parse them (structure, quoting, the
service command line) instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from installer.layout import WindowsLayout

LAYOUT = WindowsLayout()
SYSTEM_SID = "*S-1-5-18"
ADMINISTRATORS_SID = "*S-1-5-32-544"
# restart after 1 min, 1 min, then 5 min; the failure count resets after a day
FAILURE_ACTIONS = "restart/60000/restart/60000/restart/300000"
FAILURE_RESET_S = 86400


def quote_argument(argument: str) -> str:
    """One argument quoted for CommandLineToArgvW (what the service control manager uses)."""
    if argument and not any(c in argument for c in ' \t"'):
        return argument
    out, backslashes = ['"'], 0
    for char in argument:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (backslashes * 2) + '"')
    return "".join(out)


def command_line(arguments: Sequence[str]) -> str:
    return " ".join(quote_argument(a) for a in arguments)


def ps_literal(text: str) -> str:
    """A PowerShell single-quoted string (nothing inside is expanded)."""
    return "'" + text.replace("'", "''") + "'"


def service_arguments(layout: WindowsLayout = LAYOUT) -> list[str]:
    return [
        str(layout.python),
        "-m",
        "agent.platform.windows_service",
        "--config",
        str(layout.config),
    ]


def service_command_line(layout: WindowsLayout = LAYOUT) -> str:
    return command_line(service_arguments(layout))


def install_script(version: str, layout: WindowsLayout = LAYOUT) -> str:
    return f"""\
<#
.SYNOPSIS
Installs the Parc agent {version} as the Windows service {layout.service_name}.
.DESCRIPTION
Checks every file against MANIFEST.json, builds the agent's environment offline from the bundled
wheels, writes the config under ProgramData (SYSTEM and Administrators only), enrols, and
registers the service with restart on failure. A failure undoes a fresh install.
Silent use (Group Policy, Intune): powershell -ExecutionPolicy Bypass -File install.ps1 -Quiet
.PARAMETER Token
Enrolment token, when none is baked into the bundle.
.PARAMETER Python
python.exe (3.11 or newer) to build the environment with; default: the py launcher.
.PARAMETER Quiet
No output except errors; never prompts.
#>
[CmdletBinding()]
param(
    [string]$Token = '',
    [string]$Python = '',
    [switch]$Quiet
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Version = {ps_literal(version)}
$ProgramDir = {ps_literal(str(layout.program_dir))}
$DataDir = {ps_literal(str(layout.data_dir))}
$StateDir = {ps_literal(str(layout.state_dir))}
$Config = {ps_literal(str(layout.config))}
$CaCert = {ps_literal(str(layout.ca_cert))}
$VenvPython = {ps_literal(str(layout.python))}
$ServiceName = {ps_literal(layout.service_name)}
$DisplayName = {ps_literal(layout.display_name)}
$BinaryPath = {ps_literal(service_command_line(layout))}

function Say([string]$Message) {{ if (-not $Quiet) {{ Write-Host $Message }} }}

$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object Security.Principal.WindowsPrincipal($identity)
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {{
    throw 'install.ps1 must run as Administrator'
}}

# 1. The bundle must match its manifest before anything changes.
$Manifest = Get-Content -Raw -LiteralPath (Join-Path $Here 'MANIFEST.json') | ConvertFrom-Json
foreach ($entry in $Manifest.files.PSObject.Properties) {{
    $file = Join-Path $Here $entry.Name
    if (-not (Test-Path -LiteralPath $file)) {{ throw "bundle file missing: $($entry.Name)" }}
    $hash = (Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLowerInvariant()
    if ($hash -ne $entry.Value) {{ throw "checksum mismatch: $($entry.Name) (bundle corrupt or tampered with)" }}
}}

if (-not $Python) {{
    $launcher = Get-Command py.exe -ErrorAction SilentlyContinue
    if ($launcher) {{ $Python = (& py.exe -3 -c 'import sys; print(sys.executable)').Trim() }}
    else {{ $Python = (Get-Command python.exe -ErrorAction Stop).Source }}
}}

$Fresh = -not (Test-Path -LiteralPath $ProgramDir)
$Existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($Existing) {{ Stop-Service -Name $ServiceName -Force -ErrorAction SilentlyContinue }}

try {{
    # 2. The environment, offline, from the bundled wheels (pip itself runs from its wheel).
    if (Test-Path -LiteralPath "$ProgramDir\\venv") {{ Remove-Item -Recurse -Force -LiteralPath "$ProgramDir\\venv" }}
    New-Item -ItemType Directory -Force -Path $ProgramDir | Out-Null
    & $Python -m venv --without-pip "$ProgramDir\\venv"
    if ($LASTEXITCODE -ne 0) {{ throw "creating the environment failed ($LASTEXITCODE)" }}
    $PipWheel = (Get-ChildItem -LiteralPath (Join-Path $Here 'wheels') -Filter 'pip-*.whl' | Select-Object -Last 1).FullName
    & $VenvPython "$PipWheel\\pip" install --quiet --disable-pip-version-check --no-index --no-warn-script-location --find-links (Join-Path $Here 'wheels') "parc-rmm==$Version"
    if ($LASTEXITCODE -ne 0) {{ throw "installing the agent failed ($LASTEXITCODE)" }}

    # 3. Config and state: SYSTEM and Administrators only, nothing inherited.
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    New-Item -ItemType Directory -Force -Path $StateDir | Out-Null
    & icacls.exe $DataDir /inheritance:r /grant:r '{SYSTEM_SID}:(OI)(CI)F' '{ADMINISTRATORS_SID}:(OI)(CI)F' /T /Q | Out-Null
    if ($LASTEXITCODE -ne 0) {{ throw "setting the ACL on $DataDir failed ($LASTEXITCODE)" }}
    if (-not (Test-Path -LiteralPath $Config)) {{ Copy-Item -LiteralPath (Join-Path $Here 'agent.toml') -Destination $Config }}
    if (-not (Test-Path -LiteralPath $CaCert)) {{ Copy-Item -LiteralPath (Join-Path $Here 'ca.crt') -Destination $CaCert }}

    # 4. Enrol now, so a wrong address or a spent token fails the install, not the service.
    $EnrolArgs = @('-m', 'installer.service', '--config', $Config, '--enrol-only')
    if ($Token) {{ $EnrolArgs += @('--token', $Token) }}
    & $VenvPython @EnrolArgs
    if ($LASTEXITCODE -ne 0) {{ throw "enrolment failed (see the message above)" }}

    # 5. The service, restarted on failure.
    if (-not $Existing) {{
        New-Service -Name $ServiceName -BinaryPathName $BinaryPath -DisplayName $DisplayName -StartupType Automatic -Description 'Reports this machine to the Parc collector' | Out-Null
    }} else {{
        & sc.exe config $ServiceName binPath= $BinaryPath start= auto | Out-Null
    }}
    & sc.exe failure $ServiceName reset= {FAILURE_RESET_S} actions= {FAILURE_ACTIONS} | Out-Null
    & sc.exe failureflag $ServiceName 1 | Out-Null
    Start-Service -Name $ServiceName
}} catch {{
    if ($Fresh) {{
        Remove-Item -Recurse -Force -LiteralPath $ProgramDir -ErrorAction SilentlyContinue
        Remove-Item -Force -LiteralPath $Config -ErrorAction SilentlyContinue
        if (-not $Existing) {{ & sc.exe delete $ServiceName 2>$null | Out-Null }}
    }}
    throw
}}
Say "Parc agent $Version installed as service $ServiceName"
exit 0
"""


def uninstall_script(layout: WindowsLayout = LAYOUT) -> str:
    return f"""\
<#
.SYNOPSIS
Removes the Parc agent service and program. -Purge also removes config and state (identity, spool).
Silent use: powershell -ExecutionPolicy Bypass -File uninstall.ps1 -Quiet [-Purge]
#>
[CmdletBinding()]
param(
    [switch]$Purge,
    [switch]$Quiet
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ProgramDir = {ps_literal(str(layout.program_dir))}
$DataDir = {ps_literal(str(layout.data_dir))}
$ServiceName = {ps_literal(layout.service_name)}

function Say([string]$Message) {{ if (-not $Quiet) {{ Write-Host $Message }} }}

if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {{
    Stop-Service -Name $ServiceName -Force -ErrorAction SilentlyContinue
    & sc.exe delete $ServiceName | Out-Null
}}
if (Test-Path -LiteralPath $ProgramDir) {{ Remove-Item -Recurse -Force -LiteralPath $ProgramDir }}
if ($Purge -and (Test-Path -LiteralPath $DataDir)) {{ Remove-Item -Recurse -Force -LiteralPath $DataDir }}
Say 'Parc agent removed'
exit 0
"""
