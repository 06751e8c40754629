"""Start and follow DAG runs through Airflow 3's stable REST API (v2).

The run-time half of the old dag_creator: where an application used to rewrite
a DAG file with new parameters and trigger it, it now starts a run of one
reviewed DAG with a conf, and the DAG's mapped tasks follow that conf. The conf
is checked against the DAG's params before the run is created: against the
spec when it is at hand (`dagsmith trigger`), else against the params Airflow
serves for the DAG.

The calls go through the official `apache-airflow-client` (client.py). Nothing in
this module prints: status lines go to `say`, and the state of a run being
followed to `progress`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import AirflowError, ConfError
from ..params import Contract, check_conf
from .client import Airflow, RunStatus
from .connect import Sourced, connection

FINISHED = ("success", "failed")

log = logging.getLogger("dagsmith")


def _silent(text: str) -> None:
    log.info(text)


def _started(status: RunStatus) -> None:
    log.info("started %s run %s: %s", status.dag_id, status.run_id, status.url)


def _no_progress(status: RunStatus) -> None:
    """No progress to show."""


def trigger(
    dag_id: str,
    conf: Mapping[str, Any] | None = None,
    *,
    wait: bool = False,
    timeout: float = 600.0,
    unpause: bool = False,
    api_url: str | Sourced | None = None,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    ca_bundle: str | Sourced | None = None,
    environment: str | None = None,
    project_url: Sourced | None = None,
    contract: Contract | None = None,
    say: Callable[[str], None] = _silent,
    on_start: Callable[[RunStatus], None] = _started,
    progress: Callable[[RunStatus], None] = _no_progress,
    poll: float = 2.0,
) -> RunStatus:
    """Start a run of `dag_id` with `conf`; with `wait`, follow it until it ends.

    The conf is checked against `contract` (a spec's params) before any call,
    else against the params Airflow serves, still before the run is created:
    ConfError names the param. AirflowError when Airflow is unreachable,
    refuses a call or its certificate, or the run fails or outlasts `timeout`
    seconds. The connection comes from the arguments, then the environment
    (see connect.connection); `environment` picks its credentials' variables,
    and `project_url` is the address when neither gives one.
    """
    conf = dict(conf or {})
    if contract is not None:
        _check(contract, conf)
    reach = connection(
        api_url,
        token,
        username,
        password,
        ca_bundle=ca_bundle,
        environment=environment,
        project_url=project_url,
    )
    say(f"dagsmith: Airflow at {reach.url} ({reach.source})")
    airflow = Airflow(reach)
    deadline = time.monotonic() + timeout
    dag = airflow.wait_for_dag(dag_id, deadline, say, poll)
    if contract is None:
        _check(airflow.served_contract(dag_id), conf)
    if dag.is_paused:
        if not unpause:
            raise AirflowError(
                airflow.ui_url(dag_id),
                f"DAG {dag_id} is paused, so a run would wait in the queue; "
                "unpause it in Airflow, or pass --unpause",
            )
        airflow.unpause(dag_id)
        say(f"dagsmith: unpaused {dag_id}")
    run_id = airflow.start(dag_id, conf)
    status = RunStatus(dag_id, run_id, airflow.ui_url(dag_id, run_id), "queued")
    on_start(status)
    if not wait:
        return status
    while True:
        status = airflow.status(dag_id, run_id)
        progress(status)
        if status.state in FINISHED:
            return status
        if time.monotonic() >= deadline:
            raise AirflowError(
                status.url,
                f"run {run_id} is still {status.state} after {timeout:g}s "
                f"({status.done}/{status.total} tasks done); it goes on in Airflow",
            )
        time.sleep(poll)


def _check(contract: Contract, conf: Mapping[str, Any]) -> None:
    problems = check_conf(contract.params, conf, contract.where)
    if problems:
        raise ConfError(problems)
