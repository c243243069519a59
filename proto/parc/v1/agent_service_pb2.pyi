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

class BatteryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATTERY_STATUS_UNSPECIFIED: _ClassVar[BatteryStatus]
    BATTERY_STATUS_CHARGING: _ClassVar[BatteryStatus]
    BATTERY_STATUS_DISCHARGING: _ClassVar[BatteryStatus]
    BATTERY_STATUS_FULL: _ClassVar[BatteryStatus]
    BATTERY_STATUS_NOT_CHARGING: _ClassVar[BatteryStatus]

class DiskProtocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISK_PROTOCOL_UNSPECIFIED: _ClassVar[DiskProtocol]
    DISK_PROTOCOL_ATA: _ClassVar[DiskProtocol]
    DISK_PROTOCOL_NVME: _ClassVar[DiskProtocol]
    DISK_PROTOCOL_SCSI: _ClassVar[DiskProtocol]

class SoftwareSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOFTWARE_SOURCE_UNSPECIFIED: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_DEB: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_RPM: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_MSI: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_REGISTRY: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_APP_BUNDLE: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_SNAP: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_FLATPAK: _ClassVar[SoftwareSource]
    SOFTWARE_SOURCE_MSIX: _ClassVar[SoftwareSource]

class ActivationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVATION_STATE_UNSPECIFIED: _ClassVar[ActivationState]
    ACTIVATION_STATE_LICENSED: _ClassVar[ActivationState]
    ACTIVATION_STATE_UNLICENSED: _ClassVar[ActivationState]
    ACTIVATION_STATE_GRACE: _ClassVar[ActivationState]
    ACTIVATION_STATE_NOTIFICATION: _ClassVar[ActivationState]

class FormFactor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORM_FACTOR_UNSPECIFIED: _ClassVar[FormFactor]
    FORM_FACTOR_LAPTOP: _ClassVar[FormFactor]
    FORM_FACTOR_DESKTOP: _ClassVar[FormFactor]
    FORM_FACTOR_SERVER: _ClassVar[FormFactor]
    FORM_FACTOR_VIRTUAL_MACHINE: _ClassVar[FormFactor]
    FORM_FACTOR_TABLET: _ClassVar[FormFactor]

class DiskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISK_TYPE_UNSPECIFIED: _ClassVar[DiskType]
    DISK_TYPE_HDD: _ClassVar[DiskType]
    DISK_TYPE_SSD: _ClassVar[DiskType]
    DISK_TYPE_NVME: _ClassVar[DiskType]
COMMAND_STATUS_UNSPECIFIED: CommandStatus
COMMAND_STATUS_SUCCEEDED: CommandStatus
COMMAND_STATUS_FAILED: CommandStatus
COMMAND_STATUS_REJECTED: CommandStatus
COMMAND_KIND_UNSPECIFIED: CommandKind
COMMAND_KIND_SEND_INVENTORY: CommandKind
BATTERY_STATUS_UNSPECIFIED: BatteryStatus
BATTERY_STATUS_CHARGING: BatteryStatus
BATTERY_STATUS_DISCHARGING: BatteryStatus
BATTERY_STATUS_FULL: BatteryStatus
BATTERY_STATUS_NOT_CHARGING: BatteryStatus
DISK_PROTOCOL_UNSPECIFIED: DiskProtocol
DISK_PROTOCOL_ATA: DiskProtocol
DISK_PROTOCOL_NVME: DiskProtocol
DISK_PROTOCOL_SCSI: DiskProtocol
SOFTWARE_SOURCE_UNSPECIFIED: SoftwareSource
SOFTWARE_SOURCE_DEB: SoftwareSource
SOFTWARE_SOURCE_RPM: SoftwareSource
SOFTWARE_SOURCE_MSI: SoftwareSource
SOFTWARE_SOURCE_REGISTRY: SoftwareSource
SOFTWARE_SOURCE_APP_BUNDLE: SoftwareSource
SOFTWARE_SOURCE_SNAP: SoftwareSource
SOFTWARE_SOURCE_FLATPAK: SoftwareSource
SOFTWARE_SOURCE_MSIX: SoftwareSource
ACTIVATION_STATE_UNSPECIFIED: ActivationState
ACTIVATION_STATE_LICENSED: ActivationState
ACTIVATION_STATE_UNLICENSED: ActivationState
ACTIVATION_STATE_GRACE: ActivationState
ACTIVATION_STATE_NOTIFICATION: ActivationState
FORM_FACTOR_UNSPECIFIED: FormFactor
FORM_FACTOR_LAPTOP: FormFactor
FORM_FACTOR_DESKTOP: FormFactor
FORM_FACTOR_SERVER: FormFactor
FORM_FACTOR_VIRTUAL_MACHINE: FormFactor
FORM_FACTOR_TABLET: FormFactor
DISK_TYPE_UNSPECIFIED: DiskType
DISK_TYPE_HDD: DiskType
DISK_TYPE_SSD: DiskType
DISK_TYPE_NVME: DiskType

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
    __slots__ = ("report_id", "sample_time", "cpu_percent", "memory", "swap", "load", "filesystems", "uptime_seconds", "load_per_core", "temperatures", "fans", "memory_pressure", "oom_kills", "reboot_pending", "reboot_pending_reasons", "pending_updates", "pending_security_updates", "batteries", "disks", "unavailable")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_TIME_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    SWAP_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    FILESYSTEMS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOAD_PER_CORE_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURES_FIELD_NUMBER: _ClassVar[int]
    FANS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_PRESSURE_FIELD_NUMBER: _ClassVar[int]
    OOM_KILLS_FIELD_NUMBER: _ClassVar[int]
    REBOOT_PENDING_FIELD_NUMBER: _ClassVar[int]
    REBOOT_PENDING_REASONS_FIELD_NUMBER: _ClassVar[int]
    PENDING_UPDATES_FIELD_NUMBER: _ClassVar[int]
    PENDING_SECURITY_UPDATES_FIELD_NUMBER: _ClassVar[int]
    BATTERIES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    sample_time: _timestamp_pb2.Timestamp
    cpu_percent: float
    memory: MemoryUsage
    swap: MemoryUsage
    load: LoadAverage
    filesystems: _containers.RepeatedCompositeFieldContainer[FilesystemUsage]
    uptime_seconds: int
    load_per_core: LoadAverage
    temperatures: _containers.RepeatedCompositeFieldContainer[TemperatureReading]
    fans: _containers.RepeatedCompositeFieldContainer[FanReading]
    memory_pressure: PressureStall
    oom_kills: int
    reboot_pending: bool
    reboot_pending_reasons: _containers.RepeatedScalarFieldContainer[str]
    pending_updates: int
    pending_security_updates: int
    batteries: _containers.RepeatedCompositeFieldContainer[BatteryHealth]
    disks: _containers.RepeatedCompositeFieldContainer[DiskHealth]
    unavailable: _containers.RepeatedCompositeFieldContainer[UnavailableSignal]
    def __init__(self, report_id: _Optional[str] = ..., sample_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cpu_percent: _Optional[float] = ..., memory: _Optional[_Union[MemoryUsage, _Mapping]] = ..., swap: _Optional[_Union[MemoryUsage, _Mapping]] = ..., load: _Optional[_Union[LoadAverage, _Mapping]] = ..., filesystems: _Optional[_Iterable[_Union[FilesystemUsage, _Mapping]]] = ..., uptime_seconds: _Optional[int] = ..., load_per_core: _Optional[_Union[LoadAverage, _Mapping]] = ..., temperatures: _Optional[_Iterable[_Union[TemperatureReading, _Mapping]]] = ..., fans: _Optional[_Iterable[_Union[FanReading, _Mapping]]] = ..., memory_pressure: _Optional[_Union[PressureStall, _Mapping]] = ..., oom_kills: _Optional[int] = ..., reboot_pending: _Optional[bool] = ..., reboot_pending_reasons: _Optional[_Iterable[str]] = ..., pending_updates: _Optional[int] = ..., pending_security_updates: _Optional[int] = ..., batteries: _Optional[_Iterable[_Union[BatteryHealth, _Mapping]]] = ..., disks: _Optional[_Iterable[_Union[DiskHealth, _Mapping]]] = ..., unavailable: _Optional[_Iterable[_Union[UnavailableSignal, _Mapping]]] = ...) -> None: ...

class TemperatureReading(_message.Message):
    __slots__ = ("sensor", "label", "celsius", "high_celsius", "critical_celsius")
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CELSIUS_FIELD_NUMBER: _ClassVar[int]
    HIGH_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    sensor: str
    label: str
    celsius: float
    high_celsius: float
    critical_celsius: float
    def __init__(self, sensor: _Optional[str] = ..., label: _Optional[str] = ..., celsius: _Optional[float] = ..., high_celsius: _Optional[float] = ..., critical_celsius: _Optional[float] = ...) -> None: ...

class FanReading(_message.Message):
    __slots__ = ("sensor", "label", "rpm")
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RPM_FIELD_NUMBER: _ClassVar[int]
    sensor: str
    label: str
    rpm: int
    def __init__(self, sensor: _Optional[str] = ..., label: _Optional[str] = ..., rpm: _Optional[int] = ...) -> None: ...

class PressureStall(_message.Message):
    __slots__ = ("some_avg10", "some_avg60", "some_avg300", "full_avg10", "full_avg60", "full_avg300")
    SOME_AVG10_FIELD_NUMBER: _ClassVar[int]
    SOME_AVG60_FIELD_NUMBER: _ClassVar[int]
    SOME_AVG300_FIELD_NUMBER: _ClassVar[int]
    FULL_AVG10_FIELD_NUMBER: _ClassVar[int]
    FULL_AVG60_FIELD_NUMBER: _ClassVar[int]
    FULL_AVG300_FIELD_NUMBER: _ClassVar[int]
    some_avg10: float
    some_avg60: float
    some_avg300: float
    full_avg10: float
    full_avg60: float
    full_avg300: float
    def __init__(self, some_avg10: _Optional[float] = ..., some_avg60: _Optional[float] = ..., some_avg300: _Optional[float] = ..., full_avg10: _Optional[float] = ..., full_avg60: _Optional[float] = ..., full_avg300: _Optional[float] = ...) -> None: ...

class BatteryHealth(_message.Message):
    __slots__ = ("name", "manufacturer", "model", "serial_number", "design_capacity", "full_capacity", "capacity_unit", "wear_percent", "cycle_count", "charge_percent", "status")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DESIGN_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    FULL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_UNIT_FIELD_NUMBER: _ClassVar[int]
    WEAR_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CYCLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHARGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    manufacturer: str
    model: str
    serial_number: str
    design_capacity: int
    full_capacity: int
    capacity_unit: str
    wear_percent: float
    cycle_count: int
    charge_percent: float
    status: BatteryStatus
    def __init__(self, name: _Optional[str] = ..., manufacturer: _Optional[str] = ..., model: _Optional[str] = ..., serial_number: _Optional[str] = ..., design_capacity: _Optional[int] = ..., full_capacity: _Optional[int] = ..., capacity_unit: _Optional[str] = ..., wear_percent: _Optional[float] = ..., cycle_count: _Optional[int] = ..., charge_percent: _Optional[float] = ..., status: _Optional[_Union[BatteryStatus, str]] = ...) -> None: ...

class SmartAttribute(_message.Message):
    __slots__ = ("id", "name", "value", "worst", "threshold", "raw", "when_failed")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WORST_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    WHEN_FAILED_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    value: int
    worst: int
    threshold: int
    raw: int
    when_failed: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., value: _Optional[int] = ..., worst: _Optional[int] = ..., threshold: _Optional[int] = ..., raw: _Optional[int] = ..., when_failed: _Optional[str] = ...) -> None: ...

class NvmeHealth(_message.Message):
    __slots__ = ("critical_warning", "percentage_used", "media_errors", "available_spare", "available_spare_threshold", "unsafe_shutdowns", "power_on_hours")
    CRITICAL_WARNING_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_USED_FIELD_NUMBER: _ClassVar[int]
    MEDIA_ERRORS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_SPARE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_SPARE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    UNSAFE_SHUTDOWNS_FIELD_NUMBER: _ClassVar[int]
    POWER_ON_HOURS_FIELD_NUMBER: _ClassVar[int]
    critical_warning: int
    percentage_used: int
    media_errors: int
    available_spare: int
    available_spare_threshold: int
    unsafe_shutdowns: int
    power_on_hours: int
    def __init__(self, critical_warning: _Optional[int] = ..., percentage_used: _Optional[int] = ..., media_errors: _Optional[int] = ..., available_spare: _Optional[int] = ..., available_spare_threshold: _Optional[int] = ..., unsafe_shutdowns: _Optional[int] = ..., power_on_hours: _Optional[int] = ...) -> None: ...

class DiskHealth(_message.Message):
    __slots__ = ("device", "model", "serial_number", "protocol", "smart_available", "unavailable_reason", "passed", "exit_status", "exit_status_flags", "attributes", "nvme", "temperature_celsius", "power_on_hours")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SMART_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FLAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    NVME_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    POWER_ON_HOURS_FIELD_NUMBER: _ClassVar[int]
    device: str
    model: str
    serial_number: str
    protocol: DiskProtocol
    smart_available: bool
    unavailable_reason: str
    passed: bool
    exit_status: int
    exit_status_flags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.RepeatedCompositeFieldContainer[SmartAttribute]
    nvme: NvmeHealth
    temperature_celsius: float
    power_on_hours: int
    def __init__(self, device: _Optional[str] = ..., model: _Optional[str] = ..., serial_number: _Optional[str] = ..., protocol: _Optional[_Union[DiskProtocol, str]] = ..., smart_available: _Optional[bool] = ..., unavailable_reason: _Optional[str] = ..., passed: _Optional[bool] = ..., exit_status: _Optional[int] = ..., exit_status_flags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Iterable[_Union[SmartAttribute, _Mapping]]] = ..., nvme: _Optional[_Union[NvmeHealth, _Mapping]] = ..., temperature_celsius: _Optional[float] = ..., power_on_hours: _Optional[int] = ...) -> None: ...

class UnavailableSignal(_message.Message):
    __slots__ = ("signal", "reason")
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    signal: str
    reason: str
    def __init__(self, signal: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("accepted_report_ids", "full_inventory_requested")
    ACCEPTED_REPORT_IDS_FIELD_NUMBER: _ClassVar[int]
    FULL_INVENTORY_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    accepted_report_ids: _containers.RepeatedScalarFieldContainer[str]
    full_inventory_requested: bool
    def __init__(self, accepted_report_ids: _Optional[_Iterable[str]] = ..., full_inventory_requested: _Optional[bool] = ...) -> None: ...

class InventoryReport(_message.Message):
    __slots__ = ("report_id", "collect_time", "os", "hardware", "software", "licences", "hardware_sha256", "software_sha256", "licences_sha256")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECT_TIME_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    LICENCES_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_SHA256_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_SHA256_FIELD_NUMBER: _ClassVar[int]
    LICENCES_SHA256_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    collect_time: _timestamp_pb2.Timestamp
    os: OperatingSystem
    hardware: Hardware
    software: SoftwareInventory
    licences: LicenceInventory
    hardware_sha256: bytes
    software_sha256: bytes
    licences_sha256: bytes
    def __init__(self, report_id: _Optional[str] = ..., collect_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., os: _Optional[_Union[OperatingSystem, _Mapping]] = ..., hardware: _Optional[_Union[Hardware, _Mapping]] = ..., software: _Optional[_Union[SoftwareInventory, _Mapping]] = ..., licences: _Optional[_Union[LicenceInventory, _Mapping]] = ..., hardware_sha256: _Optional[bytes] = ..., software_sha256: _Optional[bytes] = ..., licences_sha256: _Optional[bytes] = ...) -> None: ...

class SoftwareInventory(_message.Message):
    __slots__ = ("packages",)
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    packages: _containers.RepeatedCompositeFieldContainer[SoftwarePackage]
    def __init__(self, packages: _Optional[_Iterable[_Union[SoftwarePackage, _Mapping]]] = ...) -> None: ...

class SoftwarePackage(_message.Message):
    __slots__ = ("name", "version", "publisher", "source", "architecture", "install_time", "identifier")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    INSTALL_TIME_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    publisher: str
    source: SoftwareSource
    architecture: str
    install_time: _timestamp_pb2.Timestamp
    identifier: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., publisher: _Optional[str] = ..., source: _Optional[_Union[SoftwareSource, str]] = ..., architecture: _Optional[str] = ..., install_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., identifier: _Optional[str] = ...) -> None: ...

class ProductActivation(_message.Message):
    __slots__ = ("product", "name", "channel", "state", "partial_product_key")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_PRODUCT_KEY_FIELD_NUMBER: _ClassVar[int]
    product: str
    name: str
    channel: str
    state: ActivationState
    partial_product_key: str
    def __init__(self, product: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[str] = ..., state: _Optional[_Union[ActivationState, str]] = ..., partial_product_key: _Optional[str] = ...) -> None: ...

class PackageLicence(_message.Message):
    __slots__ = ("package", "source", "spdx", "declared")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SPDX_FIELD_NUMBER: _ClassVar[int]
    DECLARED_FIELD_NUMBER: _ClassVar[int]
    package: str
    source: str
    spdx: str
    declared: str
    def __init__(self, package: _Optional[str] = ..., source: _Optional[str] = ..., spdx: _Optional[str] = ..., declared: _Optional[str] = ...) -> None: ...

class LicenceInventory(_message.Message):
    __slots__ = ("activations", "packages")
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    activations: _containers.RepeatedCompositeFieldContainer[ProductActivation]
    packages: _containers.RepeatedCompositeFieldContainer[PackageLicence]
    def __init__(self, activations: _Optional[_Iterable[_Union[ProductActivation, _Mapping]]] = ..., packages: _Optional[_Iterable[_Union[PackageLicence, _Mapping]]] = ...) -> None: ...

class OperatingSystem(_message.Message):
    __slots__ = ("family", "name", "version", "kernel", "hostname", "build")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    BUILD_FIELD_NUMBER: _ClassVar[int]
    family: str
    name: str
    version: str
    kernel: str
    hostname: str
    build: str
    def __init__(self, family: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., kernel: _Optional[str] = ..., hostname: _Optional[str] = ..., build: _Optional[str] = ...) -> None: ...

class Hardware(_message.Message):
    __slots__ = ("vendor", "model", "serial_number", "cpu_model", "cpu_cores", "cpu_threads", "memory_total_bytes", "disks", "network_interfaces", "uuid", "bios_vendor", "bios_version", "bios_date", "chassis_type", "form_factor", "cpu_sockets", "memory_modules", "virtualization")
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    CPU_CORES_FIELD_NUMBER: _ClassVar[int]
    CPU_THREADS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_INTERFACES_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    BIOS_VENDOR_FIELD_NUMBER: _ClassVar[int]
    BIOS_VERSION_FIELD_NUMBER: _ClassVar[int]
    BIOS_DATE_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORM_FACTOR_FIELD_NUMBER: _ClassVar[int]
    CPU_SOCKETS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MODULES_FIELD_NUMBER: _ClassVar[int]
    VIRTUALIZATION_FIELD_NUMBER: _ClassVar[int]
    vendor: str
    model: str
    serial_number: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    memory_total_bytes: int
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    network_interfaces: _containers.RepeatedCompositeFieldContainer[NetworkInterface]
    uuid: str
    bios_vendor: str
    bios_version: str
    bios_date: str
    chassis_type: int
    form_factor: FormFactor
    cpu_sockets: int
    memory_modules: _containers.RepeatedCompositeFieldContainer[MemoryModule]
    virtualization: str
    def __init__(self, vendor: _Optional[str] = ..., model: _Optional[str] = ..., serial_number: _Optional[str] = ..., cpu_model: _Optional[str] = ..., cpu_cores: _Optional[int] = ..., cpu_threads: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., network_interfaces: _Optional[_Iterable[_Union[NetworkInterface, _Mapping]]] = ..., uuid: _Optional[str] = ..., bios_vendor: _Optional[str] = ..., bios_version: _Optional[str] = ..., bios_date: _Optional[str] = ..., chassis_type: _Optional[int] = ..., form_factor: _Optional[_Union[FormFactor, str]] = ..., cpu_sockets: _Optional[int] = ..., memory_modules: _Optional[_Iterable[_Union[MemoryModule, _Mapping]]] = ..., virtualization: _Optional[str] = ...) -> None: ...

class MemoryModule(_message.Message):
    __slots__ = ("slot", "size_bytes", "type", "speed_mts", "manufacturer", "part_number", "serial_number")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SPEED_MTS_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
    PART_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    slot: str
    size_bytes: int
    type: str
    speed_mts: int
    manufacturer: str
    part_number: str
    serial_number: str
    def __init__(self, slot: _Optional[str] = ..., size_bytes: _Optional[int] = ..., type: _Optional[str] = ..., speed_mts: _Optional[int] = ..., manufacturer: _Optional[str] = ..., part_number: _Optional[str] = ..., serial_number: _Optional[str] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("name", "model", "size_bytes", "serial_number", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    size_bytes: int
    serial_number: str
    type: DiskType
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., size_bytes: _Optional[int] = ..., serial_number: _Optional[str] = ..., type: _Optional[_Union[DiskType, str]] = ...) -> None: ...

class NetworkInterface(_message.Message):
    __slots__ = ("name", "mac_address", "addresses", "speed_mbps", "physical")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    mac_address: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    speed_mbps: int
    physical: bool
    def __init__(self, name: _Optional[str] = ..., mac_address: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., speed_mbps: _Optional[int] = ..., physical: _Optional[bool] = ...) -> None: ...
