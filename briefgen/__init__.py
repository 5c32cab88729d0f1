"""briefgen: a cited, verified, print-ready policy brief from sources and an outline."""

__version__ = "0.1.0"
