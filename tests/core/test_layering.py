"""The package's layers only point down: each module imports its own layer and the layers below it.

    core (losses, masking, backbones, schedules, distributed)   pure torch: no config, no solo-learn
    config, data, analysis, host                                 no solo-learn at import time
    methods                                                      solo-learn glue
    launch                                                       commands: training, evaluation, data, runs
    reporting                                                    results tables, paper tables, fidelity study
    cli, hydra plugin                                            entry points

Read from the source (ast), so a lazy import inside a function counts as much as one at the top.
"""

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "solo_ext"

LAYERS: Dict[str, int] = {
    "solo_ext.losses": 0,
    "solo_ext.masking": 0,
    "solo_ext.backbones": 0,
    "solo_ext.schedules": 0,
    "solo_ext.distributed": 0,
    "solo_ext.config": 1,
    "solo_ext.data": 1,
    "solo_ext.analysis": 1,
    "solo_ext.host": 1,
    "solo_ext.methods": 2,
    "solo_ext.launch": 3,
    "solo_ext.reporting": 4,
    "solo_ext.cli": 5,
    "solo_ext": 2,  # the package face: register() hands the methods to solo-learn
}
CORE = 0
NO_SOLO_LEARN = (
    1  # up to this layer nothing imports solo-learn or Lightning (host asks for solo-learn lazily)
)
THIRD_PARTY_HOST = ("solo", "lightning", "pytorch_lightning")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of a solo_ext module: that of its longest listed prefix."""
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def imports(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute module) of every import in a file, relative ones resolved, `from pkg import sub`
    counted as the submodule when it is one."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_submodule = (ROOT / Path(*candidate.split("."))).with_suffix(
                    ".py"
                ).is_file() or (ROOT / Path(*candidate.split(".")) / "__init__.py").is_file()
                yield node.lineno, candidate if is_submodule else base


def violations() -> List[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        mine = layer_of(here)
        for line, target in imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if target.split(".")[0] == "solo_ext":
                if layer_of(target) > mine:
                    found.append(
                        f"{where}: {here} (layer {mine}) imports {target} (layer {layer_of(target)})"
                    )
            elif (
                target.split(".")[0] in THIRD_PARTY_HOST
                and mine <= NO_SOLO_LEARN
                and here != "solo_ext.host"
            ):
                found.append(f"{where}: {here} (layer {mine}) imports {target}")
    return found


def test_every_module_has_a_layer():
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")]
    assert all(layer_of(m) is not None for m in modules)
    assert {"solo_ext.tools", "solo_ext.utils", "solo_ext.misc"}.isdisjoint(
        {m.rsplit(".", 1)[0] for m in modules}
    )


def test_layers_only_point_down():
    assert violations() == []


def test_the_core_knows_no_config_keys():
    """The core raises ValueError about its own parameters; the glue names the yaml key."""
    for path in PACKAGE.rglob("*.py"):
        if layer_of(module_name(path)) != CORE:
            continue
        text = path.read_text()
        assert "method_kwargs." not in text and "ConfigError" not in text, path


@pytest.mark.parametrize(
    "source,bad",
    [
        ("from solo_ext.launch.runs import RunFolder\n", "solo_ext.launch.runs"),
        ("import solo.methods\n", "solo.methods"),
        ("def f():\n    from solo_ext.config import ConfigError\n", "solo_ext.config"),
    ],
)
def test_the_check_sees_an_upward_import(tmp_path, monkeypatch, source, bad):
    """The checker itself: a core module importing upwards (or solo-learn, even lazily) is reported."""
    fake_root = tmp_path
    core = fake_root / "solo_ext" / "losses"
    core.mkdir(parents=True)
    (fake_root / "solo_ext" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    (core / "bad.py").write_text(source)
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    monkeypatch.setitem(globals(), "PACKAGE", fake_root / "solo_ext")
    assert any(bad in v for v in violations())


def test_no_import_circles():
    """No two modules of the package import each other, directly or around a loop (lazy imports too)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        here = module_name(path)
        graph[here] = {t for _, t in imports(path) if t.startswith("solo_ext.") and t != here}
    state, loops = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                loops.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ handing on its own submodules is no loop
    loops = [
        loop
        for loop in loops
        if not all(m.startswith(loop[0]) or loop[0].startswith(m) for m in loop)
    ]
    assert loops == []


def test_the_config_layer_and_sweep_listing_import_no_torch():
    """`solo-ext sweep --dry-run`, `zoo` and the config checks read configs only: importing torch (2-4 s)
    for them made every bash script's dry run slow."""
    import subprocess
    import sys

    code = (
        "import sys, solo_ext.config, solo_ext.reporting.sweep, solo_ext.masking.choices; "
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "torch" not in out.stdout, out.stdout
