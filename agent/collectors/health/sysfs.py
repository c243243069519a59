"""Reading small sysfs and procfs attribute files: one short read each, no subprocess."""

from __future__ import annotations

from pathlib import Path

MAX_ATTRIBUTE_BYTES = 64 * 1024


def read_attribute(path: Path) -> str | None:
    """The file's text without surrounding whitespace; None when absent or unreadable.

    Sensors that are not connected answer reads with EIO or ENODATA: that is "no value", not a
    failure of the whole signal. PermissionError is raised so the caller can say so.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ATTRIBUTE_BYTES)
    except PermissionError:
        raise
    except (OSError, ValueError):
        return None
    return data.decode("utf-8", errors="replace").strip()


def read_int(path: Path) -> int | None:
    """The file's integer value; None when absent, unreadable or not an integer."""
    text = read_attribute(path)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def sorted_entries(directory: Path, prefix: str) -> list[Path]:
    """Entries of ``directory`` whose names start with ``prefix``, in natural order
    (hwmon2 before hwmon10); [] when the directory is absent."""
    try:
        names = [entry.name for entry in directory.iterdir() if entry.name.startswith(prefix)]
    except OSError:
        return []
    return [directory / name for name in sorted(names, key=_natural_key)]


def _natural_key(name: str) -> tuple[str, int, str]:
    head = name.rstrip("0123456789")
    digits = name[len(head) :]
    return (head, int(digits) if digits else -1, name)
