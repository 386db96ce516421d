"""The etcd-raft model on its own: its default configuration holds with the state count pinned
and every guard reached, and its configuration entries change configurations as etcd's
confchange does (simple changes, joint configurations entered with several changes and left)."""

from __future__ import annotations

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS
from agree.models.etcd_raft import EtcdRaft
from agree.models.etcd_raft.state import apply_change, is_quorum


def test_the_default_configuration_holds_with_pinned_count_and_every_guard_reached():
    result = check(EtcdRaft())
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (789, 25)
    statuses = {name: p.status for name, p in result.properties.items()}
    assert all(statuses[g] == "reached" for g in ("leader_elected", "new_entry_committed",
                                                  "configuration_changed")), statuses
    for action in ("ChangeConf", "ApplyConfChange", "SendSnapshot", "Heartbeat", "AppendEntriesToSelf"):
        assert result.coverage[action]["fired"], action


def test_configuration_entries_change_configurations_as_etcds_confchange():
    conf = (("1", "2", "3"), (), ())
    assert apply_change(conf, ("AddNewServer", "10")) == (("1", "2", "3", "10"), (), ())
    assert apply_change(conf, ("AddNewServer", "2")) == conf  # etcd's bootstrap entries, re-applied
    assert apply_change(conf, ("RemoveServer", "1")) == (("2", "3"), (), ())
    assert apply_change(conf, ("AddLearner", "4")) == (("1", "2", "3"), (), ("4",))
    joint = apply_change(conf, ("EnterJoint", (("AddNewServer", "4"), ("RemoveServer", "1"))))
    assert joint == (("2", "3", "4"), ("1", "2", "3"), ())
    assert apply_change(joint, ("LeaveJoint",)) == (("2", "3", "4"), (), ())


def test_a_joint_configuration_needs_a_majority_of_both_halves():
    joint = (("2", "3", "4"), ("1", "2", "3"), ())
    assert is_quorum(joint, {"2", "3"})
    assert not is_quorum(joint, {"3", "4"})  # a majority of the new voters only
    assert not is_quorum(joint, {"1", "2"})  # a majority of the old voters only
