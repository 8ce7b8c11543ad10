"""The Jinja2 environment of the HTML reports (templates/*.html.j2): autoescaping everything, undefined names
an error. Text passed in is escaped; markup passed in must be `markupsafe.Markup` (built by a template or by
`Markup(...).format`, which escapes its arguments)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("verify.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context) -> str:
    """A template rendered with `context`."""
    return environment().get_template(template).render(**context)


def render_macro(template: str, macro: str, *args):
    """One macro of a template called with `args` (Markup: it is safe to embed)."""
    return getattr(environment().get_template(template).module, macro)(*args)
