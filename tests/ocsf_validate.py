#!/usr/bin/env python3
"""Validate OCSF records (JSON lines) against the official OCSF schema, independently of Vigil.

The schema comes from the PyPI package `ocsf-json-schema`, which ships the official OCSF schema exports
(1.0.0 … 1.8.0) and turns a class plus its profiles into a JSON Schema (draft 2020-12, objects closed
with `additionalProperties: false`, enums, required attributes, `at_least_one`/`just_one` constraints).
`jsonschema` does the validating. Nothing is fetched from the network.

Each record is checked against the class named by its `class_uid`, with the profiles it declares in
`metadata.profiles`, in the OCSF version it declares in `metadata.version` (which must be --version).

usage: ocsf_validate.py [--version 1.3.0] [--expect-classes 2004,6003] FILE... (or - for stdin)
Prints a summary to stdout; exits 1 with the reasons (on stderr) if any record is invalid or an
expected class never appeared.
"""

import argparse
import json
import sys
from collections import Counter

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

MAX_REASONS = 40


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.3.0", help="the OCSF version records must declare")
    parser.add_argument("--expect-classes", default="", help="comma-separated class_uids that must occur")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    ocsf = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=args.version))
    validators: dict = {}
    counts: Counter = Counter()
    reasons: list[str] = []
    total = 0

    for name in args.files:
        stream = sys.stdin if name == "-" else open(name, encoding="utf-8")
        with stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                total += 1
                where = f"{name}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    reasons.append(f"{where}: not JSON: {e}")
                    continue
                problems = check(ocsf, validators, args.version, record)
                counts[record.get("class_uid") if isinstance(record, dict) else None] += 1
                for p in problems:
                    reasons.append(f"{where} (class {record.get('class_uid')}): {p}")

    for uid in filter(None, args.expect_classes.split(",")):
        if counts[int(uid)] == 0:
            reasons.append(f"no record of class {uid}")

    summary = ", ".join(f"class {k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"{total} records ({summary}); {len(reasons)} problems")
    if reasons:
        for r in reasons[:MAX_REASONS]:
            print(r, file=sys.stderr)
        if len(reasons) > MAX_REASONS:
            print(f"... and {len(reasons) - MAX_REASONS} more", file=sys.stderr)
        return 1
    if total == 0:
        print("no records", file=sys.stderr)
        return 1
    return 0


def check(ocsf, validators: dict, version: str, record) -> list[str]:
    if not isinstance(record, dict):
        return ["not a JSON object"]
    metadata = record.get("metadata") or {}
    if metadata.get("version") != version:
        return [f"metadata.version is {metadata.get('version')!r}, expected {version!r}"]
    try:
        class_name = ocsf.lookup_class_name_from_uid(int(record.get("class_uid")))
    except (TypeError, ValueError) as e:
        return [f"unknown class_uid: {e}"]
    profiles = tuple(sorted(metadata.get("profiles") or []))
    key = (class_name, profiles)
    if key not in validators:
        schema = ocsf.get_class_schema(class_name=class_name, profiles=list(profiles))
        validators[key] = Draft202012Validator(schema)
    errors = sorted(validators[key].iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors]


if __name__ == "__main__":
    sys.exit(main())
