"""Fleet load generator: N simulated agents from one asyncio process against a real collector.

Running it on a second machine (so the load generator does not share the collector's CPUs):

1. On the collector machine, listen on an address the second machine reaches and make a token
   with enough uses (one per simulated agent)::

       parc-server init --data-dir /srv/parc --hostname collector.lan
       parc-server run --data-dir /srv/parc --listen 0.0.0.0:50051 --enroll-listen 0.0.0.0:50052
       parc-server token create --data-dir /srv/parc --tenant Bench --site Load --uses 10000

   The collector's certificate must name the host the generator dials (``--hostname``).
2. Copy ``/srv/parc/pki/ca.crt`` to the second machine, check out this repository there,
   run ``scripts/setup``, raise the open-file limit (``ulimit -n 65536``: one socket per agent),
   and run::

       .venv/bin/python -m bench.loadgen --server collector.lan:50051 \\
           --enroll-server collector.lan:50052 --ca-cert ca.crt --token TOKEN \\
           --agents 2000 --duration 600 --ramp-up 120 --json loadgen.json

Every simulated agent enrols through the real Enroll RPC with its own ECDSA key (the agent's own
key and CSR code), holds its own mutual-TLS connection and Connect stream, sends heartbeats,
health reports and inventories shaped like real ones at jittered intervals (deterministic with
``--seed``), answers commands, and reconnects with exponential backoff and full jitter (the
agent's own ``Backoff`` and constants: 5 s doubling up to 60 s). It
dials only the addresses it is given and stops by itself after ``--duration`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

if __package__ in (None, ""):  # run as `python bench/loadgen.py`: the checkout holds `bench`
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.backoff import RECONNECT_BASE_S, RECONNECT_CAP_S, Backoff
from agent.sections import SectionMemory
from bench.fleet import DeviceCredentials, enroll, heartbeat, mtls_channel
from bench.report import Figure, machine, this_command
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

RPC_TIMEOUT_S = 60.0
GiB = 2**30

ConnectCall = grpc.aio.StreamStreamCall[pb.ConnectRequest, pb.ConnectResponse]


@dataclass(frozen=True)
class LoadgenConfig:
    """What to simulate, and against which collector."""

    server: str
    enroll_server: str
    ca_cert: Path
    token: str
    agents: int
    duration: float
    heartbeat_interval: float = 30.0
    health_interval: float = 60.0
    inventory_interval: float = 21600.0
    packages: int = 700
    churn: float = 0.02
    ramp_up: float = 0.0
    seed: int = 0
    enroll_concurrency: int = 50


@dataclass(frozen=True)
class LoadResult:
    """What happened during one run."""

    agents: int
    enrolled: int
    connected: int
    connected_at_end: int
    elapsed_s: float
    client_cpu_s: float
    enrolment_s: float
    heartbeats_sent: int
    heartbeats_acked: int
    health_sent: int
    health_accepted: int
    inventories_full: int
    inventories_partial: int
    inventories_accepted: int
    full_inventory_requests: int
    commands_acked: int
    reconnects: int
    latency_ms: dict[str, dict[str, float]]
    errors: dict[str, int]

    def per_second(self, count: int) -> float:
        return count / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class Stats:
    """Counters shared by every simulated agent (one event loop: no locking)."""

    counts: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    connected_now: int = 0
    first_enrol_start: float | None = None
    last_enrolled: float | None = None

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def latency(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, code: grpc.StatusCode | str) -> None:
        name = code.name if isinstance(code, grpc.StatusCode) else code
        self.errors[f"{kind} {name}"] += 1


# --- Synthetic machines ---------------------------------------------------------------------

STEMS = (  # noqa: SIM905 - a word list reads better as text
    "acl adduser apt attr base-files bash bind9 bsdutils bzip2 ca-certificates coreutils "
    "cron curl dash dbus debconf diffutils dmidecode dnsutils dpkg e2fsprogs file findutils "
    "fontconfig gawk gcc gdisk git gnupg grep grub gzip hostname htop iproute2 iptables "
    "iputils jq kmod less logrotate lsof lvm2 man-db mawk mount nano ncurses netbase nginx "
    "openssh openssl parted passwd perl pciutils procps python3 readline rsync rsyslog sed "
    "sensible-utils smartmontools sqlite3 sudo systemd tar tcpdump tmux tzdata udev unzip "
    "usbutils util-linux vim wget xz-utils zlib zstd glib gtk pango cairo harfbuzz freetype "
    "krb5 ldap sasl2 ssl pam audit selinux seccomp cap-ng nettle gmp idn2 unistring tasn1 "
    "p11-kit brotli nghttp2 psl rtmp ssh2 curl-gnutls expat xml2 xslt yaml json-c jansson "
    "pcre2 onig icu lz4 lzma bz2 ffi gdbm sqlite tinfo wrap blkid uuid fdisk smartcols "
    "mount2 elf dw bpf nl-3 mnl nftnl pcap sensors usb-1.0 udev1 systemd-shared apparmor "
    "snapd cloud-init netplan firefox thunderbird libreoffice vlc gimp inkscape code "
    "docker-ce containerd postgresql redis "
).split()
PREFIXES = ("", "lib", "python3-", "fonts-", "gir1.2-", "node-", "golang-", "ruby-")
SUFFIXES = ("", "-common", "-data", "-bin", "-utils", "-doc", "6", "2", "-tools", "-dev")
PUBLISHERS = (
    "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
    "Debian QA Group <packages@qa.debian.org>",
    "Debian Python Team <team+python@tracker.debian.org>",
    "Debian X Strike Force <debian-x@lists.debian.org>",
    "GNOME Maintainers <pkg-gnome-maintainers@lists.alioth.debian.org>",
    "Canonical Ltd.",
    "Mozilla",
    "Docker Inc.",
)
LICENCES = (
    ("GPL-2.0-or-later", "GPL-2+"),
    ("GPL-3.0-or-later", "GPL-3+"),
    ("LGPL-2.1-or-later", "LGPL-2.1+"),
    ("MIT", "Expat"),
    ("BSD-3-clause", "BSD-3-clause"),
    ("Apache-2.0", "Apache-2.0"),
    ("", "public-domain"),
    ("MPL-2.0", "MPL-2.0"),
    ("Zlib", "Zlib"),
    ("", "GPL-2+ with OpenSSL exception"),
)
OS_RELEASES = (
    ("Ubuntu", "22.04", "5.15.0-105-generic"),
    ("Ubuntu", "24.04", "6.8.0-31-generic"),
    ("Debian GNU/Linux", "12", "6.1.0-21-amd64"),
)
HARDWARE = (
    ("LENOVO", "ThinkPad T14 Gen 3", 10, pb.FORM_FACTOR_LAPTOP, "Intel(R) Core(TM) i7-1260P"),
    ("Dell Inc.", "Latitude 5440", 10, pb.FORM_FACTOR_LAPTOP, "Intel(R) Core(TM) i5-1345U"),
    ("Dell Inc.", "OptiPlex 7010", 3, pb.FORM_FACTOR_DESKTOP, "Intel(R) Core(TM) i5-13500"),
    ("HP", "EliteDesk 800 G6", 3, pb.FORM_FACTOR_DESKTOP, "Intel(R) Core(TM) i7-10700"),
    ("QEMU", "Standard PC (Q35 + ICH9, 2009)", 1, pb.FORM_FACTOR_VIRTUAL_MACHINE, "AMD EPYC 7B13"),
    ("Supermicro", "SYS-1029P-WTR", 17, pb.FORM_FACTOR_SERVER, "Intel(R) Xeon(R) Silver 4210R"),
)


@dataclass(frozen=True)
class CatalogEntry:
    """A package every simulated machine may install."""

    name: str
    publisher: str
    snap: bool
    licence: tuple[str, str]
    major: int
    minor: int


def build_catalog(size: int, seed: int) -> list[CatalogEntry]:
    """``size`` distinct packages with deterministic names, publishers and licences."""
    rng = random.Random(f"catalog-{seed}")
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < size:
        name = f"{rng.choice(PREFIXES)}{rng.choice(STEMS)}{rng.choice(SUFFIXES)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
        elif len(seen) >= len(PREFIXES) * len(STEMS) * len(SUFFIXES):
            names.append(f"{name}-{len(names)}")
    return [
        CatalogEntry(
            name=name,
            publisher=rng.choice(PUBLISHERS),
            snap=rng.random() < 0.03,
            licence=rng.choice(LICENCES),
            major=rng.randint(0, 12),
            minor=rng.randint(0, 40),
        )
        for name in names
    ]


def _version(entry: CatalogEntry, patch: int) -> str:
    epoch = "1:" if entry.major == 0 and entry.minor % 7 == 0 else ""
    return f"{epoch}{entry.major}.{entry.minor}.{patch}-{1 + patch % 3}ubuntu0.{patch % 5}"


def _timestamp(seconds: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class Machine:
    """One simulated machine: fixed hardware, installed packages that churn over time."""

    def __init__(self, index: int, config: LoadgenConfig, catalog: Sequence[CatalogEntry]) -> None:
        self.rng = random.Random(f"machine-{config.seed}-{index}")
        self.hostname = f"bench-{config.seed}-{index:05d}"
        self._catalog = catalog
        self._churn = config.churn
        # A common base every machine has, then a random pick of the rest of the catalog.
        core = min(len(catalog), config.packages * 6 // 10)
        extra = self.rng.sample(range(core, len(catalog)), config.packages - core)
        self.installed: dict[int, int] = {i: self.rng.randint(0, 30) for i in range(core)}
        self.installed.update({i: self.rng.randint(0, 30) for i in extra})
        self._install_times = {i: 1.6e9 + self.rng.random() * 1e8 for i in self.installed}
        self._boot = time.time() - self.rng.uniform(600, 30 * 86400)
        self.os_name, self.os_version, self.kernel = self.rng.choice(OS_RELEASES)
        self.hardware = self._hardware()

    def _hardware(self) -> pb.Hardware:
        rng = self.rng
        vendor, model, chassis, form, cpu = rng.choice(HARDWARE)
        cores = rng.choice((2, 4, 6, 8, 12))
        memory = rng.choice((8, 16, 32, 64)) * GiB
        modules = [
            pb.MemoryModule(
                slot=f"DIMM {n}",
                size_bytes=memory // 2,
                type="DDR4",
                speed_mts=3200,
                manufacturer="Samsung",
                part_number="M471A1K43DB1-CWE",
                serial_number=f"{rng.getrandbits(32):08X}",
            )
            for n in range(2)
        ]
        disks = [
            pb.Disk(
                name=f"nvme{n}n1",
                model="Samsung SSD 980 PRO 1TB",
                size_bytes=rng.choice((256, 512, 1024)) * 10**9,
                serial_number=f"S5GXNX0T{rng.getrandbits(40):010X}",
                type=pb.DISK_TYPE_NVME,
            )
            for n in range(rng.randint(1, 2))
        ]
        mac = ":".join(f"{b:02x}" for b in rng.getrandbits(48).to_bytes(6, "big"))
        interfaces = [
            pb.NetworkInterface(name="lo", addresses=["127.0.0.1", "::1"]),
            pb.NetworkInterface(
                name="enp0s31f6",
                mac_address=mac,
                addresses=[f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"],
                speed_mbps=1000,
                physical=True,
            ),
        ]
        return pb.Hardware(
            vendor=vendor,
            model=model,
            serial_number=f"PF{rng.getrandbits(32):08X}",
            cpu_model=cpu,
            cpu_cores=cores,
            cpu_threads=cores * 2,
            memory_total_bytes=memory,
            disks=disks,
            network_interfaces=interfaces,
            uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            bios_vendor=vendor,
            bios_version=f"1.{rng.randint(1, 30)}.0",
            bios_date=f"202{rng.randint(0, 5)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            chassis_type=chassis,
            form_factor=form,
            cpu_sockets=1,
            memory_modules=modules,
            virtualization="kvm" if form == pb.FORM_FACTOR_VIRTUAL_MACHINE else "",
        )

    @property
    def laptop(self) -> bool:
        return self.hardware.form_factor == pb.FORM_FACTOR_LAPTOP

    def churn(self) -> None:
        """Change a ``churn`` share of the packages: half upgraded, a quarter removed, a quarter
        new to this machine."""
        if self._churn <= 0:
            return
        changes = max(1, round(len(self.installed) * self._churn))
        for index in self.rng.sample(sorted(self.installed), min(changes, len(self.installed))):
            roll = self.rng.random()
            if roll < 0.5:
                self.installed[index] += 1
                self._install_times[index] = time.time()
            elif roll < 0.75:
                del self.installed[index]
            else:
                fresh = self.rng.randrange(len(self._catalog))
                if fresh not in self.installed:
                    self.installed[fresh] = 0
                    self._install_times[fresh] = time.time()

    def inventory(self) -> pb.InventoryReport:
        """A full inventory report (every section present)."""
        entries = sorted(
            ((self._catalog[i], patch, i) for i, patch in self.installed.items()),
            key=lambda e: (e[0].name, _version(e[0], e[1])),
        )
        software = pb.SoftwareInventory(
            packages=[self._package(entry, patch, i) for entry, patch, i in entries]
        )
        licences = pb.LicenceInventory(
            packages=[
                pb.PackageLicence(
                    package=entry.name,
                    source="debian-copyright",
                    spdx=entry.licence[0],
                    declared=entry.licence[1],
                )
                for entry, _, _ in entries
                if not entry.snap
            ]
        )
        return pb.InventoryReport(
            report_id=str(uuid.uuid4()),
            collect_time=_now(),
            os=pb.OperatingSystem(
                family="linux",
                name=self.os_name,
                version=self.os_version,
                kernel=self.kernel,
                hostname=self.hostname,
            ),
            hardware=self.hardware,
            software=software,
            licences=licences,
        )

    def _package(self, entry: CatalogEntry, patch: int, index: int) -> pb.SoftwarePackage:
        return pb.SoftwarePackage(
            name=entry.name,
            version=_version(entry, patch),
            publisher=entry.publisher,
            source=pb.SOFTWARE_SOURCE_SNAP if entry.snap else pb.SOFTWARE_SOURCE_DEB,
            architecture="amd64" if index % 5 else "all",
            install_time=_timestamp(self._install_times[index]),
            identifier=f"snap:{entry.name}" if entry.snap else "",
        )

    def health(self) -> pb.HealthReport:
        """A health sample like a Linux agent's."""
        rng, hw = self.rng, self.hardware
        used = int(hw.memory_total_bytes * rng.uniform(0.2, 0.9))
        swap_total = 2 * GiB
        swap_used = int(swap_total * rng.uniform(0, 0.3))
        load = [rng.uniform(0, hw.cpu_threads * 0.8) for _ in range(3)]
        report = pb.HealthReport(
            report_id=str(uuid.uuid4()),
            sample_time=_now(),
            cpu_percent=rng.uniform(0, 100),
            memory=pb.MemoryUsage(
                total_bytes=hw.memory_total_bytes,
                used_bytes=used,
                percent=100 * used / hw.memory_total_bytes,
            ),
            swap=pb.MemoryUsage(
                total_bytes=swap_total, used_bytes=swap_used, percent=100 * swap_used / swap_total
            ),
            load=pb.LoadAverage(load1=load[0], load5=load[1], load15=load[2]),
            load_per_core=pb.LoadAverage(
                load1=load[0] / hw.cpu_threads,
                load5=load[1] / hw.cpu_threads,
                load15=load[2] / hw.cpu_threads,
            ),
            filesystems=self._filesystems(),
            uptime_seconds=int(time.time() - self._boot),
            temperatures=[
                pb.TemperatureReading(
                    sensor="coretemp",
                    label=f"Core {n}",
                    celsius=rng.uniform(35, 80),
                    high_celsius=100.0,
                    critical_celsius=100.0,
                )
                for n in range(rng.randint(2, 4))
            ],
            memory_pressure=pb.PressureStall(some_avg10=rng.uniform(0, 2)),
            oom_kills=0,
            reboot_pending=rng.random() < 0.1,
            pending_updates=rng.randint(0, 40),
            pending_security_updates=rng.randint(0, 5),
            unavailable=[pb.UnavailableSignal(signal="smart", reason="smartctl not installed")],
        )
        if self.laptop:
            report.batteries.append(self._battery())
        return report

    def _filesystems(self) -> list[pb.FilesystemUsage]:
        mounts = (("/", "ext4"), ("/boot/efi", "vfat"), ("/home", "ext4"), ("/var", "xfs"))
        result = []
        for n, (mountpoint, fstype) in enumerate(mounts[: 2 + self.rng.randint(0, 2)]):
            total = self.rng.choice((1, 100, 250, 500)) * 10**9
            used = int(total * self.rng.uniform(0.05, 0.95))
            result.append(
                pb.FilesystemUsage(
                    mountpoint=mountpoint,
                    device=f"/dev/nvme0n1p{n + 1}",
                    fstype=fstype,
                    total_bytes=total,
                    used_bytes=used,
                    percent=100 * used / total,
                )
            )
        return result

    def _battery(self) -> pb.BatteryHealth:
        design = 57000
        full = int(design * self.rng.uniform(0.7, 1.0))
        return pb.BatteryHealth(
            name="BAT0",
            manufacturer="SMP",
            model="5B10W13975",
            design_capacity=design,
            full_capacity=full,
            capacity_unit="mWh",
            wear_percent=100 * (1 - full / design),
            cycle_count=self.rng.randint(10, 900),
            charge_percent=self.rng.uniform(5, 100),
            status=pb.BATTERY_STATUS_DISCHARGING,
        )


# --- Simulated agents -----------------------------------------------------------------------


class StreamEnded(Exception):
    """The Connect stream ended (the collector closed it or it broke)."""


class SimAgent:
    """One simulated agent: enrol, then stream heartbeats and send reports until cancelled."""

    def __init__(
        self, index: int, config: LoadgenConfig, catalog: Sequence[CatalogEntry], stats: Stats
    ) -> None:
        self.index = index
        self.config = config
        self.stats = stats
        self.machine = Machine(index, config, catalog)
        self.rng = random.Random(f"timing-{config.seed}-{index}")
        self.memory = SectionMemory(None)
        self._inventory_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._sent_at: dict[int, float] = {}
        self._connected = False  # this stream got a heartbeat ack
        self._ever_connected = False

    def jitter(self, interval: float) -> float:
        """Full jitter around ``interval``: uniform over [0, 2 x interval], mean ``interval``."""
        return self.rng.uniform(0, 2 * interval)

    async def run(self, ca_pem: bytes, enrol_slots: asyncio.Semaphore) -> None:
        if self.config.agents > 1 and self.config.ramp_up > 0:
            await asyncio.sleep(self.config.ramp_up * self.index / self.config.agents)
        device = await self._enrol(ca_pem, enrol_slots)
        if device is None:
            return
        async with mtls_channel(self.config.server, device) as channel:
            stub = pb_grpc.AgentServiceStub(channel)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._stream_forever(stub))
                group.create_task(self._health_forever(stub))
                group.create_task(self._inventory_forever(stub))

    async def _enrol(
        self, ca_pem: bytes, enrol_slots: asyncio.Semaphore
    ) -> DeviceCredentials | None:
        async with enrol_slots:
            started = time.perf_counter()
            if self.stats.first_enrol_start is None:
                self.stats.first_enrol_start = started
            try:
                device = await enroll(self.config.enroll_server, ca_pem, self.config.token)
            except grpc.aio.AioRpcError as exc:
                self.stats.error("enroll", exc.code())
                return None
            now = time.perf_counter()
        self.stats.latency("enroll", now - started)
        self.stats.last_enrolled = now
        self.stats.count("enrolled")
        return device

    async def _stream_forever(self, stub: pb_grpc.AgentServiceAsyncStub) -> None:
        backoff = Backoff(base=RECONNECT_BASE_S, cap=RECONNECT_CAP_S, uniform=self.rng.uniform)
        while True:
            if await self._session(stub):
                backoff.reset()
            self.stats.count("reconnects")
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, stub: pb_grpc.AgentServiceAsyncStub) -> bool:
        """One Connect stream until it ends; True if the collector acknowledged a heartbeat."""
        call = stub.Connect()
        self._sent_at.clear()
        beats = asyncio.create_task(self._heartbeats(call))
        try:
            await self._read(stub, call)
        except grpc.aio.AioRpcError as exc:
            self.stats.error("connect", exc.code())
        except StreamEnded as exc:
            self.stats.error("connect", str(exc))
        finally:
            beats.cancel()
            call.cancel()
            await asyncio.wait([beats])
        acked = self._connected
        if acked:
            self._connected = False
            self.stats.connected_now -= 1
        return acked

    async def _read(self, stub: pb_grpc.AgentServiceAsyncStub, call: ConnectCall) -> None:
        """Read acks and commands until the stream ends (raises StreamEnded or AioRpcError)."""
        commands: set[asyncio.Task[None]] = set()
        try:
            while True:
                reply = await call.read()
                if reply is grpc.aio.EOF:
                    raise StreamEnded((await call.code()).name)
                assert isinstance(reply, pb.ConnectResponse)
                if reply.HasField("heartbeat_ack"):
                    self._on_ack(reply.heartbeat_ack)
                elif reply.HasField("command"):
                    task = asyncio.create_task(self._on_command(stub, call, reply.command))
                    commands.add(task)
                    task.add_done_callback(commands.discard)
        finally:
            for task in commands:
                task.cancel()

    def _on_ack(self, ack: pb.HeartbeatAck) -> None:
        sent = self._sent_at.pop(ack.sequence, None)
        if sent is not None:
            self.stats.latency("heartbeat", time.perf_counter() - sent)
        self.stats.count("heartbeats_acked")
        if not self._connected:
            self._connected = True
            self.stats.connected_now += 1
        if not self._ever_connected:
            self._ever_connected = True
            self.stats.count("connected")

    async def _heartbeats(self, call: ConnectCall) -> None:
        sequence = 0
        try:
            while True:
                sequence += 1
                self._sent_at[sequence] = time.perf_counter()
                async with self._write_lock:
                    await call.write(heartbeat(sequence))
                self.stats.count("heartbeats_sent")
                await asyncio.sleep(self.jitter(self.config.heartbeat_interval))
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            return  # the reader sees the stream's status and counts it

    async def _on_command(
        self,
        stub: pb_grpc.AgentServiceAsyncStub,
        call: ConnectCall,
        command: pb.Command,
    ) -> None:
        if command.kind == pb.COMMAND_KIND_SEND_INVENTORY:
            await self._send_inventory(stub, full=True)
        await self._acknowledge(call, command)

    async def _acknowledge(self, call: ConnectCall, command: pb.Command) -> None:
        """Answer ``command`` as succeeded on the stream (nothing if the stream is gone)."""
        ack = pb.CommandAck(command_id=command.command_id, status=pb.COMMAND_STATUS_SUCCEEDED)
        try:
            async with self._write_lock:
                await call.write(pb.ConnectRequest(command_ack=ack))
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            return
        self.stats.count("commands_acked")

    async def _health_forever(self, stub: pb_grpc.AgentServiceAsyncStub) -> None:
        delay = self.rng.uniform(0, self.config.health_interval)  # spread the first samples
        while True:
            await asyncio.sleep(delay)
            delay = self.jitter(self.config.health_interval)
            request = pb.ReportHealthRequest(reports=[self.machine.health()])
            started = time.perf_counter()
            try:
                reply = await stub.ReportHealth(request, timeout=RPC_TIMEOUT_S)
            except grpc.aio.AioRpcError as exc:
                self.stats.error("health", exc.code())
                continue
            self.stats.latency("health", time.perf_counter() - started)
            self.stats.count("health_sent")
            self.stats.count("health_accepted", len(reply.accepted_report_ids))

    async def _inventory_forever(self, stub: pb_grpc.AgentServiceAsyncStub) -> None:
        await self._send_inventory(stub, full=False)
        while True:
            await asyncio.sleep(self.jitter(self.config.inventory_interval))
            self.machine.churn()
            await self._send_inventory(stub, full=False)

    async def _send_inventory(self, stub: pb_grpc.AgentServiceAsyncStub, *, full: bool) -> None:
        async with self._inventory_lock:
            if await self._report_inventory(stub, full=full):
                self.stats.count("full_inventory_requests")
                self.memory.forget()
                await self._report_inventory(stub, full=True)

    async def _report_inventory(self, stub: pb_grpc.AgentServiceAsyncStub, *, full: bool) -> bool:
        """Send one inventory; True if the collector asked for everything in full."""
        report = self.memory.prepare(self.machine.inventory(), full=full)
        complete = report.HasField("software") and report.HasField("hardware")
        started = time.perf_counter()
        try:
            reply = await stub.ReportInventory(
                pb.ReportInventoryRequest(reports=[report]), timeout=RPC_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            self.stats.error("inventory", exc.code())
            self.memory.forget()  # as if the spool kept it: the next one goes in full
            return False
        self.stats.latency("inventory", time.perf_counter() - started)
        self.stats.count("inventories_full" if complete else "inventories_partial")
        self.stats.count("inventories_accepted", len(reply.accepted_report_ids))
        return bool(reply.full_inventory_requested)


# --- The run --------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return {}

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "count": len(ordered)}


async def _run_agent(
    agent: SimAgent, ca_pem: bytes, enrol_slots: asyncio.Semaphore, deadline: float
) -> None:
    try:
        async with asyncio.timeout_at(deadline):
            await agent.run(ca_pem, enrol_slots)
    except TimeoutError:
        pass


async def run_load(config: LoadgenConfig) -> LoadResult:
    """Simulate ``config.agents`` agents for ``config.duration`` seconds; return what happened."""
    if config.agents < 1 or config.duration <= 0 or config.packages < 1:
        raise ValueError("agents, duration and packages must be positive")
    ca_pem = config.ca_cert.read_bytes()
    catalog = build_catalog(max(50, config.packages * 2), config.seed)
    stats = Stats()
    agents = [SimAgent(i, config, catalog, stats) for i in range(config.agents)]
    enrol_slots = asyncio.Semaphore(config.enroll_concurrency)
    loop = asyncio.get_running_loop()
    started, cpu_before = loop.time(), time.process_time()
    deadline = started + config.duration
    at_end: list[int] = []
    # Just before the deadline cancels every agent (and with it every stream).
    loop.call_at(deadline - 0.05, lambda: at_end.append(stats.connected_now))
    await asyncio.gather(*(_run_agent(a, ca_pem, enrol_slots, deadline) for a in agents))
    elapsed, cpu = loop.time() - started, time.process_time() - cpu_before
    return _result(config, stats, elapsed, cpu, connected_at_end=at_end[0] if at_end else 0)


def _result(
    config: LoadgenConfig, stats: Stats, elapsed: float, cpu: float, connected_at_end: int
) -> LoadResult:
    c = stats.counts
    enrolment = 0.0
    if stats.first_enrol_start is not None and stats.last_enrolled is not None:
        enrolment = stats.last_enrolled - stats.first_enrol_start
    return LoadResult(
        agents=config.agents,
        enrolled=c["enrolled"],
        connected=c["connected"],
        connected_at_end=connected_at_end,
        elapsed_s=elapsed,
        client_cpu_s=cpu,
        enrolment_s=enrolment,
        heartbeats_sent=c["heartbeats_sent"],
        heartbeats_acked=c["heartbeats_acked"],
        health_sent=c["health_sent"],
        health_accepted=c["health_accepted"],
        inventories_full=c["inventories_full"],
        inventories_partial=c["inventories_partial"],
        inventories_accepted=c["inventories_accepted"],
        full_inventory_requests=c["full_inventory_requests"],
        commands_acked=c["commands_acked"],
        reconnects=c["reconnects"],
        latency_ms={kind: percentiles(s) for kind, s in sorted(stats.latencies.items())},
        errors=dict(sorted(stats.errors.items())),
    )


# --- Reporting ------------------------------------------------------------------------------


def figures(result: LoadResult) -> list[Figure]:
    r = result
    rows = [
        Figure("agents simulated", r.agents, "agents"),
        Figure("agents enrolled", r.enrolled, "agents"),
        Figure("agents connected (acked heartbeat)", r.connected, "agents"),
        Figure("agents connected at the end", r.connected_at_end, "agents"),
        Figure("enrolment: first start to last enrolled", r.enrolment_s, "s"),
        Figure("run time", r.elapsed_s, "s"),
        # Near 100 %: the generator, not the collector, may be the limit; run it elsewhere.
        Figure("load generator CPU (of one core)", 100 * r.client_cpu_s / r.elapsed_s, "%"),
        Figure("heartbeats sent", r.per_second(r.heartbeats_sent), "1/s"),
        Figure("heartbeats acked", r.per_second(r.heartbeats_acked), "1/s"),
        Figure("health reports accepted", r.per_second(r.health_accepted), "1/s"),
        Figure("inventories accepted", r.per_second(r.inventories_accepted), "1/s"),
        Figure("inventories sent in full", r.inventories_full, "reports"),
        Figure("inventories sent with hash-only sections", r.inventories_partial, "reports"),
        Figure("full inventories requested by the collector", r.full_inventory_requests, "times"),
        Figure("commands acked", r.commands_acked, "commands"),
        Figure("reconnects", r.reconnects, "streams"),
    ]
    for kind, pcts in r.latency_ms.items():
        rows.extend(Figure(f"{kind} latency {p}", pcts[p], "ms") for p in ("p50", "p95", "p99"))
    rows.append(Figure("errors", sum(r.errors.values()), "errors"))
    rows.extend(Figure(f"errors: {name}", n, "errors") for name, n in r.errors.items())
    return rows


def report(config: LoadgenConfig, result: LoadResult, json_path: Path | None) -> None:
    """Print the table; write the figures and the raw result as JSON when asked."""
    title = (
        f"Fleet load: {config.agents} agents for {config.duration:.0f} s against {config.server} "
        f"(heartbeat {config.heartbeat_interval:g} s, health {config.health_interval:g} s, "
        f"inventory {config.inventory_interval:g} s, {config.packages} packages)"
    )
    rows = figures(result)
    command, where = this_command(), machine()
    width = max(len(f.name) for f in rows)
    print(f"\n{title}\n  command: {command}\n  machine: {where}\n")
    print(f"  {'figure':<{width}}  {'value':>12}  unit")
    for f in rows:
        print(f"  {f.name:<{width}}  {f.value:>12.2f}  {f.unit}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "title": title,
            "command": command,
            "machine": where,
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "result": asdict(result),
            "figures": [asdict(f) for f in rows],
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\n  wrote {json_path}")


def parse_args(argv: Sequence[str] | None = None) -> tuple[LoadgenConfig, Path | None]:
    parser = argparse.ArgumentParser(description="Simulate a fleet of agents against a collector.")
    parser.add_argument("--server", required=True, help="the collector's agent port, HOST:PORT")
    parser.add_argument("--enroll-server", required=True, help="its enrolment port, HOST:PORT")
    parser.add_argument("--ca-cert", type=Path, required=True, help="the collector's ca.crt")
    parser.add_argument("--token", required=True, help="an enrolment token with >= N uses")
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds, then stop")
    parser.add_argument("--heartbeat-interval", type=float, default=30.0)
    parser.add_argument("--health-interval", type=float, default=60.0)
    parser.add_argument("--inventory-interval", type=float, default=21600.0)
    parser.add_argument("--packages", type=int, default=700)
    parser.add_argument("--churn", type=float, default=0.02, help="share of packages changed")
    parser.add_argument("--ramp-up", type=float, default=0.0, help="spread starts over seconds")
    parser.add_argument("--enroll-concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    config = LoadgenConfig(
        server=args.server,
        enroll_server=args.enroll_server,
        ca_cert=args.ca_cert,
        token=args.token,
        agents=args.agents,
        duration=args.duration,
        heartbeat_interval=args.heartbeat_interval,
        health_interval=args.health_interval,
        inventory_interval=args.inventory_interval,
        packages=args.packages,
        churn=args.churn,
        ramp_up=args.ramp_up,
        seed=args.seed,
        enroll_concurrency=args.enroll_concurrency,
    )
    return config, args.json


def main(argv: Sequence[str] | None = None) -> None:
    config, json_path = parse_args(argv)
    result = asyncio.run(run_load(config))
    report(config, result, json_path)


if __name__ == "__main__":
    main()
