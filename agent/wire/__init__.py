"""Conversion of the collectors' records into parc.v1 messages: protobuf stays at this edge.

One module per concern (``health``, ``inventory``, ``software``, ``licences``; ``common`` for
shared helpers). This package imports none of them itself, so the inventory worker does not
load the health code and the resident agent does not load the software code.
"""
