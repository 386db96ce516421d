"""Every Python block in README.md runs, and imports only what a user's code may import.

The rule for namespaces: the blocks of one section (the text under one heading, of any level, up
to the next heading) run in order in one namespace, so a block may build on an earlier block of
its section (the broken Mutex variant subclasses the Mutex above it); each section starts afresh.
After each block, every `test_*` function it defined is called, so an example that is a test is
run as one. A block runs in an empty working directory.

What a README example imports is what users copy: the public face `agree`, or a built-in model's
module (`from agree.models.paxos import Paxos`), never the engines' or the contract's own modules,
whose paths may move when the rooms are rearranged.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import pytest

from agree.models.registry import builtin_models
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()

# sections another change is rewriting, and what is waiting there (remove the entry when it lands)


@dataclass
class Block:
    section: str
    line: int
    code: str


def python_blocks() -> list[Block]:
    """The ```python blocks of the README with the heading they sit under and their first line."""
    found, section, fenced, current = [], "", False, None
    for number, line in enumerate(README.splitlines(), 1):
        if line.startswith("```"):
            if not fenced and line.strip() == "```python":
                current = Block(section, number + 1, "")
            elif fenced and current is not None:
                found.append(current)
                current = None
            fenced = not fenced
        elif current is not None:
            current.code += line + "\n"
        elif not fenced and line.startswith("#"):
            section = line.lstrip("#").strip()
    return found


BLOCKS = python_blocks()
SECTIONS = list(dict.fromkeys(b.section for b in BLOCKS))


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 6 and "Writing a model" in SECTIONS


@pytest.mark.parametrize("section", SECTIONS)
def test_each_sections_python_blocks_run(section, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    for block in (b for b in BLOCKS if b.section == section):
        before = set(namespace)
        exec(compile(block.code, f"README.md, line {block.line}", "exec"), namespace)
        for name in sorted(set(namespace) - before):
            if name.startswith("test_") and callable(namespace[name]):
                namespace[name]()


def allowed(module: str) -> bool:
    """`agree` itself, a built-in model's module, or anything not ours (the standard library)."""
    builtin = {cls.__module__.split(".")[2] for cls in builtin_models().values()}
    top = module.split(".")[0]
    if top in ("models", "explorer", "properties"):
        return False
    if top != "agree":
        return True
    parts = module.split(".")
    return module == "agree" or (len(parts) == 3 and parts[1] == "models" and parts[2] in builtin)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line-{b.line}" for b in BLOCKS])
def test_readme_blocks_import_from_the_public_face(block):
    modules = []
    for node in ast.walk(ast.parse(block.code)):
        if isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
    wrong = [m for m in modules if not allowed(m)]
    assert not wrong, (f"README.md line {block.line} ({block.section}) imports {wrong}: import from `agree` "
                       "or a built-in model's module (agree.models.paxos)")


def test_the_import_rule_tells_the_face_from_the_rooms():
    assert allowed("agree") and allowed("agree.models.paxos") and allowed("agree.models.raft") and allowed("typing")
    assert not allowed("agree.models") and not allowed("agree.models.contract")
    assert not allowed("agree.explorer.pytest_plugin") and not allowed("models.paxos")
    assert re.search(r"^```python$", README, re.M)
