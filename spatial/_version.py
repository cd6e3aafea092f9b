"""Single source of the ecozone version."""

__version__ = "0.1.0"
