"""`dagsmith trigger` over TLS, against the real Airflow of the service fixture.

A CA and a server certificate for 127.0.0.1 are made here; a TLS front in
this process (tls_front.py) serves the fixture's api-server with them. The
right bundle reaches Airflow and creates a run; no bundle, or another CA's,
is refused with the certificate's own line, and no run is created. The token
is never printed, whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_service import PASSWORD, USER, AirflowService
from click.testing import CliRunner, Result
from dagsmith import trigger
from dagsmith.cli import main
from dagsmith.errors import AirflowError
from tls_front import Certificates, TlsFront, certificates

pytestmark = [pytest.mark.airflow, pytest.mark.service]

DAG_ID = "tls_probe"
PROBE = f"""\
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG({DAG_ID!r}, schedule=None):
    EmptyOperator(task_id="nothing")
"""
CLEARED = (
    "DAGSMITH_AIRFLOW_URL",
    "DAGSMITH_AIRFLOW_TOKEN",
    "DAGSMITH_AIRFLOW_TOKEN_PROD",
    "DAGSMITH_AIRFLOW_USERNAME",
    "DAGSMITH_AIRFLOW_PASSWORD",
    "DAGSMITH_AIRFLOW_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
)
UNTRUSTED = (
    "Airflow's certificate is not trusted (certificate verify failed: unable to "
    "get local issuer certificate), checked against {}; name the bundle of the "
    "CA that signed it with --ca-bundle or DAGSMITH_AIRFLOW_CA_BUNDLE"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def front(airflow_service: AirflowService, files: Certificates) -> Iterator[TlsFront]:
    """The service's api-server behind TLS, with the probe DAG parsed."""
    (airflow_service.dags / "dagsmith_tls_probe.py").write_text(PROBE)
    airflow_service.wait_for_dags({DAG_ID})
    port = int(airflow_service.url.rsplit(":", 1)[1])
    tls = TlsFront(files, port)
    try:
        yield tls
    finally:
        tls.close()


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's folder: a pyproject.toml that names prod's Airflow, no
    specs (the conf is checked against the params Airflow serves)."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, **env: str) -> Result:
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


def run_ids(service: AirflowService) -> set[str]:
    return {r["dag_run_id"] for r in service.runs(DAG_ID)}


def test_the_right_bundle_reaches_airflow_at_the_environments_address(
    operator: Path,
    front: TlsFront,
    files: Certificates,
    airflow_service: AirflowService,
) -> None:
    (operator / "pyproject.toml").write_text(
        '[tool.dagsmith]\nenvironments = ["dev", "prod"]\n'
        f'airflow_url = {{ dev = "http://127.0.0.1:1", prod = "{front.url}" }}\n'
    )
    token = airflow_service.token()
    result = run(
        "trigger",
        DAG_ID,
        "--env",
        "prod",
        # prod's token wins; the plain one would be refused.
        DAGSMITH_AIRFLOW_TOKEN_PROD=token,
        DAGSMITH_AIRFLOW_TOKEN="not-prods-token",
        # The named bundle wins over the ecosystem's variables.
        DAGSMITH_AIRFLOW_CA_BUNDLE=str(files.ca),
        REQUESTS_CA_BUNDLE=str(files.other_ca),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"dagsmith: Airflow at {front.url} (pyproject.toml:3, env prod)"
    )
    run_id = result.stdout.strip()
    assert run_id in run_ids(airflow_service)
    assert f"{front.url}/dags/{DAG_ID}/runs/" in result.stderr
    assert token not in result.output


@pytest.mark.parametrize("bundle", ["none", "another CA"])
def test_an_untrusted_certificate_is_its_own_line_and_no_run(
    operator: Path,
    front: TlsFront,
    files: Certificates,
    airflow_service: AirflowService,
    bundle: str,
) -> None:
    token = airflow_service.token()
    before = run_ids(airflow_service)
    handshakes = front.handshakes_failed
    args = ["--ca-bundle", str(files.other_ca)] if bundle == "another CA" else []
    result = run(
        "trigger",
        DAG_ID,
        *args,
        DAGSMITH_AIRFLOW_URL=front.url,
        DAGSMITH_AIRFLOW_TOKEN=token,
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"dagsmith: Airflow at {front.url} (DAGSMITH_AIRFLOW_URL)"
    assert len(lines) == 2, lines
    where, message = lines[1].split(": ", 1)
    assert where == f"{front.url}/api/v2/dags/{DAG_ID}"
    if args:
        assert message == UNTRUSTED.format(f"{files.other_ca} (from --ca-bundle)")
    else:
        # The system's bundle, whichever file that is on this machine.
        before_bundle, after_bundle = UNTRUSTED.split("{}")
        assert message.startswith(before_bundle + "the client's default bundle (/")
        assert message.endswith(after_bundle)
    assert "unreachable" not in message
    assert front.handshakes_failed > handshakes  # the front saw the refusal
    assert run_ids(airflow_service) == before
    assert token not in result.output


def test_the_function_signs_in_over_tls_with_ssl_cert_file(
    front: TlsFront,
    files: Certificates,
    airflow_service: AirflowService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No bundle named by dagsmith's own variable or argument: OpenSSL's is used,
    # and a username and password sign in (POST /auth/token) through the front.
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))
    started = trigger(DAG_ID, api_url=front.url, username=USER, password=PASSWORD)
    assert started.run_id in run_ids(airflow_service)
    # The same sign-in with the other CA's bundle is refused at /auth/token.
    with pytest.raises(AirflowError) as raised:
        trigger(
            DAG_ID,
            api_url=front.url,
            username=USER,
            password=PASSWORD,
            ca_bundle=str(files.other_ca),
        )
    (problem,) = raised.value.problems
    assert str(problem) == f"{front.url}/auth/token: " + UNTRUSTED.format(
        f"{files.other_ca} (from the ca_bundle argument)"
    )


def test_a_refused_token_over_tls_is_never_printed(
    operator: Path, front: TlsFront, files: Certificates
) -> None:
    (operator / "pyproject.toml").write_text(
        '[tool.dagsmith]\nenvironments = ["dev", "prod"]\n'
    )
    secret = "eyJ-not-a-token-of-this-airflow-7c1d"
    result = run(
        "trigger",
        DAG_ID,
        "--env",
        "prod",
        "--ca-bundle",
        str(files.ca),
        "--api-url",
        front.url,
        DAGSMITH_AIRFLOW_TOKEN_PROD=secret,
    )
    assert result.exit_code == 1, result.output
    # Airflow 3.3 answers a token it did not sign with 403.
    assert result.stderr.splitlines()[-1] == (
        f"{front.url}/api/v2/dags/{DAG_ID}: Airflow forbids this (403: Invalid JWT "
        "token); check DAGSMITH_AIRFLOW_TOKEN_PROD, or DAGSMITH_AIRFLOW_USERNAME_PROD "
        "and DAGSMITH_AIRFLOW_PASSWORD_PROD"
    )
    assert secret not in result.output
