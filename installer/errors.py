"""The installer's errors: each carries a message an admin can act on.

InstallerError
 ├── BuildError        a bundle cannot be built (bad input, pip or dpkg-deb failed)
 ├── BundleError       a bundle is unreadable, tampered with (checksum) or for another OS
 ├── EnrolmentError    the collector is unreachable, not a Parc collector, or refused the token
 │    └── EnrolmentRefused  the collector refused the token (retrying with it cannot help)
 └── InstallError      a step of install/uninstall failed (what was done is rolled back)
"""

from __future__ import annotations


class InstallerError(Exception):
    """Base of the installer's errors."""


class BuildError(InstallerError):
    """A bundle cannot be built."""


class BundleError(InstallerError):
    """A bundle is unreadable, does not match its manifest, or is for another system."""


class EnrolmentError(InstallerError):
    """Enrolment with the collector failed."""


class EnrolmentRefused(EnrolmentError):
    """The collector refused the enrolment token (unknown, spent, expired or revoked)."""


class InstallError(InstallerError):
    """An install, upgrade or uninstall step failed."""
