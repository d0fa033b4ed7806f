"""imsdata: the GST Invoice Management System month in Python, locally and fast."""

__version__ = "0.1.0"
