#!/usr/bin/env python3
"""Checks a vote run of backends.sh against the database: no vote lost, none counted twice.

    vote_check.py count --url URL
        prints the number of rows in `votes`
    vote_check.py touch-tokens --url URL
        marks every bench token (prepare_votes.py) as used now, as if each of its users had made
        a request a moment ago, and prints how many: Marquee records a token's use at most once a
        minute, so a vote run that starts right after this has no token on its first use
    vote_check.py check --url URL --pairs pairs-N.txt --seen seen.txt --before N
        compares the pairs the load used (pairs-N.txt, "user_id review_id") and what happened to
        them (seen.txt from votes.lua, "review_id mask sent ok": mask 1 = a 200 confirmed true,
        2 = false, 3 = both, 0 = none; sent = requests sent, ok = 200 answers) with the vote
        rows, and `votes` now with N rows before the run.

Every pair starts without a vote (prepare_votes.py picks them so) and the load never withdraws
one, so after the run:
  - every pair with a 200 has exactly one vote row (else: "lost");
  - a pair never sent has none (else: "stray");
  - a pair whose every request was answered 200 holds the value the 200s confirmed, when they
    confirmed one value only (else: "wrong value");
  - `votes` grew by exactly the number of rows the pairs have (no row anywhere else).
A pair with a request not answered 200 (a 409 after two requests overtook each other, or a
request still in flight when wrk stopped, which the server may have committed) may hold either
value, and may have a row without a confirmed 200: those are counted, not errors.
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
import time

SUMMARY = """
SELECT COUNT(*),
       SUM(CASE WHEN p.mask <> 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.helpful IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.mask <> 0 AND v.helpful IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.sent = 0 AND v.helpful IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.sent = p.ok AND ((p.mask = 1 AND v.helpful = {false})
                                        OR (p.mask = 2 AND v.helpful = {true})) THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.sent > p.ok THEN 1 ELSE 0 END),
       SUM(CASE WHEN p.sent > p.ok AND p.mask = 0 AND v.helpful IS NOT NULL THEN 1 ELSE 0 END),
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


def touch_tokens(url):
    now_ms = int(time.time() * 1000)
    sql = f"UPDATE api_tokens SET last_used_ms = {now_ms} WHERE name = 'bench votes'"
    if url.startswith("sqlite://"):
        db = sqlite3.connect(url[len("sqlite://"):], isolation_level=None, timeout=30)
        n = db.execute(sql).rowcount
        db.close()
        return n
    return int(psql(url, f"WITH t AS ({sql} RETURNING 1) SELECT COUNT(*) FROM t;")[0])


def check(url, pairs_file, seen_file, before):
    seen = {}
    with open(seen_file) as f:
        for line in f:
            r, m, sent, ok = map(int, line.split())
            seen[r] = (m, sent, ok)
    rows = []
    with open(pairs_file) as f:
        for line in f:
            u, r = map(int, line.split())
            rows.append((u, r, *seen.pop(r, (0, 0, 0))))
    if seen:
        sys.exit(f"vote_check: {len(seen)} reviews in {seen_file} are not in {pairs_file}")
    if url.startswith("sqlite://"):
        db = sqlite3.connect(url[len("sqlite://"):])
        db.execute("CREATE TEMP TABLE bench_pairs (user_id INTEGER, review_id INTEGER, mask INTEGER, "
                   "sent INTEGER, ok INTEGER)")
        db.executemany("INSERT INTO bench_pairs VALUES (?, ?, ?, ?, ?)", rows)
        got = db.execute(SUMMARY.format(true=1, false=0)).fetchone()
        db.close()
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.writelines(" ".join(map(str, row)) + "\n" for row in rows)
        try:
            got = psql(url, "CREATE TEMP TABLE bench_pairs (user_id BIGINT, review_id BIGINT, "
                            "mask INT, sent INT, ok INT);\n"
                            f"\\copy bench_pairs FROM '{f.name}' WITH (DELIMITER ' ')\n"
                            + SUMMARY.format(true="TRUE", false="FALSE") + ";\n")
        finally:
            os.unlink(f.name)
    (pairs, confirmed, present, lost, stray, wrong, unsure, unanswered_rows, both,
     after) = (int(x or 0) for x in got)
    grown = after - before
    ok = lost == 0 and stray == 0 and wrong == 0 and grown == present
    print(f"votes {before:,} -> {after:,} (+{grown:,}); {pairs:,} pairs: {confirmed:,} with a 200, "
          f"{present:,} with a row; lost {lost}, stray {stray}, wrong value {wrong}, "
          f"rows elsewhere {grown - present}; {unsure} pairs with a request not answered 200 "
          f"({unanswered_rows} of them have a row without a 200) -> {'ok' if ok else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("count", "check", "touch-tokens"))
    ap.add_argument("--url", required=True)
    ap.add_argument("--pairs")
    ap.add_argument("--seen")
    ap.add_argument("--before", type=int)
    args = ap.parse_args()
    if args.mode == "count":
        print(count(args.url))
    elif args.mode == "touch-tokens":
        print(touch_tokens(args.url))
    else:
        if not (args.pairs and args.seen and args.before is not None):
            ap.error("check needs --pairs, --seen and --before")
        sys.exit(0 if check(args.url, args.pairs, args.seen, args.before) else 1)


if __name__ == "__main__":
    main()
