"""Suite releases: the recorded tags, a suite clone that carries them, and cutting a new one.

`releases.json` records every release (tag, commit, kinds it ships); `CHANGELOG.md` holds the notes.
Update tests start from the newest recorded release, so they always cross a real release.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from mlops_suite import rendering

RELEASES_FILE = "releases.json"
CHANGELOG_FILE = "CHANGELOG.md"
UNRELEASED = "## Unreleased"
# One changelog entry: `- [kinds: a, b] [action: none|required] what changed`.
ENTRY = re.compile(r"^- \[kinds: (?P<kinds>[a-z, -]+)\] \[action: (?P<action>none|required)\] \S")
GIT = ["git", "-c", "user.name=mlops-suite", "-c", "user.email=mlops-suite@localhost"]


class ReleaseError(ValueError):
    """A release could not be read or cut; the message names the value and the fix."""


@dataclass(frozen=True)
class Release:
    """One recorded suite release."""

    version: str
    tag: str
    commit: str
    kinds: tuple[str, ...]


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def releases(root: Path = rendering.SUITE_ROOT) -> list[Release]:
    """Return the recorded releases, oldest first, each checked for shape."""
    path = root / RELEASES_FILE
    entries = json.loads(path.read_text(encoding="utf-8"))["releases"]
    out = []
    for index, entry in enumerate(entries):
        where = f"{path.name} releases[{index}]"
        version = str(entry.get("version", ""))
        try:
            Version(version)
        except InvalidVersion as exc:
            raise ReleaseError(f"{where}: version {version!r} is not PEP 440, e.g. 0.2.0") from exc
        if entry.get("tag") != f"v{version}":
            raise ReleaseError(f"{where}: tag {entry.get('tag')!r} must be 'v{version}'")
        if not re.fullmatch(r"[0-9a-f]{40}", str(entry.get("commit", ""))):
            raise ReleaseError(f"{where}: commit {entry.get('commit')!r} is not a full git sha")
        out.append(Release(version, entry["tag"], entry["commit"], tuple(entry["kinds"])))
    versions = [Version(r.version) for r in out]
    if versions != sorted(versions) or len(set(versions)) != len(versions):
        raise ReleaseError(f"{path.name}: releases must be listed oldest first, each once")
    return out


def latest(root: Path = rendering.SUITE_ROOT) -> Release:
    """Return the newest recorded release."""
    recorded = releases(root)
    if not recorded:
        raise ReleaseError(f"{RELEASES_FILE} records no release: cut one with nox -s release")
    return recorded[-1]


def suite_with_releases(dst: Path, src: Path = rendering.SUITE_ROOT) -> Path:
    """Clone the suite's history into `dst`, tag every recorded release, and commit the work tree.

    HEAD of the clone is then what is under test (uncommitted work included), with real release
    tags behind it for `copier copy --vcs-ref <tag>` and `copier update`.
    """
    _git(src, "rev-parse", "--git-dir")
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(src), str(dst)], check=True)
    for release in releases(src):
        if subprocess.run(
            ["git", "cat-file", "-e", f"{release.commit}^{{commit}}"], cwd=dst, check=False
        ).returncode:
            raise ReleaseError(
                f"release {release.tag} names commit {release.commit}, which this clone lacks:"
                " fetch the suite's full history (git fetch --unshallow)"
            )
        _git(dst, "tag", "-f", release.tag, release.commit)
    for rel in _git(dst, "ls-files", "-z").split("\0"):
        if rel:
            (dst / rel).unlink(missing_ok=True)
    for rel in rendering.suite_files(src):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)
    _git(dst, "add", "-A")
    if _git(dst, "status", "--porcelain").strip():
        _git(dst, "commit", "-q", "-m", "work tree under test")
    return dst


def unreleased_entries(changelog: str, kinds: list[str]) -> list[str]:
    """Return the entries under `## Unreleased`, each checked to name known kinds and an action."""
    if UNRELEASED not in changelog:
        raise ReleaseError(f"{CHANGELOG_FILE} has no '{UNRELEASED}' section: add one at the top")
    section = changelog.split(UNRELEASED, 1)[1].split("\n## ", 1)[0]
    entries = [line for line in section.splitlines() if line.startswith("- ")]
    if not entries:
        raise ReleaseError(f"{CHANGELOG_FILE} '{UNRELEASED}' lists no change: nothing to release")
    allowed = {*kinds, "suite", "platform", "project-templates", "lambda"}
    for line in entries:
        match = ENTRY.match(line)
        if not match:
            raise ReleaseError(
                f"changelog entry {line!r} must read '- [kinds: <kind>, ...] "
                "[action: none|required] <what changed>'"
            )
        unknown = sorted({k.strip() for k in match["kinds"].split(",")} - allowed)
        if unknown:
            raise ReleaseError(f"changelog entry {line!r} names unknown kinds {unknown}")
    return entries


def cut(version: str, root: Path = rendering.SUITE_ROOT, today: dt.date | None = None) -> Release:
    """Cut a release at HEAD: changelog section, tag, and the record in releases.json.

    Two commits: the release commit (changelog) that the tag names, then the record of it.
    """
    try:
        new = Version(version)
    except InvalidVersion as exc:
        raise ReleaseError(f"version {version!r} is not PEP 440: use e.g. 0.2.0") from exc
    dirty = [line[3:] for line in _git(root, "status", "--porcelain").splitlines()]
    if dirty:
        raise ReleaseError(f"the work tree is not clean: commit or stash {dirty} first")
    recorded = releases(root)
    if recorded and new <= Version(recorded[-1].version):
        raise ReleaseError(f"version {version} is not newer than {recorded[-1].version}")
    tag = f"v{new}"
    if _git(root, "tag", "--list", tag).strip():
        raise ReleaseError(f"tag {tag} exists already: pick the next version")
    kinds = rendering.kinds(root)
    changelog_path = root / CHANGELOG_FILE
    changelog = changelog_path.read_text(encoding="utf-8")
    unreleased_entries(changelog, kinds)
    day = (today or dt.date.today()).isoformat()
    changelog_path.write_text(
        changelog.replace(UNRELEASED, f"{UNRELEASED}\n\n## {new} ({day})", 1), encoding="utf-8"
    )
    _git(root, "commit", "-q", "-am", f"Release {tag}")
    _git(root, "tag", "-a", tag, "-m", f"mlops-suite {tag}")
    commit = _git(root, "rev-parse", "HEAD").strip()
    release = Release(str(new), tag, commit, tuple(kinds))
    path = root / RELEASES_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["releases"].append({**asdict(release), "kinds": list(release.kinds)})
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _git(root, "commit", "-q", "-am", f"Record release {tag} in {RELEASES_FILE}")
    return release
