"""The steps of a compatibility sequence: what changes in both twins before the run, and the
dbt arguments both tools get. Every change is made to both twins alike (the same rows with the
same `loaded_at`, the same edits), so their warehouses and projects stay identical.

    first         everything to build (empty state)
    unchanged     nothing changed
    new_data      a row in raw orders with a newer loaded_at, one in page_views (no loaded_at)
    edit          fct_orders edited (its result changes); a comment added to stg_customers
    break         a row in raw customers, and customers_by_country's SQL broken (it fails
                  while its parent dim_customers is rebuilt)
    fix           customers_by_country repaired
    select        a row in raw orders, then `build --select stg_orders+`
    after_select  a full build after the selection (extras_order_counts reads the same table)
    cross         the twins' state documents swapped: orc continues from the reference's
                  state and the reference from orc's
    cross_again   nothing changed: each tool now reuses what it wrote in `cross`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .twins import Twin

PKG = "orc_tutorial"
STG_CUSTOMERS = f"model.{PKG}.stg_customers"
BROKEN = "\nthis is not sql -- broken by the compatibility matrix\n"
COMMENT = "\n-- reviewed: a comment changes nothing\n"


@dataclass
class Change:
    """What a step did before its run: the dbt arguments, the models whose edit is a comment
    only, and whether the twins' states are swapped (done by the runner)."""

    args: list[str]
    comment_only: set[str] = field(default_factory=set)
    new_rows: set[str] = field(default_factory=set)  # raw tables that got rows
    swap_states: bool = False
    expect_failure: bool = False  # dbt exits 1 (a model fails on purpose)


def prepare(step: str, twins: list[Twin], moment: datetime) -> Change:
    """Makes `step`'s change in every twin (rows loaded at `moment`); returns the Change."""
    if step in ("first", "unchanged", "after_select", "cross_again"):
        return Change(["build"])
    if step == "new_data":
        for t in twins:
            t.add_rows("orders", [{"loaded_at": moment}])
            t.add_rows("page_views", [{"url": "/compat"}])
        return Change(["build"], new_rows={"orders", "page_views"})
    if step == "edit":
        for t in twins:
            t.edit("models/marts/fct_orders.sql",
                   lambda s: s.replace("    amount,\n", "    amount + 0 as amount,\n", 1))
            t.edit("models/staging/stg_customers.sql", lambda s: s + COMMENT)
        return Change(["build"], comment_only={STG_CUSTOMERS})
    if step == "break":
        for t in twins:
            t.add_rows("customers", [{"loaded_at": moment.replace(tzinfo=None),
                                      "name": "Compat"}])
            t.edit("models/marts/customers_by_country.sql", lambda s: s + BROKEN)
        return Change(["build"], new_rows={"customers"}, expect_failure=True)
    if step == "fix":
        for t in twins:
            t.edit("models/marts/customers_by_country.sql", lambda s: s.replace(BROKEN, ""))
        return Change(["build"])
    if step == "select":
        for t in twins:
            t.add_rows("orders", [{"loaded_at": moment}])
        return Change(["build", "--select", "stg_orders+"], new_rows={"orders"})
    if step == "cross":
        return Change(["build"], swap_states=True)
    raise ValueError(f"unknown step {step!r}")
