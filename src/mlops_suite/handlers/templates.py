"""The suite's template tree as the Lambda carries it: copier.yml, copier/ and repo-templates/.

The Lambda runtime has no git binary, so the artifact bundles the tree next to the package
(``mlops_suite/_suite``) and renders it with ``vcs_ref=None``; the answers file is then pointed
at the canonical suite URL and pinned release so ``copier update`` works from the generated repo.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from mlops_suite import rendering

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "_suite"
# names.json: templates {% include %} it from the template root, so it travels with the tree.
TEMPLATE_PARTS = ("copier.yml", "copier/", "repo-templates/", "src/mlops_suite/names.json")
ENV_TEMPLATE_DIR = "MLOPS_SUITE_TEMPLATE_DIR"


class TemplateTreeMissing(RuntimeError):
    """Neither a bundled template tree nor MLOPS_SUITE_TEMPLATE_DIR is available."""


def template_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the template tree to render: $MLOPS_SUITE_TEMPLATE_DIR, else the bundled one."""
    configured = environ.get(ENV_TEMPLATE_DIR)
    candidate = Path(configured) if configured else BUNDLE_DIR
    if not (candidate / "copier.yml").is_file():
        raise TemplateTreeMissing(
            f"no suite template tree at {candidate}: build the Lambda artifact with "
            f"`nox -s lambda_package`, or set {ENV_TEMPLATE_DIR} to a copy made by bundle()"
        )
    return candidate


def bundle(dst: Path, src: Path = rendering.SUITE_ROOT) -> list[str]:
    """Copy the template tree (files git would commit) from the suite checkout into `dst`."""
    files = [p for p in rendering.suite_files(src) if p.startswith(TEMPLATE_PARTS)]
    if "copier.yml" not in files:
        raise TemplateTreeMissing(f"{src} has no copier.yml: run from the suite checkout")
    if dst.exists():
        shutil.rmtree(dst)
    for rel in files:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)
    return files
