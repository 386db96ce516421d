"""Suite outcomes as files for CI: JUnit XML (one test case per expectation) and JSON.

JUnit XML is what CI servers draw as test results (GitHub Actions via a reporter action, GitLab,
Jenkins); the schema is the common subset they all read: <testsuites><testsuite><testcase> with a
<failure> whose body is the rendered counterexample, so the trace shows where the failure does.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from agree.explorer.traces.render import render_text
from agree.explorer.traces.format import trace_to_json


def outcome_to_json(o: Any) -> dict:
    e = o.expectation
    return {"kind": e.kind, "model": e.model or None, "variant": e.variant, "trace": e.trace,
            "expect": e.expect, "property": e.prop, "met": o.met, "result": o.result, "states": o.states,
            "seconds": round(o.seconds, 3), "detail": o.detail}


def case_name(o: Any) -> str:
    e = o.expectation
    if e.kind == "replay":
        return f"replay {Path(e.trace).name}"
    params = ",".join(f"{k}={v}" for k, v in e.params.items())
    name = e.model + (f"({params})" if params else "") + (f" --variant {e.variant}" if e.variant else "")
    return f"{name}: expect {e.expect}" + (f" {e.prop}" if e.prop and e.expect == "violated" else "")


def junit_xml(outcomes: list, suite_name: str = "agree verify") -> str:
    failed = [o for o in outcomes if not o.met]
    total = sum(o.seconds for o in outcomes)
    root = ET.Element("testsuites", name=suite_name, tests=str(len(outcomes)), failures=str(len(failed)),
                      errors="0", time=f"{total:.3f}")
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(outcomes)), failures=str(len(failed)),
                          errors="0", skipped="0", time=f"{total:.3f}")
    for o in outcomes:
        e = o.expectation
        case = ET.SubElement(suite, "testcase", classname=f"agree.{e.model or 'replay'}", name=case_name(o),
                             time=f"{o.seconds:.3f}")
        if not o.met:
            failure = ET.SubElement(case, "failure", message=o.detail or o.result, type="ExpectationNotMet")
            body = [f"result: {o.result}", f"detail: {o.detail}"]
            if o.trace is not None:
                body += ["", render_text(trace_to_json(o.trace))]
            failure.text = "\n".join(body)
        else:
            ET.SubElement(case, "system-out").text = f"result: {o.result}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def counterexample_files(outcomes: list) -> dict:
    """File name -> counterexample Trace, for the check outcomes that have one."""
    found = {}
    for number, o in enumerate(outcomes, 1):
        e = o.expectation
        if e.kind == "check" and o.trace is not None:
            found[f"{number:03d}-{e.model.rsplit(':', 1)[-1]}--{e.variant or 'model'}.json".replace("/", "_")] = o.trace
    return found


def json_report(outcomes: list) -> str:
    return json.dumps([outcome_to_json(o) for o in outcomes], indent=2) + "\n"
