"""Covey: an open-source, self-hosted partner ecosystem platform."""

__version__ = "0.1.0"
