"""LicenceInventory messages from the licence collector's records."""

from __future__ import annotations

from agent.collectors.licences.records import ActivationState, LicenceInventory
from parc.v1 import agent_service_pb2 as pb

STATES: dict[ActivationState, pb.ActivationState] = {
    ActivationState.UNKNOWN: pb.ACTIVATION_STATE_UNSPECIFIED,
    ActivationState.LICENSED: pb.ACTIVATION_STATE_LICENSED,
    ActivationState.UNLICENSED: pb.ACTIVATION_STATE_UNLICENSED,
    ActivationState.GRACE: pb.ACTIVATION_STATE_GRACE,
    ActivationState.NOTIFICATION: pb.ACTIVATION_STATE_NOTIFICATION,
}


def licence_inventory(inventory: LicenceInventory) -> pb.LicenceInventory:
    """The LicenceInventory section; the partial key is cut to five characters once more here,
    so nothing longer can reach the wire whatever built the record."""
    return pb.LicenceInventory(
        activations=[
            pb.ProductActivation(
                product=a.product,
                name=a.name,
                channel=a.channel,
                state=STATES.get(a.state, pb.ACTIVATION_STATE_UNSPECIFIED),
                partial_product_key=a.partial_product_key[-5:],
            )
            for a in inventory.activations
        ],
        packages=[
            pb.PackageLicence(package=p.package, source=p.source, spdx=p.spdx, declared=p.declared)
            for p in inventory.packages
        ],
    )
