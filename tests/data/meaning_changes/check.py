"""Check the labelled meaning-change set: format, counts, unique ids.

Run: python tests/data/meaning_changes/check.py
Exits non-zero and lists the problems when the set does not meet its spec.
"""

import collections
import itertools
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
SPLITS = ("dev", "test", "val", "val2", "val3")
KINDS = ("antonym", "quantifier", "role", "entity", "modality",
         "dropped", "added", "number", "negation", "name")
MIN_PER_KIND = 12
MIN_ITEMS = {"dev": 40, "test": 40, "val": 30, "val2": 30, "val3": 30}
ITEM_KEYS = {"id", "domain", "references", "paraphrases", "changes"}
CHANGE_KEYS = {"kind", "text", "what"}


def norm(text):
    return " ".join(text.split()).casefold()


def check_split(name, data, seen_ids, problems):
    counts = collections.Counter()
    n_para = 0
    domains = collections.Counter()
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        problems.append(f"{name}: no items list")
        return counts, 0, 0, domains
    for item in items:
        iid = item.get("id", "?")
        where = f"{name}:{iid}"
        if set(item) != ITEM_KEYS:
            problems.append(f"{where}: keys {sorted(item)}")
        if iid in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(iid)
        if not str(item.get("domain", "")).strip():
            problems.append(f"{where}: empty domain")
        domains[item.get("domain")] += 1
        refs = item.get("references") or []
        paras = item.get("paraphrases") or []
        changes = item.get("changes") or []
        if not 1 <= len(refs) <= 3:
            problems.append(f"{where}: {len(refs)} references")
        if not 1 <= len(paras) <= 3:
            problems.append(f"{where}: {len(paras)} paraphrases")
        if not changes:
            problems.append(f"{where}: no changes")
        ref_norms = {norm(r) for r in refs if isinstance(r, str)}
        texts = []
        for r in refs:
            if not isinstance(r, str) or not r.strip():
                problems.append(f"{where}: empty or non-text reference")
        if len(ref_norms) != len(refs):
            problems.append(f"{where}: duplicate references")
        for p in paras:
            if not isinstance(p, str) or not p.strip():
                problems.append(f"{where}: empty paraphrase")
                continue
            if norm(p) in ref_norms:
                problems.append(f"{where}: paraphrase identical to a reference")
            texts.append(norm(p))
        n_para += len(paras)
        for c in changes:
            if not isinstance(c, dict) or set(c) != CHANGE_KEYS:
                problems.append(f"{where}: change keys {sorted(c) if isinstance(c, dict) else c}")
                continue
            if c["kind"] not in KINDS:
                problems.append(f"{where}: unknown kind {c['kind']!r}")
            for key in ("text", "what"):
                if not isinstance(c[key], str) or not c[key].strip():
                    problems.append(f"{where}: empty {key} in a {c['kind']} change")
            if isinstance(c["text"], str):
                if norm(c["text"]) in ref_norms:
                    problems.append(f"{where}: {c['kind']} change identical to a reference")
                if norm(c["text"]) in texts:
                    problems.append(f"{where}: {c['kind']} change identical to a paraphrase or another change")
                texts.append(norm(c["text"]))
            counts[c["kind"]] += 1
    n_changes = sum(counts.values())
    for kind in KINDS:
        if counts[kind] < MIN_PER_KIND:
            problems.append(f"{name}: only {counts[kind]} {kind} changes (need {MIN_PER_KIND})")
    if len(items) < MIN_ITEMS[name]:
        problems.append(f"{name}: only {len(items)} items (need {MIN_ITEMS[name]})")
    if not name.startswith("val") and n_para < n_changes:
        # the val splits have three paraphrases an item and up to five changes: fewer items, as many kinds
        problems.append(f"{name}: {n_para} paraphrases < {n_changes} changes")
    return counts, len(items), n_para, domains


def main():
    problems = []
    seen_ids = set()
    ref_sets = {}
    for split in SPLITS:
        path = HERE / f"{split}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        counts, n_items, n_para, domains = check_split(split, data, seen_ids, problems)
        ref_sets[split] = {norm(r) for it in data["items"] for r in it["references"]}
        print(f"{split}: {n_items} items, {n_para} paraphrases, "
              f"{sum(counts.values())} changes")
        print("  " + ", ".join(f"{k} {counts[k]}" for k in KINDS))
        print("  domains: " + ", ".join(f"{d} {n}" for d, n in sorted(domains.items())))
        n_refs = collections.Counter(len(it["references"]) for it in data["items"])
        print("  references per item: " + ", ".join(f"{k}: {v}" for k, v in sorted(n_refs.items())))
    for a, b in itertools.combinations(SPLITS, 2):
        if ref_sets[a] & ref_sets[b]:
            problems.append(f"a reference appears in both {a} and {b}")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
