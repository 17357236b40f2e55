"""ConditionStep: every condition operator the SDK emits, then the chosen branch's steps."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ..context import RunContext
from ..errors import LocalRunError
from ..registry import step_runner

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}


@step_runner("Condition")
def run_condition(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Evaluate the conditions (all must hold) and run the IfSteps or the ElseSteps."""
    args = step["Arguments"]
    outcome = all(evaluate(context, step["Name"], c) for c in args.get("Conditions", []))
    context.run_steps(args.get("IfSteps" if outcome else "ElseSteps", []))
    return {"Outcome": outcome}


def evaluate(context: RunContext, step: str, condition: dict[str, Any]) -> bool:
    """Return whether `condition` holds."""
    kind = condition.get("Type")
    if kind in COMPARISONS:
        left = context.resolve(condition["LeftValue"])
        right = context.resolve(condition["RightValue"])
        try:
            return bool(COMPARISONS[kind](left, right))
        except TypeError as exc:
            raise LocalRunError(
                f"step {step}: condition {kind} compares {left!r} with {right!r}: {exc}"
            ) from exc
    if kind == "Not":
        return not evaluate(context, step, condition["Expression"])
    if kind == "Or":
        return any(evaluate(context, step, c) for c in condition["Conditions"])
    if kind == "In":
        return context.resolve(condition["QueryValue"]) in context.resolve(condition["Values"])
    raise LocalRunError(
        f"step {step}: condition type {kind} is not one the local run evaluates: use one of "
        f"{sorted([*COMPARISONS, 'In', 'Not', 'Or'])}"
    )
