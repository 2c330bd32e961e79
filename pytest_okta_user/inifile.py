"""pytest's ini file, found the way pytest finds it, for readers outside pytest (the ``okta-user``
command): the same ``okta_*`` values and the same cache folder as a pytest run in that folder.

No pytest import: pytest's own finder is private (its signature changed between 7.4 and 8), and
the rules are short. From the folder upwards, the first folder holding one of these wins, in
pytest's order: ``pytest.toml``/``.pytest.toml`` (pytest 9), ``pytest.ini``/``.pytest.ini`` (even
empty), ``pyproject.toml`` with ``[tool.pytest.ini_options]`` (or pytest 9's ``[tool.pytest]``),
``tox.ini`` with ``[pytest]``, ``setup.cfg`` with ``[tool:pytest]``.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the lowest supported Python
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = ["IniFile", "find_ini"]


@dataclass(frozen=True)
class IniFile:
    """The ini file's path (None when there is none), its folder (pytest's rootdir) and values."""

    path: Path | None
    rootdir: Path
    values: Mapping[str, str] = field(default_factory=dict)

    def cache_dir(self) -> Path:
        """pytest's cache folder for this rootdir (the ini file's ``cache_dir``, or the default)."""
        configured = self.values.get("cache_dir", "").strip()
        folder = Path(os.path.expandvars(configured)) if configured else Path(".pytest_cache")
        return folder if folder.is_absolute() else self.rootdir / folder


def find_ini(start: Path) -> IniFile:
    """The ini file pytest would use when run in ``start``; raises ``ValueError`` naming the file
    when it cannot be parsed."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name, reader in _READERS:
            path = folder / name
            if not path.is_file():
                continue
            values = reader(path)
            if values is not None:
                return IniFile(path, folder, values)
    return IniFile(None, start, {})


def _ini_section(section: str, *, always: bool = False) -> Any:
    def read(path: Path) -> dict[str, str] | None:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ValueError(f"{path}: {exc}") from None
        if parser.has_section(section):
            return dict(parser.items(section))
        return {} if always else None

    return read


def _toml_table(*keys: tuple[str, ...]) -> Any:
    def read(path: Path) -> dict[str, str] | None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        for key in keys:
            table: Any = data
            for part in key:
                table = table.get(part) if isinstance(table, dict) else None
            if isinstance(table, dict):
                return {name: _toml_text(value) for name, value in table.items()}
        return None

    return read


def _toml_text(value: object) -> str:
    """An ini value as pytest's string ini types read it (lists joined by spaces)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


_READERS = (
    ("pytest.toml", _toml_table(("pytest",))),
    (".pytest.toml", _toml_table(("pytest",))),
    ("pytest.ini", _ini_section("pytest", always=True)),
    (".pytest.ini", _ini_section("pytest", always=True)),
    ("pyproject.toml", _toml_table(("tool", "pytest", "ini_options"), ("tool", "pytest"))),
    ("tox.ini", _ini_section("pytest")),
    ("setup.cfg", _ini_section("tool:pytest")),
)
