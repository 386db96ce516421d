"""Broken variants of Viewstamped Replication: each overrides one rule and names what fails."""

from __future__ import annotations

from models.vr.model import VIEW_CHANGE, ViewstampedReplication, VRState


@ViewstampedReplication.variant(
    "eager-view-update", breaks="committed_survives_view_change",
    says="a replica that hears of a later view adopts it, truncating its log to its commit-number, before it "
         "has the view's state: its short log wins the next view change and an acknowledged op is lost")
class EagerViewUpdate(ViewstampedReplication):
    """adopt_view truncates the log to the commit-number and records the new view as the last
    normal one, as section 5.2's state transfer does, but without waiting for the new state."""

    def adopt_view(self, s: VRState, i: int, v: int) -> VRState:
        return self.update(s, i, [("StartViewChange", v, self.names[i])], view=v, status=VIEW_CHANGE,
                           log=s.log[i][:s.commit[i]], last_normal=v)


@ViewstampedReplication.variant(
    "longest-log-wins", breaks="commit_persistence",
    says="the new primary takes the longest log without looking at the last normal view v', so a stale "
         "log from an earlier view replaces an op committed in a later one")
class LongestLogWins(ViewstampedReplication):
    """log_to_take compares op-numbers only (the first of equals wins), dropping step 3's v'."""

    @staticmethod
    def log_to_take(reports: list[tuple]) -> tuple:
        return max(reports, key=lambda m: len(m[2]))[2]

