"""`dagsmith trigger`: start a run of a reviewed DAG with a conf, and follow it."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from .. import pipeline
from ..airflow.client import RunStatus
from ..airflow.connect import Sourced
from ..airflow.runs import trigger as start_run
from ..config import Settings
from ..errors import ConfError, Exit, InputError
from ..params import Contract
from .common import (
    color,
    environment_option,
    folder_options,
    quiet,
    say,
)


def _conf(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        conf = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--conf") from None
    if not isinstance(conf, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--conf")
    return conf


def _started(status: RunStatus) -> None:
    """The run id on stdout, for scripts; where to watch it, for people."""
    click.echo(status.run_id)
    say(f"dagsmith: started {status.dag_id} run {status.run_id}\n  {status.url}")


class RunLine:
    """The state of a run being followed: rewritten in place on a terminal,
    one line per change elsewhere (a CI log); nothing with --quiet."""

    def __init__(self) -> None:
        self.terminal = sys.stderr.isatty()
        self.last: tuple[str, int, int] | None = None

    def __call__(self, status: RunStatus) -> None:
        shown = (status.state, status.done, status.total)
        if quiet() or shown == self.last:
            return
        self.last = shown
        text = f"dagsmith: {status.state}, {status.done}/{status.total} tasks done"
        if self.terminal:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self.terminal and self.last is not None:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@click.command()
@click.argument("target", metavar="DAG_ID_OR_SPEC")
@click.option("--conf", metavar="JSON", help="The run's conf, a JSON object.")
@click.option("--wait", is_flag=True, help="Follow the run until it ends.")
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the DAG to appear and, with --wait, for the run.",
)
@click.option(
    "--api-url",
    metavar="URL",
    help="Airflow's address, e.g. http://localhost:8080 [env: DAGSMITH_AIRFLOW_URL; "
    "else [tool.dagsmith] airflow_url].",
)
@click.option(
    "--ca-bundle",
    metavar="PEM",
    help="The CA bundle that Airflow's certificate is checked against "
    "[env: DAGSMITH_AIRFLOW_CA_BUNDLE, else REQUESTS_CA_BUNDLE, SSL_CERT_FILE].",
)
@click.option("--unpause", is_flag=True, help="Unpause the DAG if it is paused.")
@environment_option
@folder_options
def trigger(
    settings: Settings,
    target: str,
    conf: str | None,
    wait: bool,
    timeout: float,
    api_url: str | None,
    ca_bundle: str | None,
    unpause: bool,
    environment: str | None,
) -> Exit:
    """Start a run of a DAG through Airflow's REST API, with a conf.

    The conf is checked against the spec's params before anything is sent
    (exit 2, naming the param and its line). Without a specs folder, it is
    checked against the params Airflow serves for the DAG. In a project with
    environments, --env says whose params and whose Airflow the run is for:
    [tool.dagsmith] airflow_url names each environment's address. Prints the
    run id on stdout; with --wait, follows the run and exits 0 on success, 1
    on failure, naming the failed tasks.

    \b
    Credentials come from the environment, never from files:
      DAGSMITH_AIRFLOW_TOKEN, or
      DAGSMITH_AIRFLOW_USERNAME and DAGSMITH_AIRFLOW_PASSWORD;
      with --env prod, DAGSMITH_AIRFLOW_TOKEN_PROD (and so on) first.

    \b
    Example:
      dagsmith trigger cleanup_on_demand --wait \\
        --conf '{"dataset_id": 8, "operation_dict": {"2": [3, 5]}}'
    """
    wanted = _conf(conf)
    contract = None
    if settings.specs.is_dir():
        try:
            spec = pipeline.spec_of(settings, target, environment)
        except InputError as error:
            raise ConfError(error.problems) from None
        document = spec.document
        contract = Contract(
            spec.params,
            lambda name: document.position_of(
                ("params",) if name is None else ("params", name), key=True
            ),
        )
        target = spec.dag_id
        environment = spec.environment or None
    else:
        environment = settings.environment(environment)
    address = settings.airflow_address(environment)
    line = RunLine()
    started = time.monotonic()
    try:
        status = start_run(
            target,
            wanted,
            wait=wait,
            timeout=timeout,
            unpause=unpause,
            api_url=Sourced(api_url, "--api-url") if api_url else None,
            ca_bundle=Sourced(ca_bundle, "--ca-bundle") if ca_bundle else None,
            environment=environment,
            project_url=Sourced(address.url, address.source) if address else None,
            contract=contract,
            say=say,
            on_start=_started,
            progress=line,
        )
    finally:
        line.close()
    if not wait:
        return Exit.OK
    took = f"{time.monotonic() - started:.0f}s"
    if status.succeeded:
        say(
            color(
                f"dagsmith: run {status.run_id} succeeded: {status.total} tasks in {took}",
                fg="green",
            )
        )
        return Exit.OK
    failed = "; ".join(status.failed) or "none reported"
    say(
        color(
            f"dagsmith: run {status.run_id} failed after {took}; failed tasks: {failed}",
            fg="red",
        )
    )
    return Exit.FAILED
