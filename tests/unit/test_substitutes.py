"""Candidate ranking for substitution at pick (sync.substitutes): listed first in the
list's order, then same category and size within the price band, closest price first;
only items with units on hand."""

from __future__ import annotations

import pytest

from sync.substitutes import ItemFacts, SubstituteRule, by_rule, may_substitute, rank_candidates

MILK = ItemFacts("MILK", "Milk 1 L", "dairy", 1000, "ml", 100)


def milk(sku: str, price: int | None, size: int | None = 1000, unit: str | None = "ml", category: str | None = "dairy") -> ItemFacts:
    return ItemFacts(sku, f"Milk {sku}", category, size, unit, price)


CATALOGUE = [MILK, milk("A-115", 115), milk("B-95", 95), milk("C-105", 105), milk("D-130", 130),
             milk("E-500ML", 100, size=500), milk("F-JUICE", 100, category="juice"), milk("G-NOPRICE", None),
             ItemFacts("OATS", "Oats 500 g", "cereal", 500, "g", 300)]
STOCKED = {i.sku: 4 for i in CATALOGUE}


def test_rule_candidates_come_closest_price_first_and_only_within_the_band():
    ranked = rank_candidates(MILK, CATALOGUE, None, STOCKED)
    assert [c.sku for c in ranked] == ["B-95", "C-105", "A-115"]  # D-130 is 30% dearer: out of the 20% band
    assert {c.why for c in ranked} == {"same category and size"}


def test_a_tie_on_price_distance_is_broken_by_sku():
    ranked = rank_candidates(MILK, [MILK, milk("Z-110", 110), milk("Y-90", 90)], None, {"Z-110": 1, "Y-90": 1})
    assert [c.sku for c in ranked] == ["Y-90", "Z-110"]


def test_listed_substitutes_come_first_in_the_lists_order_then_the_rule():
    rule = SubstituteRule("MILK", listed=("OATS", "D-130"))
    ranked = rank_candidates(MILK, CATALOGUE, rule, STOCKED)
    assert [(c.sku, c.why) for c in ranked][:3] == [("OATS", "listed"), ("D-130", "listed"), ("B-95", "same category and size")]
    assert [c.sku for c in ranked].count("D-130") == 1


def test_an_item_whose_rule_is_off_offers_only_its_list():
    ranked = rank_candidates(MILK, CATALOGUE, SubstituteRule("MILK", listed=("OATS",), by_rule=False), STOCKED)
    assert [c.sku for c in ranked] == ["OATS"]


def test_a_wider_band_lets_dearer_items_in():
    ranked = rank_candidates(MILK, CATALOGUE, SubstituteRule("MILK", price_band_pct=30), STOCKED)
    assert [c.sku for c in ranked] == ["B-95", "C-105", "A-115", "D-130"]


def test_items_with_nothing_on_hand_are_not_offered():
    ranked = rank_candidates(MILK, CATALOGUE, SubstituteRule("MILK", listed=("OATS",)), {"A-115": 2, "OATS": 0, "B-95": -1})
    assert [(c.sku, c.on_hand) for c in ranked] == [("A-115", 2)]


@pytest.mark.parametrize("other, matches", [
    (milk("X", 100), True),
    (milk("X", 100, unit="ML"), True),  # units compare without case
    (milk("X", 100, size=500), False),
    (milk("X", 100, category="juice"), False),
    (milk("X", None), False),
    (milk("X", 120), True),  # the band's edge is in
    (milk("X", 121), False),
    (MILK, False),  # never itself
])
def test_the_category_rule(other, matches):
    assert by_rule(MILK, other, 20) is matches


def test_an_original_without_attributes_has_no_rule_substitutes_but_its_list_still_counts():
    bare = ItemFacts("BARE", "Bare item")
    assert rank_candidates(bare, CATALOGUE, None, STOCKED) == []
    assert may_substitute(bare, MILK, SubstituteRule("BARE", listed=("MILK",)))
    assert not may_substitute(bare, MILK, None)
