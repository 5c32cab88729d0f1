"""Installs the test run's network guard in Python subprocesses (see briefgen_netguard.py).

tests/conftest.py puts this folder first on PYTHONPATH, so every `python` the tests start imports
this file at start-up. It then runs the `sitecustomize` it shadows (Debian ships one), if any.
"""

import contextlib
import importlib.machinery
import importlib.util
import os
import sys

import briefgen_netguard

briefgen_netguard.install()

_here = os.path.dirname(os.path.abspath(__file__))
_rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _rest)
if _spec is not None and _spec.loader is not None:
    _next = importlib.util.module_from_spec(_spec)
    with contextlib.suppress(Exception):  # as site.py does: a broken one does not stop Python
        _spec.loader.exec_module(_next)
