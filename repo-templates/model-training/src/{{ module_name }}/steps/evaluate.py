"""Evaluation step: score the trained model on the held-out test set; write evaluation.json/.html.

The JSON report uses SageMaker's model-quality layout, so the model registry shows it as the
model package's metrics, and the pipeline's condition reads the AUC from it through a
PropertyFile. The HTML report (ROC and precision-recall curves with the cutoff marked, the
confusion matrix, the metrics) is for people; it is rendered by `report.py`, which the pipeline
ships to this job beside the script (`--report-module`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

MODEL_FILE = "xgboost-model"
REPORT_FILE = "evaluation.json"
HTML_REPORT_FILE = "evaluation.html"
# Beside this file in the repository; the pipeline ships it to the job as an input.
REPORT_MODULE = Path(__file__).resolve().parent / "report.py"
LOG = logging.getLogger("evaluate")


def predict(model: xgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Return the predicted probability of the positive class for each row of `X`."""
    return np.asarray(model.predict(xgb.DMatrix(X)), dtype=float)


def evaluate(
    model: xgb.Booster, X: pd.DataFrame, y: pd.Series, cutoff: float = 0.5
) -> dict[str, Any]:
    """Return the model-quality report of `model` on (`X`, `y`), AUC first."""
    if y.nunique() < 2:
        raise ValueError("the test set holds one class only: AUC needs both 0 and 1 labels")
    scores = predict(model, X)
    labels = (scores >= cutoff).astype(int)

    def metric(value: float) -> dict[str, Any]:
        return {"value": round(float(value), 6), "standard_deviation": "NaN"}

    return {
        "binary_classification_metrics": {
            "auc": metric(roc_auc_score(y, scores)),
            "accuracy": metric(accuracy_score(y, labels)),
            "precision": metric(precision_score(y, labels, zero_division=0)),
            "recall": metric(recall_score(y, labels, zero_division=0)),
            "f1": metric(f1_score(y, labels, zero_division=0)),
        },
        "test_rows": len(y),
    }


def load_report_module(path: Path = REPORT_MODULE) -> ModuleType:
    """Load the HTML report renderer (standard library only) from `path`."""
    if not path.is_file():
        raise FileNotFoundError(f"no report module at {path}: pass --report-module <report.py>")
    spec = importlib.util.spec_from_file_location("evaluation_report", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def html_report(
    model: xgb.Booster,
    X: pd.DataFrame,
    y: pd.Series,
    metrics: dict[str, Any],
    cutoff: float = 0.5,
    renderer: ModuleType | None = None,
) -> str:
    """Return the HTML report: ROC and precision-recall curves, cutoff marked, confusion matrix."""
    r = renderer or load_report_module()
    scores = predict(model, X)
    labels = (scores >= cutoff).astype(int)
    matrix = confusion_matrix(y, labels, labels=[0, 1])
    (tn, fp), (fn, tp) = matrix.tolist()
    fpr, tpr, _ = roc_curve(y, scores)
    precision, recall, _ = precision_recall_curve(y, scores)
    at_cutoff = f"cutoff {cutoff:g}"
    point_recall = tp / (tp + fn) if tp + fn else 0.0
    point_precision = tp / (tp + fp) if tp + fp else 1.0
    curves = [
        r.Curve(
            "ROC curve",
            "false positive rate",
            "true positive rate",
            fpr.tolist(),
            tpr.tolist(),
            marker=(fp / (fp + tn) if fp + tn else 0.0, point_recall),
            marker_label=at_cutoff,
            diagonal=True,
        ),
        r.Curve(
            "Precision-recall curve",
            "recall",
            "precision",
            recall.tolist(),
            precision.tolist(),
            marker=(point_recall, point_precision),
            marker_label=at_cutoff,
        ),
    ]
    values = {name: m["value"] for name, m in metrics["binary_classification_metrics"].items()}
    report = r.Report(
        title="Evaluation on the held-out test set",
        metrics=values,
        curves=curves,
        confusion=matrix.tolist(),
        classes=("0", "1"),
        notes=(
            f"{len(y)} test rows, {int(y.sum())} positive; a row is predicted 1 when its"
            f" score is at least the cutoff {cutoff:g} (the marked point on each curve).",
        ),
    )
    text: str = r.render(report)
    return text


def _inside(root: Path, name: str) -> bool:
    target = (root / name).resolve()
    return target == root.resolve() or root.resolve() in target.parents


def load_model(model_dir: Path) -> xgb.Booster:
    """Load the booster from the model.tar.gz (or loose model file) that training produced."""
    archive = model_dir / "model.tar.gz"
    if archive.exists():
        with tarfile.open(archive) as tar:
            # The containers' Pythons may predate tarfile's extraction filters: check by hand.
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or not _inside(model_dir, member.name):
                    raise ValueError(f"refusing to extract {member.name!r} from {archive}")
            tar.extractall(model_dir)  # noqa: S202 - members checked above
    booster = xgb.Booster()
    booster.load_model(str(model_dir / MODEL_FILE))
    return booster


def main(argv: list[str] | None = None) -> None:
    """Read the model and test data, evaluate, write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument(
        "--report-module", type=Path, default=REPORT_MODULE, help="report.py (the HTML renderer)"
    )
    args = parser.parse_args(argv)

    renderer = load_report_module(args.report_module)  # before the work: fail fast
    test = pd.concat([pd.read_csv(f) for f in sorted(args.test_dir.rglob("*.csv"))])
    # Preprocessing writes the label as the first column.
    label = test.columns[0]
    X, y = test.drop(columns=[label]), test[label]
    model = load_model(args.model_dir)
    report = evaluate(model, X, y)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    page = html_report(model, X, y, report, renderer=renderer)
    (args.output_dir / HTML_REPORT_FILE).write_text(page, encoding="utf-8")
    LOG.info("test AUC %s", report["binary_classification_metrics"]["auc"]["value"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
