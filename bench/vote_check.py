#!/usr/bin/env python3
"""Checks a vote run of backends.sh against the database: no vote lost, none counted twice.

    vote_check.py count --url URL
        prints the number of rows in `votes`
    vote_check.py check --url URL --pairs pairs-N.txt --seen seen.txt --before N
        compares the pairs the load used (pairs-N.txt, "user_id review_id") and what its 200
        answers confirmed (seen.txt from votes.lua, "review_id mask": 1 true, 2 false, 3 both)
        with the vote rows, and `votes` now with N rows before the run.

Every pair starts without a vote (prepare_votes.py picks them so) and the load never withdraws
one, so after the run:
  - every pair with a 200 has exactly one vote row (else: "lost"),
  - no pair without a 200 has one (else: "unconfirmed", possible only for requests wrk gave up
    on, e.g. timeouts),
  - the row's value is the one a 200 confirmed, when only one value was (else: "wrong"),
  - `votes` grew by exactly the number of pairs with a 200 (the first 200 on each pair was the
    insert, every later one a change of an existing row).
`marquee verify` checks the other half: each review's counts and score agree with its rows.

URL is sqlite://PATH or postgres://… (queried with psql). Prints one line; exit status 1 when
anything disagrees. Python 3.11 standard library only.
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile

SUMMARY = """
SELECT COUNT(*),
       SUM(CASE WHEN p.mask <> 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.helpful IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.mask <> 0 AND v.helpful IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.mask = 0 AND v.helpful IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN (p.mask = 1 AND v.helpful = {false}) OR (p.mask = 2 AND v.helpful = {true})
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.mask = 3 THEN 1 ELSE 0 END),
       (SELECT COUNT(*) FROM votes)
FROM bench_pairs p
LEFT JOIN votes v ON v.review_id = p.review_id AND v.user_id = p.user_id
"""


def psql(url, script):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                              "-F", " ", "-d", url, "-f", f.name],
                             check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f"vote_check: psql failed: {e.stderr.strip()}")
    finally:
        os.unlink(f.name)
    return out.split()


def count(url):
    if url.startswith("sqlite://"):
        db = sqlite3.connect(url[len("sqlite://"):])
        n = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        db.close()
        return n
    return int(psql(url, "SELECT COUNT(*) FROM votes;")[0])


def check(url, pairs_file, seen_file, before):
    seen = {}
    with open(seen_file) as f:
        for line in f:
            r, m = line.split()
            seen[int(r)] = int(m)
    rows = []
    with open(pairs_file) as f:
        for line in f:
            u, r = map(int, line.split())
            rows.append((u, r, seen.pop(r, 0)))
    if seen:
        sys.exit(f"vote_check: {len(seen)} reviews in {seen_file} are not in {pairs_file}")
    if url.startswith("sqlite://"):
        db = sqlite3.connect(url[len("sqlite://"):])
        db.execute("CREATE TEMP TABLE bench_pairs (user_id INTEGER, review_id INTEGER, mask INTEGER)")
        db.executemany("INSERT INTO bench_pairs VALUES (?, ?, ?)", rows)
        got = db.execute(SUMMARY.format(true=1, false=0)).fetchone()
        db.close()
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.writelines(f"{u} {r} {m}\n" for u, r, m in rows)
        try:
            got = psql(url, "CREATE TEMP TABLE bench_pairs (user_id BIGINT, review_id BIGINT, mask INT);\n"
                            f"\\copy bench_pairs FROM '{f.name}' WITH (DELIMITER ' ')\n"
                            + SUMMARY.format(true="TRUE", false="FALSE") + ";\n")
        finally:
            os.unlink(f.name)
    pairs, confirmed, present, lost, unconfirmed, wrong, both, after = map(int, got)
    grown = after - before
    ok = lost == 0 and unconfirmed == 0 and wrong == 0 and grown == confirmed == present
    print(f"votes {before:,} -> {after:,} (+{grown:,}), pairs with a 200 {confirmed:,} of {pairs:,}, "
          f"rows for them {present:,}; lost {lost}, unconfirmed {unconfirmed}, wrong value {wrong} "
          f"({both:,} pairs had both values confirmed) -> {'ok' if ok else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("count", "check"))
    ap.add_argument("--url", required=True)
    ap.add_argument("--pairs")
    ap.add_argument("--seen")
    ap.add_argument("--before", type=int)
    args = ap.parse_args()
    if args.mode == "count":
        print(count(args.url))
    else:
        if not (args.pairs and args.seen and args.before is not None):
            ap.error("check needs --pairs, --seen and --before")
        sys.exit(0 if check(args.url, args.pairs, args.seen, args.before) else 1)


if __name__ == "__main__":
    main()
