"""Splink 5 (DuckDB backend) on a fleetscale-generated fleet, with blocking equivalent to
fleetscale's sensor preset and the generator's true m/u values (no training).

    .venv/bin/python splink_run.py IN.csv OUT.json

IN.csv has id,node,cls,t,lat,lon,x,y (x/y: metres east/north of the fleet's base point).
Prints one JSON line: {"seconds": ..., "candidates": ..., "clusters": ...}; writes
record id -> cluster id to OUT.json.
"""

import json
import sys
import time

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
from splink import DuckDBAPI, Linker, SettingsCreator
import splink.comparison_library as cl

WINDOW_MS = 10_000
RADIUS_M = 250
# Grid cell for the index; a little over the radius so projected vs great-circle distance
# never drops a pair (the exact gates below decide).
CELL_M = 260
EARTH_RADIUS_M = 6_371_008.8


def preset():
    """The sensor preset's levels and m/u, read from fleetscale so both use the same model."""
    with open(sys.argv[3]) as f:
        return json.load(f)


def haversine(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres, as SQL (the same formula fleetscale gates with)."""
    return (
        f"2 * {EARTH_RADIUS_M} * asin(sqrt(pow(sin(radians({lat2} - {lat1}) / 2), 2) + "
        f"cos(radians({lat1})) * cos(radians({lat2})) * pow(sin(radians({lon2} - {lon1}) / 2), 2)))"
    )


def comparison(name, comparator, tests, column):
    """A Splink comparison with fleetscale's levels and fixed m/u (a missing value is neutral in
    both)."""
    levels = [cll.NullLevel(column)]
    for level, sql in zip(comparator["levels"], tests):
        levels.append(
            cll.CustomLevel(sql, label_for_charts=level.get("label", sql), base_dialect_str="duckdb")
            .configure(m_probability=level["m"], u_probability=level["u"])
        )
    other = comparator["otherwise"]
    levels.append(cll.ElseLevel().configure(m_probability=other["m"], u_probability=other["u"]))
    return cl.CustomComparison(output_column_name=name, comparison_levels=levels)


def comparisons(cfg):
    by_field = {c["field"]: c for c in cfg["comparators"]}
    t, pos = by_field["t"], by_field["pos"]
    return [
        comparison("cls", by_field["cls"], ["cls_l = cls_r"], "cls"),
        comparison("t", t, [f"abs(t_l - t_r) <= {lv['within']}" for lv in t["levels"]], "t"),
        comparison(
            "pos",
            pos,
            [f"{haversine('lat_l', 'lon_l', 'lat_r', 'lon_r')} <= {lv['within']}" for lv in pos["levels"]],
            "lat",
        ),
    ]


def main():
    source, out = sys.argv[1], sys.argv[2]
    cfg = preset()
    df = pd.read_csv(source, dtype={"id": str, "node": str, "cls": str})
    df["cx"] = (df["x"] // CELL_M).astype("int64")
    df["cy"] = (df["y"] // CELL_M).astype("int64")
    gates = (
        f"l.node <> r.node and abs(l.t - r.t) <= {WINDOW_MS} and "
        f"{haversine('l.lat', 'l.lon', 'r.lat', 'r.lon')} <= {RADIUS_M}"
    )
    rules = [
        {"blocking_rule": f"l.cx = r.cx + {dx} and l.cy = r.cy + {dy} and {gates}"}
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    ]
    prior = cfg["prior"]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=comparisons(cfg),
        blocking_rules_to_generate_predictions=rules,
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
    )
    started = time.perf_counter()
    db_api = DuckDBAPI(connection=duckdb.connect())
    linker = Linker(db_api.register(df), settings, log_level=30)
    predictions = linker.inference.predict(threshold_match_probability=cfg["threshold"])
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=cfg["threshold"]
    )
    table = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    accepted = predictions.as_duckdbpyrelation().count("*").fetchone()[0]
    mapping = dict(zip(table["id"].astype(str), table["cluster_id"].astype(str)))
    with open(out, "w") as f:
        json.dump(mapping, f)
    print(json.dumps({"seconds": seconds, "acceptedPairs": int(accepted), "clusters": len(set(mapping.values()))}))


if __name__ == "__main__":
    main()
