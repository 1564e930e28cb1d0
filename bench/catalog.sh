#!/usr/bin/env bash
# The catalog benchmark (issue "A real catalog"): import ggplot2movies (58,788 IMDb films, as a
# generic CSV catalog) and movielens-small (100,004 ratings) into an empty database, timing each
# import, then measure search and catalog-filter requests under wrk at 64 connections, on SQLite
# and on PostgreSQL in one run. Targets: both imports in under 20 s together; search p99 under
# 20 ms at 64 connections on each backend. See bench/README.md ("Catalog").
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/catalog.sh [options]

  --only LIST        backends to run, comma-separated: sqlite,pg (default both)
  --duration SECS    length of each wrk run (default 20)
  --connections N    wrk connections (default 64)
  --threads N        wrk threads (default 2)
  --seed N           seed of the request draw (default 1)
  --no-build         use target/release/marquee as it is
  -h, --help         this text

Needs wrk, python3, psql and a PostgreSQL server at $MARQUEE_BENCH_POSTGRES_URL (default
postgres://postgres:postgres@127.0.0.1:5432/postgres) for the pg half. Data sets are read from
../shared/data (or $MARQUEE_DATA). Results are appended to bench/out/catalog-results.md.
USAGE
}

ONLY="sqlite,pg"
DURATION=20
CONNECTIONS=64
THREADS=2
SEED=1
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) ONLY="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --threads) THREADS="$2"; shift ;;
        --seed) SEED="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
RUN="$OUT/catalog-run"
BIN="$ROOT/target/release/marquee"
DATA="${MARQUEE_DATA:-$ROOT/../shared/data}"
GGPLOT="$DATA/ggplot2movies-imdb/movies.csv.gz"
MOVIELENS="$DATA/movielens-small-dslabs/movielens.csv.gz"
PG_URL="${MARQUEE_BENCH_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
PG_NAME="marquee_bench_catalog"
ADDR="127.0.0.1:18100"
RESULTS="$OUT/catalog-results.md"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'catalog: %s\n' "$*" >&2; exit 1; }

for tool in wrk python3 curl; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f "$GGPLOT" && -f "$MOVIELENS" ]] || die "the data sets are not under $DATA"
mkdir -p "$RUN"
if [[ $BUILD == 1 ]]; then
    say "building (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin marquee)
fi

GGPLOT_MAP=(--map title=title --map year=year --map runtime=length --map rating=rating
    --map votes=votes --map rating_source=imdb --map content_rating=mpaa
    --map genre_flags=Action,Animation,Comedy,Drama,Documentary,Romance,Short)

# The request mix: search as people type it (whole words, prefixes, typos, names) and the
# catalog filters with every sort. Drawn from the data itself, the same for both backends.
python3 - "$GGPLOT" "$MOVIELENS" "$SEED" >"$RUN/search.txt" 3>"$RUN/filters.txt" <<'PY'
import csv, gzip, random, sys, urllib.parse
random.seed(int(sys.argv[3]))
titles = [r["title"] for r in csv.DictReader(gzip.open(sys.argv[1], "rt", encoding="utf-8"))]
titles += [r["title"] for r in csv.DictReader(gzip.open(sys.argv[2], "rt", encoding="utf-8")) if r["title"]]
words = [w for t in titles for w in t.split() if len(w) >= 4 and w.isalpha()]
def typo(w):
    i = random.randrange(1, len(w) - 1)
    return w[:i] + w[i + 1:] if random.random() < 0.5 else w[:i] + w[i + 1] + w[i] + w[i + 2:]
out = []
for _ in range(2000):
    kind = random.random()
    if kind < 0.3:
        q = random.choice(titles)                      # a whole title
    elif kind < 0.6:
        t = random.choice(titles)                      # a title as it is being typed
        q = t[: random.randint(3, max(3, min(len(t), 12)))]
    elif kind < 0.8:
        q = " ".join(random.sample(words, 2))          # two words
    else:
        q = typo(random.choice(words))                 # a typo
    out.append("/api/v1/search?q=" + urllib.parse.quote(q))
    out.append("/api/v1/search/suggest?q=" + urllib.parse.quote(q[: random.randint(2, max(2, len(q)))]))
print("\n".join(out))
genres = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short", "Adventure", "Thriller"]
sorts = ["title", "year", "rating", "reviews", "added"]
filters = []
for _ in range(2000):
    p = {"sort": random.choice(sorts)}
    if random.random() < 0.6: p["genre"] = random.choice(genres)
    if random.random() < 0.5:
        y = random.randint(1920, 2000); p["year_min"] = y; p["year_max"] = y + random.randint(0, 15)
    if random.random() < 0.3: p["runtime_min"] = random.choice([60, 80, 90]); p["runtime_max"] = random.choice([100, 120, 180])
    if random.random() < 0.3: p["min_rating"] = random.choice(["3", "3.5", "4"])
    filters.append("/api/v1/movies?" + urllib.parse.urlencode(p))
with open(3, "w") as f:
    f.write("\n".join(filters) + "\n")
PY

declare -A RESULT
wait_ready() {
    for _ in $(seq 1 100); do
        curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "marquee did not start; see $1"
}

measure() { # name paths-file
    local line
    # Every distinct request once, from 8 clients: the cost of queries never asked before. The
    # wrk run then measures the mix as it repeats (every answer of it is cached by then).
    python3 "$ROOT/bench/ask_each.py" "$ADDR" "$2" 8 >"$RUN/$1.first"
    line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/catalog-queries.lua" \
        "http://$ADDR" -- "$2" "$SEED" | tee "$RUN/$1.wrk" | grep '^catalog:')
    echo "$line"
}

run_backend() { # name url
    local name="$1" url="$2" dir="$RUN/$1"
    rm -rf "$dir"; mkdir -p "$dir"
    say "$name: importing ggplot2movies"
    local t0 t1 t2
    t0=$(date +%s.%N)
    "$BIN" --data-dir "$dir" --database-url "$url" import catalog "$GGPLOT" --name ggplot2movies "${GGPLOT_MAP[@]}" | tail -n 3
    t1=$(date +%s.%N)
    say "$name: importing movielens"
    "$BIN" --data-dir "$dir" --database-url "$url" import movielens "$MOVIELENS" | tail -n 3
    t2=$(date +%s.%N)
    RESULT[$name.ggplot]=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
    RESULT[$name.movielens]=$(python3 -c "print(f'{$t2 - $t1:.1f}')")
    RESULT[$name.imports]=$(python3 -c "print(f'{$t2 - $t0:.1f}')")
    say "$name: serving"
    "$BIN" --data-dir "$dir" --database-url "$url" serve --listen "$ADDR" --no-worker >"$dir/serve.log" 2>&1 &
    local pid=$!
    wait_ready "$dir/serve.log"
    say "$name: search, $CONNECTIONS connections, ${DURATION} s"
    RESULT[$name.search]=$(measure "$name-search" "$RUN/search.txt")
    RESULT[$name.search_first]=$(grep '^first:' "$RUN/$name-search.first")
    echo "${RESULT[$name.search_first]}"
    echo "${RESULT[$name.search]}"
    say "$name: catalog filters, $CONNECTIONS connections, ${DURATION} s"
    RESULT[$name.filters]=$(measure "$name-filters" "$RUN/filters.txt")
    RESULT[$name.filters_first]=$(grep '^first:' "$RUN/$name-filters.first")
    echo "${RESULT[$name.filters_first]}"
    echo "${RESULT[$name.filters]}"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

IFS=',' read -ra BACKENDS <<<"$ONLY"
for b in "${BACKENDS[@]}"; do
    case "$b" in
        sqlite) run_backend sqlite "sqlite://$RUN/sqlite/marquee.db" ;;
        pg)
            command -v psql >/dev/null || die "psql is required for the pg half"
            psql -X -q -d "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_NAME WITH (FORCE)" -c "CREATE DATABASE $PG_NAME"
            run_backend pg "${PG_URL%/*}/$PG_NAME"
            ;;
        *) die "unknown backend $b" ;;
    esac
done

field() { sed -E "s/.* $2 ([0-9.]+).*/\1/" <<<"$1"; }
row() { # name
    local s="${RESULT[$1.search]}" f="${RESULT[$1.filters]}"
    local sp99 fp99
    sp99=$(field "$s" p99_us); fp99=$(field "$f" p99_us)
    printf '| %s | %s s | %s s | **%s s** | %s | %.1f ms | **%.1f ms** | %s | %.1f ms | %.1f ms | %s |\n' \
        "$1" "${RESULT[$1.ggplot]}" "${RESULT[$1.movielens]}" "${RESULT[$1.imports]}" \
        "$(python3 -c "print(round($(field "$s" requests) / $(field "$s" seconds)))")" \
        "$(python3 -c "print($(field "$s" p50_us) / 1000)")" "$(python3 -c "print($sp99 / 1000)")" \
        "$(python3 -c "print(round($(field "$f" requests) / $(field "$f" seconds)))")" \
        "$(python3 -c "print($(field "$f" p50_us) / 1000)")" "$(python3 -c "print($fp99 / 1000)")" \
        "$(($(field "$s" non200) + $(field "$s" errors) + $(field "$f" non200) + $(field "$f" errors)))"
}
first_row() { # name
    local s="${RESULT[$1.search_first]}" f="${RESULT[$1.filters_first]}"
    printf '| %s | %s | %s | %.1f ms | %.1f ms | %s | %s | %.1f ms | %.1f ms | %s |\n' "$1" \
        "$(field "$s" requests)" "$(python3 -c "print(round($(field "$s" requests) / $(field "$s" seconds)))")" \
        "$(python3 -c "print($(field "$s" p50_us) / 1000)")" "$(python3 -c "print($(field "$s" p99_us) / 1000)")" \
        "$(field "$f" requests)" "$(python3 -c "print(round($(field "$f" requests) / $(field "$f" seconds)))")" \
        "$(python3 -c "print($(field "$f" p50_us) / 1000)")" "$(python3 -c "print($(field "$f" p99_us) / 1000)")" \
        "$(($(field "$s" non200) + $(field "$f" non200)))"
}
{
    echo
    echo "### $(date -u '+%Y-%m-%d %H:%M UTC') — commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '+changes'), $(nproc) cores"
    echo
    echo "\`bench/catalog.sh --duration $DURATION --connections $CONNECTIONS\`"
    echo
    echo "| backend | import ggplot2movies | import movielens | both (target < 20 s) | search req/s | search p50 | search p99 (target < 20 ms) | filters req/s | filters p50 | filters p99 | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for b in "${BACKENDS[@]}"; do row "$b"; done
    echo
    echo "Each distinct request asked once, 8 clients at a time, before the wrk runs above (no answer cached yet):"
    echo
    echo "| backend | searches | search req/s | search p50 | search p99 | filters | filters req/s | filters p50 | filters p99 | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for b in "${BACKENDS[@]}"; do first_row "$b"; done
} | tee -a "$RESULTS"
