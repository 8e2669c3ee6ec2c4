"""Demonstration-day rounds: place chosen (company, provider) pairs so nobody is in two places at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

# (company id, provider id)
Pair = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """One demonstration: a company at a provider's table in a round (both counted from 1)."""

    company: int
    provider: int
    round: int
    table: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """The day's rounds; `unscheduled` holds the pairs that did not fit, best first."""

    rounds: int
    slots: tuple[Slot, ...]
    unscheduled: tuple[Pair, ...]

    def round_of(self, pair: Pair) -> int | None:
        for slot in self.slots:
            if (slot.company, slot.provider) == pair:
                return slot.round
        return None


def tables_for(tables: Mapping[int, int] | int, provider: int) -> int:
    return tables if isinstance(tables, int) else tables.get(provider, 1)


def schedule_rounds(
    pairs: Sequence[Pair],
    *,
    rounds: int,
    tables: Mapping[int, int] | int = 1,
    weights: Sequence[float] | None = None,
    keep: Collection[Pair] = (),
    previous: Schedule | None = None,
) -> Schedule:
    """Give every pair a round and a table; a company sits at one table per round.

    A provider with T tables hosts up to T companies per round. Splitting each provider into T
    table nodes makes this the edge colouring of a bipartite graph, which needs exactly as many
    rounds as the largest degree (König). So: first keep the heaviest subset that fits (a company
    in at most `rounds` pairs, a provider in at most `rounds * tables`; `keep` pairs first), then
    colour it exactly with alternating paths. Slots of `previous` are reused where still valid,
    so a revision moves as few demonstrations as it can.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    pairs = list(dict.fromkeys(pairs))
    weight = dict(zip(pairs, weights, strict=True)) if weights is not None else dict.fromkeys(pairs, 1.0)
    chosen, dropped = _fitting_subset(pairs, weight=weight, rounds=rounds, tables=tables, keep=set(keep))
    slots = _colour(chosen, rounds=rounds, tables=tables, previous=previous)
    dropped.sort(key=lambda p: (p not in keep, -weight[p], p))
    return Schedule(
        rounds=rounds,
        slots=tuple(sorted(slots, key=lambda s: (s.round, s.provider, s.table, s.company))),
        unscheduled=tuple(dropped),
    )


def _fitting_subset(
    pairs: list[Pair],
    *,
    weight: Mapping[Pair, float],
    rounds: int,
    tables: Mapping[int, int] | int,
    keep: set[Pair],
) -> tuple[list[Pair], list[Pair]]:
    company_degree: dict[int, int] = defaultdict(int)
    provider_degree: dict[int, int] = defaultdict(int)
    for company, provider in pairs:
        company_degree[company] += 1
        provider_degree[provider] += 1
    if all(d <= rounds for d in company_degree.values()) and all(
        d <= rounds * tables_for(tables, p) for p, d in provider_degree.items()
    ):
        return pairs, []
    # Max-weight b-matching (an integral LP: the constraint matrix is a bipartite incidence matrix).
    # Kept pairs weigh more than all the others together, so they are dropped only when they alone overflow.
    companies = sorted(company_degree)
    providers = sorted(provider_degree)
    row = {c: i for i, c in enumerate(companies)}
    col = {p: j for j, p in enumerate(providers)}
    base = np.array([max(weight[p], 0.0) + 1e-3 for p in pairs])
    bonus = base.sum() + 1.0
    value = base + np.array([bonus if p in keep else 0.0 for p in pairs])
    edges = np.arange(len(pairs))
    a_company = sparse.csr_array(
        (np.ones(len(pairs)), ([row[c] for c, _ in pairs], edges)), shape=(len(companies), len(pairs))
    )
    a_provider = sparse.csr_array(
        (np.ones(len(pairs)), ([col[p] for _, p in pairs], edges)), shape=(len(providers), len(pairs))
    )
    result = milp(
        -value,
        integrality=np.ones(len(pairs), dtype=np.uint8),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(a_company, -np.inf, rounds),
            LinearConstraint(a_provider, -np.inf, [rounds * tables_for(tables, p) for p in providers]),
        ],
    )
    if result.x is None:  # pragma: no cover - the empty plan is always feasible
        raise RuntimeError(f"scheduling failed: {result.message}")
    take = result.x > 0.5
    return [p for p, t in zip(pairs, take, strict=True) if t], [p for p, t in zip(pairs, take, strict=True) if not t]


def _colour(
    pairs: list[Pair], *, rounds: int, tables: Mapping[int, int] | int, previous: Schedule | None
) -> list[Slot]:
    # Nodes: ("c", company) and ("t", provider, table). colour_at[node][round] = the pair there.
    colour_at: dict[tuple[int, ...], dict[int, Pair]] = defaultdict(dict)
    placed: dict[Pair, tuple[int, int]] = {}  # pair -> (round, table), rounds and tables from 0
    table_load: dict[tuple[int, int], int] = defaultdict(int)

    def company_node(pair: Pair) -> tuple[int, ...]:
        return (0, pair[0])

    def table_node(pair: Pair, table: int) -> tuple[int, ...]:
        return (1, pair[1], table)

    def put(pair: Pair, colour: int, table: int) -> None:
        colour_at[company_node(pair)][colour] = pair
        colour_at[table_node(pair, table)][colour] = pair
        placed[pair] = (colour, table)

    wanted = set(pairs)
    if previous is not None:
        for slot in previous.slots:
            pair = (slot.company, slot.provider)
            colour, table = slot.round - 1, slot.table - 1
            if (
                pair in wanted
                and pair not in placed
                and colour < rounds
                and table < tables_for(tables, slot.provider)
                and colour not in colour_at[company_node(pair)]
                and colour not in colour_at[table_node(pair, table)]
            ):
                put(pair, colour, table)
                table_load[(slot.provider, table)] += 1

    for pair in pairs:
        if pair in placed:
            continue
        # The least loaded table has a free round: the subset gives the provider at most rounds * tables pairs.
        count = tables_for(tables, pair[1])
        table = min(range(count), key=lambda t: (table_load[(pair[1], t)], t))
        table_load[(pair[1], table)] += 1
        u, v = company_node(pair), table_node(pair, table)
        free_u = next(c for c in range(rounds) if c not in colour_at[u])
        free_v = next(c for c in range(rounds) if c not in colour_at[v])
        if free_u not in colour_at[v]:
            put(pair, free_u, table)
            continue
        # Swap free_u and free_v along the alternating path from v; it cannot reach u (bipartite).
        path: list[Pair] = []
        node, colour, other = v, free_u, free_v
        while colour in colour_at[node]:
            edge = colour_at[node][colour]
            path.append(edge)
            edge_table = placed[edge][1]
            node = company_node(edge) if node[0] == 1 else table_node(edge, edge_table)
            colour, other = other, colour
        for edge in path:
            edge_colour, edge_table = placed[edge]
            del colour_at[company_node(edge)][edge_colour]
            del colour_at[table_node(edge, edge_table)][edge_colour]
        for edge in path:
            edge_colour, edge_table = placed[edge]
            put(edge, free_v if edge_colour == free_u else free_u, edge_table)
        put(pair, free_u, table)

    return [Slot(company=c, provider=p, round=r + 1, table=t + 1) for (c, p), (r, t) in placed.items()]
