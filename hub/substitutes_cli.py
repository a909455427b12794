"""`backroom hub substitutes set|show SKU`: an item's substitute rule from the command
line, each change a logged hub command (`catalogue.substitutes_set`). The attributes
the category rule compares come with the item (`hub import items`: category, size, price)."""

from __future__ import annotations

import json
from typing import Callable

import click

__all__ = ["add_substitute_commands"]


def add_substitute_commands(hub: click.Group, db_option: Callable, open_db: Callable, hub_call: Callable) -> None:
    """Register the substitute commands on `hub` (hands in the CLI's helpers: no import circle)."""

    @hub.group()
    def substitutes() -> None:
        """Which items may stand in for which when a picker finds a line short."""

    @substitutes.command("set")
    @db_option
    @click.argument("sku")
    @click.option("--with", "listed", multiple=True, metavar="SKU", help="A SKU that may stand in, best first (repeat).")
    @click.option("--band", "band", type=click.IntRange(0, 100), default=20, show_default=True,
                  help="Price band of the category rule, percent either way.")
    @click.option("--no-rule", is_flag=True, help="Only the listed SKUs: items of the same category and size may not.")
    def set_(db_url: str, sku: str, listed: tuple[str, ...], band: int, no_rule: bool) -> None:
        """Set SKU's substitutes: the listed SKUs, and unless --no-rule, the category rule."""
        from hub.log import run_hub_command

        payload = {"sku": sku, "substitutes": list(listed), "by_rule": not no_rule, "price_band_pct": band}
        with open_db(db_url).write() as conn:
            result = hub_call(run_hub_command, conn, "catalogue.substitutes_set", payload, "cli")
        click.echo(result.message)

    @substitutes.command("show")
    @db_option
    @click.argument("sku")
    def show(db_url: str, sku: str) -> None:
        """Print SKU's substitute rule (JSON); an item without one follows the category rule."""
        from hub.domain.substitution import substitute_rule
        from sync.substitutes import SubstituteRule

        with open_db(db_url).read() as conn:
            rule = substitute_rule(conn, sku) or SubstituteRule(sku)
        click.echo(json.dumps({"sku": rule.sku, "substitutes": list(rule.listed), "by_rule": rule.by_rule,
                               "price_band_pct": rule.price_band_pct}, indent=2))
