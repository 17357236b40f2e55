{% raw %}

# --- Terraform (deploy/): fmt, validate, test with a mock provider; no cloud credentials ---------

nox.options.sessions.append("terraform")

TF_MIRRORS = ("/opt/tf-plugins", "/usr/local/share/terraform/plugins", "~/.terraform.d/plugins")
TF_PROVIDER = Path("registry.terraform.io/hashicorp/aws")


def _tf_config(home: Path) -> Path | None:
    """A project-owned CLI config on a local provider mirror, or None when there is no mirror."""
    import os

    for root in filter(None, (os.environ.get("TF_PLUGIN_MIRROR"), *TF_MIRRORS)):
        mirror = Path(root).expanduser()
        if (mirror / TF_PROVIDER).is_dir():
            home.mkdir(parents=True, exist_ok=True)
            config = home / "terraformrc"
            config.write_text(
                "provider_installation {\n"
                "  filesystem_mirror {\n"
                f'    path    = "{mirror}"\n'
                '    include = ["registry.terraform.io/*/*"]\n  }\n'
                '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n',
                encoding="utf-8",
            )
            return config
    return None


@nox.session(venv_backend="none")
def terraform(session: nox.Session) -> None:
    """terraform fmt -check, init -backend=false, validate and test (mock provider) in deploy/."""
    import os
    import shutil

    binary = shutil.which("terraform")
    home = Path(".nox", "terraform").resolve()
    config = _tf_config(home)
    # Without a local mirror, CI (GITHUB_ACTIONS) installs the provider from the registry.
    online = bool(os.environ.get("TF_CLI_CONFIG_FILE") or os.environ.get("GITHUB_ACTIONS"))
    if binary is None or (config is None and not online):
        why = "terraform is not on PATH" if binary is None else "no hashicorp/aws provider mirror"
        print(f"\n{'!' * 72}\nSKIPPED terraform checks: {why} (set TF_PLUGIN_MIRROR or install"
              f" terraform); CI runs them\n{'!' * 72}\n")  # fmt: skip
        session.skip(f"SKIPPED: {why}")
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_DATA_DIR": str(home / "data")}
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(config)
    with session.chdir("deploy"):
        session.run(binary, "fmt", "-check", "-recursive", "-diff", external=True, env=env)
        session.run(binary, "init", "-backend=false", "-input=false", "-no-color", external=True,
                    env=env)  # fmt: skip
        session.run(binary, "validate", "-no-color", external=True, env=env)
        # `nox -- <args>` also reaches pytest (the suite passes `-q -m ...`): take only
        # terraform test's own flags from it.
        tf_args = [a for a in session.posargs if a.startswith(("-filter=", "-var"))]
        if tf_args:
            session.run(binary, "test", "-no-color", *tf_args, external=True, env=env)
            return
        unit = [f"-filter={p.as_posix()}" for p in sorted(Path("tests").glob("*.tftest.hcl"))
                if p.name != "environments.tftest.hcl"]  # fmt: skip
        session.run(binary, "test", "-no-color", *unit, external=True, env=env)
        for environment in ("preprod", "prod"):  # the generated values of each environment
            values = f"-var-file=environments/{environment}.tfvars"
            session.run(binary, "test", "-no-color", "-filter=tests/environments.tftest.hcl",
                        values, external=True, env=env)  # fmt: skip
{% endraw %}