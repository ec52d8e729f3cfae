"""The group's mood from its faces' own votes (FrameLogic counts only confirmed, readable faces)."""
from __future__ import annotations

from typing import Sequence

__all__ = ["FaceVote", "group_vote"]

# One counted face: its confident label (None while its vote is uncertain), its box area, and its
# smoothed scores by label.
FaceVote = tuple["str | None", float, dict[str, float]]


def group_vote(votes: Sequence[FaceVote]) -> tuple[str | None, dict[str, float]]:
    """The group's mood candidate and the scores behind it.

    The rule: the label most faces agree on (each face's own confident vote); ties go to the label
    of the largest face among them. With no confident face, no candidate, and the largest face's
    smoothed scores (its leading guess). One face: that face's vote. No face: nothing."""
    if not votes:
        return None, {}
    ordered = sorted(votes, key=lambda v: -v[1])          # largest first (stable: ties keep their order)
    counts: dict[str, int] = {}
    for label, _, _ in ordered:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    if not counts:
        return None, ordered[0][2]
    most = max(counts.values())
    label = next(lab for lab, _, _ in ordered if lab is not None and counts[lab] == most)
    return label, next(sc for lab, _, sc in ordered if lab == label)
