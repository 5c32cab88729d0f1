"""The files `briefgen init` writes into a new brief project (package data, read by init.py)."""
