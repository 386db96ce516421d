"""Quorum systems as values, Z3 intersection checks for a given cluster, and lemmas for every n.

    from properties.quorums import Majority, check_intersection
    check_intersection(Majority(5)).verdict          # "intersect"
"""

from properties.quorums.counting import Bft, Majority, Threshold
from properties.quorums.explicit import Explicit
from properties.quorums.flexible import FlexiblePaxos
from properties.quorums.grid import GRID_MODES, Grid
from properties.quorums.intersection import (DISJOINT, INTERSECT, IntersectionResult, Undecided,
                                             check_intersection, min_intersection)
from properties.quorums.joint import JointConsensus
from properties.quorums.lemmas import (COUNTEREXAMPLE, PROVED, VACUOUS, Lemma, LemmaResult, all_lemmas,
                                       lemma_named, prove_all, prove_lemma)
from properties.quorums.loading import system_from_json
from properties.quorums.system import QuorumSystem, node_names
from properties.quorums.weighted import Weighted

__all__ = [
    "QuorumSystem", "node_names", "Majority", "Threshold", "Bft", "Weighted", "Grid", "GRID_MODES", "Explicit",
    "JointConsensus", "FlexiblePaxos", "system_from_json",
    "check_intersection", "min_intersection", "IntersectionResult", "INTERSECT", "DISJOINT", "Undecided",
    "Lemma", "LemmaResult", "all_lemmas", "lemma_named", "prove_lemma", "prove_all", "PROVED", "COUNTEREXAMPLE",
    "VACUOUS",
]
