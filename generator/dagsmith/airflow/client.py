"""Airflow 3's stable REST API (v2), through the official `apache-airflow-client`.

The calls `dagsmith trigger` makes, each turned into one clear line when it
fails (AirflowError). The client is imported only here, when a call is made
(`pip install 'dagsmith[client]'`).
"""

from __future__ import annotations

import functools
import json
import re
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import AirflowError, Position, ToolMissing
from ..params import Contract
from .connect import CA_BUNDLE_ENV, Connection

if TYPE_CHECKING:  # the client is imported only where a call is made
    from airflow_client.client import ApiException, DAGResponse, TaskInstanceResponse


# Seconds any one HTTP call may take; the wait for a run has its own timeout.
CALL_TIMEOUT = 30.0


READ_ATTEMPTS = 3


TASK_FINISHED = {"success", "failed", "skipped", "upstream_failed", "removed"}


T = TypeVar("T")


class ClientMissing(ToolMissing):
    """The official Airflow API client is not installed."""


class Airflow:
    """The calls dagsmith makes, over the official client, each error one clear line."""

    def __init__(self, connection: Connection) -> None:
        try:
            import airflow_client.client as client
        except ImportError:
            raise ClientMissing(
                "dagsmith trigger needs the Airflow API client: "
                "pip install 'dagsmith[airflow]'"
            ) from None
        self.client = client
        self.url = connection.url
        self.connection = connection
        # The client hands ssl_ca_cert to urllib3 as ca_certs; None loads the
        # system's certificates. There is no switch to turn verification off.
        configuration = client.Configuration(
            host=connection.url, ssl_ca_cert=connection.bundle.path
        )
        self.api = client.ApiClient(configuration)
        configuration.access_token = connection.token or self._sign_in(connection)

    def ui_url(self, dag_id: str, run_id: str | None = None) -> str:
        """The Airflow UI page of a DAG, or of one of its runs."""
        url = f"{self.url}/dags/{urllib.parse.quote(dag_id, safe='')}"
        if run_id is not None:
            url += f"/runs/{urllib.parse.quote(run_id, safe='')}"
        return url

    def wait_for_dag(
        self, dag_id: str, deadline: float, say: Callable[[str], None], poll: float
    ) -> DAGResponse:
        """The DAG, once Airflow has parsed it (a file just deployed may not be yet)."""
        from airflow_client.client.api.dag_api import DAGApi

        said = False
        while True:
            try:
                return self._read(
                    f"/api/v2/dags/{dag_id}",
                    lambda: DAGApi(self.api).get_dag(
                        dag_id, _request_timeout=CALL_TIMEOUT
                    ),
                    missing_ok=True,
                )
            except _Missing:
                pass
            if time.monotonic() >= deadline:
                raise AirflowError(
                    self.ui_url(dag_id),
                    f"Airflow does not know DAG {dag_id}: is it deployed, and does "
                    "it load? (`dagsmith verify`, and Airflow's import errors)",
                )
            if not said:
                say(f"dagsmith: waiting for Airflow to parse DAG {dag_id}…")
                said = True
            time.sleep(poll)

    def served_contract(self, dag_id: str) -> Contract:
        """The params of the DAG as Airflow serves it: the contract of a run's conf."""
        from airflow_client.client.api.dag_api import DAGApi

        path = f"/api/v2/dags/{dag_id}/details"
        details = self._read(
            path,
            lambda: DAGApi(self.api).get_dag_details(
                dag_id, _request_timeout=CALL_TIMEOUT
            ),
        )
        params = {
            name: {
                "default": served.get("value"),
                **(served.get("schema") or {}),
            }
            for name, served in (details.params or {}).items()
        }
        return Contract(params, lambda name: Position(f"{self.url}{path}", 0, 0))

    def unpause(self, dag_id: str) -> None:
        """Unpause a DAG."""
        from airflow_client.client.api.dag_api import DAGApi

        with self._calling(f"/api/v2/dags/{dag_id}"):
            DAGApi(self.api).patch_dag(
                dag_id,
                self.client.DAGPatchBody(is_paused=False),
                _request_timeout=CALL_TIMEOUT,
            )

    def start(self, dag_id: str, conf: Mapping[str, Any]) -> str:
        """Create a run with this conf (no logical date: runs of one DAG never clash)."""
        from airflow_client.client.api.dag_run_api import DagRunApi

        body = self.client.TriggerDAGRunPostBody(logical_date=None, conf=dict(conf))
        with self._calling(f"/api/v2/dags/{dag_id}/dagRuns"):
            run = DagRunApi(self.api).trigger_dag_run(
                dag_id, body, _request_timeout=CALL_TIMEOUT
            )
        return str(run.dag_run_id)

    def status(self, dag_id: str, run_id: str) -> RunStatus:
        """The run's state and how many of its task instances are finished."""
        from airflow_client.client.api.dag_run_api import DagRunApi

        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"
        run = self._read(
            path,
            lambda: DagRunApi(self.api).get_dag_run(
                dag_id, run_id, _request_timeout=CALL_TIMEOUT
            ),
        )
        instances = list(self.task_instances(dag_id, run_id))
        states = [_value(ti.state) for ti in instances]
        failed = tuple(
            _instance_name(ti)
            for ti, state in zip(instances, states, strict=True)
            if state == "failed"
        )
        return RunStatus(
            dag_id,
            run_id,
            self.ui_url(dag_id, run_id),
            _value(run.state) or "queued",
            sum(state in TASK_FINISHED for state in states),
            len(instances),
            failed,
        )

    def task_instances(self, dag_id: str, run_id: str) -> Iterator[Any]:
        """Every task instance of a run, mapped ones included, page by page."""
        from airflow_client.client.api.task_instance_api import TaskInstanceApi

        api = TaskInstanceApi(self.api)
        offset, page = 0, 100
        while True:
            batch = self._read(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                functools.partial(
                    api.get_task_instances,
                    dag_id,
                    run_id,
                    limit=page,
                    offset=offset,
                    _request_timeout=CALL_TIMEOUT,
                ),
            )
            yield from batch.task_instances
            offset += len(batch.task_instances)
            if not batch.task_instances or offset >= (batch.total_entries or 0):
                return

    def _sign_in(self, connection: Connection) -> str:
        """A token from `POST /auth/token` (Airflow's auth manager, outside /api/v2)."""
        with self._calling("/auth/token"):
            response = self.api.rest_client.request(  # type: ignore[no-untyped-call]
                "POST",
                f"{self.url}/auth/token",
                headers={"Content-Type": "application/json"},
                body={"username": connection.username, "password": connection.password},
                _request_timeout=CALL_TIMEOUT,
            )
            data = response.read()
            if not 200 <= response.status < 300:
                raise self.client.ApiException(
                    status=response.status, reason=response.reason, body=data.decode()
                )
        try:
            return str(json.loads(data)["access_token"])
        except (ValueError, KeyError, TypeError):
            raise AirflowError(
                f"{self.url}/auth/token", "Airflow answered without an access token"
            ) from None

    def _read(
        self, path: str, request: Callable[[], T], *, missing_ok: bool = False
    ) -> T:
        """A GET, tried again after a 5xx (a busy database, a restarting server).

        Calls that change something are never repeated: a 5xx may hide a
        change that was made.
        """
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                with self._calling(path, missing_ok=missing_ok):
                    return request()
            except AirflowError as error:
                if attempt == READ_ATTEMPTS or not error.transient:
                    raise
            time.sleep(attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _calling(self, path: str, *, missing_ok: bool = False) -> Iterator[None]:
        """Turn what can go wrong in one call into one clear line: AirflowError.

        No line ever holds a credential, whatever a server or a library said.
        """
        try:
            yield
        except Exception as error:
            if (
                missing_ok
                and isinstance(error, self.client.ApiException)
                and error.status == 404
            ):
                raise _Missing from None
            failure = self._failure(error)
            if failure is None:
                raise
            message, transient = failure
            for secret in (self.connection.token, self.connection.password):
                message = message.replace(secret, "***") if secret else message
            refused = AirflowError(f"{self.url}{path}", message)
            refused.transient = transient
            raise refused from None

    def _failure(self, error: Exception) -> tuple[str, bool] | None:
        """What a failed call says, and whether the same call may succeed a
        moment later (a 5xx); None for an error of dagsmith's own."""
        import urllib3

        tls = _tls_error(error)
        if tls is not None:
            return self._tls_failure(tls), False
        if isinstance(error, self.client.ApiException):
            return self._refusal(error), (error.status or 0) >= 500
        if isinstance(error, urllib3.exceptions.HTTPError):
            reason = str(getattr(error, "reason", None) or error)
            # "HTTPConnection(...): Failed to establish ...: [Errno 111] Connection refused"
            reason = re.sub(r"^.*\[Errno -?\d+\] ", "", reason).lower()
            unreachable = (
                f"Airflow is unreachable ({_short(reason)}); is it running, and is "
                f"the address right (from {self.connection.source})?"
            )
            return unreachable, False
        return None

    def _tls_failure(self, error: ssl.SSLError) -> str:
        """A TLS failure in one line: why the certificate was refused, and the
        bundle it was checked against; or why TLS failed at all."""
        bundle = self.connection.bundle
        if isinstance(error, ssl.SSLCertVerificationError):
            return (
                f"Airflow's certificate is not trusted (certificate verify failed: "
                f"{error.verify_message}), checked against {bundle}; name the "
                f"bundle of the CA that signed it with --ca-bundle or {CA_BUNDLE_ENV}"
            )
        reason = str(error.reason or error).lower().replace("_", " ")
        return (
            f"TLS with Airflow failed ({reason}); does the address's scheme match "
            "the server (https:// for TLS)?"
        )

    def _refusal(self, error: ApiException) -> str:
        """What Airflow said when it refused a call, in one line."""
        detail = _detail(error.body)
        if error.status in (401, 403):
            verb = "refused the credentials" if error.status == 401 else "forbids this"
            return (
                f"Airflow {verb} ({error.status}{': ' + detail if detail else ''}); "
                f"check {self.connection.credentials}"
            )
        if error.status == 0:  # the client's own failure
            return f"cannot talk to Airflow: {_short(error.reason)}"
        return f"Airflow refused ({error.status}): {detail or error.reason}"


class _Missing(Exception):
    """A 404 that a caller waits out."""


def _tls_error(error: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a failed call, if that is what it was.

    urllib3 wraps it (MaxRetryError's reason, an SSLError's argument), and the
    client turns it into an ApiException raised while handling it.
    """
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        found = pending.pop()
        if not isinstance(found, BaseException) or id(found) in seen:
            continue
        seen.add(id(found))
        if isinstance(found, ssl.SSLError):
            return found
        reason = getattr(found, "reason", None)
        pending += [reason, *found.args, found.__cause__, found.__context__]
    return None


def _detail(body: str | None) -> str:
    """Airflow's reason from an error body: its `detail`, first line only."""
    if not body:
        return ""
    try:
        detail = json.loads(body).get("detail", body)
    except (ValueError, AttributeError):
        detail = body
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    return _short(detail)


def _short(text: object) -> str:
    """The first line of a message."""
    return str(text).strip().splitlines()[0] if str(text).strip() else str(text)


def _value(state: object) -> str:
    """A state enum (or None) as its plain value."""
    return str(getattr(state, "value", state) or "")


def _instance_name(instance: TaskInstanceResponse) -> str:
    """A task instance as people find it in the UI: `step_2[1] (column 2: strip)`."""
    name = str(instance.task_id)
    if instance.map_index is not None and instance.map_index >= 0:
        name += f"[{instance.map_index}]"
    if instance.rendered_map_index:
        name += f" ({instance.rendered_map_index})"
    return name


@dataclass(frozen=True)
class RunStatus:
    """A DAG run as Airflow reports it: its state and its task instances."""

    dag_id: str
    run_id: str
    url: str
    state: str
    done: int = 0
    total: int = 0
    failed: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the run finished with success."""
        return self.state == "success"
