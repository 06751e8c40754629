"""Template packs: templates from installed distributions, named PACK/NAME.

Most tests install the example pack (examples/template-pack) the way pip
lays out an installed distribution, a package folder beside its
`.dist-info` with `entry_points.txt`, on a folder put on sys.path: dagsmith
finds it through importlib.metadata as it finds any installed pack. The
last test builds a real wheel with pip and installs it into a fresh venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import REPO, Project

PACK_SOURCE = REPO / "examples/template-pack"
USES_PACK = REPO / "examples/uses-pack"
MODULE = "acme_dag_templates"


def install_pack(
    site: Path,
    version: str = "1.0.0",
    distribution: str = "acme-dag-templates",
    pack: str = "acme",
    module: str = MODULE,
    edit: dict[str, str] | None = None,
) -> Path:
    """The example pack as pip installs it, in `site`: the package and its
    dist-info; `edit` replaces files of the package."""
    shutil.copytree(PACK_SOURCE / MODULE, site / module)
    for name, text in (edit or {}).items():
        (site / module / name).write_text(text, encoding="utf-8")
    info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
    )
    (info / "entry_points.txt").write_text(f"[dagsmith.templates]\n{pack} = {module}\n")
    return site / module


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for installed distributions."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def uses_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A copy of examples/uses-pack, generated and committed, as the working folder."""
    root = tmp_path / "uses-pack"
    shutil.copytree(USES_PACK, root)
    monkeypatch.chdir(root)
    return Project(root)


def test_the_committed_example_is_what_the_pack_gives(
    site: Path, uses_pack: Project
) -> None:
    install_pack(site)
    check = uses_pack.run("check")
    assert check.exit_code == 0, check.output
    record = uses_pack.read("generated_dags/.dagsmith-record")
    assert '["pack", "acme", "acme-dag-templates", "1.0.0"]' in record
    # The partial the pack's templates include is in their closure and keys.
    assert (
        '["template", "acme/table_sync", "acme/table_sync.py.j2", "acme/_imports.j2"]'
        in record
    )


def test_templates_lists_the_projects_and_the_packs_templates(
    site: Path, uses_pack: Project
) -> None:
    install_pack(site)
    listed = uses_pack.run("templates")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["name", "source", "kind", "contract", "specs"]
    assert lines[1].split() == [
        "acme/file_export",
        "acme-dag-templates",
        "1.0.0",
        "jinja",
        "requires",
        "report,",
        "formats,",
        "recipients",
        "1",
    ]
    as_json = json.loads(uses_pack.run("templates", "--json").stdout)
    assert {r["name"]: r["specs"] for r in as_json} == {
        "acme/file_export": 1,
        "acme/table_sync": 1,
        "dagsmith/tasks": 0,
    }
    sync = next(r for r in as_json if r["name"] == "acme/table_sync")
    assert sync == {
        "name": "acme/table_sync",
        "source": "acme-dag-templates 1.0.0",
        "kind": "jinja",
        "contract": True,
        "required": ["source", "tables"],
        "specs": 1,
    }


def test_new_and_schema_use_a_packs_contract(site: Path, uses_pack: Project) -> None:
    install_pack(site)
    made = uses_pack.run("new", "acme/table_sync", "sync_erp")
    assert made.exit_code == 0, made.output
    text = uses_pack.read("specs/table_sync/sync_erp.yaml")
    assert "template: acme/table_sync\n" in text
    assert "# the source system to copy from" in text
    schema = json.loads(uses_pack.run("schema").stdout)
    assert "acme/table_sync" in json.dumps(schema)


def test_an_upgrade_that_changes_a_template_rewrites_only_its_dags_and_the_record(
    site: Path, uses_pack: Project
) -> None:
    template = (PACK_SOURCE / MODULE / "table_sync.py.j2").read_text()
    changed = template.replace('tags=["acme", "sync"]', 'tags=["acme", "sync", "v2"]')
    install_pack(site, "2.0.0", edit={"table_sync.py.j2": changed})
    before = uses_pack.outputs()
    check = uses_pack.run("check")
    assert check.exit_code == 1
    assert (
        "dagsmith: templates from acme 2.0.0; the output was generated with 1.0.0: "
        "1 DAG file change" in check.stderr
    )
    assert '+    tags=["acme", "sync", "v2"],\n' in check.stdout
    generated = uses_pack.run("generate")
    assert generated.exit_code == 0, generated.output
    after = uses_pack.outputs()
    assert [p for p in after if after[p] != before[p]] == [
        ".dagsmith-record",
        "sync/sync_crm.py",
    ]
    assert (
        '["pack", "acme", "acme-dag-templates", "2.0.0"]'
        in after[".dagsmith-record"].decode()
    )


def test_an_upgrade_that_changes_no_template_rewrites_only_the_record(
    site: Path, uses_pack: Project
) -> None:
    install_pack(site, "1.0.1")
    before = uses_pack.outputs()
    check = uses_pack.run("check")
    assert check.exit_code == 1
    assert (
        "templates from acme 1.0.1 give the DAGs that 1.0.0 gave: only the record "
        "changes" in check.stderr
    )
    assert "record to update" in check.stderr
    assert uses_pack.run("generate").exit_code == 0
    after = uses_pack.outputs()
    assert [p for p in after if after[p] != before[p]] == [".dagsmith-record"]


def test_a_missing_pack_names_the_distribution_the_record_pins(
    uses_pack: Project,
) -> None:
    before = uses_pack.outputs()
    result = uses_pack.run("generate")
    assert result.exit_code == 2
    assert (
        "specs/sync/crm.yaml:2:11: unknown template 'acme/table_sync': no installed "
        "pack is named 'acme' (installed packs: dagsmith); the committed record "
        "says acme-dag-templates 1.0.0 provides it: pip install "
        "'acme-dag-templates==1.0.0'"
    ) in result.stderr
    assert uses_pack.outputs() == before


def test_a_template_the_pack_lacks_lists_the_ones_it_has(
    site: Path, uses_pack: Project
) -> None:
    install_pack(site)
    spec = uses_pack.read("specs/sync/crm.yaml")
    uses_pack.write("specs/sync/crm.yaml", spec.replace("table_sync", "table_copy"))
    result = uses_pack.run("validate")
    assert result.exit_code == 2
    assert (
        "specs/sync/crm.yaml:2:11: unknown template 'acme/table_copy': pack 'acme' "
        "(acme-dag-templates 1.0.0) has no template 'table_copy'; its templates: "
        "file_export, table_sync"
    ) in result.stderr


def test_two_distributions_claiming_one_pack_are_refused(
    site: Path, uses_pack: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_pack(site)
    other = tmp_path / "other-site"
    other.mkdir()
    monkeypatch.syspath_prepend(str(other))
    install_pack(
        other, "3.1.0", distribution="acme-legacy-templates", module="acme_old"
    )
    result = uses_pack.run("validate")
    assert result.exit_code == 2
    assert (
        "unknown template 'acme/table_sync': pack 'acme' is claimed by two installed "
        "distributions, acme-dag-templates 1.0.0 and acme-legacy-templates 3.1.0; "
        "uninstall one of them"
    ) in result.stderr


def test_an_error_in_a_pack_file_names_the_pack_the_version_and_the_file(
    site: Path, uses_pack: Project
) -> None:
    folder = install_pack(
        site, edit={"_imports.j2": "from datetime import datetime\n{% if %}\n"}
    )
    result = uses_pack.run("generate")
    assert result.exit_code == 2
    assert (
        "acme/_imports.j2:2:1: template syntax error: Expected an expression, got "
        f"'end of statement block' (pack acme: acme-dag-templates 1.0.0, "
        f"{folder}/_imports.j2)"
    ) in result.stderr


def test_a_broken_pack_that_no_spec_uses_breaks_nothing(
    site: Path, project: Project
) -> None:
    install_pack(site, edit={"table_sync.py.j2": "{% if %}\n"})
    result = project.run("generate")
    assert result.exit_code == 0, result.output
    # Not remembered as checked: a spec that starts using it hears of it.
    project.write(
        "specs/sync.yaml",
        "dag_id: sync_x\ntemplate: acme/table_sync\nnamespace: sync\n"
        "master_dict: {source: x, tables: [a]}\n",
    )
    again = project.run("generate")
    assert again.exit_code == 2
    assert "acme/table_sync.py.j2:1:1: template syntax error" in again.stderr


def test_a_project_folder_named_like_a_pack_is_refused(
    site: Path, project: Project
) -> None:
    install_pack(site)
    project.write("templates/acme/header.j2", "# header\n")
    result = project.run("validate")
    assert result.exit_code == 2
    assert (
        "templates/acme/header.j2:1:1: templates/acme/ has the name of the installed "
        "pack 'acme' (acme-dag-templates 1.0.0)"
    ) in result.stderr


# A real wheel in a fresh venv


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.mark.airflow  # graph builds the DAG in Airflow
def test_a_real_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    """pip builds the example pack's wheel and installs it into a new venv
    that sees dagsmith; generate, check, templates, lint, graph and new run there;
    an upgrade and an uninstall behave as the tests above say."""
    wheels = tmp_path / "wheels"
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        wheels,
        PACK_SOURCE,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("acme_dag_templates-1.0.0-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin/python"
    # The new venv sees this one's packages (dagsmith, Airflow, ruff), as a
    # project's venv sees what it installed; the pack is its own.
    (site_packages,) = (env / "lib").glob("python3*/site-packages")
    ours = [p for p in sys.path if p.endswith("site-packages")]
    lines = [f"import site; site.addsitedir({path!r})\n" for path in ours]
    (site_packages / "dev.pth").write_text("".join(lines))
    pip = (sys.executable, "-m", "pip", "--python", python, "-q")
    assert run(*pip, "install", "--no-deps", wheel).returncode == 0
    project = tmp_path / "uses-pack"
    shutil.copytree(USES_PACK, project)

    def dagsmith(*args: str) -> subprocess.CompletedProcess[str]:
        return run(python, "-m", "dagsmith", *args, cwd=project)

    assert dagsmith("check").returncode == 0
    assert dagsmith("generate").returncode == 0
    listed = dagsmith("templates")
    rows = [line.split()[:3] for line in listed.stdout.splitlines()]
    assert ["acme/table_sync", "acme-dag-templates", "1.0.0"] in rows
    linted = dagsmith("lint")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    graphed = dagsmith("graph", "sync_crm")
    assert '    t0["copy_table"]\n' in graphed.stdout, graphed.stderr
    assert dagsmith("new", "acme/file_export", "export_sales").returncode == 0
    assert (
        "template: acme/file_export\n"
        in (project / "specs/file_export/export_sales.yaml").read_text()
    )
    # Version 2 changes one template.
    source = tmp_path / "pack-v2"
    shutil.copytree(PACK_SOURCE, source)
    meta = source / "pyproject.toml"
    meta.write_text(meta.read_text().replace('version = "1.0.0"', 'version = "2.0.0"'))
    template = source / MODULE / "file_export.py.j2"
    template.write_text(template.read_text().replace('"export"]', '"export", "v2"]'))
    assert (
        run(*pip[:3], "wheel", "--no-deps", "-q", "-w", wheels, source).returncode == 0
    )
    (wheel2,) = wheels.glob("acme_dag_templates-2.0.0-*.whl")
    assert run(*pip, "install", "--no-deps", wheel2).returncode == 0
    (project / "specs/file_export/export_sales.yaml").unlink()
    check = dagsmith("check")
    assert check.returncode == 1
    assert (
        "templates from acme 2.0.0; the output was generated with 1.0.0: "
        "1 DAG file change"
    ) in check.stderr
    before = {p: p.read_bytes() for p in (project / "generated_dags").rglob("*.py")}
    assert dagsmith("generate").returncode == 0
    changed = [p.name for p, b in before.items() if p.read_bytes() != b]
    assert changed == ["export_finance.py"]
    # Uninstalled: exit 2, the distribution named, nothing written.
    assert run(*pip, "uninstall", "-y", "acme-dag-templates").returncode == 0
    record = (project / "generated_dags/.dagsmith-record").read_bytes()
    gone = dagsmith("generate")
    assert gone.returncode == 2
    assert "pip install 'acme-dag-templates==2.0.0'" in gone.stderr
    assert (project / "generated_dags/.dagsmith-record").read_bytes() == record
    assert os.path.exists(project / "generated_dags/exports/export_finance.py")
