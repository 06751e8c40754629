"""Where Airflow is, how its certificate is checked, and who signs in: a Connection.

Each value comes from the first place that gives it, and that place is kept,
so that a status line or an error can say it: the caller's argument (an
option of `dagsmith trigger`), then the DAGSMITH_AIRFLOW_* environment, then,
for the address only, `[tool.dagsmith] airflow_url`. Credentials come from
arguments or the environment, never from a file: pyproject.toml is committed.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from ..addresses import url_problem
from ..errors import ConfError, Position, Problem

URL_ENV = "DAGSMITH_AIRFLOW_URL"


TOKEN_ENV = "DAGSMITH_AIRFLOW_TOKEN"


USERNAME_ENV = "DAGSMITH_AIRFLOW_USERNAME"


PASSWORD_ENV = "DAGSMITH_AIRFLOW_PASSWORD"


CA_BUNDLE_ENV = "DAGSMITH_AIRFLOW_CA_BUNDLE"


# What the rest of the Python ecosystem honours when nothing names a bundle:
# requests' variable, then OpenSSL's.
ECOSYSTEM_BUNDLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@dataclass(frozen=True)
class Sourced:
    """A value and where it came from: `--api-url`, `DAGSMITH_AIRFLOW_URL`,
    `pyproject.toml:3, env prod`."""

    value: str
    source: str


@dataclass(frozen=True)
class Bundle:
    """The PEM bundle Airflow's certificate is checked against, and who named
    it; no path is the client's default (the system's certificates)."""

    path: str | None = None
    source: str = ""

    def __str__(self) -> str:
        if self.path is None:
            system = ssl.get_default_verify_paths()
            return f"the client's default bundle ({system.cafile or system.capath})"
        return f"{self.path} (from {self.source})"


@dataclass(frozen=True)
class Credentials:
    """The environment variables credentials are read from: DAGSMITH_AIRFLOW_*,
    or their `_PROD` form for `--env prod`."""

    token: str = TOKEN_ENV
    username: str = USERNAME_ENV
    password: str = PASSWORD_ENV

    def __str__(self) -> str:
        return f"{self.token}, or {self.username} and {self.password}"


@dataclass(frozen=True)
class Connection:
    """Where Airflow's API is and how to sign in: a token, or a username and password.

    Never read from specs; never printed.
    """

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    # Where the address came from, said in the status line and in errors.
    source: str = ""
    bundle: Bundle = field(default_factory=Bundle)
    # Which variables the credentials are read from, said when they are refused.
    credentials: Credentials = field(default_factory=Credentials)

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r})"


def connection(
    api_url: str | Sourced | None = None,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    *,
    ca_bundle: str | Sourced | None = None,
    environment: str | None = None,
    project_url: Sourced | None = None,
) -> Connection:
    """The connection from the arguments, then the DAGSMITH_AIRFLOW_* environment
    (the `_ENV` forms first for an environment), then the project's address.

    A plain string argument is said as the Python argument it is (`api_url`);
    the CLI passes its options as Sourced. ConfError lists what is missing.
    """
    url = _first(_argument(api_url, "api_url"), _variable(URL_ENV), project_url)
    names = credentials_of(environment)
    token = token or os.environ.get(names.token)
    username = username or os.environ.get(names.username)
    password = password or os.environ.get(names.password)
    here = Position("environment", 0, 0)
    problems = []
    if url is None:
        problems.append(
            Problem(
                here,
                f"no Airflow to talk to: pass --api-url, set {URL_ENV}, "
                "or set [tool.dagsmith] airflow_url",
            )
        )
    elif problem := url_problem(url.value):
        problems.append(Problem(Position(url.source, 0, 0), problem))
    if not token and not (username and password):
        problems.append(Problem(here, f"no credentials: set {names}"))
    if problems:
        raise ConfError(problems)
    assert url is not None
    address = url.value.rstrip("/")
    bundle = bundle_for(address, ca_bundle)
    return Connection(
        address, token, username, password, url.source, bundle, credentials=names
    )


def credentials_of(environment: str | None) -> Credentials:
    """The variables that hold an environment's credentials.

    `DAGSMITH_AIRFLOW_TOKEN_PROD` (or `..._USERNAME_PROD` and
    `..._PASSWORD_PROD`) for `--env prod`, when any of them is set: the three
    are a set, never mixed with the plain ones. Without them, the plain ones.
    """
    if environment:
        suffix = "_" + re.sub(r"[^A-Z0-9]", "_", environment.upper())
        own = Credentials(
            TOKEN_ENV + suffix, USERNAME_ENV + suffix, PASSWORD_ENV + suffix
        )
        if any(os.environ.get(name) for name in vars(own).values()):
            return own
    return Credentials()


def bundle_for(url: str, ca_bundle: str | Sourced | None = None) -> Bundle:
    """The bundle an https address is checked against: the argument, then
    DAGSMITH_AIRFLOW_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE, else the
    client's default. ConfError when the named file is not a PEM bundle.

    A plain http address uses none, so a stale bundle variable does not stop it.
    """
    if not url.lower().startswith("https://"):
        return Bundle()
    named = _first(
        _argument(ca_bundle, "ca_bundle"),
        *map(_variable, (CA_BUNDLE_ENV, *ECOSYSTEM_BUNDLES)),
    )
    if named is None:
        return Bundle()
    problem = _unusable(Path(named.value))
    if problem:
        where = Position(named.source, 0, 0)
        raise ConfError([Problem(where, f"{named.value} {problem}")])
    return Bundle(named.value, named.source)


def _unusable(path: Path) -> str | None:
    """Why a file cannot serve as a CA bundle, or None."""
    if not path.exists():
        return (
            "does not exist; name the PEM bundle of the CA that signs "
            "Airflow's certificate"
        )
    if path.is_dir():
        return "is a folder; name a PEM file (CA certificates, concatenated)"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError) as error:
        # "NO_CERTIFICATE_OR_CRL_FOUND", or "Permission denied"
        reason = str(getattr(error, "reason", None) or error.strerror or error)
        return f"is not a PEM bundle of CA certificates ({_spoken(reason)})"
    return None


def _spoken(reason: str) -> str:
    """OpenSSL's reason code as words."""
    return reason.lower().replace("_", " ")


def _argument(value: str | Sourced | None, name: str) -> Sourced | None:
    """A caller's argument: a plain string is said as the Python argument."""
    if isinstance(value, str):
        return Sourced(value, f"the {name} argument") if value else None
    return value


def _variable(name: str) -> Sourced | None:
    """An environment variable's value; empty counts as unset, as it does for requests."""
    value = os.environ.get(name)
    return Sourced(value, name) if value else None


def _first(*candidates: Sourced | None) -> Sourced | None:
    return next((c for c in candidates if c is not None and c.value), None)
