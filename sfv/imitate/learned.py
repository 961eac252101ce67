"""When a skill counts as learned: one definition, for the end-to-end table's verdict (sfv.analysis.end_to_end) and
for a training that stops once its evaluations meet it (`imitate.ppo.stop_after_learned`, sfv.imitate.callbacks).

The figures are a deterministic evaluation's (sfv.imitate.evaluate.rollout from phase 0): the one a training logs
in its learning curve is the one its stage reports, so a run that stopped as learned reads as learned in the table.
"""

from __future__ import annotations

import math

#: the policy stands through this much of its evaluation (20 s for a cyclic clip, the whole clip for a one-shot
#: one) ...
LEARNED_SURVIVAL = 0.95
#: ... tracks its own reference within this (cm) ...
LEARNED_TRACKING_CM = 8.0
#: ... or within this for the skills whose bodies turn over (a hand or the back on the ground, a flip) ...
LEARNED_TRACKING_CM_TUMBLING = 10.0
TUMBLING_SKILLS = ("cartwheel", "backflip", "spinkick", "roll")
#: ... and, where the truth is known, ends at most this much further from it than its reference (cm): physics kept
#: what the video gave
LEARNED_TRUTH_MARGIN_CM = 3.0


def tracking_bar_cm(clip: str) -> float:
    """How closely the clip's policy must track its reference (cm)."""
    return LEARNED_TRACKING_CM_TUMBLING if clip in TUMBLING_SKILLS else LEARNED_TRACKING_CM


def verdict(clip: str, survived_fraction: float, tracking_m: float, truth_extra_m: float | None = None) -> str:
    """ "yes", or "no: " and the first bar missed. `truth_extra_m`: the policy's body error against the truth minus
    its reference's (None where there is no truth, or the reference is the truth)."""
    if survived_fraction < LEARNED_SURVIVAL:
        return f"no: fell at {survived_fraction:.0%}"
    limit, tracking = tracking_bar_cm(clip), 100 * tracking_m
    if tracking > limit:
        return f"no: tracks {tracking:.1f} cm (bar {limit:g})"
    if truth_extra_m is not None and 100 * truth_extra_m > LEARNED_TRUTH_MARGIN_CM:
        return (
            f"no: {100 * truth_extra_m:.1f} cm further from the truth than its reference "
            f"(bar {LEARNED_TRUTH_MARGIN_CM:g})"
        )
    return "yes"


def learned_streak(rows: list[dict]) -> int:
    """How many of a learning curve's last evaluations in a row met the bar (rows without an evaluation are skipped;
    an evaluation logged without a verdict, from before a run judged its evaluations, ends the streak)."""
    streak = 0
    for row in reversed(rows):
        if not _measured(row.get("eval_survived_seconds")):  # no evaluation in this row
            continue
        if row.get("eval_learned") != 1.0:
            break
        streak += 1
    return streak


def _measured(value) -> bool:
    """A figure a curve row holds: absent in a row being built, NaN in a curve read back."""
    return value is not None and not math.isnan(value)


def stopped_learned(rows: list[dict], samples: int, after: int) -> bool:
    """Whether a run of `samples` stopped as learned: its last `after` evaluations met the bar, and the policy is
    the one the last of them evaluated (no update after it). Never, for `after` 0."""
    if after <= 0 or not rows or learned_streak(rows) < after:
        return False
    evaluated = [r for r in rows if r.get("eval_learned") == 1.0]
    return int(evaluated[-1]["timesteps"]) == int(samples)
