"""Explicit limits and keepalive settings of the collector's gRPC server.

Set on purpose rather than inherited from grpc's defaults, so they are visible and tested:
a message over the limit is refused with RESOURCE_EXHAUSTED before it reaches a servicer.
"""

from __future__ import annotations

MiB = 1024 * 1024

MAX_RECEIVE_MESSAGE_BYTES = 4 * MiB
MAX_SEND_MESSAGE_BYTES = 4 * MiB

# Ping idle connections every minute and drop them if the ping is not answered in 20 s;
# accept agent pings no more often than every 20 s, and close a connection after 2 strikes.
KEEPALIVE_TIME_MS = 60_000
KEEPALIVE_TIMEOUT_MS = 20_000
MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS = 20_000
KEEPALIVE_PERMIT_WITHOUT_CALLS = 1
MAX_PING_STRIKES = 2

# Commands and acks waiting to be written on one agent's stream. Small on purpose: memory per
# stream stays bounded; a stream that does not drain gets the rest on a later tick.
STREAM_QUEUE_SIZE = 16

# Limits and keepalive: what keeps the server safe (message sizes, dead peers dropped).
SAFETY_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_SEND_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS),
    ("grpc.keepalive_permit_without_calls", KEEPALIVE_PERMIT_WITHOUT_CALLS),
    ("grpc.http2.max_ping_strikes", MAX_PING_STRIKES),
)

# What bounds gRPC core's memory per connection (measured by bench/stream_memory.py).
# TLS records the server writes are at most 4 KiB (its replies are small: acks, commands,
# receipts), so each connection's protect buffer is 4 KiB instead of 16. Not set, on purpose:
# grpc.max_concurrent_streams (calls sent before the client has read the server's SETTINGS
# are refused: REFUSED_STREAM, seen as UNAVAILABLE), and the flow-control and read-buffer
# arguments (bdp_probe, lookahead_bytes, write_buffer_size, tcp_*_read_chunk_size), which
# measured no difference per connection.
TSI_MAX_FRAME_BYTES = 4096
MEMORY_OPTIONS: tuple[tuple[str, int], ...] = (("grpc.tsi.max_frame_size", TSI_MAX_FRAME_BYTES),)

SERVER_OPTIONS: tuple[tuple[str, int], ...] = SAFETY_OPTIONS + MEMORY_OPTIONS
