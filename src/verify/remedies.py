"""What to do next: this chemistry's usual remedy for each side product or work-up failure a result names.

The remedies are one line each, from reference/remedies.tsv (sourced there). They are info findings
(`remedy.<kind>`): advice beside the evidence, never a change of verdict. A remedy is given for

- a side product of the target (verify.structure.side_products) that a warning or error names, by its
  finding code (nmr.boc_not_removed, ...) or by its name in the message (ms.side_product);
- the salt read where the free base was registered (nmr.species);
- a named impurity of reference/impurities.tsv with a remedy row, from NmrThresholds.side_product_warn_mol_percent
  mol % (the level at which a side product is worth a warning).

Pure functions: the caller hands over the parts' findings and the target's side products.
"""

from __future__ import annotations

import functools

from .findings import Finding
from .reference import table

__all__ = ["remedy_findings", "remedy_table"]

# finding codes that name a side-product kind without the side product's name
_CODE_KIND = {
    "nmr.boc_not_removed": "boc_not_removed",
    "nmr.over_alkylation": "over_alkylation",
    "nmr.aldehyde_leftover": "aldehyde",
    "nmr.alcohol_byproduct": "alcohol",
}


@functools.lru_cache(maxsize=1)
def remedy_table() -> dict[str, str]:
    """kind -> remedy text, from reference/remedies.tsv."""
    return {row["kind"]: row["remedy"] for row in table("remedies.tsv")}


def remedy_findings(
    findings: list[Finding],
    side_products: list,
    impurities: list[dict] | None = None,
    salt_read: bool = False,
    impurity_min_mol_percent: float = 10.0,
) -> list[Finding]:
    """Info findings with the usual remedy for what the findings name.

    Parameters
    ----------
    findings : list of Finding
        The NMR and MS findings of one compound.
    side_products : list of SideProduct
        The target's side products (name and kind), verify.structure.side_products.
    impurities : list of dict, optional
        Named NMR impurities, each {"name", "mol_percent"} (NmrResult.impurities).
    salt_read : bool, optional
        True when the spectrum was read as a salt of a target registered as the free base.
    impurity_min_mol_percent : float, optional
        Smallest amount (mol % of the compound) of an impurity that gets a remedy (default 10).

    Returns
    -------
    list of Finding
        One `remedy.<kind>` info finding per kind, in the order the kinds were first named.
    """
    remedies = remedy_table()
    named: dict[str, str] = {}  # kind -> what was named (for the message)
    serious = [f for f in findings if f.severity != "info"]
    for f in serious:
        kind = _CODE_KIND.get(f.code)
        if kind:
            name = next((sp.name for sp in side_products if sp.kind == kind), kind.replace("_", " "))
            named.setdefault(kind, name)
    for sp in side_products:
        if sp.kind not in named and any(sp.name in f.message for f in serious):
            named[sp.kind] = sp.name
    if salt_read:
        named.setdefault("salt", "read as a salt, registered as the free base")
    for imp in impurities or []:
        if (imp.get("mol_percent") or 0.0) >= impurity_min_mol_percent:
            named.setdefault(f"impurity:{imp['name']}", imp["name"])
    out = []
    for kind, name in named.items():
        text = remedies.get(kind)
        if text:
            out.append(Finding("info", f"remedy.{kind.split(':')[0]}", f"{name}: {text}"))
    return out
