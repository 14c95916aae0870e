"""The house's layering, checked on the import graph (function-level imports included, read from the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "copilot"
LOWER = ("copilot.store", "copilot.kb", "copilot.engine", "copilot.llm", "copilot.helpdesk")
UPPER = ("copilot.assist", "copilot.ui", "copilot.cli", "copilot.app", "copilot.services")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module an import names (`from copilot.store import tickets` names copilot.store.tickets)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, known: dict[str, Path]) -> dict[str, int]:
    """Every module of ours, and every third-party top-level package, this file imports (any depth), by line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("copilot"):
                target = _resolve(name, known)
                if target and target != _module_name(path):
                    found.setdefault(target, node.lineno)
            else:
                found.setdefault(name.split(".")[0], node.lineno)
    return found


GRAPH = {name: _imports(path, _modules()) for name, path in _modules().items()}


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _outside(target: str, package: str) -> bool:
    return target.startswith("copilot") and not _in(target, (package,))


def _violations(rule: str) -> list[str]:
    bad = []
    for source, targets in GRAPH.items():
        for target, line in targets.items():
            if (
                (rule == "domain" and _in(source, ("copilot.domain",)) and _outside(target, "copilot.domain"))
                or (rule == "lower" and _in(source, LOWER) and _in(target, UPPER))
                or (rule == "qt" and target in ("PySide6", "qasync", "shiboken6") and not _in(source, ("copilot.ui",)))
                or (rule == "litellm" and target == "litellm" and not _in(source, ("copilot.llm",)))
            ):
                bad.append(f"{source}:{line} imports {target}")
    return bad


@pytest.mark.parametrize("rule", ["domain", "lower", "qt", "litellm"])
def test_layer_rule(rule: str) -> None:
    """domain imports nothing of ours; store/kb/engine/llm/helpdesk never import assist/ui/cli/app/services;
    only ui imports Qt; only llm imports litellm."""
    assert _violations(rule) == []


def _cycles() -> list[list[str]]:
    ours = {s: [t for t in ts if t.startswith("copilot")] for s, ts in GRAPH.items()}
    # A package's __init__ that only re-exports its own modules is not a cycle with them.
    edges = {s: [t for t in ts if not s.startswith(t + ".")] for s, ts in ours.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_checks_can_fail() -> None:
    """The graph is really read: ui imports Qt, the app imports services, assist imports the store."""
    assert "PySide6" in GRAPH["copilot.ui.main_window"]
    assert "copilot.services" in GRAPH["copilot.app"]
    assert any(t.startswith("copilot.store") for t in GRAPH["copilot.assist.conversation"])
