"""Parc agent: reports a managed machine's inventory and health to the Parc collector."""

__version__ = "0.1.0"

__all__ = ["__version__"]
