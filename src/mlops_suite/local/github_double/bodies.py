"""The JSON bodies the double serves, shaped as GitHub's API description documents them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double.model import DoubleRepo, DoubleTeam, node_id

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble


def org_user(gh: GitHubDouble, login: str) -> dict[str, Any]:
    """An organisation as a simple-user (the `owner` of its repositories)."""
    oid = gh.org_id(login)
    api = f"{gh.url}/users/{login}"
    return {
        "login": login,
        "id": oid,
        "node_id": node_id("Organization", oid),
        "avatar_url": f"{gh.url}/avatars/{oid}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{gh.url}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Organization",
        "site_admin": False,
    }


def organization(gh: GitHubDouble, login: str) -> dict[str, Any]:
    """An organisation as team-organization / organization-full."""
    oid = gh.org_id(login)
    api = f"{gh.url}/orgs/{login}"
    return {
        "login": login,
        "id": oid,
        "node_id": node_id("Organization", oid),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{gh.url}/avatars/{oid}",
        "description": None,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{gh.url}/{login}",
        "created_at": gh.created_at,
        "updated_at": gh.created_at,
        "archived_at": None,
        "type": "Organization",
    }


_REPO_URLS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(gh: GitHubDouble, r: DoubleRepo) -> dict[str, Any]:
    """A repository as full-repository."""
    api = f"{gh.url}/repos/{r.full_name}"
    return {
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "owner": org_user(gh, r.owner),
        "organization": org_user(gh, r.owner),
        "private": r.private,
        "visibility": "private" if r.private else "public",
        "html_url": f"{gh.url}/{r.full_name}",
        "description": r.description or None,
        "fork": False,
        "url": api,
        **{key: api + suffix for key, suffix in _REPO_URLS.items()},
        "git_url": f"git://{gh.host}/{r.full_name}.git",
        "ssh_url": f"git@{gh.host}:{r.full_name}.git",
        "clone_url": gh.clone_url(r.full_name),
        "svn_url": f"{gh.url}/{r.full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": "main",
        "open_issues_count": 0,
        "topics": list(r.topics),
        "has_issues": True,
        "has_projects": bool(r.settings.get("has_projects", True)),
        "has_wiki": bool(r.settings.get("has_wiki", True)),
        "has_pages": False,
        "has_discussions": False,
        "archived": r.archived,
        "disabled": False,
        "pushed_at": r.pushed_at or r.created_at,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "allow_merge_commit": bool(r.settings.get("allow_merge_commit", True)),
        "delete_branch_on_merge": bool(r.settings.get("delete_branch_on_merge", False)),
        "subscribers_count": 0,
        "network_count": 0,
        "license": None,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
    }


def team(gh: GitHubDouble, t: DoubleTeam) -> dict[str, Any]:
    """A team as team-full."""
    api = f"{gh.url}/organizations/{gh.org_id(t.org)}/team/{t.id}"
    return {
        "id": t.id,
        "node_id": node_id("Team", t.id),
        "url": api,
        "html_url": f"{gh.url}/orgs/{t.org}/teams/{t.slug}",
        "name": t.slug,
        "slug": t.slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "parent": None,
        "members_count": 1,
        "repos_count": len(t.repos),
        "created_at": t.created_at,
        "updated_at": t.created_at,
        "organization": organization(gh, t.org),
        "type": "organization",
    }


def team_simple(gh: GitHubDouble, t: DoubleTeam) -> dict[str, Any]:
    """A team as team (the reviewer of an environment's protection rule)."""
    full = team(gh, t)
    keep = ("id", "node_id", "url", "html_url", "name", "slug", "description", "privacy")
    extra = ("notification_setting", "permission", "members_url", "repositories_url", "parent")
    return {**{k: full[k] for k in keep + extra}, "type": "organization"}


def installation(gh: GitHubDouble, org: str) -> dict[str, Any]:
    """The App's installation on `org`."""
    return {
        "id": gh.installation_id,
        "account": org_user(gh, org),
        "repository_selection": "all",
        "access_tokens_url": f"{gh.url}/app/installations/{gh.installation_id}/access_tokens",
        "repositories_url": f"{gh.url}/installation/repositories",
        "html_url": f"{gh.url}/organizations/{org}/settings/installations/{gh.installation_id}",
        "app_id": int(gh.app_id),
        "target_id": gh.org_id(org),
        "target_type": "Organization",
        "permissions": dict(gh.installation_permissions),
        "events": [],
        "created_at": gh.created_at,
        "updated_at": gh.created_at,
        "single_file_name": None,
        "app_slug": "mlops-suite",
        "suspended_by": None,
        "suspended_at": None,
    }


def environment(gh: GitHubDouble, r: DoubleRepo, name: str) -> dict[str, Any]:
    """An environment as GitHub shapes it: protection rules with ids, reviewers expanded."""
    settings = r.environments[name]
    env_id = r.environment_ids[name]
    rules: list[dict[str, Any]] = []
    if settings.get("wait_timer"):
        rules.append(
            {
                "id": env_id * 10 + 1,
                "node_id": node_id("ProtectionRule", env_id * 10 + 1),
                "type": "wait_timer",
                "wait_timer": int(settings["wait_timer"]),
            }
        )
    reviewers = settings.get("reviewers") or []
    if reviewers:
        rules.append(
            {
                "id": env_id * 10 + 2,
                "node_id": node_id("ProtectionRule", env_id * 10 + 2),
                "type": "required_reviewers",
                "prevent_self_review": bool(settings.get("prevent_self_review", False)),
                "reviewers": [
                    {"type": "Team", "reviewer": team_simple(gh, gh.team_by_id(rv["id"]))}
                    for rv in reviewers
                ],
            }
        )
    policy = settings.get("deployment_branch_policy")
    if policy:
        rules.append(
            {
                "id": env_id * 10 + 3,
                "node_id": node_id("ProtectionRule", env_id * 10 + 3),
                "type": "branch_policy",
            }
        )
    return {
        "id": env_id,
        "node_id": node_id("Environment", env_id),
        "name": name,
        "url": f"{gh.url}/repos/{r.full_name}/environments/{name}",
        "html_url": f"{gh.url}/{r.full_name}/deployments/activity_log?environments_filter={name}",
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "protection_rules": rules,
        "deployment_branch_policy": policy or None,
    }
