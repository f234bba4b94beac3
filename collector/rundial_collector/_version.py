"""The collector's version, kept in one place (``GET /api/v1/version`` and ``--version``)."""

__version__ = "0.1.0"
