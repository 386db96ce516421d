"""Replica recovery in Viewstamped Replication (Liskov & Cowling 2012, section 4.3): a replica
that crashes loses all its state (VR keeps nothing on disk) and must learn it back before it takes
part again, or it could deny a PREPAREOK or DOVIEWCHANGE it sent before the crash.

Off by default (`max_recoveries=0`). A recovery's nonce is the number of RECOVERY messages the
replica has sent, so it needs no field of its own. Messages (j answers i; only the primary of
view v sends its log and commit-number, the others () and 0):
    ("Recovery", i, x)   ("RecoveryResponse", v, x, from_primary, log, k, j, i)
"""

from __future__ import annotations

from itertools import combinations, product

RECOVERING = "recovering"


class VRRecovery:
    """The recovery rules of ViewstampedReplication, apart from its other rules. Needs `update_replica`,
    `primary`, `indexed`, `system` and `max_recoveries`."""

    def crash(self, s) -> list:
        """A replica crashes and restarts with nothing: status recovering; it sends RECOVERY with
        a new nonce to the others (step 1). At most max_recoveries crashes in a run."""
        if sum(1 for m in s.msgs if m[0] == "Recovery") >= self.max_recoveries:
            return []
        steps = []
        for i, r in self.indexed:
            nonce = 1 + sum(1 for m in s.msgs if m[0] == "Recovery" and m[1] == r)
            steps.append(("Crash", {"replica": r, "nonce": nonce},
                          self.update_replica(s, i, [("Recovery", r, nonce)], view=0, status=RECOVERING, log=(),
                                              commit=0, last_normal=0)))
        return steps

    def recovery_response(self, s) -> list:
        """Step 2: a replica in normal status answers RECOVERY with its view-number and the nonce;
        the primary adds its log and commit-number."""
        steps = []
        for _, asker, nonce in sorted(m for m in s.msgs if m[0] == "Recovery"):
            for j, r in self.indexed:
                if r == asker or s.status[j] != "normal":
                    continue
                v = s.view[j]
                primary = self.primary(v) == j
                answer = ("RecoveryResponse", v, nonce, primary, s.log[j] if primary else (),
                          s.commit[j] if primary else 0, r, asker)
                if answer not in s.msgs:
                    steps.append(("RecoveryResponse", {"src": r, "dst": asker, "view": v, "nonce": nonce,
                                                       "ops": len(s.log[j]) if primary else None},
                                  self.update_replica(s, j, [answer])))
        return steps

    def finish_recovery(self, s) -> list:
        """Step 3: with answers to its latest nonce from f + 1 others, among them the primary of
        the latest view they name, the replica takes that primary's log, commit-number and view,
        and is normal again."""
        steps = []
        for i, r in self.indexed:
            if s.status[i] != RECOVERING:
                continue
            nonce = sum(1 for m in s.msgs if m[0] == "Recovery" and m[1] == r)
            answers: dict[str, list] = {}
            for m in sorted(m for m in s.msgs if m[0] == "RecoveryResponse" and m[2] == nonce and m[7] == r):
                answers.setdefault(m[6], []).append(m)
            outcomes = set()
            for who in combinations(sorted(answers), self.system.k):
                for chosen in product(*(answers[x] for x in who)):
                    latest = max(m[1] for m in chosen)
                    from_primary = [m for m in chosen if m[1] == latest and m[3]]
                    if from_primary:
                        outcomes.add((latest, from_primary[0][4], from_primary[0][5]))
            for v, log, k in sorted(outcomes):
                steps.append(("FinishRecovery", {"replica": r, "view": v, "ops": len(log), "commit": k},
                              self.update_replica(s, i, view=v, status="normal", log=log, commit=k, last_normal=v)))
        return steps

    def recovering(self, s) -> tuple:
        """The positions of the replicas that are recovering."""
        return tuple(i for i, status in enumerate(s.status) if status == RECOVERING)
