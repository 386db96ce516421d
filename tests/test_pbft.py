"""PBFT: the correct configurations hold with counts derived by hand, the 3f+1 bound is reported
with Z3's verdict, and each broken variant is caught with its stored, minimal, replaying trace."""

import json
from itertools import permutations, product
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models.pbft import Pbft
from agree.models.registry import build_model
from agree.explorer.traces.format import load_trace

ROOT = Path(__file__).resolve().parent.parent
# variant -> (property, shortest trace). Each honest replica that commits takes three steps of its
# own (accept the PRE-PREPARE, become prepared, commit), and none is shared: two honest replicas
# committing different requests need 6; validity needs one commit of `x` (3 steps) whose COMMIT
# quorum of 3 includes a second honest replica, prepared for `x` (2 more): 5.
SHORTEST = {"n-equals-3f": ("agreement", 6), "quorum-2f": ("agreement", 6), "unsigned-requests": ("validity", 5),
            # across views (views=2, one sequence number): an honest replica commits `a` in view 0
            # (5 steps, as above); the new primary sends VIEW-CHANGE, a second replica too unless
            # f+1 suffice, NEW-VIEW with an empty O, PRE-PREPARE of `b`, a backup accepts the
            # NEW-VIEW and the PRE-PREPARE, both are prepared, one commits: 5 + 9 (or 5 + 8)
            "new-primary-drops-prepared": ("agreement", 14), "view-change-quorum-f+1": ("agreement", 13),
            # r1, the new primary, Byzantine: r0 pre-prepares `a`, r2 accepts, both are prepared, r0
            # commits (5); r0 and r2 send VIEW-CHANGE (2), both accept an unchecked O = [b], are
            # prepared, and r0 commits `b` (5)
            "unchecked-new-view": ("agreement", 12)}


def _one_seq_states(requests="ab", honest=3, quorum_of_honest=2):
    """Brute force, independent of the model: the reachable combinations of the honest backups'
    entries for one sequence number when the primary is Byzantine (it pre-prepares anything and
    vouches for anything). With quorums of 3 = the primary + 2 honest replicas, an entry can be
    prepared only if 2 honest replicas hold that request, and committed only if 2 are prepared."""
    options = [None] + [(phase, r) for phase in (1, 2, 3) for r in requests]
    count = 0
    for combo in product(options, repeat=honest):
        ok = True
        for r in requests:
            on = [p for e in combo if e and e[1] == r for p in [e[0]]]
            if max(on, default=0) >= 2 and len(on) < quorum_of_honest:
                ok = False
            if max(on, default=0) == 3 and sum(p >= 2 for p in on) < quorum_of_honest:
                ok = False
        count += ok
    return count


def test_byzantine_primary_holds_with_the_brute_force_count():
    result = check(Pbft())
    assert result.verdict == HOLDS and result.exhausted
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert _one_seq_states() == 145  # sequence numbers are independent under a Byzantine primary
    assert result.distinct_states == 145 ** 2
    assert result.depth == 1 + 2 * 3 * 3  # 3 honest replicas x 3 steps x 2 sequence numbers
    assert result.warnings == []


def _honest_primary_seq_states():
    """Brute force for one sequence number the honest primary r0 has assigned, with Byzantine
    backup r3 (it vouches for anything) and honest backups r1, r2; phases 0 (none) to 3
    (committed). Quorums of 3: the primary is prepared once r3 and one honest backup prepare; a
    backup once it accepted (r0, r3 and itself); a commit needs r3 and two prepared honest
    replicas."""
    count = 0
    for phases in product(range(4), repeat=3):
        p0, p1, p2 = phases
        if p0 == 0 or (p0 >= 2 and max(p1, p2) == 0):
            continue
        if max(phases) == 3 and sum(p >= 2 for p in phases) < 2:
            continue
        count += 1
    return count


def test_byzantine_backup_holds_with_the_brute_force_count():
    result = check(Pbft(byzantine="r3"))
    assert result.verdict == HOLDS and result.exhausted
    c = _honest_primary_seq_states()
    assert c == 39
    # nothing assigned; or seq 1 given a or b, and seq 2 (the other request) unassigned or assigned
    assert result.distinct_states == 1 + 2 * c * (1 + c) == 3121
    assert result.properties["all_honest_commit_every_seq"].status == "reached"


def test_symmetry_counts_one_state_per_orbit():
    model = Pbft()
    states = _all_states(model)
    assert len(states) == 21025

    def brute_canonical(s):  # least image over every permutation of backups and of client requests
        images = []
        for order in permutations((1, 2, 3)):
            for names in permutations("ab"):
                rename = dict(zip("ab", names))
                rows = tuple(tuple(e if e is None else (e[0], rename.get(e[1], e[1])) for e in s.log[i])
                             for i in order)
                images.append(repr(rows))
        return min(images)

    orbits = len({brute_canonical(s) for s in states})
    assert len({model.symmetry(s) for s in states}) == orbits
    result = check(model, symmetry=True)
    assert result.verdict == HOLDS and result.distinct_states == orbits == 2003


def _all_states(model):
    seen, frontier = set(model.init()), list(model.init())
    while frontier:
        nxt = []
        for s in frontier:
            for _, _, t in model.next(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return seen


def test_n_equals_3f_warns_with_z3_and_finds_disagreement():
    result = check(Pbft(n=3, f=1))
    assert result.verdict == VIOLATED and result.violation.name == "agreement"
    [warning] = result.warnings
    assert warning.startswith("n=3 < 3f+1=4: Z3 lemma bft-3f+1-tight proved")
    assert "{r0, r1} and {r0, r2}, common {r0}" in warning and "f+1=2" in warning


def test_quorums_of_2f_warn_that_two_can_share_nobody():
    [warning] = build_model("pbft", variant="quorum-2f").warnings()
    assert "quorums of 2 among n=4 replicas can share only 0" in warning
    assert "3f+1" not in warning  # n = 4 is enough; the quorum size is what is wrong


def test_too_many_byzantine_replicas_and_oversized_quorums_are_reported():
    assert "exceed f=1" in Pbft(byzantine="r0,r1").warnings()[0]
    assert "liveness is lost" in Pbft(n=3, f=1, quorum=3).warnings()[0]
    assert check(Pbft(n=3, f=1, quorum=3, seqs=1)).verdict == HOLDS  # 2f+1 quorums still intersect in f+2


def test_bad_byzantine_name_is_one_clear_error():
    with pytest.raises(Exception, match="not a replica"):
        Pbft(byzantine="r9")


@pytest.mark.parametrize("variant", sorted(SHORTEST))
def test_variant_is_caught_with_a_stored_minimal_trace(variant):
    prop, length = SHORTEST[variant]
    assert Pbft.variants()[variant].breaks == prop
    result = check(build_model("pbft", variant=variant), only=[prop])
    assert result.verdict == VIOLATED and len(result.violation.trace) == length
    trace = load_trace(str(ROOT / "counterexamples" / f"pbft--{variant}.json"))
    assert (trace.variant, trace.property, len(trace)) == (variant, prop, length)
    assert replay(trace).reproduces


@pytest.mark.parametrize("variant", ["n-equals-3f", "quorum-2f"])
def test_mermaid_shows_the_equivocation(variant):
    data = json.loads((ROOT / "counterexamples" / f"pbft--{variant}.json").read_text())
    text = render_mermaid(data, Pbft.with_variant(variant)(**data["params"]))
    sent = [ln for ln in text.splitlines() if "PRE-PREPARE(v0, n=1," in ln and "->>" in ln]
    assert len(sent) == 2 and all(ln.strip().startswith("r0__Byzantine_->>") for ln in sent)
    assert {ln[-2] for ln in sent} == {"a", "b"}  # one sequence number, two requests
    assert "COMMITS a at n=1" in text and "COMMITS b at n=1" in text


def test_the_command_line_warns_about_the_bound_and_finds_the_violation(agree):
    ran = agree("check", "pbft", "-p", "n=3", "-p", "f=1")
    assert ran.code == 1
    assert "VIOLATED: agreement (invariant)" in ran.out
    assert "warning: n=3 < 3f+1=4: Z3 lemma bft-3f+1-tight proved" in ran.out
    assert agree("check", "pbft", "-p", "n=4", "-p", "f=1", "--quiet").code == 0


@pytest.mark.parametrize("byzantine", ["r0", "r2"])
def test_vouchers_read_the_messages_as_the_paper_defines_them(byzantine):
    """prepared needs the PRE-PREPARE and matching PREPAREs, committed-local matching COMMITs: the
    fast `vouchers` must name exactly the senders of those messages in `messages(s)`."""
    model = Pbft(byzantine=byzantine, seqs=1)
    primary = model.names[model.primary()]
    for s in _all_states(model):
        sent = model.messages(s)
        for request in ("a", "b", "x"):
            prepares = {m[4] for m in sent if m[0] == "PREPARE" and m[2:4] == (1, request) and m[4] != primary}
            pre = {m[4] for m in sent if m[0] == "PRE-PREPARE" and m[2:4] == (1, request)}
            commits = {m[4] for m in sent if m[0] == "COMMIT" and m[2:4] == (1, request)}
            assert model.vouchers(s, "PREPARE", 1, request) == prepares | pre
            assert model.vouchers(s, "COMMIT", 1, request) == commits
