"""`[tool.dagsmith] airflow_url`: the Airflow that each environment's runs go to.

One address for the project, or a table of one per declared environment.
Only addresses: credentials never go in pyproject.toml, which is committed,
and a key or an address that would hold one is refused without repeating it.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from .errors import Position, Problem
from .tomlpos import line_of, line_of_entry

AIRFLOW_URL = "airflow_url"


# Keys that would put a secret in a committed file.
CREDENTIAL_KEY = re.compile(r"token|password|passwd|secret|username|credential", re.I)


@dataclass(frozen=True)
class AirflowAddress:
    """An Airflow's address from `[tool.dagsmith] airflow_url`: for one
    environment, or for every one ("") when a single address is given."""

    url: str
    where: Position
    environment: str = ""

    @property
    def source(self) -> str:
        """Where it is written, as a status line says it: `pyproject.toml:4, env prod`."""
        line = f"{self.where.file}:{self.where.line}"
        return f"{line}, env {self.environment}" if self.environment else line


def credential_problem(where: Position, key: str) -> Problem:
    """Credentials in a committed file: never read, and the value never shown."""
    return Problem(
        where,
        f"[tool.dagsmith] {key}: credentials never go in pyproject.toml, which is "
        "committed; set DAGSMITH_AIRFLOW_TOKEN (or DAGSMITH_AIRFLOW_USERNAME and "
        "DAGSMITH_AIRFLOW_PASSWORD) in the environment, with a suffix such as "
        "_PROD for one environment",
    )


# What `airflow_url` holds, said when it holds something else.
SHAPE = (
    'expected an address, like "https://airflow.example.com", or a table of one '
    'per declared environment, like { dev = "http://localhost:8080", prod = '
    '"https://airflow.example.com" }'
)


def airflow_problems(text: str, value: object, declared: object) -> list[Problem]:
    """What is wrong with `airflow_url`: one http(s) address, or a table of
    them keyed by the declared environments. Values that are not strings are
    not repeated: they may be a secret in the wrong place."""
    where = line_of(text, AIRFLOW_URL)
    if isinstance(value, str):
        problem = url_problem(value)
        return (
            [Problem(where, f"[tool.dagsmith] airflow_url: {problem}")]
            if problem
            else []
        )
    if not isinstance(value, dict):
        return [Problem(where, f"[tool.dagsmith] airflow_url: {SHAPE}")]
    if not isinstance(declared, list):
        return [
            Problem(
                where,
                "[tool.dagsmith] airflow_url: a table of addresses is keyed by the "
                "declared environments, and none are declared (environments = "
                '["dev", "prod"])',
            )
        ]
    found = (_entry_problem(text, env, url, declared) for env, url in value.items())
    return [problem for problem in found if problem is not None]


def _entry_problem(
    text: str, environment: str, url: object, declared: list[object]
) -> Problem | None:
    """What is wrong with one environment's address, if anything."""
    where = line_of_entry(text, AIRFLOW_URL, environment)
    key = f"{AIRFLOW_URL}.{environment}"
    inner = [str(k) for k in url] if isinstance(url, dict) else []
    secret = next((k for k in [environment, *inner] if CREDENTIAL_KEY.search(k)), None)
    if secret is not None:
        return credential_problem(
            where, key if secret == environment else f"{key}.{secret}"
        )
    if environment not in declared:
        known = ", ".join(map(str, declared))
        message = f"{environment!r} is not a declared environment ({known})"
    elif not isinstance(url, str):
        message = 'expected an address, like "https://airflow.example.com"'
    else:
        message = url_problem(url) or ""
    return Problem(where, f"[tool.dagsmith] {key}: {message}") if message else None


def url_problem(url: str) -> str | None:
    """Why a string is not an address dagsmith can call Airflow at, or None.

    An address that holds credentials is refused without being repeated.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL, like https://airflow.example.com"
    if parts.username is not None or parts.password is not None:
        return (
            "the address holds credentials; keep them in the environment "
            "(DAGSMITH_AIRFLOW_TOKEN, or DAGSMITH_AIRFLOW_USERNAME and "
            "DAGSMITH_AIRFLOW_PASSWORD)"
        )
    return None


def airflow_addresses(text: str, value: object) -> tuple[AirflowAddress, ...]:
    """The addresses of a checked `airflow_url`, each with its line."""
    if isinstance(value, str):
        return (AirflowAddress(value, line_of(text, AIRFLOW_URL)),)
    if isinstance(value, dict):
        return tuple(
            AirflowAddress(
                str(url), line_of_entry(text, AIRFLOW_URL, str(env)), str(env)
            )
            for env, url in value.items()
        )
    return ()
