#!/usr/bin/env python3
"""Anonymize a beads JSONL export, keeping the structure the engine uses.

Usage:
    anonymize-beads.py INPUT.jsonl OUTPUT.jsonl --prefix-map OLD=NEW[,OLD=NEW...]
                       [--mapping OUT.tsv]

Python 3 standard library only; the output depends only on the input and the
arguments (no randomness, no clock). Line order and each object's key order
are kept. Per record:

ids
    `PREFIX-BASE` followed by zero or more `.N` suffixes (`dotfiles-0zn.1`).
    PREFIX goes through --prefix-map (the longest matching OLD wins; an id
    with an unmapped prefix is an error). Every distinct BASE of the file
    (over all prefixes, records and dependency targets) gets a fixed-width
    base36 code, assigned in sorted order of the old BASEs, so the mapping is
    monotone and the lexical order of ids is kept (given prefix maps that keep
    the order of the prefixes). `.N` suffixes are kept. Ids are renamed in
    `id`, in every dependency record's `issue_id`, `depends_on_id` (or `id`),
    and in plain-string dependencies. Ids only referenced by dependencies are
    mapped the same way.
title, description
    Replaced by generated text: `Task N`, `Epic N` (issue_type epic), another
    issue_type capitalized (`Bug N`), and `Epic: Part N` for a title that
    started with `Epic:`. The description becomes `Details of <title>.`, on
    two lines when the original had a line break. Every well-formed
    `[P:Group-NAME]` marker is kept verbatim, in order, in the same field.
    A description that had control characters (ANSI escapes) gets a short
    synthetic ANSI sequence. Absent stays absent, empty stays empty, null
    stays null.
kept as is
    status, priority, issue_type, created_at, updated_at, closed_at,
    started_at, defer_until, compaction_level, original_size, original_type,
    deleted_at, _type; in dependencies: type, dependency_type, created_at,
    metadata, and thread_id when empty. Of an issue's `metadata` object only
    subagent_type, fallback_agents, applicable_skills and timeout_s are kept.
replaced
    created_by, deleted_by, assignee, owner and a dependency's created_by ->
    user1, user2, ... (one per distinct person, in order of appearance);
    close_reason -> `Closed`; delete_reason -> `deleted`; notes, design,
    acceptance_criteria -> `Notes N`, `Design N`, `Acceptance criteria N`;
    source_repo -> `.`; labels -> `label-N` (one per distinct label).
anything else
    A key not listed above whose value is or contains a string stops the run
    with an error naming it, so nothing personal slips through. Unknown keys
    holding only numbers, booleans or null are kept.

--mapping OUT.tsv writes `old<TAB>new` for every id, sorted by old id.

Example (the fixtures in tests/data/beads):
    scripts/anonymize-beads.py ll931217__dotfiles.jsonl tests/data/beads/dotfiles.jsonl \\
        --prefix-map dotfiles=df
    scripts/anonymize-beads.py NavarrePratt__atari.jsonl tests/data/beads/atari.jsonl \\
        --prefix-map atari=at,bd=bx
"""

import argparse
import json
import re
import sys

MARKER = re.compile(r"\[P:Group-[A-Za-z0-9_-]+\]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SUFFIX = re.compile(r"(\.[0-9]+)*")
ANSI_NOTE = "\x1b[1mnote\x1b[0m"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

KEEP = {
    "status", "priority", "issue_type", "created_at", "updated_at", "closed_at",
    "started_at", "defer_until", "compaction_level", "original_size",
    "original_type", "deleted_at", "_type",
}
PEOPLE = {"created_by", "deleted_by", "assignee", "owner"}
NUMBERED = {"notes": "Notes", "design": "Design", "acceptance_criteria": "Acceptance criteria"}
METADATA_KEEP = ("subagent_type", "fallback_agents", "applicable_skills", "timeout_s")
DEP_KEEP = {"type", "dependency_type", "created_at", "metadata"}


class Failure(Exception):
    pass


def has_string(value):
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(has_string(v) for v in value)
    if isinstance(value, dict):
        return any(has_string(v) for v in value.values())
    return False


def base36(n, width):
    out = ""
    for _ in range(width):
        n, d = divmod(n, 36)
        out = DIGITS[d] + out
    return out


class Ids:
    """The id renaming: prefixes through the map, bases monotone, suffixes kept."""

    def __init__(self, prefix_map):
        # Longest prefix first, so `ab` does not shadow `ab-c`.
        self.prefixes = sorted(prefix_map.items(), key=lambda kv: -len(kv[0]))
        self.codes = {}

    def split(self, old):
        for prefix, new in self.prefixes:
            if old.startswith(prefix + "-"):
                rest = old[len(prefix) + 1:]
                base, dot, suffix = rest.partition(".")
                suffix = dot + suffix
                if not base or not SUFFIX.fullmatch(suffix):
                    raise Failure(f"id {old!r}: not PREFIX-BASE[.N...]")
                return new, base, suffix
        raise Failure(f"id {old!r}: prefix not in --prefix-map")

    def assign(self, bases):
        bases = sorted(set(bases))
        width = 3
        while 36 ** width < 2 * (len(bases) + 1):
            width += 1
        space = 36 ** width
        # Spread over the code space, strictly increasing.
        self.codes = {b: base36((i + 1) * space // (len(bases) + 1), width)
                      for i, b in enumerate(bases)}

    def __call__(self, old):
        prefix, base, suffix = self.split(old)
        return f"{prefix}-{self.codes[base]}{suffix}"


def ids_of(record):
    """Every id a record mentions (its own and its dependencies')."""
    if "id" in record:
        yield record["id"]
    for dep in record.get("dependencies") or []:
        if isinstance(dep, str):
            yield dep
        elif isinstance(dep, dict):
            for key in ("issue_id", "depends_on_id", "id"):
                if isinstance(dep.get(key), str):
                    yield dep[key]


class Anonymizer:
    def __init__(self, ids):
        self.ids = ids
        self.people = {}
        self.labels = {}
        self.counters = {}
        self.line = 0

    def count(self, kind):
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def person(self, name):
        if name is None or name == "":
            return name
        if name not in self.people:
            self.people[name] = f"user{len(self.people) + 1}"
        return self.people[name]

    def label(self, name):
        if name not in self.labels:
            self.labels[name] = f"label-{len(self.labels) + 1}"
        return self.labels[name]

    def fail(self, what):
        raise Failure(f"line {self.line}: {what}")

    def title(self, record):
        old = record.get("title")
        if not isinstance(old, str):
            return old
        if old.startswith("Epic:"):
            text = f"Epic: Part {self.count('Epic: Part')}"
        else:
            kind = str(record.get("issue_type") or "task").replace("_", " ").capitalize()
            text = f"{kind} {self.count(kind)}"
        return " ".join([text] + MARKER.findall(old))

    def description(self, old, title):
        if not isinstance(old, str) or old == "":
            return old
        text = f"Details of {title}."
        if "\n" in old:
            text += "\nSecond line."
        if CONTROL.search(old):
            text += f" {ANSI_NOTE}"
        return " ".join([text] + MARKER.findall(old))

    def dependency(self, dep):
        if isinstance(dep, str):
            return self.ids(dep)
        if not isinstance(dep, dict):
            self.fail(f"dependencies: unexpected {type(dep).__name__}")
        out = {}
        for key, value in dep.items():
            if key in ("issue_id", "depends_on_id", "id"):
                out[key] = self.ids(value) if isinstance(value, str) else value
            elif key in DEP_KEEP:
                out[key] = value
            elif key == "created_by":
                out[key] = self.person(value)
            elif key == "thread_id" and value in ("", None):
                out[key] = value
            elif has_string(value):
                self.fail(f"unexpected key dependencies[].{key}")
            else:
                out[key] = value
        return out

    def record(self, record):
        out = {}
        title = self.title(record)
        for key, value in record.items():
            if key == "id":
                out[key] = self.ids(value)
            elif key == "title":
                out[key] = title
            elif key == "description":
                out[key] = self.description(value, title)
            elif key in KEEP:
                out[key] = value
            elif key in PEOPLE:
                out[key] = self.person(value) if isinstance(value, str) else value
            elif key == "close_reason":
                out[key] = "Closed" if value else value
            elif key == "delete_reason":
                out[key] = "deleted" if value else value
            elif key in NUMBERED:
                out[key] = (f"{NUMBERED[key]} {self.count(key)}"
                            if isinstance(value, str) and value else value)
            elif key == "source_repo":
                out[key] = "." if value else value
            elif key == "labels":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    self.fail("labels: expected a list of strings")
                out[key] = [self.label(v) for v in value]
            elif key == "dependencies":
                out[key] = ([self.dependency(d) for d in value]
                            if isinstance(value, list) else value)
            elif key == "metadata":
                if isinstance(value, dict):
                    out[key] = {k: value[k] for k in METADATA_KEEP if k in value}
                elif value is None or value in ("", "{}"):
                    out[key] = value
                else:
                    self.fail("metadata: expected an object")
            elif has_string(value):
                self.fail(f"unexpected key {key!r}")
            else:
                out[key] = value
        return out


def main():
    parser = argparse.ArgumentParser(
        description="Anonymize a beads JSONL export, keeping its structure.")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--prefix-map", required=True, help="OLD=NEW[,OLD=NEW...]")
    parser.add_argument("--mapping", help="write old<TAB>new for every id here")
    args = parser.parse_args()

    prefix_map = {}
    for pair in args.prefix_map.split(","):
        old, eq, new = pair.partition("=")
        if not eq or not old or not new:
            parser.error(f"--prefix-map: bad pair {pair!r}")
        prefix_map[old] = new

    try:
        records = []
        with open(args.input, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as e:
                    raise Failure(f"line {n}: {e}") from None
                if not isinstance(value, dict):
                    raise Failure(f"line {n}: not an object")
                records.append((n, value))

        ids = Ids(prefix_map)
        all_ids = sorted({i for _, r in records for i in ids_of(r)})
        ids.assign(ids.split(i)[1] for i in all_ids)

        anonymizer = Anonymizer(ids)
        lines = []
        for n, record in records:
            anonymizer.line = n
            out = anonymizer.record(record)
            lines.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    except Failure as e:
        sys.exit(f"{args.input}: {e}")

    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
    if args.mapping:
        with open(args.mapping, "w", encoding="utf-8", newline="\n") as f:
            for old in all_ids:
                f.write(f"{old}\t{ids(old)}\n")


if __name__ == "__main__":
    main()
