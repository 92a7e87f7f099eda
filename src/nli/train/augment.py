"""Label-preserving additions to the training set, drawn from the training pairs themselves.

Contradiction is symmetric: if the hypothesis cannot be true of the scene the premise describes, the premise
cannot be true of the hypothesis' scene either, so a contradiction pair read backwards is another contradiction
pair. Entailment and neutral are not symmetric (a premise usually says more than a hypothesis it entails), so
only contradiction pairs are swapped.
"""

from __future__ import annotations

from nli.core.labels import LABELS

CONTRADICTION = LABELS.index("contradiction")


def swap_contradictions(rows: list[dict]) -> list[dict]:
    """``rows`` followed by a copy of each contradiction pair with premise and hypothesis swapped (id + "-swap")."""
    swapped = [
        {**r, "id": f"{r['id']}-swap", "premise": r["hypothesis"], "hypothesis": r["premise"]}
        for r in rows
        if r["label"] == CONTRADICTION
    ]
    return rows + swapped
