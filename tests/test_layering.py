"""The package's layers: imports point down, nothing imports the CLI, no import cycles.

Every module of ``gankit/`` belongs to one layer; a module may import modules of its own
layer and of the layers below it, never above. From the bottom:

    base          errors, files, registry, seeding, devices, threads: no gankit imports
                  above base
    components    data, nets, objectives, metrics, optim, prior, viz, estimate, diagnose,
                  augment: the pieces a GAN is made of and the measurements of one
                  (metrics, diagnosis and the divergence estimator use objectives and nets)
    training      config, train, tasks: the config that composes the components' and the
                  tasks' registries into one model, the loop and the games it plays
    api           the Python API (train, resume, load, Run)
    services      evaluate, evaluate_translation, translate, data.samples, latent: run-level
                  services built on a loaded Run, shared by the CLI, the lab and user
                  scripts (data.samples reads run directories as sample sets for
                  ``gankit estimate``, through the API, so it sits here, not with data)
    applications  lab (executable theory: it trains GANs through the API and measures
                  them with the services), app (the web apps)
    cli           cli, __main__

``interfaces → training/tasks → objectives/nets/data/metrics → torch`` of the design notes
is api, services, applications and cli above training above components and base.
Besides the order: nothing imports ``gankit.cli`` but ``gankit.__main__``, nothing imports
``gankit.app`` but the CLI, and the package facade ``gankit/__init__.py`` (which re-exports
names of every layer, lazily) is imported by the package's own modules for ``__version__``
only.

Imports are read from the source with ``ast``: module-level imports and imports inside
functions (lazy imports are dependencies too), but not those under
``if TYPE_CHECKING:``, which annotations need and the running program never executes.
The module-level imports, which run when a module is first imported, must not form a
cycle. A package ``__init__`` importing its own submodules does not count as a cycle with
the implicit import of the package that every submodule import makes.

``ALLOWED_FOR_NOW`` lists the upward imports that remain until their modules are moved;
each entry is an exact (importer, imported) pair and the test fails once an entry is no
longer needed, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gankit"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "gankit.errors",
            "gankit.files",
            "gankit.registry",
            "gankit.seeding",
            "gankit.devices",
            "gankit.threads",
        ),
    ),
    (
        "components",
        (
            "gankit.data",
            "gankit.nets",
            "gankit.objectives",
            "gankit.metrics",
            "gankit.optim",
            "gankit.prior",
            "gankit.viz",
            "gankit.estimate",
            "gankit.diagnose",
            "gankit.augment",
        ),
    ),
    ("training", ("gankit.config", "gankit.train", "gankit.tasks")),
    ("api", ("gankit.api",)),
    (
        "services",
        (
            "gankit.evaluate",
            "gankit.evaluate_translation",
            "gankit.translate",
            "gankit.data.samples",
            "gankit.latent",
        ),
    ),
    ("applications", ("gankit.lab", "gankit.app")),
    ("cli", ("gankit.cli", "gankit.__main__")),
)

FACADE = "gankit"
FACADE_NAMES = {"__version__"}

ALLOWED_FOR_NOW: set[tuple[str, str]] = set()


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name → (file, is a package ``__init__``)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


MODULES = _modules()


def _known(name: str) -> str | None:
    """The gankit module ``name`` or the nearest package above it that exists."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> list[tuple[str, bool, int, tuple[str, ...]]]:
    """(imported gankit module, lazy, line, names taken from it) for each import."""
    path, is_package = MODULES[module]
    found: list[tuple[str, bool, int, tuple[str, ...]]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, lazy)
                continue
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append((alias.name, lazy, child.lineno, ()))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module if is_package else module.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in MODULES:
                        found.append((submodule, lazy, child.lineno, ()))
                    else:
                        found.append((base, lazy, child.lineno, (alias.name,)))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    imports = []
    for name, lazy, line, names in found:
        if name != "gankit" and not name.startswith("gankit."):
            continue
        target = _known(name)
        if target is not None and target != module:
            imports.append((target, lazy, line, names))
    return imports


IMPORTS = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> int | None:
    """The index in :data:`LAYERS` of ``module``'s layer (longest prefix wins)."""
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def _upward_imports() -> set[tuple[str, str]]:
    upward = set()
    for module, imports in IMPORTS.items():
        if module == FACADE:
            continue
        for target, _, _, _ in imports:
            if target == FACADE:
                continue
            here, there = _layer(module), _layer(target)
            if here is not None and there is not None and there > here:
                upward.add((module, target))
    return upward


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if m != FACADE and _layer(m) is None]
    assert not unplaced, f"add these modules to a layer in LAYERS: {unplaced}"


def test_no_module_imports_a_higher_layer():
    upward = _upward_imports()
    described = sorted(
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, target in upward - ALLOWED_FOR_NOW
    )
    assert not described, "upward imports:\n" + "\n".join(described)


def test_the_allowed_upward_imports_still_exist():
    fixed = sorted(ALLOWED_FOR_NOW - _upward_imports())
    assert not fixed, f"no longer needed: remove from ALLOWED_FOR_NOW: {fixed}"


def test_nothing_imports_the_cli_or_the_web_apps():
    offenders = []
    for module, imports in IMPORTS.items():
        for target, _, line, _ in imports:
            if target == "gankit.cli" and module != "gankit.__main__":
                offenders.append(f"{module}:{line} imports {target}")
            web_app = target == "gankit.app" or target.startswith("gankit.app.")
            if web_app and module != "gankit.cli" and not module.startswith("gankit.app"):
                offenders.append(f"{module}:{line} imports {target}")
    assert not offenders, "\n".join(offenders)


def test_the_facade_is_imported_for_the_version_only():
    offenders = [
        f"{module}:{line} imports {', '.join(names) or 'gankit'} from the facade"
        for module, imports in IMPORTS.items()
        if module != FACADE
        for target, _, line, names in imports
        if target == FACADE and not (names and set(names) <= FACADE_NAMES)
    ]
    assert not offenders, "import these from their home modules:\n" + "\n".join(offenders)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def test_module_level_imports_have_no_cycles():
    graph = {
        module: {target for target, lazy, _, _ in imports if not lazy and target != FACADE}
        for module, imports in IMPORTS.items()
    }
    assert _cycles(graph) == []


def test_the_checker_sees_cycles_and_lazy_imports():
    # the cycle finder on a made-up graph, and the parser on modules known to import lazily
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    lazy = {target for target, is_lazy, _, _ in IMPORTS["gankit.cli"] if is_lazy}
    assert "gankit.api" in lazy
