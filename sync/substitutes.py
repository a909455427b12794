"""Which items may stand in for which, and in what order a picker is offered them.

Pure, so the hub (checking a substitution) and a device (offering candidates
offline) decide alike. An item's substitutes are, in this order:

1. its explicit list (`SubstituteRule.listed`), in the order the list gives;
2. by rule, unless the item's rule turns it off: any item of the same category
   and the same size (quantity and unit), priced within `price_band_pct` percent
   of the original, closest price first, then by SKU.

Only candidates with units on hand where the picker stands are offered."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PRICE_BAND_PCT", "ItemFacts", "SubstituteRule", "Candidate", "by_rule", "rank_candidates", "may_substitute"]

# A substitute by rule may cost this much more or less than the original (percent).
DEFAULT_PRICE_BAND_PCT = 20


@dataclass(frozen=True)
class ItemFacts:
    """What the rule compares: category, size (quantity and unit) and price in cents."""

    sku: str
    name: str = ""
    category: str | None = None
    size_qty: int | None = None
    size_unit: str | None = None
    price_cents: int | None = None


@dataclass(frozen=True)
class SubstituteRule:
    """One item's substitute rule: an explicit list, and whether the category rule applies."""

    sku: str
    listed: tuple[str, ...] = ()
    by_rule: bool = True
    price_band_pct: int = DEFAULT_PRICE_BAND_PCT


@dataclass(frozen=True)
class Candidate:
    sku: str
    name: str
    why: str  # "listed" or "same category and size"
    on_hand: int


def by_rule(original: ItemFacts, other: ItemFacts, band_pct: int) -> bool:
    """Same category and size, price within the band; an item missing any of those matches nothing."""
    if other.sku == original.sku or not original.category or original.size_qty is None:
        return False
    if (other.category, other.size_qty, (other.size_unit or "").lower()) != (
            original.category, original.size_qty, (original.size_unit or "").lower()):
        return False
    if original.price_cents is None or other.price_cents is None:
        return False
    return abs(other.price_cents - original.price_cents) * 100 <= original.price_cents * band_pct


def rank_candidates(original: ItemFacts, catalogue: list[ItemFacts], rule: SubstituteRule | None,
                    on_hand: dict[str, int]) -> list[Candidate]:
    """The substitutes for `original` that have units on hand, closest match first."""
    rule = rule or SubstituteRule(original.sku)
    items = {i.sku: i for i in catalogue}
    ranked: list[Candidate] = []
    for sku in rule.listed:
        if sku != original.sku and on_hand.get(sku, 0) > 0 and sku not in {c.sku for c in ranked}:
            ranked.append(Candidate(sku, items[sku].name if sku in items else sku, "listed", on_hand[sku]))
    if rule.by_rule:
        taken = {c.sku for c in ranked}
        matches = [i for i in catalogue if i.sku not in taken and on_hand.get(i.sku, 0) > 0
                   and by_rule(original, i, rule.price_band_pct)]
        matches.sort(key=lambda i: (abs((i.price_cents or 0) - (original.price_cents or 0)), i.sku))
        ranked += [Candidate(i.sku, i.name, "same category and size", on_hand[i.sku]) for i in matches]
    return ranked


def may_substitute(original: ItemFacts, substitute: ItemFacts, rule: SubstituteRule | None) -> bool:
    """Whether `substitute` may stand in for `original` at all (stock aside)."""
    rule = rule or SubstituteRule(original.sku)
    if substitute.sku == original.sku:
        return False
    return substitute.sku in rule.listed or (rule.by_rule and by_rule(original, substitute, rule.price_band_pct))
