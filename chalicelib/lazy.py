"""Modules loaded on first use (the standard library's `importlib.util.LazyLoader`).

A Lambda's cold start pays for every module its handler's import reaches. The
routes name their services and pydantic models through lazy modules, so `import app`
registers every route without building a model, and each request loads only what
it uses; the breach checker's functions never load the API's models at all.
Python 3.11's LazyLoader takes no lock: a lazy module must not be touched first by
several threads at once (the checker's thread pool uses none of them).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, imported now if it already is, else executed on first attribute access."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)  # as a real import binds it
    return module
