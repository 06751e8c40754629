"""Template packs: templates a platform team publishes once, for every project.

A pack is an installed distribution with an entry point in the group
`dagsmith.templates`. The entry point's name is the pack's name; its object
is a module or package, and the folder that module lives in holds the
pack's templates, contracts and partials, as a project's `templates/` does.
A spec names a pack's template `PACK/NAME`. dagsmith's own templates arrive
the same way, as the pack `dagsmith`.

The module is found, never imported (a package's parents are: that is how
Python finds a submodule), so a pack is data: templates, not code.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from .model import Pack

GROUP = "dagsmith.templates"


def installed_packs() -> dict[str, Pack]:
    """Every installed pack by name; one that two distributions claim, or
    whose module is not there, carries the problem instead of a folder."""
    claims: dict[str, list[EntryPoint]] = {}
    for entry in entry_points(group=GROUP):
        claims.setdefault(entry.name, []).append(entry)
    return {name: _pack(name, found) for name, found in sorted(claims.items())}


def _pack(name: str, claims: list[EntryPoint]) -> Pack:
    by_distribution = {_distribution(entry): entry for entry in claims}
    (distribution, version), entry = sorted(by_distribution.items())[0]
    if len(by_distribution) > 1:
        both = " and ".join(f"{d} {v}" for d, v in sorted(by_distribution))
        return Pack(
            name,
            distribution,
            version,
            None,
            f"pack {name!r} is claimed by two installed distributions, {both}; "
            "uninstall one of them",
        )
    folder = module_folder(entry.module)
    if folder is None:
        return Pack(
            name,
            distribution,
            version,
            None,
            f"pack {name!r} ({distribution} {version}) points at module "
            f"{entry.module!r}, which is not installed; reinstall {distribution}",
        )
    return Pack(name, distribution, version, folder)


def _distribution(entry: EntryPoint) -> tuple[str, str]:
    """(name, version) of the distribution that declares an entry point."""
    dist = entry.dist
    if dist is None:
        return "an unknown distribution", "?"
    return dist.name, dist.version


def module_folder(module: str) -> Path | None:
    """The folder a module or package lives in, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        return Path(spec.origin).parent
    locations = list(spec.submodule_search_locations or ())
    return Path(locations[0]) if locations else None
