#!/usr/bin/env python3
"""Recompute a "double random, one public" spot-check draw (R20) from its
published inputs, independently of the platform's Rust code.

Anyone holding the published spec and the beacon (the bytes of the log
checkpoint named as the beacon) can run this and compare the output with the
published result. It uses only the Python standard library and nothing from
the project, so it is a second implementation of the algorithm written from
its description (shared/src/oversight/draw.rs, "The algorithm (version 1)"),
not a translation of the Rust.

Usage:  python3 recompute.py DRAW.json
where DRAW.json is {"spec": {...}, "beacon_hex": "..."} (other members, such
as a vector's "expected", are ignored). Prints {"seed_hex", "picks"} as JSON.
Exits with status 2 and a message if the spec is not a valid draw.
"""

import hashlib
import json
import sys

SEED_DOMAIN = b"jzqy-draw-v1\n"
U64_MAX = 2**64 - 1
MAX_SAFE_INTEGER = 2**53 - 1
MAX_ID_BYTES = 64

SPEC_MEMBERS = {
    "draw_id", "title", "announced_ms", "targets", "inspectors",
    "target_count", "inspectors_per_target",
}
TARGET_MEMBERS = {"id", "weight", "label"}


class InvalidSpec(Exception):
    pass


def require(condition, why):
    if not condition:
        raise InvalidSpec(why)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def valid_id(value):
    return (
        isinstance(value, str)
        and 1 <= len(value.encode("utf-8")) <= MAX_ID_BYTES
        and all("\x21" <= c <= "\x7e" for c in value)
    )


def validated(spec):
    """The spec, refused unless it is a drawable one."""
    require(isinstance(spec, dict) and set(spec) == SPEC_MEMBERS,
            "spec must have exactly the members %s" % sorted(SPEC_MEMBERS))
    require(valid_id(spec["draw_id"]), "bad draw_id")
    require(isinstance(spec["title"], str), "title must be a string")
    require(is_int(spec["announced_ms"]) and abs(spec["announced_ms"]) <= MAX_SAFE_INTEGER,
            "announced_ms must be an integer within +-(2^53-1)")
    targets, inspectors = spec["targets"], spec["inspectors"]
    require(isinstance(targets, list) and targets, "no targets")
    require(isinstance(inspectors, list) and inspectors, "no inspectors")
    for t in targets:
        require(isinstance(t, dict) and set(t) == TARGET_MEMBERS,
                "each target must have exactly the members %s" % sorted(TARGET_MEMBERS))
        require(valid_id(t["id"]), "bad target id %r" % (t["id"],))
        require(is_int(t["weight"]) and 1 <= t["weight"] <= 2**32 - 1,
                "target %s: weight must be an integer from 1 to 2^32-1" % t["id"])
        require(isinstance(t["label"], str), "target %s: label must be a string" % t["id"])
    require(all(valid_id(i) for i in inspectors), "bad inspector id")
    require(len({t["id"] for t in targets}) == len(targets), "duplicate target id")
    require(len(set(inspectors)) == len(inspectors), "duplicate inspector id")
    require(is_int(spec["target_count"]) and 1 <= spec["target_count"] <= len(targets),
            "target_count out of range")
    require(is_int(spec["inspectors_per_target"])
            and 1 <= spec["inspectors_per_target"] <= len(inspectors),
            "inspectors_per_target out of range")
    return spec


def canonical_bytes(spec):
    """RFC 8785 canonical JSON. For this data (ASCII member names, integers,
    strings) that is Python's sorted, compact dump with UTF-8 left unescaped:
    json escapes only '"', '\\' and control characters, the latter as \\b \\t
    \\n \\f \\r or \\u00xx in lowercase hex, exactly as RFC 8785 does."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


class Stream:
    """Four big-endian 64-bit words per SHA-256(seed || counter) block."""

    def __init__(self, seed):
        self.seed = seed
        self.counter = 0
        self.pending = []

    def word(self):
        if not self.pending:
            block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
            self.pending = [int.from_bytes(block[k:k + 8], "big") for k in range(0, 32, 8)]
        return self.pending.pop(0)

    def below(self, n):
        """Unbiased integer in [0, n): words at or above the largest multiple
        of n that is <= 2^64 - 1 are thrown away."""
        limit = U64_MAX - U64_MAX % n
        while True:
            x = self.word()
            if x < limit:
                return x % n


def recompute(spec, beacon):
    spec = validated(spec)
    seed = hashlib.sha256(SEED_DOMAIN + canonical_bytes(spec) + b"\n" + beacon).digest()
    stream = Stream(seed)

    # Targets first: weighted, without replacement, in the spec's order.
    candidates = [(t["id"], t["weight"]) for t in spec["targets"]]
    chosen = []
    for _ in range(spec["target_count"]):
        r = stream.below(sum(w for _, w in candidates))
        cumulative = 0
        for k, (target_id, w) in enumerate(candidates):
            cumulative += w
            if r < cumulative:
                chosen.append(target_id)
                del candidates[k]
                break

    # Then inspectors, target by target in pick order, each from the whole pool.
    picks = []
    for target_id in chosen:
        pool = list(spec["inspectors"])
        drawn = [pool.pop(stream.below(len(pool))) for _ in range(spec["inspectors_per_target"])]
        picks.append({"target": target_id, "inspectors": drawn})

    return {"seed_hex": seed.hex(), "picks": picks}


def no_duplicate_members(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise InvalidSpec("a JSON object names a member twice")
    return dict(pairs)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: recompute.py DRAW.json\n")
        return 2
    try:
        with open(argv[1], "rb") as f:
            published = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicate_members)
        result = recompute(published["spec"], bytes.fromhex(published["beacon_hex"]))
    except InvalidSpec as why:
        sys.stderr.write("not a valid draw: %s\n" % why)
        return 2
    sys.stdout.buffer.write(json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
