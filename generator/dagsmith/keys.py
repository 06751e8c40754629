"""The keys of a run: digests of everything that shapes each output.

A spec's inputs digest covers the spec after defaults, its template and every
source that template includes, imports or extends, and its contract; the
header records it, so an unchanged spec is known without rendering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from .model import JINJA_SYNTAX, Spec, SpecSource, SpecSources, TemplateSet

DIGEST_LENGTH = 16  # hex digits: 64 bits tell changed from unchanged


def short_hash(*parts: str, length: int = DIGEST_LENGTH) -> str:
    """A hex digest of the parts (NUL-separated), cut to `length` digits."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:length]


@lru_cache(maxsize=1024)
def template_closure(templates: TemplateSet, name: str) -> tuple[str, ...]:
    """The Jinja2 sources a template includes, imports or extends, itself first.

    A reference computed at render time could be any source, so then all are in.
    """
    import jinja2.meta  # here: a run that reuses every output never needs Jinja2

    seen = [name]
    env = jinja2.Environment(**JINJA_SYNTAX)  # parsing only: no sandbox needed
    for current in seen:
        source = templates.jinja_sources.get(current)
        if source is None:
            continue
        try:
            parsed = env.parse(source)
        except jinja2.TemplateSyntaxError:
            continue  # reported with its line by check_templates; nothing renders
        for ref in jinja2.meta.find_referenced_templates(parsed):
            if ref is None:
                return (name, *sorted(set(templates.jinja_sources) - {name}))
            if (joined := templates.join(ref, current)) not in seen:
                seen.append(joined)
    return tuple(seen)


def inputs_digest(spec: Spec, templates: TemplateSet) -> str:
    """A digest of everything that shapes the spec's output, and nothing else."""
    template = templates.templates[spec.template]
    values = {
        "dag_id": spec.dag_id,
        "template": spec.template,
        "namespace": spec.namespace,
        "master_dict": spec.master_dict,
        "params": spec.params,
    }
    if spec.environment:  # only then: a project without environments keeps its digests
        values["environment"] = spec.environment
    # repr, not to_literal: how literals are written may change, this may not.
    parts = [spec.path, repr(values), template.kind]
    if template.kind == "legacy":
        parts.append(template.source)
    else:
        name = template.path.removeprefix(f"{templates.root}/")
        for source in template_closure(templates, name):
            parts += [source, templates.jinja_sources.get(source, "")]
    if template.contract is not None:
        parts.append(repr(template.contract.data))
    return short_hash(*parts)


def tool_key(version: str, own_code: Sequence[bytes], formatter: str) -> str:
    """What, besides the inputs, shapes an output: dagsmith's version and source
    (a checkout between two releases renders differently too) and black's
    version and mode."""
    code = hashlib.sha256(b"\0".join(own_code)).hexdigest()
    return key_hash(f"dagsmith {version} {code}; {formatter}")


def key_hash(*parts: str) -> str:
    """A digest for the local cache's keys: longer than a header's, never shown."""
    return short_hash(*parts, length=32)


def templates_fingerprint(templates: TemplateSet) -> str:
    """A digest of every template, partial and contract: when it is the one a
    successful run saw, the templates need no checking again."""
    parts = [
        f"{name}\0{text}" for name, text in sorted(templates.jinja_sources.items())
    ]
    for name, template in sorted(templates.templates.items()):
        parts.append(f"{name}\0{template.kind}\0{template.source}")
        if template.contract is not None:
            parts.append(repr(template.contract.data))
    return key_hash(templates.root, *parts)


def spec_key(source: SpecSource, sources: SpecSources) -> str:
    """A digest of a spec file and the defaults files that apply to it."""
    chain = [f"{d.path}\0{d.text}" for d in sources.chain(source)]
    return key_hash(source.path, source.text or "", *chain)


@lru_cache(maxsize=1024)
def template_key(templates: TemplateSet, name: str, closure: tuple[str, ...]) -> str:
    """A digest of a template as its outputs depend on it: its own text, the
    sources in its closure (what it includes, imports or extends), its contract.

    Once per template and run: every spec of a template carries the same key.
    """
    template = templates.templates[name]
    parts = [name, template.kind, template.source]
    if pack := templates.pack_of(name):  # an upgrade is said in the record
        parts.append(pack.label)
    for source in closure:
        parts += [source, templates.jinja_sources.get(source, "\0missing")]
    if template.contract is not None:
        parts.append(repr(template.contract.data))
    return key_hash(*parts)


def closure_of(templates: TemplateSet, name: str) -> tuple[str, ...]:
    """The Jinja2 sources a selectable template is made of (none for a legacy one)."""
    template = templates.templates[name]
    if template.kind == "legacy":
        return ()
    return template_closure(templates, template.path.removeprefix(f"{templates.root}/"))


def spec_keys(sources: SpecSources) -> dict[str, str]:
    """The key of every spec file."""
    return {s.path: spec_key(s, sources) for s in sources.specs}
