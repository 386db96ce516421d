"""Broken variants of Viewstamped Replication: each overrides one rule and names what fails."""

from __future__ import annotations

from agree.models.vr.model import VIEW_CHANGE, ViewstampedReplication, VRState


@ViewstampedReplication.variant(
    "eager-view-update", breaks="committed_survives_view_change",
    says="a replica that hears of a later view adopts it, truncating its log to its commit-number, before it "
         "has the view's state: its short log wins the next view change and an acknowledged op is lost")
class EagerViewUpdate(ViewstampedReplication):
    """adopt_view truncates the log to the commit-number and records the new view as the last
    normal one, as section 5.2's state transfer does, but without waiting for the new state."""

    def adopt_view(self, s: VRState, i: int, v: int) -> VRState:
        return self.update_replica(s, i, [("StartViewChange", v, self.names[i])], view=v, status=VIEW_CHANGE,
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



@ViewstampedReplication.variant(
    "amnesia-rejoin", breaks="commit_persistence", defaults={"max_recoveries": 1},
    says="a crashed replica rejoins at once, normal with an empty log, instead of running recovery (section "
         "4.3): the PREPAREOK it sent is forgotten and a committed op is left on too few replicas")
class AmnesiaRejoin(ViewstampedReplication):
    """crash skips the recovery protocol: the replica is back, normal, in view 0 with nothing."""

    def crash(self, s: VRState) -> list:
        if sum(1 for m in s.msgs if m[0] == "Recovery") >= self.max_recoveries:
            return []
        return [("Crash", {"replica": r, "nonce": 1},
                 self.update_replica(s, i, [("Recovery", r, 1)], view=0, status="normal", log=(), commit=0,
                                     last_normal=0))
                for i, r in self.indexed]
