"""The one way copier reaches this template's Python code: the package beside this file.

copier.yml names `extensions/loader.py:TemplateFilters` (copier-template-extensions executes this
file by path for every Jinja environment copier builds), and `tasks.py`, which copier runs after
rendering, imports `load_package` from here. Tests and tools import the package the ordinary way
(`copier_atlas_postgres`, with `extensions/` on the path).

A package is loaded once per template folder, under a name derived from its path: during
`copier update` the old and the new template version are both loaded in one process, and each
must see its own modules. A folder importable under the ordinary name is imported under it, so
one file never lives under two module names in one process.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

PACKAGE = "copier_atlas_postgres"
PACKAGE_DIR = Path(__file__).resolve().with_name(PACKAGE)


def load_package(folder: Path = PACKAGE_DIR) -> ModuleType:
    """The package in FOLDER, loaded at most once per process."""
    folder = Path(folder).resolve()
    if _importable(folder):
        return importlib.import_module(PACKAGE)
    name = f"{PACKAGE}_{hashlib.sha1(str(folder).encode()).hexdigest()[:12]}"
    if name not in sys.modules:
        spec = spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = module_from_spec(spec)
        sys.modules[name] = module  # before it runs: its modules import each other through it
        spec.loader.exec_module(module)
    return sys.modules[name]


def _importable(folder: Path) -> bool:
    """FOLDER is what `import copier_atlas_postgres` gives (or already gave) in this process."""
    if PACKAGE in sys.modules:
        return Path(sys.modules[PACKAGE].__path__[0]).resolve() == folder
    return any(Path(entry or ".").resolve() == folder.parent for entry in sys.path)


def load_module(name: str) -> ModuleType:
    """One module of this folder's package, e.g. load_module("rendering.filters")."""
    return importlib.import_module(f"{load_package().__name__}.{name}")


def __getattr__(name: str):
    # copier.yml's `extensions/loader.py:TemplateFilters`; tasks.py does not pay for Jinja's import.
    if name == "TemplateFilters":
        return load_module("rendering.filters").TemplateFilters
    raise AttributeError(name)
