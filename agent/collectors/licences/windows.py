"""Windows and Office activation, from the Software Protection Platform's CIM class
``SoftwareLicensingProduct`` (only products with a key installed: PartialProductKey set).

* product: ApplicationID 55c92734-d682-4d71-983e-d6ec3f16059f is Windows,
  0ff1ce15-a989-479d-af46-f275c6370663 is Office (2013 and later); others are skipped.
* channel: from the Description ("Windows(R) Operating System, RETAIL channel"): RETAIL →
  Retail, VOLUME_MAK → Volume:MAK, VOLUME_KMSCLIENT → Volume:GVLK, VOLUME_KMS → Volume:KMS,
  OEM_* kept as written (OEM_DM, OEM_SLP, OEM_COA_NSLP, ...); else ProductKeyChannel.
* state: LicenseStatus 0 unlicensed, 1 licensed, 2/3/6 grace (out-of-box, out-of-tolerance,
  extended), 4 non-genuine grace and 5 notification → notification.
* key: PartialProductKey is already the last five characters; whatever comes in is cut to
  five again by the record, so a full key can never be reported.
"""

from __future__ import annotations

import re
from typing import Any

from agent.collectors.licences.records import ActivationState, ProductActivation
from agent.collectors.software.powershell import PowerShellError, powershell_objects
from agent.platform.runner import CommandRunner

WINDOWS_APPLICATION_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE_APPLICATION_ID = "0ff1ce15-a989-479d-af46-f275c6370663"
PRODUCTS = {WINDOWS_APPLICATION_ID: "windows", OFFICE_APPLICATION_ID: "office"}

LICENSING_SCRIPT = (
    "Get-CimInstance -ClassName SoftwareLicensingProduct -Filter 'PartialProductKey IS NOT NULL'"
    " | Select-Object Name,Description,ApplicationID,LicenseStatus,PartialProductKey,"
    "ProductKeyChannel | ConvertTo-Json -Compress"
)
STATES = {
    0: ActivationState.UNLICENSED,
    1: ActivationState.LICENSED,
    2: ActivationState.GRACE,
    3: ActivationState.GRACE,
    4: ActivationState.NOTIFICATION,
    5: ActivationState.NOTIFICATION,
    6: ActivationState.GRACE,
}
CHANNELS = {
    "RETAIL": "Retail",
    "VOLUME_MAK": "Volume:MAK",
    "VOLUME_KMSCLIENT": "Volume:GVLK",
    "VOLUME_KMS": "Volume:KMS",
}
_CHANNEL = re.compile(r"\b([A-Z][A-Z0-9_]*) channel\b")


class ActivationReadError(Exception):
    """The licensing query failed."""


def channel_of(description: object, product_key_channel: object = None) -> str:
    if isinstance(description, str) and (match := _CHANNEL.search(description)):
        kind = match.group(1)
        if kind.startswith("VOLUME_KMS") and kind not in CHANNELS:
            kind = "VOLUME_KMS"  # KMS host keys: VOLUME_KMS_W10, VOLUME_KMS_2019, ...
        return CHANNELS.get(kind, kind)
    if isinstance(product_key_channel, str):
        return product_key_channel.strip()
    return ""


def _status(value: object) -> ActivationState:
    if isinstance(value, bool):
        return ActivationState.UNKNOWN
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int):
        return STATES.get(value, ActivationState.UNKNOWN)
    return ActivationState.UNKNOWN


def activation(item: dict[str, Any]) -> ProductActivation | None:
    """The record for one SoftwareLicensingProduct object, None when it is not ours."""
    application = item.get("ApplicationID")
    if not isinstance(application, str):
        return None
    product = PRODUCTS.get(application.strip().strip("{}").lower())
    key = item.get("PartialProductKey")
    if product is None or not isinstance(key, str) or not key.strip():
        return None
    name = item.get("Name")
    return ProductActivation(
        product=product,
        name=name if isinstance(name, str) else "",
        channel=channel_of(item.get("Description"), item.get("ProductKeyChannel")),
        state=_status(item.get("LicenseStatus")),
        partial_product_key=key,
    )


def parse_activations(items: list[dict[str, Any]]) -> list[ProductActivation]:
    return [found for found in (activation(item) for item in items) if found is not None]


class WindowsActivationReader:
    """Activation of Windows and Office through PowerShell and CIM."""

    name = "windows-activation"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def is_supported(self) -> bool:
        return self._runner.which("powershell.exe") is not None

    def read(self) -> list[ProductActivation]:
        try:
            items = powershell_objects(self._runner, LICENSING_SCRIPT)
        except PowerShellError as exc:
            raise ActivationReadError(f"SoftwareLicensingProduct query failed: {exc}") from exc
        return parse_activations(items)
