"""Print the time of `copier update` per kind, from the newest recorded release to HEAD.

Each answer set of a kind that the release ships is rendered at the release tag, edited as a team
would (a README section, a file of its own), and updated to the work tree; the figure is the update
alone. Kinds the release did not ship are listed as such.

Usage: python benchmarks/update.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from mlops_suite import release, rendering, updating


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-update-"))
    suite = release.suite_with_releases(work / "suite")
    previous = release.latest()
    print(f"copier update from {previous.tag} to HEAD, {args.runs} runs per answer set")
    print(f"{'kind':<22} {'answer set':<36} {'median s':>9} {'max s':>7}")
    for kind in rendering.kinds():
        sets = sorted((rendering.SUITE_ROOT / "tests" / "answers").glob(f"{kind}*.yml"))
        if kind not in previous.kinds:
            print(f"{kind:<22} {'(no release yet: nothing to update from)':<36}")
            continue
        for answers in sets:
            data = yaml.safe_load(answers.read_text(encoding="utf-8"))
            times = []
            for run in range(args.runs):
                repo = work / f"{answers.stem}-{run}"
                updating.render_at_release(repo, data, suite, previous.tag)
                updating.apply_user_edits(repo)
                start = time.perf_counter()
                updating.update_to(repo)
                times.append(time.perf_counter() - start)
                shutil.rmtree(repo)
            print(
                f"{kind:<22} {answers.stem:<36} {statistics.median(times):>9.2f} {max(times):>7.2f}"
            )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
