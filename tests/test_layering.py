"""Architecture rules: the core never imports napari, Qt or magicgui, and a lower layer never a higher one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "recist"
GUI = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy")
# layer of each top-level subpackage: a module may import only from its own layer or lower ones
LAYER = {"errors": 0, "_atomic": 0, "model": 1, "rules": 2, "measure": 2, "io": 3, "review": 4,
         "endpoints": 4, "export": 5, "api": 5, "synthetic": 5, "trial": 5, "cli": 6,
         "server": 6}
# modules that moved up a layer keep a compatibility alias at their old path (a two-line re-export)
COMPAT_ALIASES = {"io/sample.py", "io/trial_sim.py", "review/simulated.py", "export/batch.py"}


def test_importing_recist_and_its_modules_loads_no_gui_toolkit():
    code = (
        "import sys, importlib, pkgutil, recist\n"
        "for m in pkgutil.walk_packages(recist.__path__, 'recist.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {GUI!r}]\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_lower_layers_never_import_higher_ones():
    problems = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        top = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else "__init__"
        if top == "__init__" or top == "__main__" or top not in LAYER or rel.as_posix() in COMPAT_ALIASES:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recist."):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("recist.")]
            for name in names:
                other = name.split(".")[1]
                if other in LAYER and LAYER[other] > LAYER[top]:
                    problems.append(f"{rel}: imports {name}")
    assert problems == []


def test_public_names_resolve_and_submodules_do_not_load_the_case_model():
    code = (
        "import sys, recist.io.dicom\n"
        "assert 'pydantic' not in sys.modules, 'importing recist.io.dicom loaded pydantic'\n"
        "import recist\n"
        "missing = [n for n in recist.__all__ if getattr(recist, n, None) is None]\n"
        "assert not missing, missing\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
