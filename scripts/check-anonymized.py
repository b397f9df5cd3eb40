#!/usr/bin/env python3
"""Check an anonymized beads export against its original.

Usage:
    check-anonymized.py ORIGINAL.jsonl ANONYMIZED.jsonl MAPPING.tsv

MAPPING.tsv is what `anonymize-beads.py --mapping` wrote (old<TAB>new). The
check is independent of how the anonymizer works. It asserts:
  - both files are valid JSON Lines (one object per non-blank line);
  - the mapping is one-to-one, keeps `.N` suffixes and the lexical order of
    ids, and covers every id the original mentions;
  - record count and order, key order, ids, and every structural field
    (status, priority, issue_type, timestamps, ...) are equal after mapping;
  - every dependency record (issue_id, depends_on_id, type, created_at,
    metadata) is equal after mapping;
  - `[P:Group-NAME]` markers per field, a title's `Epic:` prefix, and whether
    a description is absent, empty or has control characters are the same;
  - no 12-character run of an original title, description, close reason,
    note, label or person appears in the anonymized file.
Exits 1 with the failures listed, 0 (printing a summary) otherwise.
"""

import json
import re
import sys

MARKER = re.compile(r"\[P:Group-[A-Za-z0-9_-]+\]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SAME = ("status", "priority", "issue_type", "created_at", "updated_at", "closed_at",
        "started_at", "defer_until", "compaction_level", "original_size",
        "original_type", "deleted_at", "_type")
SECRET = ("title", "description", "close_reason", "notes", "design",
          "acceptance_criteria", "delete_reason")
WINDOW = 12

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                check(False, f"{path}:{n}: blank line")
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                check(False, f"{path}:{n}: {e}")
                continue
            check(isinstance(value, dict), f"{path}:{n}: not an object")
            out.append(value)
    return out


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)


def mentioned(record):
    yield record["id"]
    for d in record.get("dependencies") or []:
        if isinstance(d, str):
            yield d
        else:
            for k in ("issue_id", "depends_on_id", "id"):
                if k in d:
                    yield d[k]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    original, anonymized = load(sys.argv[1]), load(sys.argv[2])
    with open(sys.argv[3], encoding="utf-8") as f:
        mapping = dict(line.rstrip("\n").split("\t") for line in f if line.strip())

    # The mapping itself.
    check(len(set(mapping.values())) == len(mapping), "mapping is not one-to-one")
    for old, new in mapping.items():
        old_suffix = re.search(r"(\.[0-9]+)*$", old).group(0)
        check(new.endswith(old_suffix) and
              re.search(r"(\.[0-9]+)*$", new).group(0) == old_suffix,
              f"{old} -> {new}: suffix changed")
    olds = sorted(mapping)
    check([mapping[o] for o in olds] == sorted(mapping.values()),
          "mapping does not keep the lexical order of ids")
    for r in original:
        for i in mentioned(r):
            check(i in mapping, f"{i}: not in the mapping")
    m = lambda i: mapping.get(i, f"<unmapped {i}>")

    check(len(original) == len(anonymized),
          f"record count {len(original)} != {len(anonymized)}")
    for a, b in zip(original, anonymized):
        where = f"{a.get('id')} -> {b.get('id')}"
        check(list(a) == list(b), f"{where}: key order or key set differs")
        check(m(a["id"]) == b.get("id"), f"{where}: id not mapped")
        for k in SAME:
            check(a.get(k, "<absent>") == b.get(k, "<absent>"), f"{where}: {k} differs")
        da = a.get("dependencies") or []
        db = b.get("dependencies") or []
        check(len(da) == len(db), f"{where}: dependency count differs")
        for x, y in zip(da, db):
            if isinstance(x, str):
                check(m(x) == y, f"{where}: dependency {x} not mapped")
                continue
            for k in ("issue_id", "depends_on_id", "id"):
                if k in x:
                    check(m(x[k]) == y.get(k), f"{where}: dependency {k} {x[k]} not mapped")
            for k in ("type", "dependency_type", "created_at", "metadata"):
                check(x.get(k, "<absent>") == y.get(k, "<absent>"),
                      f"{where}: dependency {k} differs")
        for k in ("title", "description"):
            va, vb = a.get(k), b.get(k)
            check(type(va) is type(vb), f"{where}: {k} presence/type differs")
            if isinstance(va, str) and isinstance(vb, str):
                check(MARKER.findall(va) == MARKER.findall(vb), f"{where}: {k} markers differ")
                check((va == "") == (vb == ""), f"{where}: {k} emptiness differs")
                check(bool(CONTROL.search(va)) == bool(CONTROL.search(vb)),
                      f"{where}: {k} control characters differ")
        check(str(a.get("title", "")).startswith("Epic:") ==
              str(b.get("title", "")).startswith("Epic:"), f"{where}: Epic: prefix differs")
        if isinstance(a.get("metadata"), dict):
            for k in ("subagent_type", "fallback_agents", "applicable_skills", "timeout_s"):
                check(a["metadata"].get(k) == b["metadata"].get(k),
                      f"{where}: metadata.{k} differs")

    # No 12-character run of original free text survives.
    new_text = "\n".join(s for r in anonymized for s in strings(r))
    with open(sys.argv[2], encoding="utf-8") as f:
        raw = f.read()
    windows = set()
    for text in (new_text, raw):
        windows.update(text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1))
    secrets = []
    for r in original:
        secrets += [r[k] for k in SECRET if isinstance(r.get(k), str)]
        secrets += list(r.get("labels") or [])
        secrets += [r[k] for k in ("created_by", "assignee", "owner", "deleted_by")
                    if isinstance(r.get(k), str)]
        for d in r.get("dependencies") or []:
            if isinstance(d, dict) and isinstance(d.get("created_by"), str):
                secrets.append(d["created_by"])
    # Runs that are only structure kept on purpose (key names, statuses,
    # dependency types, markers) do not count.
    structure = []
    for r in anonymized:
        kept = {k: v for k, v in r.items() if k not in SECRET}
        structure.append(json.dumps(kept, ensure_ascii=False, separators=(",", ":")))
        structure += [s for s in strings(kept)]
        for k in ("title", "description"):
            for m in MARKER.findall(r.get(k) or ""):
                structure += [f" {m} ", f" {m}"]  # items end in "\n"
    structure = "\n".join(structure)
    allowed = {structure[i:i + WINDOW] for i in range(len(structure) - WINDOW + 1)}
    leaked = set()
    for s in secrets:
        for i in range(len(s) - WINDOW + 1):
            w = s[i:i + WINDOW]
            if w.strip() and w in windows and w not in allowed:
                leaked.add(w)
    check(not leaked, f"original text survives: {sorted(leaked)[:10]}")
    short = {s for s in secrets if 3 <= len(s) < WINDOW}
    words = set(re.findall(r"[^\s\"\[\]{}:,]+", raw))
    vocabulary = set(re.findall(r"[^\s\"\[\]{}:,]+", structure)) | {"Closed"}
    survived = sorted(s for s in short if s in words and s not in vocabulary)
    check(not survived, f"short original values survive: {survived[:10]}")

    if failures:
        print("\n".join(failures[:50]))
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print(f"ok: {len(anonymized)} records, {len(mapping)} ids, "
          f"{sum(len(r.get('dependencies') or []) for r in anonymized)} dependency records, "
          f"{sum(len(MARKER.findall(r.get('title') or '')) + len(MARKER.findall(r.get('description') or '')) for r in anonymized)} markers")


if __name__ == "__main__":
    main()
