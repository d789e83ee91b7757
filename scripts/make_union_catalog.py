#!/usr/bin/env python3
"""Build tests/fixtures/resolve/sp800-53r5-5.1.1-union_catalog.json.

NIST's SP 800-53r5 baselines and their resolved catalogs are release 5.1.1+u4, while the
catalog bundled with mim6 is release 5.2.0. To check profile resolution against NIST's resolved
catalogs exactly, the resolver needs a 5.1.1 catalog. Every control of every baseline is in
NIST's resolved HIGH or PRIVACY catalog, so their union is one: groups and controls merged in
catalog order (taken from the 5.2.0 catalog, whose control order is the same), control content
from HIGH where both have it, back-matter resources merged keeping both orders.

Run from the repository root:

    python3 scripts/make_union_catalog.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NIST = ROOT / "tests" / "fixtures" / "nist" / "nist-sp800-53r5" / "json"
OUT = ROOT / "tests" / "fixtures" / "resolve" / "sp800-53r5-5.1.1-union_catalog.json"


def load(name):
    return json.loads((NIST / name).read_text(encoding="utf-8"))["catalog"]


def catalog_order(catalog):
    order = {}

    def walk(controls):
        for control in controls:
            order.setdefault(control["id"], len(order))
            walk(control.get("controls", []))

    for group in catalog.get("groups", []):
        order.setdefault("group:" + group["id"], len(order))
        walk(group.get("controls", []))
    return order


def merge_controls(first, second, order):
    by_id = {}
    for control in first + second:
        if control["id"] not in by_id:
            by_id[control["id"]] = dict(control)
            by_id[control["id"]]["controls"] = []
    children = {}
    for control in first + second:
        children.setdefault(control["id"], []).append(control.get("controls", []))
    merged = []
    for cid, control in by_id.items():
        lists = children[cid]
        kids = merge_controls(lists[0], [c for l in lists[1:] for c in l], order)
        if kids:
            control["controls"] = kids
        else:
            control.pop("controls")
        merged.append(control)
    merged.sort(key=lambda c: order.get(c["id"], len(order)))
    # Keep the key order of the source objects (controls last when present).
    return merged


def merge_sequences(first, second, key):
    first_keys = {key(x) for x in first}
    second_keys = {key(x) for x in second}
    out, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        a, b = first[i], second[j]
        if key(a) == key(b):
            out.append(a)
            i += 1
            j += 1
        elif key(b) not in first_keys:
            out.append(b)
            j += 1
        elif key(a) not in second_keys:
            out.append(a)
            i += 1
        else:
            out.append(a)
            i += 1
    out.extend(first[i:])
    out.extend(x for x in second[j:] if key(x) not in {key(y) for y in out})
    return out


def main():
    high = load("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json")
    privacy = load("NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog.json")
    order = catalog_order(load("NIST_SP-800-53_rev5_catalog.json"))

    groups = {}
    for group in high["groups"] + privacy["groups"]:
        groups.setdefault(group["id"], []).append(group)
    union_groups = []
    for gid, copies in groups.items():
        group = {k: v for k, v in copies[0].items() if k != "controls"}
        controls = merge_controls(copies[0].get("controls", []),
                                  [c for g in copies[1:] for c in g.get("controls", [])], order)
        if controls:
            group["controls"] = controls
        union_groups.append(group)
    union_groups.sort(key=lambda g: order.get("group:" + g["id"], len(order)))

    resources = merge_sequences(high["back-matter"]["resources"],
                                privacy["back-matter"]["resources"], key=lambda r: r["uuid"])
    metadata = dict(high["metadata"])
    metadata["title"] = ("NIST SP 800-53 Rev 5.1.1+u4 controls: union of NIST's resolved HIGH "
                         "and PRIVACY baselines (test fixture)")
    metadata.pop("props", None)
    metadata.pop("links", None)
    catalog = {
        "uuid": "4e1d7f2c-8a6b-4c3e-9f1a-2b7d5c8e9a01",
        "metadata": metadata,
        "groups": union_groups,
        "back-matter": {"resources": resources},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"catalog": catalog}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    count = sum(1 for _ in order)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(union_groups)} groups, {len(resources)} resources")


if __name__ == "__main__":
    main()
