"""The `mlops-suite` command: snapshot the suite, render a kind, list the kinds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from mlops_suite import rendering


def _render(args: argparse.Namespace) -> int:
    data = yaml.safe_load(Path(args.answers).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        print(f"error: {args.answers} must be a YAML mapping of answers", file=sys.stderr)
        return 2
    try:
        rendering.render(Path(args.dst), data, template=args.template, vcs_ref=args.vcs_ref)
    except rendering.RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.dst)
    return 0


def _release_commands(args: argparse.Namespace) -> int:
    from mlops_suite import release, updating

    try:
        if args.command == "suite-with-releases":
            print(release.suite_with_releases(args.dst))
        elif args.command == "release":
            cut = release.cut(args.version)
            print(f"released {cut.tag} at {cut.commit}: push the tag, then build the Lambda")
        else:
            data = yaml.safe_load(Path(args.answers).read_text(encoding="utf-8")) or {}
            previous = release.latest(args.suite)
            if data.get("repo_kind") not in previous.kinds:
                print(
                    f"SKIPPED update check of {args.answers}: kind {data.get('repo_kind')!r} has"
                    f" no release yet (newest release {previous.tag} ships {list(previous.kinds)})"
                )
                return 0
            updating.check_update(data, args.suite, previous.tag, args.dst)
            print(f"{args.answers}: updated from {previous.tag} to HEAD cleanly, edits kept")
    except (release.ReleaseError, rendering.RenderError, updating.UpdateProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mlops-suite` command."""
    parser = argparse.ArgumentParser(prog="mlops-suite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    snap = sub.add_parser(
        "snapshot", help="copy the suite's working tree into a committed git repo"
    )
    snap.add_argument("dst", type=Path)
    snap.add_argument("--tag", default=None, help="also tag the snapshot commit")

    ren = sub.add_parser("render", help="render one repository kind from an answers file")
    ren.add_argument("dst", type=Path)
    ren.add_argument("--answers", required=True, help="YAML file of Copier answers")
    ren.add_argument("--template", default=str(rendering.SUITE_ROOT), help="suite path or URL")
    ren.add_argument("--vcs-ref", default="HEAD", help="git ref of the suite to render")

    sub.add_parser("kinds", help="print the repository kinds the questionnaire offers")

    hist = sub.add_parser(
        "suite-with-releases", help="clone the suite with its release tags, work tree on top"
    )
    hist.add_argument("dst", type=Path)

    upd = sub.add_parser(
        "update-check", help="render an answer set at the newest release, edit, update to HEAD"
    )
    upd.add_argument("dst", type=Path)
    upd.add_argument("--answers", required=True, help="YAML file of Copier answers")
    upd.add_argument("--suite", required=True, type=Path, help="from suite-with-releases")

    rel = sub.add_parser("release", help="cut a release at HEAD: changelog, tag, record")
    rel.add_argument("version", help="PEP 440 version, e.g. 0.2.0")

    args = parser.parse_args(argv)
    if args.command == "snapshot":
        print(rendering.snapshot(args.dst, tag=args.tag))
        return 0
    if args.command == "render":
        return _render(args)
    if args.command in {"suite-with-releases", "update-check", "release"}:
        return _release_commands(args)
    print("\n".join(rendering.kinds()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
