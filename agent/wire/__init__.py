"""Conversion of the collectors' records into parc.v1 messages: protobuf stays at this edge.

One module per concern (``health``, ``inventory``, ...); the public builders are re-exported here.
"""

from agent.wire.common import timestamp
from agent.wire.health import health_report
from agent.wire.inventory import inventory_report

__all__ = ["health_report", "inventory_report", "timestamp"]
