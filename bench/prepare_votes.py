#!/usr/bin/env python3
"""Prepares a copy of the title-page benchmark database for the helpful-vote load of
backends.sh: personal access tokens for the first --users users, and the (user, review) pairs
the load generator votes with.

Tokens: secret `mq_bench_<user id>`, stored as Marquee stores every token, SHA-256 of the
secret in api_tokens.token_hash; `last_used_ms` is left empty, as for a token never used.

Pairs: --runs segments of --pairs pairs each, written to OUT-DIR/pairs-<segment>.txt as
"user_id review_id" lines. Every pair is a vote that may be cast: the review has a text, the
user is not its author and has not voted on it yet. Every review appears in at most one pair
over all segments, so a helpful vote answered 200 can be traced back to its pair from the
`review_id` in the response, and each segment starts from reviews untouched by the others;
several vote runs can share one database. Users are spread evenly: each token appears in
--pairs / --users pairs of a segment.

Deterministic (fixed seed, rows read in key order), so running it on two copies of the same
database gives the same tokens and pairs. Idempotent: tokens that exist are kept.

Python 3.11 standard library only. Usage:
    prepare_votes.py --db DIR/marquee.db --out-dir DIR [--users 20000] [--pairs 20000] [--runs 4]
"""

import argparse
import hashlib
import random
import sqlite3
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a copy of the generated marquee.db")
    ap.add_argument("--out-dir", required=True, help="where pairs-N.txt go")
    ap.add_argument("--users", type=int, default=20_000, help="users given a token")
    ap.add_argument("--pairs", type=int, default=20_000, help="pairs per segment")
    ap.add_argument("--runs", type=int, default=4, help="segments (one per vote run)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--now-ms", type=int, default=1_767_225_600_000)
    args = ap.parse_args()
    start = time.monotonic()
    rng = random.Random(args.seed)

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    users = db.execute("SELECT COUNT(*) FROM users WHERE id <= ?", (args.users,)).fetchone()[0]
    if users != args.users:
        sys.exit(f"prepare_votes: the database has {users} users with id <= {args.users}")

    db.execute("BEGIN")
    before = db.execute("SELECT COUNT(*) FROM api_tokens").fetchone()[0]
    db.executemany(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_ms, last_used_ms) "
        "SELECT ?, 'bench votes', ?, ?, NULL "
        "WHERE NOT EXISTS (SELECT 1 FROM api_tokens WHERE token_hash = ?)",
        ((uid, h, args.now_ms, h) for uid in range(1, args.users + 1)
         for h in [hashlib.sha256(f"mq_bench_{uid}".encode()).digest()]))
    added = db.execute("SELECT COUNT(*) FROM api_tokens").fetchone()[0] - before
    db.execute("COMMIT")

    # Reviews with a text, in key order, then shuffled with the fixed seed.
    reviews = db.execute("SELECT id, user_id FROM reviews WHERE body IS NOT NULL ORDER BY id").fetchall()
    rng.shuffle(reviews)
    has_vote = "SELECT 1 FROM votes WHERE review_id = ? AND user_id = ?"
    it = iter(reviews)
    skipped = 0
    for seg in range(args.runs):
        voters = [1 + (i % args.users) for i in range(args.pairs)]
        rng.shuffle(voters)
        pairs = []
        for uid in voters:
            for rid, author in it:
                if author != uid and db.execute(has_vote, (rid, uid)).fetchone() is None:
                    pairs.append((uid, rid))
                    break
                skipped += 1
            else:
                sys.exit("prepare_votes: not enough reviews for the pairs asked for")
        with open(f"{args.out_dir}/pairs-{seg}.txt", "w") as f:
            f.writelines(f"{u} {r}\n" for u, r in pairs)
    db.close()
    print(f"  tokens: {args.users:,} (added {added:,}); pairs: {args.runs} x {args.pairs:,} "
          f"({skipped} reviews skipped: own review or already voted); "
          f"{time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
