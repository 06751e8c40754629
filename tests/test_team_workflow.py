"""The three places dagsmith runs: a pre-commit hook, CI, and the Makefile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GIT_IDENTITY, REPO
from dagsmith.cli import main

BIN = Path(sys.executable).parent


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.MULTILINE))


def commands_in(script: str) -> list[list[str]]:
    return [line.split() for line in script.splitlines() if line.strip()]


def check_command(words: list[str]) -> None:
    """A CI step calls a Makefile target, or a dagsmith command, that exists."""
    if words[0] == "make":
        assert words[1] in make_targets(), words
    elif words[:2] == ["pip", "install"]:
        assert "DAGSMITH_REQUIREMENT" in words[2], words
    elif words[0] == "dagsmith":
        assert words[1] in main.list_commands(None), words  # type: ignore[arg-type]
    else:
        raise AssertionError(f"unexpected CI command {words}")


# pre-commit


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository of DAG specs that uses this repository's hooks."""
    root = tmp_path_factory.mktemp("consumer")
    for folder in ("specs", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "pyproject.toml").write_text("[tool.dagsmith]\n")
    rev = git(REPO, "rev-parse", "HEAD")
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {REPO}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: dagsmith-check\n"
        "      - id: dagsmith-generate\n"
    )
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        **GIT_IDENTITY,
    }
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    return root, env


def pre_commit(
    consumer: tuple[Path, dict[str, str]], hook: str
) -> subprocess.CompletedProcess[str]:
    root, env = consumer
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", hook, "--all-files"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_pre_commit_hooks_catch_stale_output(
    consumer: tuple[Path, dict[str, str]],
) -> None:
    root, _ = consumer
    stale = pre_commit(consumer, "dagsmith-check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "+++ b/generated_dags/etl/etl_sales.py" in stale.stdout

    # dagsmith-generate fixes the output, and fails because it changed files.
    fixed = pre_commit(consumer, "dagsmith-generate")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "8 created, 0 updated, 0 removed, 0 unchanged" in fixed.stdout
    assert (root / "generated_dags/etl/etl_sales.py").is_file()
    git(root, "add", "-A")

    assert pre_commit(consumer, "dagsmith-check").returncode == 0
    assert pre_commit(consumer, "dagsmith-generate").returncode == 0

    # A spec edit makes the check fail again, until generate runs.
    spec = root / "specs/etl/sales.yaml"
    spec.write_text(spec.read_text().replace("@daily", "@hourly"))
    git(root, "add", "-A")
    again = pre_commit(consumer, "dagsmith-check")
    assert again.returncode == 1
    assert '+    schedule="@hourly",' in again.stdout


def test_the_hooks_file_offers_both_hooks() -> None:
    hooks = {
        h["id"]: h
        for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    }
    assert set(hooks) == {"dagsmith-check", "dagsmith-generate"}
    for hook in hooks.values():
        assert hook["pass_filenames"] is False
        pattern = re.compile(hook["files"])
        for path in (
            "specs/a.yaml",
            "templates/t.py.j2",
            "generated_dags/n/d.py",
            "pyproject.toml",
        ):
            assert pattern.search(path), (hook["id"], path)
        assert not pattern.search("README.md")
        check_command(hook["entry"].split())


# CI examples


def test_github_workflow_checks_verifies_then_deploys_main() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/dags.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    jobs = workflow["jobs"]
    assert list(jobs) == ["check", "verify", "deploy"]
    assert sorted(jobs["deploy"]["needs"]) == ["check", "verify"]
    assert "refs/heads/main" in jobs["deploy"]["if"]
    summary = github_summary_step(workflow)
    assert summary["if"] == "github.event_name == 'pull_request'"
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    runs = {
        name: [s["run"] for s in job["steps"] if "run" in s and s is not summary]
        for name, job in jobs.items()
    }
    install = 'pip install "$DAGSMITH_REQUIREMENT"'
    assert runs["check"] == [install, "dagsmith check"]
    assert runs["verify"] == [install, "dagsmith verify"]
    assert runs["deploy"] == [install, 'dagsmith deploy --to "${{ vars.DAGS_FOLDER }}"']
    for job in jobs.values():  # pip's downloads are kept between runs
        (python,) = [s for s in job["steps"] if "setup-python" in s.get("uses", "")]
        assert python["with"]["cache"] == "pip"
    # Unset, the requirement installs this checkout, so the workflow runs here too.
    assert workflow["env"]["DAGSMITH_REQUIREMENT"].endswith("|| '.[airflow]' }}")
    for scripts in runs.values():
        for script in scripts:
            for words in commands_in(script):
                check_command(words)


def test_gitlab_pipeline_checks_verifies_then_deploys_main() -> None:
    pipeline = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
    assert pipeline["stages"] == ["check", "verify", "deploy"]
    assert pipeline["check"]["stage"] == "check"
    assert pipeline["verify"]["stage"] == "verify"
    deploy = pipeline["deploy"]
    assert sorted(deploy["needs"]) == ["check", "verify"]
    assert [r["if"] for r in deploy["rules"]] == [
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $DAGS_FOLDER"
    ]
    assert any("merge_request_event" in r["if"] for r in pipeline["check"]["rules"])
    assert pipeline["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert pipeline["default"]["cache"]["paths"] == [".cache/pip"]
    assert pipeline["default"]["before_script"] == [
        'pip install "${DAGSMITH_REQUIREMENT:-.[airflow]}"'
    ]
    for line in pipeline["default"]["before_script"]:
        check_command(line.split())
    assert [pipeline[job]["script"] for job in ("check", "verify", "deploy")] == [
        ["dagsmith check"],
        ["dagsmith verify"],
        ['dagsmith deploy --to "$DAGS_FOLDER"'],
    ]
    for job in ("check", "verify", "deploy"):
        for line in pipeline[job]["script"]:
            check_command(line.split())
    summary = pipeline["summary"]
    assert summary["stage"] == "verify"
    assert summary["artifacts"] == {
        "expose_as": "DAG changes",
        "paths": ["dag-summary.md"],
    }
    assert [r["if"] for r in summary["rules"]] == [
        '$CI_PIPELINE_SOURCE == "merge_request_event"'
    ]


def github_summary_step(workflow: dict[str, Any]) -> dict[str, Any]:
    (step,) = [
        s
        for s in workflow["jobs"]["verify"]["steps"]
        if s.get("name") == "summary for reviewers"
    ]
    return step


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository whose branch changes one spec against `base`."""
    top = tmp_path_factory.mktemp("pull-request")
    origin, branch = top / "origin", top / "branch"
    subprocess.run(["git", "clone", "-q", str(REPO), str(origin)], check=True)
    git(origin, "branch", "base")
    subprocess.run(["git", "clone", "-q", str(origin), str(branch)], check=True)
    spec = branch / "specs/etl/sales.yaml"
    spec.write_text(spec.read_text().replace("@daily", "@hourly"))
    env = {**os.environ, **GIT_IDENTITY}
    subprocess.run([str(BIN / "dagsmith"), "generate", "-q"], cwd=branch, check=True)
    subprocess.run(["git", "commit", "-qam", "hourly"], cwd=branch, env=env, check=True)
    return branch


def run_ci_script(script: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.airflow
def test_the_github_summary_step_writes_the_pull_requests_dag_changes(
    pull_request: Path, tmp_path: Path
) -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/dags.yml").read_text())
    summary_file = tmp_path / "summary.md"
    run_ci_script(
        github_summary_step(workflow)["run"],
        pull_request,
        {"GITHUB_BASE_REF": "base", "GITHUB_STEP_SUMMARY": str(summary_file)},
    )
    summary = summary_file.read_text()
    assert "### dagsmith: 0 DAGs added, 1 changed, 0 removed" in summary
    assert "`etl/etl_sales.py`" in summary
    assert git(pull_request, "status", "--porcelain") == "?? dag-summary.md"


@pytest.mark.airflow
def test_the_gitlab_summary_job_writes_the_merge_requests_dag_changes(
    pull_request: Path,
) -> None:
    pipeline = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
    script = "\n".join(pipeline["summary"]["script"])
    run_ci_script(script, pull_request, {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "base"})
    summary = (pull_request / "dag-summary.md").read_text()
    assert "1 changed" in summary
    assert "`etl/etl_sales.py`" in summary
    git(pull_request, "checkout", "-q", "HEAD", "--", "generated_dags")


def test_generated_files_collapse_in_pull_requests() -> None:
    assert (
        "generated_dags/** linguist-generated=true"
        in (REPO / ".gitattributes").read_text()
    )


# Makefile


# The targets issue 5 names; `make help` must list every one but itself.
DOCUMENTED = (
    "install",
    "generate",
    "check",
    "verify",
    "deploy",
    "test",
    "lint",
    "bench",
    "clean",
)


def test_the_makefile_has_the_documented_targets() -> None:
    assert make_targets() >= {"help", *DOCUMENTED}


def test_make_help_lists_every_target() -> None:
    result = subprocess.run(
        ["make", "help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    for target in DOCUMENTED:
        assert re.search(rf"make {target}\s", result.stdout), target


def test_make_deploy_without_a_folder_says_how(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "deploy", f"VENV={tmp_path}/none", "DEV_STAMP="],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "usage: make deploy DAGS_FOLDER=/path/to/airflow/dags" in result.stderr
