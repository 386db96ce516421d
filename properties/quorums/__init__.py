"""Quorum systems as values, Z3 intersection checks for a given cluster, and lemmas for every n.

    from agree.properties.quorums import Majority, check_intersection
    check_intersection(Majority(5)).verdict          # "intersect"
"""

from agree.properties.quorums.counting import Bft, Majority, Threshold
from agree.properties.quorums.explicit import Explicit
from agree.properties.quorums.flexible import FlexiblePaxos
from agree.properties.quorums.grid import GRID_MODES, Grid
from agree.properties.quorums.intersection import (DISJOINT, INTERSECT, IntersectionResult, Undecided,
                                             check_intersection, min_intersection)
from agree.properties.quorums.joint import JointConsensus
from agree.properties.quorums.lemmas import (COUNTEREXAMPLE, PROVED, VACUOUS, Lemma, LemmaResult, all_lemmas,
                                       lemma_named, prove_all, prove_lemma)
from agree.properties.quorums.loading import system_from_json
from agree.properties.quorums.membership import Configuration
from agree.properties.quorums.system import QuorumSystem, node_names
from agree.properties.quorums.weighted import Weighted

__all__ = [
    "QuorumSystem", "node_names", "Majority", "Threshold", "Bft", "Weighted", "Grid", "GRID_MODES", "Explicit",
    "JointConsensus", "FlexiblePaxos", "Configuration", "system_from_json",
    "check_intersection", "min_intersection", "IntersectionResult", "INTERSECT", "DISJOINT", "Undecided",
    "Lemma", "LemmaResult", "all_lemmas", "lemma_named", "prove_lemma", "prove_all", "PROVED", "COUNTEREXAMPLE",
    "VACUOUS",
]
