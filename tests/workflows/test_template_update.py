"""The generated update workflow, run through the harness against a local suite and the double."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_actions import standard_actions
from mlops_suite.local.workflow_harness import (
    JobFailed,
    JobResult,
    needs_entry,
    run_job,
)

from .conftest import HostedRepo, git, host_render

README_TEMPLATE = Path("repo-templates/model-training/README.md.jinja")
NEW_FILE = Path("repo-templates/model-training/docs/release-notes.md")


def release(suite: Path, tag: str, *, readme_prefix: str = "", new_file: bool = False) -> None:
    """Commit a suite change and tag it, as a suite release does."""
    if readme_prefix:
        readme = suite / README_TEMPLATE
        readme.write_text(readme_prefix + readme.read_text(encoding="utf-8"), encoding="utf-8")
    if new_file:
        (suite / NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
        (suite / NEW_FILE).write_text(f"# Release notes\n\n{tag}\n", encoding="utf-8")
    git(suite, "add", "-A")
    git(suite, "commit", "-q", "--allow-empty", "-m", f"release {tag}")
    git(suite, "tag", tag)


def update_workflow(hosted: HostedRepo, **context: object) -> tuple[JobResult, JobResult]:
    """Run the check job, then the update job with the check job's outputs."""
    wf = hosted.workspace / ".github" / "workflows" / "template-update.yml"
    ctx = hosted.context(event_name="schedule", **context)
    check = run_job(
        wf, "check", workspace=hosted.workspace, context=ctx, actions=standard_actions()
    )
    ctx.needs = {"check": needs_entry(check)}
    update = run_job(
        wf, "update", workspace=hosted.workspace, context=ctx, actions=standard_actions()
    )
    return check, update


@pytest.fixture
def hosted(github: GitHubDouble, tmp_path: Path) -> HostedRepo:
    hosted = host_render(github, tmp_path, "model-training-minimal")
    readme = hosted.workspace / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8") + "\n## Our notes\n\nLocal notes that must survive.\n",
        encoding="utf-8",
    )
    git(hosted.workspace, "commit", "-q", "-am", "Our notes")
    hosted.push_main()
    return hosted


def test_no_newer_release_skips_the_update(hosted: HostedRepo, github: GitHubDouble) -> None:
    check, update = update_workflow(hosted)
    assert check.outputs["update"] == "false"
    assert "the newest suite release is 1.0.0" in check.summary
    assert update.skipped
    assert github.pulls.get(hosted.full_name, []) == []


def test_clean_update_opens_then_refreshes_one_pull_request(
    hosted: HostedRepo, github: GitHubDouble
) -> None:
    release(
        hosted.suite,
        "v1.1.0",
        readme_prefix="Release note for {{ project_name }}.\n\n",
        new_file=True,
    )
    check, update = update_workflow(hosted)
    assert check.outputs["update"] == "true"
    assert update.step("update").outputs["conflicts"] == "0"
    (pull,) = github.pulls[hosted.full_name]
    assert pull["title"] == "Update to mlops-suite v1.1.0"
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("template-update", "main")
    assert "No conflicts" in pull["body"]
    assert "**New files** from the release:\n- `docs/release-notes.md`" in pull["body"]
    files = github.repos[hosted.full_name].files("template-update")
    readme = files["README.md"].decode()
    assert readme.startswith("Release note for churn-model.")
    assert "Local notes that must survive." in readme
    assert b"_commit: v1.1.0" in files[".copier-answers.yml"]
    assert not any(p.endswith(".rej") for p in files)
    assert "Opened pull request" in update.summary

    # The next release refreshes the same pull request instead of opening a second one.
    git(hosted.workspace, "checkout", "-q", "main")
    git(hosted.workspace, "reset", "-q", "--hard", "origin/main")
    release(hosted.suite, "v1.2.0", readme_prefix="Second note.\n\n")
    update_workflow(hosted)
    (pull,) = github.pulls[hosted.full_name]
    assert pull["title"] == "Update to mlops-suite v1.2.0"
    assert (
        github.repos[hosted.full_name]
        .files("template-update")["README.md"]
        .startswith(b"Second note.")
    )


def test_conflicting_update_lists_the_conflicts(hosted: HostedRepo, github: GitHubDouble) -> None:
    readme = hosted.workspace / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    readme.write_text("# Our own title\n" + "".join(lines[1:]), encoding="utf-8")
    git(hosted.workspace, "commit", "-q", "-am", "Our title")
    hosted.push_main()
    template = hosted.suite / README_TEMPLATE
    text = template.read_text(encoding="utf-8")
    assert "\n# {{ project_name }}\n" in text
    template.write_text(
        text.replace("\n# {{ project_name }}\n", "\n# The suite's new title\n", 1), encoding="utf-8"
    )
    release(hosted.suite, "v1.1.0")

    _, update = update_workflow(hosted)
    assert update.step("update").outputs["conflicts"] == "1"
    (pull,) = github.pulls[hosted.full_name]
    assert "**Conflicts to resolve**" in pull["body"]
    assert "- `README.md`" in pull["body"]
    pushed = github.repos[hosted.full_name].files("template-update")["README.md"].decode()
    assert "<<<<<<< " in pushed
    assert "# Our own title" in pushed
    assert "# The suite's new title" in pushed


def test_explicit_release_ref_is_checked(hosted: HostedRepo) -> None:
    wf = hosted.workspace / ".github" / "workflows" / "template-update.yml"
    ctx = hosted.context(event_name="workflow_dispatch", inputs={"ref": "v1; rm -rf /"})
    with pytest.raises(JobFailed, match="is not a tag name"):
        run_job(wf, "check", workspace=hosted.workspace, context=ctx, actions=standard_actions())
    ctx = hosted.context(
        event_name="repository_dispatch", event={"client_payload": {"ref": "v1.0.0"}}
    )
    check = run_job(
        wf, "check", workspace=hosted.workspace, context=ctx, actions=standard_actions()
    )
    assert check.outputs == {"update": "false", "ref": "v1.0.0"}
