"""Where `trigger` finds Airflow, its CA bundle and its credentials, and what it says.

No Airflow here: addresses are closed ports of 127.0.0.1 (or a plain HTTP
server in a thread), so what is checked is the choice and the messages. The
TLS handshakes with real certificates, against a real Airflow, are in
test_tls.py.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import pyproject, run
from dagsmith.airflow.connect import (
    Bundle,
    Credentials,
    Sourced,
    bundle_for,
    connection,
    credentials_of,
)
from dagsmith.airflow.runs import trigger
from dagsmith.errors import AirflowError, ConfError
from test_trigger import closed_port

SECRET = "tok-3f9a1c-never-shown"
VARIABLES = (
    "DAGSMITH_AIRFLOW_URL",
    "DAGSMITH_AIRFLOW_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    *(
        f"DAGSMITH_AIRFLOW_{kind}{suffix}"
        for kind in ("TOKEN", "USERNAME", "PASSWORD")
        for suffix in ("", "_DEV", "_PROD", "_PROD_EU")
    ),
)


@pytest.fixture(autouse=True)
def no_airflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def pem(folder: Path, name: str) -> str:
    """A file that loads as a CA bundle: the system's own certificates."""
    system = ssl.get_default_verify_paths().cafile
    assert system, "the system has a CA bundle"
    path = folder / name
    path.write_bytes(Path(system).read_bytes())
    return str(path)


# The CA bundle: which one, and a bad one said clearly.


@pytest.mark.parametrize(
    ("argument", "variables", "chosen"),
    [
        (None, {}, None),
        (None, {"SSL_CERT_FILE": "c.pem"}, "SSL_CERT_FILE"),
        (
            None,
            {"REQUESTS_CA_BUNDLE": "b.pem", "SSL_CERT_FILE": "c.pem"},
            "REQUESTS_CA_BUNDLE",
        ),
        (
            None,
            {
                "DAGSMITH_AIRFLOW_CA_BUNDLE": "a.pem",
                "REQUESTS_CA_BUNDLE": "b.pem",
                "SSL_CERT_FILE": "c.pem",
            },
            "DAGSMITH_AIRFLOW_CA_BUNDLE",
        ),
        ("arg.pem", {"DAGSMITH_AIRFLOW_CA_BUNDLE": "a.pem"}, "the ca_bundle argument"),
        # Empty counts as unset, as it does for requests.
        (None, {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "c.pem"}, "SSL_CERT_FILE"),
    ],
)
def test_the_bundle_is_the_first_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argument: str | None,
    variables: dict[str, str],
    chosen: str | None,
) -> None:
    paths = {
        name: pem(tmp_path, name) for name in ("a.pem", "b.pem", "c.pem", "arg.pem")
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, paths.get(value, value))
    bundle = bundle_for("https://airflow.example.com", argument and paths[argument])
    if chosen is None:
        assert bundle == Bundle()
        assert str(bundle).startswith("the client's default bundle (")
    else:
        assert bundle.source == chosen
        assert bundle.path is not None
        assert Path(bundle.path).parent == tmp_path
        assert str(bundle) == f"{bundle.path} (from {chosen})"
    # An option of the CLI is said as the option.
    option = bundle_for("https://a.example", Sourced(paths["a.pem"], "--ca-bundle"))
    assert option.source == "--ca-bundle"


def test_a_plain_http_address_uses_no_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/no/such/bundle.pem")
    assert bundle_for("http://localhost:8080") == Bundle()
    with pytest.raises(ConfError):
        bundle_for("HTTPS://localhost:8443")


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("missing", "does not exist; name the PEM bundle of the CA"),
        ("folder", "is a folder; name a PEM file"),
        (
            "garbage",
            "is not a PEM bundle of CA certificates (no certificate or crl found)",
        ),
    ],
)
def test_a_bundle_that_is_not_one_is_exit_2_naming_the_variable(
    folder: Path, monkeypatch: pytest.MonkeyPatch, kind: str, said: str
) -> None:
    path = {"missing": folder / "missing.pem", "folder": folder}.get(
        kind, folder / "x.pem"
    )
    if kind == "garbage":
        path.write_text("not a certificate\n")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_CA_BUNDLE", str(path))
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", SECRET)
    url = f"https://127.0.0.1:{closed_port()}"
    result = run("trigger", "some_dag", "--api-url", url)
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"DAGSMITH_AIRFLOW_CA_BUNDLE: {path} {said}")
    assert result.stderr.rstrip().endswith("No run was created.")
    assert SECRET not in result.output
    # The function says its own argument.
    with pytest.raises(ConfError, match=f"the ca_bundle argument: {path} "):
        trigger("some_dag", api_url=url, token="t", ca_bundle=str(path))


@pytest.fixture
def plain_http() -> Iterator[int]:
    """A plain HTTP server on 127.0.0.1, for an https:// address that is wrong."""
    server = http.server.HTTPServer(
        ("127.0.0.1", 0), http.server.BaseHTTPRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_tls_with_a_server_that_speaks_none_is_its_own_line(plain_http: int) -> None:
    url = f"https://127.0.0.1:{plain_http}"
    with pytest.raises(AirflowError) as raised:
        trigger("some_dag", api_url=url, token=SECRET)
    (problem,) = raised.value.problems
    assert str(problem) == (
        f"{url}/api/v2/dags/some_dag: TLS with Airflow failed (wrong version number); "
        "does the address's scheme match the server (https:// for TLS)?"
    )
    assert SECRET not in str(raised.value)


# The address: which one, and the status line that says it.

ENVIRONMENTS = 'environments = ["dev", "prod"]\n'


def airflow_line(result: Result) -> str:
    (line,) = [
        x for x in result.stderr.splitlines() if x.startswith("dagsmith: Airflow at")
    ]
    return line


@pytest.mark.parametrize(
    ("given", "variable", "table", "source"),
    [
        ("api", "env", "table", "--api-url"),
        (None, "env", "table", "DAGSMITH_AIRFLOW_URL"),
        (None, None, "table", "pyproject.toml:3, env prod"),
        (None, None, "one", "pyproject.toml:3"),
    ],
)
def test_the_address_is_the_option_then_the_variable_then_the_project(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: str | None,
    variable: str | None,
    table: str,
    source: str,
) -> None:
    ports = {name: closed_port() for name in ("api", "env", "dev", "prod", "one")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    if table == "table":
        pyproject(
            folder,
            ENVIRONMENTS
            + f'airflow_url = {{ dev = "{url["dev"]}", prod = "{url["prod"]}" }}\n',
        )
    else:
        pyproject(folder, ENVIRONMENTS + f'airflow_url = "{url["one"]}"\n')
    if variable:
        monkeypatch.setenv("DAGSMITH_AIRFLOW_URL", url["env"])
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", SECRET)
    args = ["trigger", "some_dag", "--env", "prod"]
    result = run(*args, *(["--api-url", url["api"]] if given else []))
    assert result.exit_code == 1, result.output
    used = {"--api-url": "api", "DAGSMITH_AIRFLOW_URL": "env"}.get(source, table)
    used = "prod" if used == "table" else used
    assert airflow_line(result) == f"dagsmith: Airflow at {url[used]} ({source})"
    assert result.stderr.splitlines()[-1] == (
        f"{url[used]}/api/v2/dags/some_dag: Airflow is unreachable (connection "
        f"refused); is it running, and is the address right (from {source})?"
    )
    assert SECRET not in result.output


def test_an_environment_without_an_address_says_where_to_set_one(folder: Path) -> None:
    pyproject(
        folder,
        ENVIRONMENTS + 'airflow_url = { prod = "https://airflow.example.com" }\n',
    )
    result = run("trigger", "some_dag", "--env", "dev")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "environment: no Airflow to talk to: pass --api-url, set DAGSMITH_AIRFLOW_URL, "
        "or set [tool.dagsmith] airflow_url"
    )
    undeclared = run("trigger", "some_dag", "--env", "qa")
    assert undeclared.exit_code == 2
    assert undeclared.stderr.startswith("--env: 'qa' is not a declared environment")


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("localhost:8080", "'localhost:8080' is not an http(s) URL"),
        (
            "ftp://airflow.example.com",
            "'ftp://airflow.example.com' is not an http(s) URL",
        ),
        (
            f"https://admin:{SECRET}@airflow.example.com",
            "the address holds credentials",
        ),
    ],
)
def test_an_address_from_the_environment_is_checked_too(
    folder: Path, monkeypatch: pytest.MonkeyPatch, variable: str, said: str
) -> None:
    monkeypatch.setenv("DAGSMITH_AIRFLOW_URL", variable)
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", "t")
    result = run("trigger", "some_dag")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"DAGSMITH_AIRFLOW_URL: {said}")
    assert SECRET not in result.output


# Credentials: the environment's own variables first.


def test_an_environments_credentials_come_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGSMITH_AIRFLOW_URL", "http://airflow:8080")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", "plain")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN_PROD", "prod's")
    assert connection(environment="prod").token == "prod's"
    assert connection(environment="prod").credentials == Credentials(
        "DAGSMITH_AIRFLOW_TOKEN_PROD",
        "DAGSMITH_AIRFLOW_USERNAME_PROD",
        "DAGSMITH_AIRFLOW_PASSWORD_PROD",
    )
    # Another environment, or none, has the plain ones.
    assert connection(environment="dev").token == "plain"
    assert connection().token == "plain"
    # A name that is not a variable's is made one: upper case, `_` for the rest.
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN_PROD_EU", "eu's")
    assert connection(environment="prod-eu").token == "eu's"
    # An argument wins over both.
    assert connection(token="given", environment="prod").token == "given"


def test_an_environments_credentials_are_a_set_never_mixed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGSMITH_AIRFLOW_URL", "http://airflow:8080")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", "plain")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_USERNAME_PROD", "deployer")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_PASSWORD_PROD", "prod-password")
    found = connection(environment="prod")
    assert (found.token, found.username, found.password) == (
        None,
        "deployer",
        "prod-password",
    )
    monkeypatch.delenv("DAGSMITH_AIRFLOW_PASSWORD_PROD")
    with pytest.raises(ConfError) as raised:
        connection(environment="prod")
    assert [p.message for p in raised.value.problems] == [
        "no credentials: set DAGSMITH_AIRFLOW_TOKEN_PROD, or "
        "DAGSMITH_AIRFLOW_USERNAME_PROD and DAGSMITH_AIRFLOW_PASSWORD_PROD"
    ]
    # A half set is still prod's: the plain token does not fill it in.
    assert credentials_of("prod").token == "DAGSMITH_AIRFLOW_TOKEN_PROD"
    assert credentials_of("dev") == Credentials()


# A token is never printed.


def test_a_token_is_never_printed(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", SECRET)
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN_PROD", SECRET + "-prod")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_PASSWORD", SECRET + "-password")
    pyproject(folder, ENVIRONMENTS)
    help_text = run("trigger", "--help")
    assert help_text.exit_code == 0
    assert "DAGSMITH_AIRFLOW_TOKEN_PROD" in help_text.output
    url = f"http://127.0.0.1:{closed_port()}"
    unreachable = run("trigger", "some_dag", "--api-url", url, "--env", "prod")
    assert unreachable.exit_code == 1
    bad_bundle = run(
        "trigger",
        "some_dag",
        "--api-url",
        "https://a.example",
        "--ca-bundle",
        "/nothing",
    )
    assert bad_bundle.exit_code == 2
    for result in (help_text, unreachable, bad_bundle):
        assert SECRET not in result.output
    assert SECRET not in repr(connection(api_url=url))
