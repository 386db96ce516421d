"""HTML pages without a browser: the SVG diagram, highlighted state changes, self-containment, the
`show --format html` and `verify --html` commands, and the explorer's session, server and bad input."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from agree.explorer.traces.html import render_html
from agree.explorer.traces.render import chart_events
from agree.explorer.traces.statehtml import SET, state_html
from agree.explorer.traces.svg import sequence_svg
from agree.explorer.web.server import ExplorerServer
from agree.explorer.web.session import Session
from agree.models.contract import Model, Step, invariant
from agree.models.registry import build_model
from agree.properties.errors import InputError
from agree.explorer.traces.format import load_trace, trace_to_json, write_trace
from tests.conftest import ROOT

TRACE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"


def early_commit():
    return build_model("twophase", {"rms": 2}, "tm-commits-early")


def trace_json() -> dict:
    return trace_to_json(load_trace(TRACE))


# ----------------------------------------------------------------- the diagram


def test_svg_draws_one_group_per_step_with_the_models_chart_events():
    # TwoPhase.chart: TMCommit and RMChooseToAbort are notes; RMRcvCommitMsg is the Commit message
    # TM -> r2 plus a note "committed": 1 arrow, 3 notes, then the violation row.
    actors, events = chart_events(trace_json(), early_commit())
    svg = sequence_svg(actors, events, violated="consistent")
    assert actors == ["TM", "r1", "r2"]
    assert re.findall(r'<g class="step" data-step="(\d+)"', svg) == ["0", "1", "2", "3"]
    assert svg.count('<line class="message"') == 1
    assert svg.count('<rect class="note"') == 3
    assert "consistent violated" in svg
    assert 'class="loop"' not in svg


def test_a_lasso_trace_gets_its_loop_marked():
    trace = {**trace_json(), "loop": 1}
    actors, events = chart_events(trace, early_commit())
    assert "back to 1" in sequence_svg(actors, events, loop=1)
    page = render_html(trace, early_commit())
    # states 2 and 3 come after the loop start (state 1): the steps that repeat
    assert re.findall(r'step-item in-loop" data-step="(\d)"', page) == ["2", "3"]
    assert "repeat forever" in page


# ----------------------------------------------------------------- highlighted changes


def test_a_changed_tuple_position_is_marked_and_only_it():
    html = state_html({"rm_state": ["aborted", "working"]}, {"rm_state": ["working", "working"]},
                      {"rm_state": [None, None]})
    assert html.count('class="item changed"') == 1
    assert re.search(r'item changed"><span class="index">0</span><span class="value changed">aborted', html)


def test_a_set_is_compared_by_element():
    before = {"msgs": [["Abort"], ["Prepared", "r2"]]}
    after = {"msgs": [["Commit"], ["Prepared", "r2"]]}  # same length: only the shape says "set"
    html = state_html(after, before, {"msgs": SET})
    assert '<li class="added">[Commit]</li>' in html
    assert '<li class="removed">[Abort]</li>' in html
    assert "<li>[Prepared, r2]</li>" in html


def test_a_bag_that_gains_a_message_marks_that_message_not_every_later_position():
    before = {"bag": [[["b"], 1]]}
    after = {"bag": [[["a"], 1], [["b"], 1]]}  # a new message sorts first
    html = state_html(after, before)
    assert html.count('class="added"') == 1 and '<li class="added">[[a], 1]</li>' in html
    assert "changed" not in html.split("<td>", 1)[1]


def test_a_log_that_grows_at_the_end_is_compared_by_position():
    html = state_html({"log": [1, 2, 3]}, {"log": [1, 2]})
    assert html.count('class="item added"') == 1 and 'class="item changed"' not in html


# ----------------------------------------------------------------- pages and commands


def test_the_html_page_needs_no_network(agree, tmp_path):
    out = tmp_path / "trace.html"
    ran = agree("show", TRACE, "--format", "html", "-o", out)
    assert ran.code == 0 and ran.out == ""
    page = out.read_text()
    assert page.count('<div class="state" data-step=') == 4  # the initial state and 3 steps
    assert "<script>" in page and "<style>" in page
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<link" not in page
    assert "@import" not in page and "url(http" not in page


def test_verify_html_links_each_failing_expectation_to_its_trace(agree, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text('[[check]]\nmodel = "twophase"\nvariant = "tm-commits-early"\nexpect = "holds"\n'
                     '[[check]]\nmodel = "twophase"\nparams = { rms = 2 }\n')
    out = tmp_path / "report.html"
    ran = agree("verify", "--config", suite, "--quiet", "--html", out)
    assert ran.code == 1
    page = out.read_text()
    assert "1 of 2 expectations met" in page
    row = re.search(r'<tr id="row-1" class="not-met">.*?</tr>', page).group(0)
    assert '<a href="#trace-1">3 steps</a>' in row
    assert '<section class="viewer" id="trace-1"' in page
    assert 'id="trace-2"' not in page  # a model that holds has no trace to show


# ----------------------------------------------------------------- the explorer session


def test_session_steps_back_forward_and_cuts_the_path_on_a_new_step():
    session = Session(early_commit(), "twophase")
    labels = lambda: [s.action for s in session.enabled()]  # noqa: E731
    session.take(labels().index("TMCommit"))
    session.take(1)
    session.goto(1)
    assert (session.position, len(session.steps)) == (1, 2)
    session.take([s for s in session.enabled()].index(session.steps[1]))  # the same step: path kept
    assert (session.position, len(session.steps)) == (2, 2)
    session.goto(0)
    session.take(labels().index("TMAbort"))  # a different step: the path ahead is cut
    assert [s.action for s in session.steps] == ["TMAbort"]
    with pytest.raises(InputError):
        session.goto(5)


def test_the_counterexample_button_loads_the_shortest_violation_and_saving_replays(agree, tmp_path):
    session = Session(early_commit(), "twophase")
    message = session.find_counterexample()
    assert "3 steps" in message  # the stored counterexample for this variant has 3 steps
    assert [p["name"] for p in session.properties() if p["violated"]] == ["consistent"]
    saved = tmp_path / "path.json"
    write_trace(session.trace(), saved)
    ran = agree("replay", saved)
    assert ran.code == 0 and "reproduces" in ran.out


def test_a_trace_of_another_model_is_refused():
    session = Session(build_model("twophase", {"rms": 3}, "tm-commits-early"), "twophase")
    with pytest.raises(InputError, match=r"trace of twophase\(rms=2\) --variant tm-commits-early"):
        session.load(trace_json())


# ----------------------------------------------------------------- the server and bad input


@pytest.fixture
def server():
    running = ExplorerServer(Session(early_commit(), "twophase"), "127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def call(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_server_refuses_other_hosts_cross_site_posts_and_bad_requests(server):
    assert call(server.url + "api/state")[0] == 200
    assert call(server.url + "api/state", headers={"Host": "attacker.example"})[0] == 403
    assert call(server.url + "api/step", b'{"index": 0}', {"Origin": "http://attacker.example"})[0] == 403
    status, text = call(server.url + "api/step", b'{"index": 99}')
    assert status == 400 and "no enabled step 99" in json.loads(text)["error"]
    status, text = call(server.url + "api/load", json.dumps({**trace_json(), "model": "tcommit"}).encode())
    assert status == 400 and "trace of tcommit" in json.loads(text)["error"]


def test_explore_bad_input_is_one_line_and_exit_2(agree, tmp_path):
    ran = agree("explore", "nosuchmodel")
    assert ran.code == 2 and ran.err.count("\n") == 1 and "unknown model 'nosuchmodel'" in ran.err
    ran = agree("explore", "twophase", "--trace", TRACE)  # the trace is of rms=2 with a variant
    assert ran.code == 2 and ran.err.count("\n") == 1 and "is a trace of twophase(rms=2)" in ran.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ran = agree("explore", "twophase", "--port", taken.getsockname()[1])
    assert ran.code == 2 and ran.err.count("\n") == 1 and "is in use" in ran.err


def test_explore_warns_when_it_listens_beyond_this_machine_and_ctrl_c_stops_it():
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "explore", "twophase", "--host", "0.0.0.0",
                             "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("agree explore: http://0.0.0.0:")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "warning: listening on 0.0.0.0" in err and "agree explore: stopped" in err


class Faulty(Model):
    """A model whose property and whose steps raise, to see the explorer survive its errors."""

    name = "faulty"

    def init(self):
        yield 0

    def next(self, state):
        if state > 0:
            raise ValueError("no step after 1")
        yield Step("Tick", {}, state + 1)

    @invariant
    def positive(self, state):
        return 1 / state > 0  # ZeroDivisionError in the initial state


def test_errors_in_the_models_own_code_are_shown_and_the_server_keeps_running():
    session = Session(Faulty(), "faulty")
    assert session.properties()[0]["status"] == "error: ZeroDivisionError: division by zero"
    running = ExplorerServer(session, "127.0.0.1", 0)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        for status, text in (call(running.url + "api/step", b'{"index": 0}'), call(running.url + "api/state")):
            # the step is taken, but showing state 1 asks next(), which raises
            assert status == 422 and json.loads(text)["error"] == "the model raised ValueError: no step after 1"
        assert call(running.url + "api/goto", b'{"position": 0}')[0] == 200  # still serving
    finally:
        running.shutdown()
        running.server_close()


class TwoStarts(Model):
    """Two initial states, 0 and 10; a step adds one."""

    name = "twostarts"

    def init(self):
        yield from (0, 10)

    def next(self, state):
        yield Step("Add", {}, state + 1)


def test_a_model_with_several_initial_states_can_start_from_each():
    session = Session(TwoStarts(), "twostarts")
    session.take(0)
    session.restart(1)
    assert (session.states, session.position) == ([10], 0)
    session.take(0)
    assert trace_to_json(session.trace())["steps"][0]["state"] == 11
    with pytest.raises(InputError, match="no initial state 2"):
        session.restart(2)
