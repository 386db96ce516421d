"""`agree verify --junit-xml FILE` and `--json FILE`: reports a CI server reads.

The suite has one expectation that is met (TwoPhase with 2 RMs holds) and one that is not (the
tm-commits-early variant is claimed to hold, but its 3-step counterexample breaks `consistent`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ONE_MET_ONE_NOT

SUITE = ONE_MET_ONE_NOT



@pytest.fixture
def suite(tmp_path):
    path = tmp_path / "ci_suite.toml"  # not *.agree.toml: pytest must not collect this failing suite
    path.write_text(SUITE)
    return path


def test_junit_xml_has_one_case_per_expectation_and_the_trace_in_the_failure(agree, suite, tmp_path):
    report = tmp_path / "out" / "agree.xml"
    ran = agree("verify", "--config", suite, "--junit-xml", report, "--quiet")
    assert ran.code == 1  # one expectation not met
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures")) == ("2", "1")
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 2
    passed, failed = cases
    assert passed.find("failure") is None and "expect holds" in passed.get("name")
    failure = failed.find("failure")
    assert "tm-commits-early" in failed.get("name") and failure.get("message") == "consistent violated"
    # the body draws the counterexample, step by step (the stored one: TMCommit, RMChooseToAbort, RMRcvCommitMsg)
    body = failure.text
    assert "1. TMCommit" in body and "2. RMChooseToAbort(rm=r1)" in body and "3. RMRcvCommitMsg(rm=r2)" in body
    assert "=> consistent is violated" in body


def test_json_file_holds_the_same_list_as_json_on_stdout(agree, suite, tmp_path):
    report = tmp_path / "agree.json"
    to_file = agree("verify", "--config", suite, "--json", report, "--quiet")
    to_stdout = agree("verify", "--config", suite, "--json", "--quiet")
    assert to_file.code == to_stdout.code == 1
    written = json.loads(report.read_text())
    printed = json.loads(to_stdout.out)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(written) == strip(printed)
    assert [r["met"] for r in written] == [True, False]
    assert "expectations met" in to_file.out  # with a FILE the table is still printed


def test_a_report_is_never_written_over_a_directory(agree, suite, tmp_path):
    ran = agree("verify", "--config", suite, "--json", tmp_path, "--quiet")
    assert ran.code == 2 and ran.err.startswith("agree: error:") and ran.err.count("\n") == 1


def test_save_traces_writes_each_unmet_counterexample_and_it_replays(agree, suite, tmp_path):
    folder = tmp_path / "found"
    assert agree("verify", "--config", suite, "--save-traces", folder, "--quiet").code == 1
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["001-twophase--tm-commits-early.json"]
    assert agree("replay", files[0]).code == 0
