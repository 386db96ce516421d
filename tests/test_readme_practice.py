"""The README's section on 3PC, leases and primary-backup shows what agree draws and finds."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
SECTION = README[README.index("### Consensus in practice"):README.index("### Quorum intersection")]


def diagrams() -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", SECTION, re.S)


@pytest.mark.parametrize("name", ["threepc--partition", "lease--no-fencing", "primary-backup--script-failover"])
def test_each_diagram_is_agree_shows_drawing_of_the_stored_trace(agree, name):
    ran = agree("show", ROOT / "counterexamples" / f"{name}.json", "--format", "mermaid")
    assert ran.code == 0
    drawn = "\n".join(line for line in ran.out.splitlines() if not line.strip().startswith("%%"))
    assert drawn.strip() in [d.strip() for d in diagrams()]


@pytest.mark.parametrize("model, states, generated, depth", [
    ("threepc", "1,545", "3,956", 15),
    ("lease", "17,325", "74,659", 20),
    ("primary-backup", "12,012", "19,047", 15),
])
def test_quoted_check_lines_are_what_check_prints(agree, model, states, generated, depth):
    quoted = f"holds within bounds: search exhausted, {states} distinct states ({generated} generated), depth {depth}"
    prose = " ".join(SECTION.split())  # lines wrap anywhere in the README
    assert f"`agree check {model}`" in prose and quoted in prose
    assert quoted in agree("check", model).out
