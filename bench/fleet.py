"""Simulated devices for benchmarks: enrol through the real Enroll RPC, then talk mutual TLS."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from agent.identity import new_key_and_csr
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", 4 * 1024 * 1024),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    # Each simulated device gets its own connection, as real agents do.
    ("grpc.use_local_subchannel_pool", 1),
]


@dataclass(frozen=True)
class DeviceCredentials:
    """A simulated device's identity."""

    device_id: str
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes


async def enroll(enroll_address: str, ca_pem: bytes, token: str) -> DeviceCredentials:
    """Enrol one simulated device with a real CSR."""
    key_pem, csr_der = new_key_and_csr()  # the agent's own key and CSR code
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    async with grpc.aio.secure_channel(enroll_address, creds) as channel:
        stub = pb_grpc.AgentServiceStub(channel)
        reply = await stub.Enroll(
            pb.EnrollRequest(
                token=token,
                csr_der=csr_der,
                agent=pb.AgentInfo(
                    hostname=f"bench-{uuid.uuid4().hex[:8]}",
                    agent_version="bench",
                    os_family="linux",
                ),
            )
        )
    return DeviceCredentials(reply.device_id, key_pem, reply.certificate_pem.encode(), ca_pem)


def mtls_channel(address: str, device: DeviceCredentials) -> grpc.aio.Channel:
    creds = grpc.ssl_channel_credentials(
        root_certificates=device.ca_pem,
        private_key=device.key_pem,
        certificate_chain=device.cert_pem,
    )
    return grpc.aio.secure_channel(address, creds, options=CHANNEL_OPTIONS)


def heartbeat(sequence: int) -> pb.ConnectRequest:
    sent = Timestamp()
    sent.GetCurrentTime()
    return pb.ConnectRequest(heartbeat=pb.Heartbeat(sequence=sequence, sent_time=sent))


def host_of(address: str) -> str:
    return address.rsplit(":", 1)[0] or socket.gethostname()
