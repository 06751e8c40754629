"""`[tool.dagsmith] airflow_url`: one Airflow, or one per environment, and the
mistakes it can hold, each at its line of pyproject.toml.

Credentials never go there: a key or an address that would hold one is
refused, and its value is never repeated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pyproject, run
from dagsmith.addresses import AirflowAddress
from dagsmith.config import load_settings
from dagsmith.errors import InputError, Position

SECRET = "tok-3f9a1c-never-shown"
ENVIRONMENTS = 'environments = ["dev", "prod"]\n'


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ('airflow_url = "https://a.example"\n', [("https://a.example", 2, "")]),
        (
            ENVIRONMENTS
            + 'airflow_url = { dev = "http://localhost:8080", prod = "https://p.example" }\n',
            [("http://localhost:8080", 3, "dev"), ("https://p.example", 3, "prod")],
        ),
        (
            ENVIRONMENTS
            + '\n[tool.dagsmith.airflow_url]\n# the two Airflows\ndev = "http://d:8080"\n'
            'prod = "https://p.example"\n',
            [("http://d:8080", 6, "dev"), ("https://p.example", 7, "prod")],
        ),
        (
            ENVIRONMENTS + 'airflow_url.prod = "https://p.example"\n',
            [("https://p.example", 3, "prod")],
        ),
    ],
)
def test_airflow_url_is_one_address_or_one_per_environment(
    folder: Path, text: str, addresses: list[tuple[str, int, str]]
) -> None:
    pyproject(folder, text)
    settings = load_settings(cwd=folder)
    assert settings.airflow == tuple(
        AirflowAddress(url, Position("pyproject.toml", line), env)
        for url, line, env in addresses
    )
    if addresses[0][2] == "":  # one Airflow for the project, whatever --env says
        assert settings.airflow_address("prod") == settings.airflow[0]
        assert settings.airflow_address(None) == settings.airflow[0]
    else:
        assert settings.airflow_address(None) is None
        assert settings.airflow_address("prod") == settings.airflow[-1]


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        (
            ENVIRONMENTS
            + 'airflow_url = { dev = "http://d", staging = "https://s" }\n',
            3,
            "[tool.dagsmith] airflow_url.staging: 'staging' is not a declared "
            "environment (dev, prod)",
        ),
        (
            ENVIRONMENTS
            + '\n[tool.dagsmith.airflow_url]\ndev = "http://d"\nqa = "http://q"\n',
            6,
            "[tool.dagsmith] airflow_url.qa: 'qa' is not a declared environment (dev, prod)",
        ),
        (
            'airflow_url = "airflow.example.com"\n',
            2,
            "[tool.dagsmith] airflow_url: 'airflow.example.com' is not an http(s) URL",
        ),
        (
            ENVIRONMENTS + 'airflow_url = { prod = "file:///etc/passwd" }\n',
            3,
            "[tool.dagsmith] airflow_url.prod: 'file:///etc/passwd' is not an http(s) URL",
        ),
        (
            ENVIRONMENTS + "airflow_url = { prod = 8080 }\n",
            3,
            "[tool.dagsmith] airflow_url.prod: expected an address, like",
        ),
        (
            'airflow_url = { prod = "https://p.example" }\n',
            2,
            "[tool.dagsmith] airflow_url: a table of addresses is keyed by the "
            "declared environments, and none are declared",
        ),
        (
            "\n\nairflow_url = 3\n",
            4,
            "[tool.dagsmith] airflow_url: expected an address, like",
        ),
    ],
)
def test_a_bad_airflow_url_is_an_input_error_at_its_line(
    folder: Path, text: str, line: int, said: str
) -> None:
    pyproject(folder, text)
    with pytest.raises(InputError) as raised:
        load_settings(cwd=folder)
    (problem,) = raised.value.problems
    assert problem.where == Position("pyproject.toml", line)
    assert problem.message.startswith(said)
    # And every command says it, before doing anything.
    result = run("list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pyproject.toml:{line}:1: {said}")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        (f'airflow_token = "{SECRET}"\n', 2, "airflow_token"),
        (f'specs = "specs"\npassword = "{SECRET}"\n', 3, "password"),
        (
            ENVIRONMENTS
            + f'airflow_url = {{ prod = "https://p", token = "{SECRET}" }}\n',
            3,
            "airflow_url.token",
        ),
        (
            ENVIRONMENTS + "\n[tool.dagsmith.airflow_url]\n"
            f'prod = {{ url = "https://p", token = "{SECRET}" }}\n',
            5,
            "airflow_url.prod.token",
        ),
        (f'airflow_url = "https://admin:{SECRET}@p.example"\n', 2, "airflow_url"),
    ],
)
def test_credentials_in_pyproject_are_refused_and_never_repeated(
    folder: Path, text: str, line: int, key: str
) -> None:
    pyproject(folder, text)
    result = run("trigger", "some_dag")
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"pyproject.toml:{line}:1: [tool.dagsmith] {key}: ")
    assert "in the environment" in first
    assert "DAGSMITH_AIRFLOW_TOKEN" in first
    assert SECRET not in result.output
