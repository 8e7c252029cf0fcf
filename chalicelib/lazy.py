"""Modules loaded on first use.

A Lambda's cold start pays for every module its handler's import reaches. The
routes name their services and pydantic models through lazy modules, so `import app`
registers every route without building a model, and each request loads only what
it uses; the breach checker's functions never load the API's models at all.

A `LazyModule` stands for a module and imports it through the ordinary import
system on its first attribute access: Python's per-module import locks make that
safe when several threads get there at once (`chalice local` serves requests on
threads; the standard library's LazyLoader is not thread-safe on 3.11).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """The module `name`, imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for module `name` (typed as the module where it is declared under
    TYPE_CHECKING), imported on first use."""
    return LazyModule(name)
