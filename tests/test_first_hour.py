"""A new user's first hour: suites that travel, names that match, messages that name what they saw."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agree.explorer.cli.suite import load_suite
from agree.models.registry import build_model, builtin_name
from agree.properties.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]

BENOR = '''
from typing import NamedTuple
from agree import Model, Param, Step, invariant


class S(NamedTuple):
    decided: tuple


class BenOr(Model):
    name = "benor"
    params = {"n": Param(int, 3, "nodes", min=1)}

    def init(self):
        yield S((None,) * self.n)

    def next(self, s):
        for i in range(self.n):
            if s.decided[i] is None:
                yield Step("Decide", {"node": i}, S(s.decided[:i] + (self.value(i),) + s.decided[i + 1:]))

    def value(self, i):
        return 0

    def node_names(self):
        return [f"p{i + 1}" for i in range(self.n)]

    @invariant
    def agreement(self, s):
        return len({d for d in s.decided if d is not None}) <= 1


@BenOr.variant("decide-on-one", breaks="agreement", says="the last node decides 1")
class DecideOnOne(BenOr):
    def value(self, i):
        return 1 if i == self.n - 1 else 0
'''

SUITE = '''comment = "a suite that travels with its models"

[[check]]
model = "benor.py:BenOr"
expect = "holds"
notes = "the protocol"

[[check]]
model = "benor.py:BenOr"
variant = "decide-on-one"
expect = "violated"
property = "agreement"
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """mymodels/benor.py and its suite, seen from tmp_path (not from the suite's folder)."""
    (tmp_path / "mymodels").mkdir()
    (tmp_path / "mymodels" / "benor.py").write_text(BENOR)
    (tmp_path / "mymodels" / "benor.agree.toml").write_text(SUITE)
    return tmp_path


# ----- 1. suite paths


def test_a_suite_finds_its_model_file_from_its_own_folder(project, agree, monkeypatch):
    monkeypatch.chdir(project)
    ran = agree("verify", "--config", "mymodels/benor.agree.toml")
    assert ran.code == 0, ran.out + ran.err
    assert "2 of 2 expectations met" in ran.out


def test_a_missing_model_file_names_the_entry_and_the_folder(project, monkeypatch):
    monkeypatch.chdir(project)
    (project / "mymodels" / "benor.agree.toml").write_text(SUITE + '\n[[check]]\nmodel = "benr.py:BenOr"\n')
    with pytest.raises(InputError) as refused:
        load_suite("mymodels/benor.agree.toml")
    message = str(refused.value)
    assert "check 3" in message and "'benr.py'" in message and str(project / "mymodels") in message


def test_pytest_turns_one_bad_entry_into_one_failing_item(pytester):
    (pytester.path / "mymodels").mkdir()
    (pytester.path / "mymodels" / "benor.py").write_text(BENOR)
    (pytester.path / "mymodels" / "benor.agree.toml").write_text(SUITE + '\n[[check]]\nmodel = "benr.py:BenOr"\n')
    ran = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "mymodels/benor.agree.toml")
    ran.assert_outcomes(passed=2, failed=1)
    out = ran.stdout.str()
    assert "Interrupted" not in out and "Traceback" not in out
    assert "model file 'benr.py' not found in" in out
    listed = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", "mymodels/benor.agree.toml")
    assert "benor.agree.toml::[1] benor.py:BenOr holds" in listed.stdout.str()
    assert "benor.agree.toml::[2] benor.py:BenOr --variant decide-on-one violated" in listed.stdout.str()


def test_a_whole_suite_file_refused_is_one_failing_item(pytester):
    pytester.makefile(".agree.toml", broken="[[check]]\nmodel = 3\n[[nonsense]]\n")
    ran = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    ran.assert_outcomes(failed=1)
    assert "unknown table 'nonsense'" in ran.stdout.str() and "Interrupted" not in ran.stdout.str()


# ----- 3. naming a variant's class, or its base, to replay


@pytest.mark.parametrize("cls", ["DecideOnOne", "BenOr"])
def test_replay_accepts_the_variant_class_or_its_base(project, agree, monkeypatch, cls):
    monkeypatch.chdir(project)
    assert agree("check", "mymodels/benor.py:DecideOnOne", "--save-trace", "cx.json", "--quiet").code == 1
    ran = agree("replay", "cx.json", "--model", f"mymodels/benor.py:{cls}")
    assert ran.code == 0, ran.out + ran.err
    assert "reproduces" in ran.out


# ----- 4. a model file without :Class, and a misspelt class


def test_a_file_without_a_class_lists_the_models_it_defines(project, agree, monkeypatch):
    monkeypatch.chdir(project)
    ran = agree("check", "mymodels/benor.py")
    assert ran.code == 2
    assert "mymodels/benor.py defines BenOr, DecideOnOne: name one as mymodels/benor.py:BenOr" in ran.err
    assert "built-in models" not in ran.err


def test_a_misspelt_class_gets_did_you_mean(project, agree, monkeypatch):
    monkeypatch.chdir(project)
    ran = agree("check", "mymodels/benor.py:Benor")
    assert ran.code == 2 and "did you mean 'BenOr'?" in ran.err


# ----- 6. init yielding an unhashable state


def test_an_unhashable_initial_state_names_its_field(tmp_path, agree, monkeypatch):
    (tmp_path / "listy.py").write_text(
        "from typing import NamedTuple\nfrom agree import Model, Step, invariant\n\n"
        "class S(NamedTuple):\n    votes: list\n    n: int\n\n"
        "class Listy(Model):\n    def init(self):\n        yield S([], 0)\n\n"
        "    def next(self, s):\n        return []\n\n"
        "    @invariant\n    def ok(self, s):\n        return True\n")
    monkeypatch.chdir(tmp_path)
    ran = agree("check", "listy.py:Listy")
    assert ran.code == 2 and "field 'votes' holds a list" in ran.err, ran.err


# ----- 7. --quiet prints the verdict line alone


@pytest.mark.parametrize("command", [["check", "twophase", "-p", "rms=2", "--variant", "tm-commits-early"],
                                     ["fuzz", "twophase", "-p", "rms=2", "--variant", "tm-commits-early",
                                      "--examples", "50", "--steps", "10"]])
def test_quiet_prints_only_the_verdict(agree, command):
    ran = agree(*command, "--quiet")
    assert ran.code == 1
    assert ran.out.splitlines() == [ran.out.strip()] and ran.out.startswith("verdict: VIOLATED: consistent")


# ----- 8. built-in names: hyphens, and underscores accepted


def test_built_in_names_take_a_hyphen_and_accept_an_underscore(agree, tmp_path):
    assert builtin_name("primary_backup") == builtin_name("primary-backup") == "primary-backup"
    assert builtin_name("twophase_btm") == "twophase-btm" and builtin_name("nosuch") is None
    assert build_model("duelling_proposers").label() == "duelling-proposers"
    assert agree("list", "primary_backup").code == 0
    old = json.loads((ROOT / "counterexamples" / "primary-backup--script-failover.json").read_text())
    old["model"] = "primary_backup"  # a trace written before the rename
    (tmp_path / "old.json").write_text(json.dumps(old))
    ran = agree("replay", tmp_path / "old.json")
    assert ran.code == 0, ran.out + ran.err
    saved = tmp_path / "cx.json"
    agree("check", "primary_backup", "--variant", "script-failover", "--save-trace", saved, "--quiet")
    assert json.loads(saved.read_text())["model"] == "primary-backup"


def test_every_built_in_name_uses_hyphens():
    from agree.models.registry import builtin_models

    assert all("_" not in name for name in builtin_models())
    assert not list((ROOT / "counterexamples").glob("*_*"))


# ----- 9. free text in traces and suites


def test_a_trace_keeps_a_hand_added_comment(tmp_path, agree):
    from agree.explorer.traces.format import load_trace, write_trace

    data = json.loads((ROOT / "counterexamples" / "twophase--tm-commits-early.json").read_text())
    data["comment"] = "found in review; see ticket 12"
    data["notes"] = "the TM must wait for every RM"
    (tmp_path / "cx.json").write_text(json.dumps(data))
    assert agree("replay", tmp_path / "cx.json").code == 0
    write_trace(load_trace(tmp_path / "cx.json"), tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["comment"] == data["comment"] and again["notes"] == data["notes"]
    data["comment"] = 3
    (tmp_path / "bad.json").write_text(json.dumps(data))
    ran = agree("replay", tmp_path / "bad.json")
    assert ran.code == 2 and '"comment" must be a string' in ran.err


def test_a_suite_takes_comments_at_the_top_and_in_entries(project):
    suite = load_suite(str(project / "mymodels" / "benor.agree.toml"))  # SUITE has both
    assert [e.written for e in suite] == ["benor.py:BenOr", "benor.py:BenOr"]
    (project / "bad.agree.toml").write_text('comment = 1\n[[check]]\nmodel = "twophase"\n')
    with pytest.raises(InputError, match="comment must be a string"):
        load_suite(str(project / "bad.agree.toml"))


def test_the_verify_table_lines_up_and_never_cuts_a_replay_name(agree):
    from agree.explorer.cli.suite import Expectation, Outcome
    from agree.explorer.cli.verify import _cells, _row, _widths

    long = "duelling-proposers--duel.json"
    suite = [Expectation(model="twophase", params={"rms": 3}),
             Expectation(model="", trace=f"/x/{long}"),
             Expectation(model="duelling-proposers", expect="violated", prop="someone_decides_eventually")]
    widths = _widths(suite)
    rows = [_row(("model", "variant", "expected", "result", "states", "time"), widths)]
    rows += [_row(_cells(Outcome(e, True, "violated: someone_decides_eventually (12 steps)" if e.prop else "holds",
                                 1234, 0.5)), widths) for e in suite]
    assert long in rows[2] and "1,234" in rows[1]
    assert len({len(r) for r in rows}) == 1, rows  # every row ends in the same column (the time)
