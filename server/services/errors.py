"""Domain errors raised by the collector's services.

The transports map each to a status in one table (gRPC: ``server/api/errors.py``)::

    ParcError
    ├── InvalidArgument      malformed input (bad CSR, bad id, out-of-range value)
    ├── NotFound             an unknown tenant, site, device, token or command
    ├── AlreadyExists        a name that is taken
    ├── Unauthenticated      a bad or used-up token, an unknown or revoked certificate,
    │   │                    a failed sign-in (never saying whether the user exists)
    │   └── TotpRequired     the password was right; a TOTP code must follow
    ├── PermissionDenied     an authenticated caller doing what it may not
    └── FailedPrecondition   a valid request at the wrong time (renewal from an old serial)

Messages are written for the person at the other end: they say what was wrong and never
include secrets (tokens, keys).
"""


class ParcError(Exception):
    """Base of every domain error."""


class InvalidArgument(ParcError):
    """The request is malformed."""


class NotFound(ParcError):
    """The thing named does not exist."""


class AlreadyExists(ParcError):
    """The name is taken."""


class Unauthenticated(ParcError):
    """The caller could not be identified (bad token, unknown or revoked certificate)."""


class PermissionDenied(ParcError):
    """The caller is known but may not do this."""


class FailedPrecondition(ParcError):
    """The request is valid but not now (for example a renewal from an old serial)."""


class TotpRequired(Unauthenticated):
    """The password was right; a TOTP code is needed to finish signing in."""
