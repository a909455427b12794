"""The routing decision as a pure function: each filter's sentence, the sorts, splits,
and the same answer for the same inputs (no clock inside)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.routing_policy import DEFAULT_POLICY, RoutingPolicy
from hub.domain.routing_rules import Ask, Need, Network, Route, Site, decide, distance_km

MONDAY_05 = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)


def policy(**rule) -> RoutingPolicy:
    return RoutingPolicy.model_validate({"rules": [{"name": "r", "fulfilment": ["ship", "pickup", "quick"], **rule}]})


def test_berlin_to_leipzig_is_about_150_km():
    assert 145 < distance_km(52.52, 13.40, 51.34, 12.37) < 155


@pytest.mark.parametrize(("site", "filters", "free", "reason"), [
    (Site("DS-2", "dark_store", hours={"mon": "07:00-22:00"}), {"open_now": True}, 5, "closed until 07:00"),
    (Site("DS-2", "dark_store", hours={"tue": "07:00-22:00"}), {"open_now": True}, 5, "closed until tue 07:00"),
    (Site("DS-2", "dark_store", hours={"mon": ["07:00-12:00"]}, time_zone="Europe/Berlin"), {"open_now": True}, 5,
     "closed until 07:00"),  # 05:00 UTC is 06:00 in Berlin: the set-up's zone and list of spans
    (Site("DS-2", "dark_store", daily_capacity=3), {"capacity": True}, 5, "capacity 3/3 orders today"),
    (Site("DS-2", "dark_store", lat=51.34, lon=12.37), {"max_distance_km": 30}, 5, "149 km > 30 km"),
    (Site("DS-2", "dark_store"), {"synced_within_min": 30}, 5, "no device synced in 30 min"),
    (Site("DS-2", "dark_store"), {"keep_units": 2}, 2, "OATS-500 available 0 < 1 (keeping 2)"),
    (Site("DS-2", "dark_store"), {}, 0, "OATS-500 available 0 < 1"),
])
def test_each_filter_says_why_a_location_lost(site, filters, free, reason):
    ask = Ask("quick", "web", (Need(1, "OATS-500", 1),), lat=52.52, lon=13.40)
    net = Network({site.code: site}, {("DS-2", "OATS-500"): free}, loads={"DS-2": 3}, synced_known=True)
    route = decide(ask, net, policy(kinds=["dark_store"], filters=filters), MONDAY_05)
    assert route.outcome == "parked" and route.explain() == [f"DS-2: {reason}"]


def test_the_default_policy_routes_a_bare_network_by_kind_then_code_and_splits_a_shipment():
    sites = {c: Site(c, k) for c, k in (("A-ST", "store"), ("B-WH", "warehouse"), ("C-WH", "warehouse"))}
    ask = Ask("ship", "web", (Need(1, "X", 1), Need(2, "Y", 1)))
    whole = Network(sites, {("C-WH", "X"): 1, ("C-WH", "Y"): 1, ("A-ST", "X"): 1, ("A-ST", "Y"): 1})
    assert decide(ask, whole, DEFAULT_POLICY, MONDAY_05).shipments == [("C-WH", [1, 2])]
    apart = Network(sites, {("B-WH", "X"): 1, ("A-ST", "Y"): 1})
    route = decide(ask, apart, DEFAULT_POLICY, MONDAY_05)
    assert (route.outcome, route.shipments) == ("split", [("B-WH", [1]), ("A-ST", [2])])
    assert decide(ask, apart, DEFAULT_POLICY, MONDAY_05) == route  # the same inputs, the same decision


def test_a_policy_without_a_rule_for_every_fulfilment_is_refused():
    with pytest.raises(ValueError, match="no rule routes pickup, quick"):
        RoutingPolicy.model_validate({"rules": [{"name": "r", "fulfilment": ["ship"], "kinds": ["store"]}]})


SPLITTING = {"kinds": ["warehouse", "store"], "split": {"allow": True, "max_shipments": 3}}
# line 1 (RT-A) and line 2 (RT-B) are a gift set; line 3 (RT-C) stands alone
GIFT = Ask("ship", "web", (Need(1, "RT-A", 1, "GIFT-1"), Need(2, "RT-B", 1, "GIFT-1"), Need(3, "RT-C", 1)))
SITES = {c: Site(c, k) for c, k in (("ST-1", "store"), ("WH-1", "warehouse"))}


def test_a_split_takes_a_group_whole_from_the_location_that_holds_all_of_it():
    net = Network(SITES, {("WH-1", "RT-A"): 1, ("WH-1", "RT-C"): 1, ("ST-1", "RT-A"): 1, ("ST-1", "RT-B"): 1})
    route = decide(GIFT, net, policy(**SPLITTING), MONDAY_05)
    assert (route.outcome, route.shipments) == ("split", [("ST-1", [1, 2]), ("WH-1", [3])])
    assert "ST-1: chosen; keeps group GIFT-1 (lines 1, 2) together" in route.explain()
    apart = decide(GIFT, net, policy(**{**SPLITTING, "split": {"allow": True, "keep_groups": False}}), MONDAY_05)
    assert apart.shipments == [("WH-1", [1, 3]), ("ST-1", [2])]  # groups off: the most lines first, as before
    assert "WH-1: chosen" in apart.explain()


def test_a_group_no_location_holds_whole_parks_the_order_and_the_explanation_says_so():
    net = Network(SITES, {("WH-1", "RT-A"): 1, ("WH-1", "RT-C"): 1, ("ST-1", "RT-B"): 1})
    route = decide(GIFT, net, policy(**SPLITTING), MONDAY_05)
    assert (route.outcome, route.shipments) == ("parked", [])
    assert "(split): keeps group GIFT-1 (lines 1, 2) together: no location holds both" in route.explain()
    partial = policy(**SPLITTING).model_copy(update={"when_none": {"ship": "partial"}})
    route = decide(GIFT, net, partial, MONDAY_05)
    assert (route.outcome, route.shipments) == ("partial", [("WH-1", [3])])  # the gift waits whole
    assert route.explain()[-1] == ("WH-1: chosen; ships what it holds; RT-A × 1, RT-B × 1 wait for stock; "
                                   "keeps group GIFT-1 (lines 1, 2) together: no location holds both")


@given(groups=st.lists(st.sampled_from([None, "G1", "G2"]), min_size=2, max_size=6),
       held=st.lists(st.sets(st.integers(min_value=1, max_value=6)), min_size=1, max_size=4),
       when_none=st.sampled_from(["park", "partial"]))
def test_no_split_or_partial_shipment_ever_divides_a_group(groups, held, when_none):
    ask = Ask("ship", "web", tuple(Need(i, f"S{i}", 1, g) for i, g in enumerate(groups, start=1)))
    sites = {f"L{k}": Site(f"L{k}", "store") for k in range(len(held))}
    net = Network(sites, {(f"L{k}", f"S{i}"): 1 for k, lines in enumerate(held) for i in lines})
    rules = policy(kinds=["store"], split={"allow": True, "max_shipments": 3}).model_copy(
        update={"when_none": {"ship": when_none}})
    route = decide(ask, net, rules, MONDAY_05)
    place = {n: loc for loc, lines in route.shipments for n in lines}
    for label in {g for g in groups if g}:
        members = [i for i, g in enumerate(groups, start=1) if g == label]
        assert len({place.get(n) for n in members}) == 1, (label, route.shipments)


def test_the_floor_sentence_names_only_locations_not_the_split_note():
    route = Route("routed", "ship-later", [("ST-2", [1, 2])], [
        {"location": "(split)", "rule": "ship-first", "chosen": False, "distance_km": None,
         "reasons": ["keeps group GIFT-1 (lines 1, 2) together: no location holds both"]},
        {"location": "WH-1", "rule": "ship-first", "chosen": False, "distance_km": None, "reasons": ["CAP-1 available 0 < 1"]},
        {"location": "ST-2", "rule": "ship-later", "chosen": True, "distance_km": None, "reasons": []},
    ])
    assert route.why_here("accepted") == "Rule ship-later. Not WH-1: CAP-1 available 0 < 1."
    assert "(split): keeps group GIFT-1" in " ".join(route.explain())  # the order's page keeps it
