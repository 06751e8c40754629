"""The keys of a run: digests of everything that shapes each output.

A spec's inputs digest covers the spec after defaults, its template and every
source that template includes, imports or extends, and its contract; the
header records it, so an unchanged spec is known without rendering.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from .model import JINJA_SYNTAX, Spec, TemplateSet

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
            if ref not in seen:
                seen.append(ref)
    return tuple(seen)


def inputs_digest(spec: Spec, templates: TemplateSet) -> str:
    """A digest of everything that shapes the spec's output, and nothing else."""
    template = templates.templates[spec.template]
    parts = [
        spec.path,
        repr(  # not to_literal: how literals are written may change, this may not
            {
                "dag_id": spec.dag_id,
                "template": spec.template,
                "namespace": spec.namespace,
                "master_dict": spec.master_dict,
                "params": spec.params,
            }
        ),
        template.kind,
    ]
    if template.kind == "legacy":
        parts.append(template.source)
    else:
        name = template.path.removeprefix(f"{templates.root}/")
        for source in template_closure(templates, name):
            parts += [source, templates.jinja_sources.get(source, "")]
    if template.contract is not None:
        parts.append(repr(template.contract.data))
    return short_hash(*parts)
