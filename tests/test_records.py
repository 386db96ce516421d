"""A user extends a built-in model's state with a field and overrides one rule, using public names
only; every other rule carries the new field along untouched."""

from __future__ import annotations

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS
from agree.models.lease import Lease, LeaseState
from agree.models.primary_backup import PrimaryBackup, PrimaryBackupState
from agree.models.records import extend, update
from agree.models.threepc import ThreePC, ThreePCState
from tests.conftest import reachable_states


class CountedTimeouts(ThreePC):
    """3PC that counts how many sites ran the termination rule."""

    State = extend(ThreePCState, "CountedState", timeouts=0)

    def terminate(self, s):
        return [(a, args, update(t, timeouts=s.timeouts + 1)) for a, args, t in super().terminate(s)]


class WritersSeen(Lease):
    """Leases that remember which clients ever sent a write."""

    State = extend(LeaseState, "WritersState", writers=frozenset())

    def issue_write(self, s):
        return [(a, args, update(t, writers=s.writers | {args["client"]}))
                for a, args, t in super().issue_write(s)]


class CountedFailovers(PrimaryBackup):
    """Primary-backup that counts failovers."""

    State = extend(PrimaryBackupState, "FailoverState", failovers=0)

    def fail_over(self, s):
        return [(a, args, update(t, failovers=s.failovers + 1)) for a, args, t in super().fail_over(s)]



@pytest.mark.parametrize("user, base, params, field, most", [
    (CountedTimeouts, ThreePC, {"cohorts": 2, "max_crashes": 1}, "timeouts", 2),  # each cohort once
    (WritersSeen, Lease, {"ttl": 1, "drift": 0, "max_time": 2}, "writers", frozenset({"c1", "c2"})),
    (CountedFailovers, PrimaryBackup, {"writes": 2, "max_epoch": 4}, "failovers", 2),  # epochs 2 and 4
])
def test_a_subclass_adds_a_field_and_every_other_rule_keeps_it(user, base, params, field, most):
    states = reachable_states(user(**params))
    assert all(type(s) is user.State for s in states)
    # dropping the new field gives exactly the base model's states: no rule lost or mangled it
    width = len(base.State._fields)
    assert {base.State(*s[:width]) for s in states} == reachable_states(base(**params))
    assert max(getattr(s, field) for s in states) == most
    result = check(user(**params))
    assert result.verdict == HOLDS and result.exhausted
    assert result.distinct_states == len(states)


def test_extend_refuses_a_field_the_record_has():
    with pytest.raises(TypeError, match="already has a field 'coord'"):
        extend(ThreePCState, "Clash", coord=None)
