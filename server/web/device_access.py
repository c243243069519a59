"""Finding one device for a principal: the id's format in paths, and the tenant check.

``/devices/{device_id:device_id}`` (pages) and ``/api/v1/devices/{device_id:device_id}`` only
match a device id (a UUID, with or without hyphens), so fixed paths such as /devices/add are
never taken for one. A device of a tenant the principal may not see is "not found", exactly
like a missing one, so that existence does not leak.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

from server.services import access
from server.services.devices import DeviceStatus
from server.services.errors import NotFound
from server.services.records import Principal
from server.web.context import WebContext

DEVICE_ID_PATTERN = (
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


class DeviceIdConvertor(Convertor[str]):
    """A path segment that is a device id."""

    regex = DEVICE_ID_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        if not _DEVICE_ID.fullmatch(value):
            raise ValueError("not a device id")
        return value


register_url_convertor("device_id", DeviceIdConvertor())


async def visible_device(
    ctx: WebContext, principal: Principal, device_id: str, action: str = access.DEVICES_READ
) -> DeviceStatus:
    """The device, if ``principal`` may see it; NotFound otherwise (and when missing).

    PermissionDenied when ``principal`` may see it but not do ``action`` on it."""
    ctx.access.require(principal, access.DEVICES_READ)
    device = await ctx.devices.status(device_id)
    visible = ctx.access.visible_tenants(principal)
    if visible is not None and device.tenant_id not in visible:
        raise NotFound(f"device {device_id!r:.80} does not exist")
    ctx.access.require(principal, action, device.tenant_id)
    return device
