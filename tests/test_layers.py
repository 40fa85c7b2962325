"""The layers as docs/architecture.md draws them: nothing imports upward, no module cycles.

`bot/` (platforms, composition) above `scheduler/` above `handlers/` (the desk) above
`storage/` (all SQL). Every import counts, also those inside functions and under
TYPE_CHECKING: a cycle hidden there is still a cycle a reader has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("storage", "handlers", "scheduler", "bot")  # bottom to top
PLATFORM_LIBRARIES = ("aiogram", "vkbottle")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, absolute names, wherever in the file the import is."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" \
        else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from handlers import queue` imports the module handlers.queue
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """First-party modules and the first-party modules each imports."""
    files = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    return {
        name: {m for m in imports_of(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def all_imports() -> dict[str, set[str]]:
    files = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    return {module_name(p): imports_of(p) for p in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(module: str) -> int:
    return LAYERS.index(module.split(".", 1)[0])


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = sorted(
        f"{module} imports {other}"
        for module, others in graph().items() for other in others
        if layer_of(other) > layer_of(module)
    )
    assert upward == []


def test_storage_imports_nothing_of_the_layers_above() -> None:
    above = sorted(
        f"{module} imports {other}"
        for module, others in all_imports().items() if module.startswith("storage")
        for other in others if other.split(".", 1)[0] in {"handlers", "scheduler", "bot"}
    )
    assert above == []


def test_only_bot_knows_a_platform_library() -> None:
    knowing = sorted(
        f"{module} imports {other}"
        for module, others in all_imports().items() if not module.startswith("bot")
        for other in others if other.split(".", 1)[0] in PLATFORM_LIBRARIES
    )
    assert knowing == []


def test_no_import_cycles_among_modules() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a made-up graph with a cycle of three is reported."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions() -> None:
    """The graph reads every import the checks rely on, wherever it stands."""
    seen = all_imports()
    assert "bot.vk.adapter" in seen["bot.app"]  # imported inside a method, on purpose lazy
    assert "storage.values" in seen["handlers.model"]
