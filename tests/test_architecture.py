"""The import rules of docs/architecture.md, enforced: its table of packages and what each may import, no build code
(``imner_dev``) imported from ``src/imner``, heavy libraries imported lazily, and no torch or transformers on the
runtime path of ``imner extract`` with the default model."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "imner"
DOC = ROOT / "docs" / "architecture.md"
#: third-party packages that must not be imported at module level (outside "heavy at import")
HEAVY = {"torch", "transformers", "gensim", "pycrfsuite", "gliner", "onnx", "matplotlib", "spacy", "fastapi",
         "uvicorn", "pyspark", "duckdb", "sklearn", "pandas"}
#: what must stay out of the runtime path of `imner extract` with the default model
NOT_ON_EXTRACT_PATH = {"torch", "transformers", "gensim", "imner_dev", "spacy", "fastapi", "pyspark", "duckdb",
                       "matplotlib", "onnx", "pycrfsuite"}


def _table() -> tuple[dict[str, set[str] | None], dict[str, set[str]]]:
    """package -> allowed imports (None: any), and module -> heavy packages it may import at module level."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- layers: begin")[1].split("<!-- layers: end -->")[0]
    allowed: dict[str, set[str] | None] = {}
    heavy: dict[str, set[str]] = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        allowed[name] = None if cells[2] == "any" else set(re.findall(r"`([\w.]+)`", cells[2]))
        for module, libs in re.findall(r"`([\w.]+)`: ([\w, ]+)", cells[3]):
            heavy[f"imner.{module}"] = {x.strip() for x in libs.split(",")}
    return allowed, heavy


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


def _rel(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _unit(module: str) -> str:
    """The row of the table a module belongs to: ``imner.taggers.crf.tagger`` -> ``taggers``."""
    parts = module.split(".")
    return "imner" if len(parts) == 1 else parts[1]


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(imported module, at module level, line) for every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    for n in tree.body:  # `if TYPE_CHECKING:` / `try:` blocks at module level are module level too
        if isinstance(n, (ast.If, ast.Try)):
            top |= {id(m) for m in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, id(node) in top, node.lineno))
            # `from imner import corpora`: the submodule is what is imported
            out += [(f"{node.module}.{a.name}", id(node) in top, node.lineno) for a in node.names
                    if (SRC.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                    or (SRC.parent / f"{node.module}.{a.name}".replace(".", "/")).is_dir()]
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}:{node.lineno}: relative import; imner uses absolute imports")
    return out


def test_every_package_is_in_the_table():
    allowed, _ = _table()
    missing = sorted({_unit(m) for m, _ in _modules()} - set(allowed))
    assert not missing, (f"{', '.join(missing)}: not in the table of docs/architecture.md; add a row saying what "
                         "it is and what it may import")


def test_imports_follow_the_table():
    allowed, _ = _table()
    bad = []
    for module, path in _modules():
        unit = _unit(module)
        ok = allowed.get(unit)
        for name, _, line in _imports(path):
            if name.split(".")[0] == "imner_dev":
                bad.append(f"{_rel(path)}:{line}: imports {name}: runtime code never imports build code")
                continue
            if name.split(".")[0] != "imner" or ok is None:
                continue
            target = _unit(name)
            if name == "imner" or target in ("__version__",):
                target = "imner"
            if target != unit and target not in ok:
                bad.append(f"{_rel(path)}:{line}: {unit} imports {name}; docs/architecture.md allows "
                           f"{unit} to import only {', '.join(sorted(ok)) or 'nothing of imner'}")
    assert not bad, "\n".join(bad)


def test_heavy_libraries_are_imported_lazily():
    _, heavy_ok = _table()
    bad = [f"{_rel(path)}:{line}: imports {name} at module level; import it inside the function "
           "that needs it (or list the module under 'heavy at import' in docs/architecture.md)"
           for module, path in _modules() for name, top, line in _imports(path)
           if top and name.split(".")[0] in HEAVY and name.split(".")[0] not in heavy_ok.get(module, ())]
    assert not bad, "\n".join(bad)


def test_the_table_catches_a_forbidden_import(tmp_path, monkeypatch):
    """The checks above can fail: a module of ``io`` that imports the pipeline, or build code, is reported."""
    fake = tmp_path / "imner" / "io" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from imner.pipeline import load_pipeline\nimport imner_dev.compare\nimport torch\n")
    monkeypatch.setattr(sys.modules[__name__], "_modules", lambda: [("imner.io.bad", fake)])
    with pytest.raises(AssertionError, match="io imports imner.pipeline.*\n.*runtime code never imports build code"):
        test_imports_follow_the_table()
    with pytest.raises(AssertionError, match="imports torch at module level"):
        test_heavy_libraries_are_imported_lazily()


def test_extract_with_the_default_model_loads_no_torch(tmp_path):
    """Runs `imner extract` on the example case report in a fresh interpreter and lists what it imported."""
    out = tmp_path / "out.jsonl"
    code = ("import sys, json\n"
            "from imner.cli import main\n"
            f"rc = main(['extract', {str(ROOT / 'examples' / 'case_report.txt')!r}, '--output', {str(out)!r}])\n"
            "print(json.dumps({'rc': rc, 'modules': sorted({m.split('.')[0] for m in sys.modules})}))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(SRC.parent)}, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["rc"] == 0 and out.stat().st_size > 0
    assert "onnxruntime" in report["modules"]  # the default model did run
    assert not NOT_ON_EXTRACT_PATH & set(report["modules"]), sorted(NOT_ON_EXTRACT_PATH & set(report["modules"]))


def test_import_imner_pipeline_is_light():
    code = ("import sys, json\nimport imner, imner.pipeline, imner.io, imner.evaluate, imner.corpora\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(SRC.parent)}, timeout=120)
    assert res.returncode == 0, res.stderr
    loaded = set(json.loads(res.stdout.strip().splitlines()[-1]))
    assert not (NOT_ON_EXTRACT_PATH | {"onnxruntime"}) & loaded, sorted((NOT_ON_EXTRACT_PATH | {"onnxruntime"}) & loaded)
