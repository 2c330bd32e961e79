"""The walls CONTRIBUTING.md draws around the client side: only the pytest face imports pytest, and
nothing but the plugin imports the emulator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_okta_user"
PYTEST_FACE = {"plugin", "fixtures", "masking_hooks", "reporting"}
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def imported(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_the_lists_are_current() -> None:
    assert set(MODULES) >= PYTEST_FACE
    assert {"cli", "settings", "provider"} <= set(MODULES)


@pytest.mark.parametrize("module", [m for m in MODULES if m not in PYTEST_FACE])
def test_the_core_imports_no_pytest(module: str) -> None:
    found = {n for n in imported(module) if n.split(".")[0] in ("pytest", "_pytest", "xdist")}
    assert not found, f"{module}.py is usable without pytest (CONTRIBUTING.md, the walls)"


@pytest.mark.parametrize("module", [m for m in MODULES if m != "plugin"])
def test_only_the_plugin_imports_the_emulator(module: str) -> None:
    found = {n for n in imported(module) if "emulator" in n}
    assert not found, f"{module}.py must not reach the emulator (CONTRIBUTING.md, the walls)"
