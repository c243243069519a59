"""Windows and Office activation from recorded SoftwareLicensingProduct JSON."""

from __future__ import annotations

from agent.collectors.licences import (
    ActivationState,
    LicenceInventory,
    ProductActivation,
    darwin_licences,
    windows_licences,
)
from agent.collectors.licences.windows import LICENSING_SCRIPT, activation, channel_of
from agent.collectors.software.powershell import powershell_command
from agent.wire.licences import licence_inventory
from parc.v1 import agent_service_pb2 as pb
from tests.agent.recorded import FIXTURES, RecordedRunner, Recording

QUERY = powershell_command(LICENSING_SCRIPT)
LICENCES = FIXTURES / "licences"


def collect(fixture: str) -> LicenceInventory:
    runner = RecordedRunner({QUERY: Recording.file(LICENCES / fixture)})
    return windows_licences(runner).collect()


def test_windows_and_office_products() -> None:
    found = [
        (a.product, a.channel, a.state, a.partial_product_key)
        for a in collect("slp-array.json").activations
    ]
    assert found == [
        ("office", "Volume:GVLK", ActivationState.GRACE, "YG7XF"),
        ("office", "Volume:MAK", ActivationState.NOTIFICATION, "6MWKP"),
        ("windows", "OEM_DM", ActivationState.LICENSED, "3V66T"),
        ("windows", "Volume:KMS", ActivationState.NOTIFICATION, "T99XY"),
    ]  # not the other SPP application, not the product without a key


def test_single_object_output() -> None:
    (only,) = collect("slp-single.json").activations
    assert (only.product, only.name, only.channel, only.state) == (
        "windows",
        "Windows(R), Home edition",
        "Retail",
        ActivationState.GRACE,
    )


def test_never_more_than_five_key_characters() -> None:
    full = "NMMKJ-6RK4F-KMJVX-8D9MJ-6MWKP"
    record = ProductActivation("windows", "n", "Retail", ActivationState.LICENSED, full)
    assert record.partial_product_key == "6MWKP"
    for activation_ in collect("slp-array.json").activations:
        assert len(activation_.partial_product_key) <= 5
    message = licence_inventory(collect("slp-array.json"))
    assert all(len(a.partial_product_key) <= 5 for a in message.activations)
    assert full not in message.SerializeToString().decode("utf-8", errors="replace")


def test_states_and_channels() -> None:
    def state(status: object) -> ActivationState:
        found = activation(
            {
                "ApplicationID": "{55C92734-D682-4D71-983E-D6EC3F16059F}",
                "PartialProductKey": "AAAAA",
                "LicenseStatus": status,
            }
        )
        assert found is not None
        return found.state

    assert [state(n) for n in range(7)] == [
        ActivationState.UNLICENSED,
        ActivationState.LICENSED,
        ActivationState.GRACE,
        ActivationState.GRACE,
        ActivationState.NOTIFICATION,
        ActivationState.NOTIFICATION,
        ActivationState.GRACE,
    ]
    assert state(99) is ActivationState.UNKNOWN
    assert state("1") is ActivationState.LICENSED
    assert state(None) is ActivationState.UNKNOWN
    assert channel_of("Windows(R) Operating System, VOLUME_KMSCLIENT channel") == "Volume:GVLK"
    assert channel_of("Windows(R) Operating System, OEM_COA_NSLP channel") == "OEM_COA_NSLP"
    assert channel_of("no channel word", "Volume:MAK") == "Volume:MAK"
    assert channel_of(None) == ""


def test_wire_states() -> None:
    message = licence_inventory(collect("slp-array.json"))
    assert [a.state for a in message.activations] == [
        pb.ACTIVATION_STATE_GRACE,
        pb.ACTIVATION_STATE_NOTIFICATION,
        pb.ACTIVATION_STATE_LICENSED,
        pb.ACTIVATION_STATE_NOTIFICATION,
    ]
    assert message.activations[2].product == "windows"


def test_powershell_failures_yield_nothing() -> None:
    for recording in (Recording(timeout=True), Recording(b"not json"), Recording(b"", 1)):
        runner = RecordedRunner({QUERY: recording})
        assert windows_licences(runner).collect().activations == ()


def test_darwin_has_no_licence_collector_yet() -> None:
    assert not darwin_licences().is_supported()
