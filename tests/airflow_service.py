"""A real Airflow 3 service for the tests: `airflow standalone` on loopback.

It runs in a throwaway AIRFLOW_HOME with the SimpleAuthManager and one known
user, examples off, new DAGs unpaused, no scheduled runs (only triggered ones),
the dags folder scanned every few seconds, and the API on a free port of
127.0.0.1. `stop` ends every process it
started: the api-server's worker outlives its group leader, so the children
are collected first and every process that runs in this home is ended too.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USER, PASSWORD = "admin", "admin"
BUNDLE = "generated-dags"
GIT_BUNDLE = "dags-repository"
GIT_DAG = "etl_from_git"
IDENTITY = {
    "GIT_AUTHOR_NAME": "team",
    "GIT_AUTHOR_EMAIL": "team@example.com",
    "GIT_COMMITTER_NAME": "team",
    "GIT_COMMITTER_EMAIL": "team@example.com",
}
STARTUP_TIMEOUT = 180.0


@dataclass
class AirflowService:
    """A running Airflow: its address, folders and process."""

    url: str
    home: Path
    dags: Path
    data: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.home / "standalone.log"

    def client_env(self) -> dict[str, str]:
        """The environment `dagsmith trigger` reads its connection from."""
        return {
            "DAGSMITH_AIRFLOW_URL": self.url,
            "DAGSMITH_AIRFLOW_USERNAME": USER,
            "DAGSMITH_AIRFLOW_PASSWORD": PASSWORD,
        }

    def token(self) -> str:
        body = {"username": USER, "password": PASSWORD}
        return str(_call("POST", f"{self.url}/auth/token", body)[1]["access_token"])

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A raw call to the REST API v2: (status, JSON body)."""
        return _call(method, f"{self.url}/api/v2{path}", body, self.token())

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns?limit=100")[1]["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.request.quote(run_id, safe="")
        path = f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=1000"
        return list(self.api("GET", path)[1]["task_instances"])

    def dag_hashes(self) -> dict[str, str]:
        """Each DAG's serialized hash, as Airflow stored it (its metadata database)."""
        import sqlite3

        uri = f"file:{self.home / 'airflow.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            return dict(db.execute("SELECT dag_id, dag_hash FROM serialized_dag"))

    def wait_for_dags(self, dag_ids: set[str], timeout: float = 90.0) -> None:
        """Until Airflow serves every one of these DAGs."""
        deadline = time.monotonic() + timeout
        while True:
            served = {
                d["dag_id"] for d in self.api("GET", "/dags?limit=1000")[1]["dags"]
            }
            if dag_ids <= served or time.monotonic() > deadline:
                assert dag_ids <= served, f"not parsed: {dag_ids - served}"
                return
            time.sleep(1)


def _call(
    method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def dag_repository(folder: Path) -> Path:
    """A DAG repository as a team keeps one: specs, templates and the committed
    generated_dags/, one commit on main."""
    repo = Path(__file__).resolve().parent.parent
    (folder / "specs").mkdir(parents=True)
    (folder / "templates").mkdir()
    for name in ("etl_tables.py.j2", "etl_tables.schema.yaml"):
        (folder / "templates" / name).write_bytes(
            (repo / "templates" / name).read_bytes()
        )
    (folder / "pyproject.toml").write_text("[tool.dagsmith]\n")
    (folder / "specs" / "etl.yaml").write_text(
        f"dag_id: {GIT_DAG}\ntemplate: etl_tables\nnamespace: etl\nmaster_dict:\n"
        "  source: git_source\n  schedule: null\n  tables:\n"
        "    - {name: orders, key: order_id}\n"
    )
    commit(folder, "DAGs from specs", init=True)
    return folder


def commit(folder: Path, message: str, *, init: bool = False) -> str:
    """Generate, then commit everything on main; the new commit's sha."""
    dagsmith = Path(sys.executable).parent / "dagsmith"
    env = {**os.environ, **IDENTITY}
    run = functools.partial(subprocess.run, cwd=folder, env=env, check=True)
    run([str(dagsmith), "generate", "-q"])
    if init:
        run(["git", "init", "-q", "-b", "main"])
    run(["git", "add", "-A"])
    run(["git", "commit", "-q", "-m", message])
    sha = run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return str(sha).strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(root: Path) -> AirflowService:
    """Start `airflow standalone` under root and wait until it is healthy."""
    home, dags, data = root / "home", root / "dags", root / "data"
    for folder in (home, dags, data):
        folder.mkdir(parents=True, exist_ok=True)
    # The SimpleAuthManager's user: its password file is written first.
    (home / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({USER: PASSWORD})
    )
    # SQLite: the scheduler, the dag-processor and the api-server all read and
    # write one file. In WAL mode readers never block the writer (nor it them),
    # which ends the "database is locked" errors seen here under load; the mode
    # is kept in the file, so the database is created with it before Airflow
    # migrates it. Writers still take turns: wait up to 30 s, not pysqlite's 5.
    with contextlib.closing(sqlite3.connect(home / "airflow.db")) as database:
        database.execute("PRAGMA journal_mode=WAL")
    modules = root / "python"
    modules.mkdir(exist_ok=True)
    (modules / "dagsmith_test_sqlite.py").write_text('CONNECT_ARGS = {"timeout": 30}\n')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_folder = Path(sys.executable).parent
    env = {
        **os.environ,
        # standalone starts its components by running `airflow` from PATH.
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        # Only triggered runs: the scheduled examples (ETL, reports) would
        # otherwise start runs of their own as soon as they are deployed.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # Two cores: a few task processes at a time keep the API responsive.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # The dags folder, which deploy fills from generated_dags/, is served as
        # a LocalDagBundle of its own name, as a team would configure it; and a
        # DAG repository's committed generated_dags/, as a GitDagBundle.
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
            [
                {
                    "name": BUNDLE,
                    "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                    "kwargs": {"path": str(dags)},
                },
                {
                    "name": GIT_BUNDLE,
                    "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
                    "kwargs": {
                        "repo_url": str(dag_repository(root / "repository")),
                        "tracking_ref": "main",
                        "subdir": "generated_dags",
                        "refresh_interval": 2,
                    },
                },
            ]
        ),
        # Bundles keep their clones here, not in the machine's shared temp folder.
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "dag_bundles"),
        # Find deployed files within seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
        "DAGSMITH_DATA_ROOT": str(data),
        "PYTHONPATH": str(modules),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "dagsmith_test_sqlite.CONNECT_ARGS",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "dagsmith_test_sqlite.CONNECT_ARGS",
    }
    log = (home / "standalone.log").open("wb")
    process = subprocess.Popen(
        [str(bin_folder / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    service = AirflowService(url, home, dags, data, process)
    try:
        _wait_healthy(service)
    except BaseException:
        stop(service)
        raise
    return service


def _wait_healthy(service: AirflowService) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    components = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"airflow standalone ended: {_tail(service.log)}")
        try:
            status, health = _call("GET", f"{service.url}/api/v2/monitor/health")
        except (OSError, ValueError):
            status, health = 0, None
        if status == 200 and all(
            (health.get(name) or {}).get("status") == "healthy" for name in components
        ):
            return
        time.sleep(1)
    raise RuntimeError(
        f"Airflow not healthy in {STARTUP_TIMEOUT:g}s: {_tail(service.log)}"
    )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def stop(service: AirflowService) -> None:
    """End every process the service started, children and re-parented ones too."""
    import psutil

    family = {p.pid: p for p in in_home(service)}
    try:
        leader = psutil.Process(service.process.pid)
        family.update((p.pid, p) for p in [leader, *leader.children(recursive=True)])
    except psutil.NoSuchProcess:
        pass
    family.pop(os.getpid(), None)
    for process in family.values():
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(list(family.values()), timeout=15)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait(timeout=5)


def in_home(service: AirflowService) -> list[Any]:
    """The processes running in the service's AIRFLOW_HOME (none after `stop`)."""
    import psutil

    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("AIRFLOW_HOME") == str(service.home):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found
