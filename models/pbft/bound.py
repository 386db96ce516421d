"""PBFT's fault bound in a check's report: does this configuration give the quorum intersection
PBFT's safety rests on (two quorums share f + 1 replicas, so at least one honest one)?

Z3 answers for the concrete numbers (`properties.quorums.check_intersection`), and when n < 3f + 1
the parametric lemma `bft-3f+1-tight` is quoted with its verdict, so the warning and the model
checker's counterexample tell one story.
"""

from __future__ import annotations

from agree.properties import quorums


def bound_warnings(model) -> list[str]:
    """Sentences for the report: Byzantine replicas beyond f, quorums that may share no honest
    replica (with Z3's witness), and quorums too large to form when f replicas stay silent."""
    found = []
    n, f, k = model.n, model.f, model.system.size
    if len(model.faulty) > f:
        found.append(f"{len(model.faulty)} Byzantine replicas ({', '.join(sorted(model.faulty))}) exceed f={f}: "
                     "PBFT promises nothing beyond f faults")
    result = quorums.check_intersection(model.system, at_least=f + 1)
    if not result.holds:
        w = result.witness
        text = (f"quorums of {k} among n={n} replicas can share only {result.min_intersection} "
                f"(Z3 witness: {{{', '.join(w['q1'])}}} and {{{', '.join(w['q2'])}}}, common "
                f"{{{', '.join(w['common'])}}}), fewer than f+1={f + 1}: two quorums may share no honest "
                "replica, so agreement is not guaranteed")
        if n < 3 * f + 1:
            lemma = quorums.prove_lemma(quorums.lemma_named("bft-3f+1-tight"))
            text = (f"n={n} < 3f+1={3 * f + 1}: Z3 lemma bft-3f+1-tight {lemma.verdict} "
                    f"({lemma.statement}); for these numbers " + text)
        found.append(text)
    elif k > n - f:
        found.append(f"quorums of {k} exceed n - f = {n - f}: with f replicas silent no quorum forms "
                     "(liveness is lost; safety is kept)")
    return found
