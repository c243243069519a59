import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CommandStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMAND_STATUS_UNSPECIFIED: _ClassVar[CommandStatus]
    COMMAND_STATUS_SUCCEEDED: _ClassVar[CommandStatus]
    COMMAND_STATUS_FAILED: _ClassVar[CommandStatus]
    COMMAND_STATUS_REJECTED: _ClassVar[CommandStatus]

class CommandKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMAND_KIND_UNSPECIFIED: _ClassVar[CommandKind]
    COMMAND_KIND_SEND_INVENTORY: _ClassVar[CommandKind]
COMMAND_STATUS_UNSPECIFIED: CommandStatus
COMMAND_STATUS_SUCCEEDED: CommandStatus
COMMAND_STATUS_FAILED: CommandStatus
COMMAND_STATUS_REJECTED: CommandStatus
COMMAND_KIND_UNSPECIFIED: CommandKind
COMMAND_KIND_SEND_INVENTORY: CommandKind

class AgentInfo(_message.Message):
    __slots__ = ("hostname", "agent_version", "os_family")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    OS_FAMILY_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    agent_version: str
    os_family: str
    def __init__(self, hostname: _Optional[str] = ..., agent_version: _Optional[str] = ..., os_family: _Optional[str] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("token", "csr_der", "agent")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CSR_DER_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    token: str
    csr_der: bytes
    agent: AgentInfo
    def __init__(self, token: _Optional[str] = ..., csr_der: _Optional[bytes] = ..., agent: _Optional[_Union[AgentInfo, _Mapping]] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("device_id", "certificate_pem", "ca_certificate_pem", "package_signing_public_key", "tenant", "site")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_SIGNING_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    certificate_pem: str
    ca_certificate_pem: str
    package_signing_public_key: bytes
    tenant: str
    site: str
    def __init__(self, device_id: _Optional[str] = ..., certificate_pem: _Optional[str] = ..., ca_certificate_pem: _Optional[str] = ..., package_signing_public_key: _Optional[bytes] = ..., tenant: _Optional[str] = ..., site: _Optional[str] = ...) -> None: ...

class RenewCertificateRequest(_message.Message):
    __slots__ = ("csr_der",)
    CSR_DER_FIELD_NUMBER: _ClassVar[int]
    csr_der: bytes
    def __init__(self, csr_der: _Optional[bytes] = ...) -> None: ...

class RenewCertificateResponse(_message.Message):
    __slots__ = ("certificate_pem",)
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: str
    def __init__(self, certificate_pem: _Optional[str] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ("heartbeat", "command_ack")
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ACK_FIELD_NUMBER: _ClassVar[int]
    heartbeat: Heartbeat
    command_ack: CommandAck
    def __init__(self, heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., command_ack: _Optional[_Union[CommandAck, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sequence", "sent_time")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    sent_time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., sent_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CommandAck(_message.Message):
    __slots__ = ("command_id", "status", "detail")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    status: CommandStatus
    detail: str
    def __init__(self, command_id: _Optional[str] = ..., status: _Optional[_Union[CommandStatus, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ("heartbeat_ack", "command")
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    heartbeat_ack: HeartbeatAck
    command: Command
    def __init__(self, heartbeat_ack: _Optional[_Union[HeartbeatAck, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ...) -> None: ...

class HeartbeatAck(_message.Message):
    __slots__ = ("sequence", "server_time")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("command_id", "kind", "payload", "create_time")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    kind: CommandKind
    payload: bytes
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, command_id: _Optional[str] = ..., kind: _Optional[_Union[CommandKind, str]] = ..., payload: _Optional[bytes] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportHealthRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[HealthReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[HealthReport, _Mapping]]] = ...) -> None: ...

class ReportHealthResponse(_message.Message):
    __slots__ = ("accepted_report_ids",)
    ACCEPTED_REPORT_IDS_FIELD_NUMBER: _ClassVar[int]
    accepted_report_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, accepted_report_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class HealthReport(_message.Message):
    __slots__ = ("report_id", "sample_time", "cpu_percent", "memory", "swap", "load", "filesystems", "uptime_seconds")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_TIME_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    SWAP_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    FILESYSTEMS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    sample_time: _timestamp_pb2.Timestamp
    cpu_percent: float
    memory: MemoryUsage
    swap: MemoryUsage
    load: LoadAverage
    filesystems: _containers.RepeatedCompositeFieldContainer[FilesystemUsage]
    uptime_seconds: int
    def __init__(self, report_id: _Optional[str] = ..., sample_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cpu_percent: _Optional[float] = ..., memory: _Optional[_Union[MemoryUsage, _Mapping]] = ..., swap: _Optional[_Union[MemoryUsage, _Mapping]] = ..., load: _Optional[_Union[LoadAverage, _Mapping]] = ..., filesystems: _Optional[_Iterable[_Union[FilesystemUsage, _Mapping]]] = ..., uptime_seconds: _Optional[int] = ...) -> None: ...

class MemoryUsage(_message.Message):
    __slots__ = ("total_bytes", "used_bytes", "percent")
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    total_bytes: int
    used_bytes: int
    percent: float
    def __init__(self, total_bytes: _Optional[int] = ..., used_bytes: _Optional[int] = ..., percent: _Optional[float] = ...) -> None: ...

class LoadAverage(_message.Message):
    __slots__ = ("load1", "load5", "load15")
    LOAD1_FIELD_NUMBER: _ClassVar[int]
    LOAD5_FIELD_NUMBER: _ClassVar[int]
    LOAD15_FIELD_NUMBER: _ClassVar[int]
    load1: float
    load5: float
    load15: float
    def __init__(self, load1: _Optional[float] = ..., load5: _Optional[float] = ..., load15: _Optional[float] = ...) -> None: ...

class FilesystemUsage(_message.Message):
    __slots__ = ("mountpoint", "device", "fstype", "total_bytes", "used_bytes", "percent")
    MOUNTPOINT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FSTYPE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    percent: float
    def __init__(self, mountpoint: _Optional[str] = ..., device: _Optional[str] = ..., fstype: _Optional[str] = ..., total_bytes: _Optional[int] = ..., used_bytes: _Optional[int] = ..., percent: _Optional[float] = ...) -> None: ...

class ReportInventoryRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[InventoryReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[InventoryReport, _Mapping]]] = ...) -> None: ...

class ReportInventoryResponse(_message.Message):
    __slots__ = ("accepted_report_ids",)
    ACCEPTED_REPORT_IDS_FIELD_NUMBER: _ClassVar[int]
    accepted_report_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, accepted_report_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class InventoryReport(_message.Message):
    __slots__ = ("report_id", "collect_time", "os", "hardware")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECT_TIME_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    collect_time: _timestamp_pb2.Timestamp
    os: OperatingSystem
    hardware: Hardware
    def __init__(self, report_id: _Optional[str] = ..., collect_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., os: _Optional[_Union[OperatingSystem, _Mapping]] = ..., hardware: _Optional[_Union[Hardware, _Mapping]] = ...) -> None: ...

class OperatingSystem(_message.Message):
    __slots__ = ("family", "name", "version", "kernel", "hostname")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    family: str
    name: str
    version: str
    kernel: str
    hostname: str
    def __init__(self, family: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., kernel: _Optional[str] = ..., hostname: _Optional[str] = ...) -> None: ...

class Hardware(_message.Message):
    __slots__ = ("vendor", "model", "serial_number", "cpu_model", "cpu_cores", "cpu_threads", "memory_total_bytes", "disks", "network_interfaces")
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    CPU_CORES_FIELD_NUMBER: _ClassVar[int]
    CPU_THREADS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_INTERFACES_FIELD_NUMBER: _ClassVar[int]
    vendor: str
    model: str
    serial_number: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    memory_total_bytes: int
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    network_interfaces: _containers.RepeatedCompositeFieldContainer[NetworkInterface]
    def __init__(self, vendor: _Optional[str] = ..., model: _Optional[str] = ..., serial_number: _Optional[str] = ..., cpu_model: _Optional[str] = ..., cpu_cores: _Optional[int] = ..., cpu_threads: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., network_interfaces: _Optional[_Iterable[_Union[NetworkInterface, _Mapping]]] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("name", "model", "size_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    size_bytes: int
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class NetworkInterface(_message.Message):
    __slots__ = ("name", "mac_address", "addresses")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    name: str
    mac_address: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., mac_address: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ...) -> None: ...
