"""The package's layers: a module imports only from its own layer or the ones below, and no import cycles.

Read from the source with ``ast`` (imports inside functions included), never
by importing. A sub-package's modules may import each other (no cycles), and
another sub-package's only when that one comes earlier in LAYERS; a stage
module only an earlier stage's, or one of its own stage's. The rule entry
scripts in ``scripts/`` follow the same order as the modules of their stage.
The public surface: a sub-package's ``__all__`` names the modules used from
outside it, the others (its internals) start with ``_``, and a name is imported from the module that defines it (or
declares it in ``__all__``), not from one that happens to import it.
"""

import ast
import re
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
WORKFLOW = SCRIPTS.parent / "workflow"
PACKAGE = SCRIPTS / "skymatchflow"

#: lowest first: the leaves (version, errors), then the shared layers, then the stages and what follows them, and
#: last what the Snakefile imports (snakefile.py, the one module the workflow's files take names from)
LAYERS = ["", "errors", "geometry", "io", "stats", "solve", "jobs", "products", "stages", "diagnostics", "demo",
          "snakefile"]

#: the stages in data order; a stage's helper modules sit with it (named here without an internal module's "_")
STAGES = [
    ("preview", "image_products", "image_sky", "image_batch"),
    ("overlap_graph",),
    ("pair_batch",),
    ("solve_sky",),
    ("apply_plane", "apply_jwst", "apply_sky"),
    ("audit",),
]

#: the rule entry scripts: where each sits (a stage module, or a layer)
ENTRY_SCRIPTS = {
    "image_batch": "stages.image_batch",
    "overlap_graph": "stages.overlap_graph",
    "pair_batch": "stages.pair_batch",
    "solve_sky": "stages.solve_sky",
    "apply_sky": "stages.apply_sky",
    "audit": "stages.audit",
    "diagnostics_map": "diagnostics",
    "diagnostics": "diagnostics",
    "demo_mosaic": "demo",
    "demo_compare": "demo",
    "demo_figure": "demo",
}


def module_name(path):
    """skymatchflow-relative dotted name: "" for the package, "io.stagefiles", "stages" for stages/__init__.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path, name):
    """The package modules (relative names) ``path`` imports, at any depth of its code."""
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if name else []
                module = ".".join(["skymatchflow", *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # "from skymatchflow.io import stagefiles" imports the module io.stagefiles
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "skymatchflow" or target.startswith("skymatchflow."):
                relative = target.removeprefix("skymatchflow").removeprefix(".")
                if relative in MODULES:
                    found.add(relative)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: imported(path, name) for name, path in MODULES.items()}


def layer_of(name):
    return LAYERS.index(name.split(".")[0]) if name.split(".")[0] in LAYERS else None


def stage_of(name):
    """The index of a stage module's stage in STAGES, or None for another module."""
    parts = name.split(".")
    if parts[0] != "stages" or len(parts) < 2:
        return None
    return next(index for index, modules in enumerate(STAGES) if parts[1].removeprefix("_") in modules)


def violations(name, targets):
    """The imports of module ``name`` that go up the layers or to a later stage."""
    wrong = []
    for target in sorted(targets):
        if layer_of(target) > layer_of(name):
            wrong.append(f"{name or 'skymatchflow'} imports {target}: a later layer")
        elif layer_of(target) == layer_of(name) and name.split(".")[0] == "" and target != name:
            wrong.append(f"{name} imports {target}: a leaf imports nothing")
        elif stage_of(name) is not None and stage_of(target) is not None and stage_of(target) > stage_of(name):
            wrong.append(f"{name} imports {target}: a later stage")
    return wrong


def test_every_module_has_a_layer_and_every_stage_module_a_stage():
    assert [name for name in MODULES if layer_of(name) is None] == []
    staged = {module for modules in STAGES for module in modules}
    stage_modules = {name.split(".")[1].removeprefix("_") for name in MODULES if name.startswith("stages.")}
    assert stage_modules == staged


def test_modules_import_only_their_own_or_earlier_layers_and_stages():
    wrong = [line for name, targets in IMPORTS.items() for line in violations(name, targets)]
    assert wrong == []


def test_entry_scripts_import_only_their_stage_and_earlier():
    wrong = []
    for script, place in ENTRY_SCRIPTS.items():
        path = SCRIPTS / f"{script}.py"
        wrong += [line.replace(place, f"scripts/{script}.py", 1) for line in violations(place, imported(path, place))]
    assert sorted(path.stem for path in SCRIPTS.glob("*.py")) == sorted(ENTRY_SCRIPTS)
    assert wrong == []


def cycles(graph):
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules_or_sub_packages():
    modules = {name: targets - {name} for name, targets in IMPORTS.items()}
    packages = {}
    for name, targets in IMPORTS.items():
        packages.setdefault(name.split(".")[0], set()).update(t.split(".")[0] for t in targets)
    packages = {package: targets - {package} for package, targets in packages.items()}
    assert cycles(modules) == []
    assert cycles(packages) == []


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_the_import_reader_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("def f():\n    from skymatchflow.errors import InputError\n    import skymatchflow.io.stagefiles\n")
    assert imported(source, "solve.module") == {"errors", "io.stagefiles"}


def used_from_outside():
    """The package modules imported by another sub-package, an entry script or a workflow file."""
    used = {target for name, targets in IMPORTS.items() for target in targets if target.split(".")[0] != name.split(".")[0]}
    for script in SCRIPTS.glob("*.py"):
        used |= imported(script, "")
    for rules in [WORKFLOW / "Snakefile", *WORKFLOW.glob("rules/*.smk")]:
        for module, names in re.findall(r"^\s*from skymatchflow\.([\w.]+) import (\([^)]*\)|.*)", rules.read_text(), re.M):
            used |= {module} | {f"{module}.{name}" for name in re.findall(r"\w+", names)}
    return {name for name in used if name in MODULES}


def test_each_sub_package_names_its_public_modules_and_only_those():
    """A sub-package's ``__all__``: the modules used from outside it; the others are its internals."""
    used = used_from_outside()
    for package in (name for name in MODULES if name and MODULES[name].name == "__init__.py"):
        tree = ast.parse(MODULES[package].read_text())
        declared = next(ast.literal_eval(node.value) for node in tree.body
                        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
        assert sorted(declared) == sorted(name.split(".")[1] for name in used if name.startswith(f"{package}.")), package


def test_a_sub_packages_internal_modules_and_only_those_start_with_an_underscore():
    """Public (in ``__all__``, used from outside): a plain name; internal: ``_name``, so a reader sees which is which."""
    wrong = []
    for package in (name for name in MODULES if name and MODULES[name].name == "__init__.py"):
        tree = ast.parse(MODULES[package].read_text())
        declared = next(ast.literal_eval(node.value) for node in tree.body
                        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
        for name in MODULES:
            if name.startswith(f"{package}.") and name.count(".") == 1:
                module = name.split(".")[1]
                if (module in declared) == module.startswith("_"):
                    wrong.append(f"{name}: " + ("public, named with _" if module in declared else "internal, named without _"))
    assert wrong == []


def top_level_names(path):
    """The names a module defines at its top level, and those its ``__all__`` declares (re-exports on purpose)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {name.id for name in ast.walk(target) if isinstance(name, ast.Name)}
                if isinstance(target, ast.Name) and target.id == "__all__":
                    names |= set(ast.literal_eval(node.value))
    return names


def test_every_name_is_imported_from_its_home():
    """``from skymatchflow.m import name``: ``m`` defines ``name`` or declares it in ``__all__``; no chance re-exports."""
    homes = {name: top_level_names(path) for name, path in MODULES.items()}
    sources = [*SCRIPTS.rglob("*.py"), *(p for p in (SCRIPTS.parent / "tests").rglob("*.py") if "results" not in p.parts)]
    wrong = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("skymatchflow")):
                continue
            module = node.module.removeprefix("skymatchflow").removeprefix(".")
            for alias in node.names:
                if module in MODULES and f"{module}.{alias.name}".strip(".") not in MODULES:
                    if alias.name not in homes[module]:
                        wrong.append(f"{path.relative_to(SCRIPTS.parent)}:{node.lineno}: {alias.name} from {module}")
    assert wrong == []


def test_the_workflow_files_import_the_package_through_one_module():
    """The Snakefile and rule files take every package name from skymatchflow.snakefile, so modules can move freely."""
    wrong = []
    for rules in [WORKFLOW / "Snakefile", *WORKFLOW.glob("rules/*.smk")]:
        for line in rules.read_text().splitlines():
            found = re.match(r"\s*(?:from|import) (skymatchflow[\w.]*)", line)
            if found and found.group(1) != "skymatchflow.snakefile":
                wrong.append(f"{rules.name}: {line.strip()}")
    assert wrong == []
