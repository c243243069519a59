"""Collectors: one module per concern, each following :class:`agent.collectors.base.Collector`.

Import from the concern's module (``agent.collectors.health``, ``.inventory``, ``.system``,
``.software``, ``.licences``, ``.hardware``): this package imports nothing itself, so a process
loads only the collectors it uses (the resident agent has no use for the software readers).
"""
