#!/usr/bin/env bash
# The streaming benchmark: direct play, `GET /media/{slug}/file` with byte ranges, the way a
# browser's <video> reads a film while it plays and seeks. Two questions: how many random 1 MiB
# range reads Marquee answers compared with nginx serving the same stored file, and whether
# Marquee's memory stays flat while 32 clients stream a 2 GB film at once.
# See bench/README.md ("Streaming") for what the numbers mean and the targets they are held to.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/stream.sh [options]

  --regen             make the 2 GB test film again even if a cached one exists
  --duration SECS     length of each measured wrk run (default 20)
  --check SECS        length of the checked wrk run before each measured one (default 3)
  --connections N     wrk connections (default 32)
  --threads N         wrk threads (default 2)
  --seed N            seed of the random ranges, the same for both servers (default 1)
  --streams N         clients streaming the whole film during the memory test (default 32)
  --stream-rate RATE  curl --limit-rate of each of them (default 30M)
  --mem-duration SECS how long they stream (default 20)
  --retries N         measure a wrk run again, up to N times, when other processes took more
                      than 10 % of the CPU during it (default 2; the least disturbed counts)
  --quiet-wait SECS   before each run, wait up to SECS for the machine to be idle (default 120)
  --no-build          use target/release/marquee as it is, without `cargo build --release`
  -h, --help          this text

Results are appended to bench/out/stream-results.md; logs and wrk outputs go to
bench/out/stream-run/.
EOF
}

ARGS_GIVEN="$*"
REGEN=0
RETRIES=2
DISTURBED=10
DURATION=20
CHECK_SECS=3
CONNECTIONS=32
THREADS=2
SEED=1
STREAMS=32
STREAM_RATE=30M
MEM_SECS=20
QUIET_WAIT=120
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --regen) REGEN=1 ;;
        --duration) DURATION="$2"; shift ;;
        --check) CHECK_SECS="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --threads) THREADS="$2"; shift ;;
        --seed) SEED="$2"; shift ;;
        --streams) STREAMS="$2"; shift ;;
        --stream-rate) STREAM_RATE="$2"; shift ;;
        --mem-duration) MEM_SECS="$2"; shift ;;
        --retries) RETRIES="$2"; shift ;;
        --quiet-wait) QUIET_WAIT="$2"; shift ;;
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
LUA="$BENCH/stream-ranges.lua"
MARQUEE_ADDR="127.0.0.1:18090"
NGINX_ADDR="127.0.0.1:18091"
FILM_PATH="/media/big/file"
RESULTS="$OUT/stream-results.md"
MiB=1048576
MIN_SIZE=$((2 * 1024 * MiB)) # the film must be at least 2 GiB

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'stream: %s\n' "$*" >&2; exit 1; }

# 1. Tools ------------------------------------------------------------------------------------
missing=()
for tool in wrk nginx curl ffmpeg ffprobe cargo sha256sum dd cmp; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "stream: missing: ${missing[*]}" >&2
    echo "  apt-get install -y wrk nginx-light ffmpeg   (Debian/Ubuntu)" >&2
    exit 1
fi
for addr in "$MARQUEE_ADDR" "$NGINX_ADDR"; do
    if curl -s -o /dev/null --max-time 1 "http://$addr/"; then
        die "something already answers on $addr; stop it first"
    fi
done
mkdir -p "$OUT"

# 2. The film: a real H.264/AAC MP4 of at least 2 GiB, made once per version -----------------
# A 10 s 1080p clip encoded fast at a high bitrate, then remuxed (no re-encoding, so it is only
# I/O) end to end as many times as it takes. The key covers the commands, so changing them
# makes a new film.
CLIP_ARGS=(-f lavfi -i "testsrc2=size=1920x1080:rate=25:duration=10"
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10"
    -c:v libx264 -preset ultrafast -b:v 40M -maxrate 40M -bufsize 80M -pix_fmt yuv420p
    -c:a aac -b:a 192k -shortest)
REMUX_ARGS=(-c copy -movflags +faststart)
VERSION="v1-$(printf '%s\n' "${CLIP_ARGS[@]}" "${REMUX_ARGS[@]}" "$MIN_SIZE" | sha256sum | cut -c1-12)"
MEDIA="$OUT/stream-media-$VERSION"
SOURCE="$MEDIA/big.mp4"
if [[ $REGEN -eq 1 || ! -f "$MEDIA/complete" ]]; then
    say "making the test film ($VERSION)"
    # Films of other versions are 2 GB each and will never be used again.
    find "$OUT" -maxdepth 1 -type d -name 'stream-media-*' -exec rm -rf {} +
    mkdir -p "$MEDIA"
    gen_start=$(date +%s)
    ffmpeg -hide_banner -loglevel error -y "${CLIP_ARGS[@]}" "$MEDIA/clip.mp4"
    clip_size=$(stat -c %s "$MEDIA/clip.mp4")
    loops=$(((MIN_SIZE + clip_size - 1) / clip_size - 1)) # -stream_loop N plays N + 1 times
    echo "clip: $clip_size bytes; remuxing it $((loops + 1)) times"
    ffmpeg -hide_banner -loglevel error -y -stream_loop "$loops" -i "$MEDIA/clip.mp4" \
        "${REMUX_ARGS[@]}" "$MEDIA/big.mp4"
    size=$(stat -c %s "$SOURCE")
    ((size >= MIN_SIZE)) || die "the film has $size bytes, fewer than $MIN_SIZE"
    gen_secs=$(($(date +%s) - gen_start))
    echo "$gen_secs" >"$MEDIA/complete"
    echo "made in ${gen_secs} s"
else
    say "using the cached film $SOURCE (made in $(cat "$MEDIA/complete") s; --regen to redo)"
fi
GEN_SECS="$(cat "$MEDIA/complete")"
SIZE=$(stat -c %s "$SOURCE")
FILM_DESC=$(ffprobe -v error -show_entries format=duration,bit_rate:stream=codec_name,width,height \
    -of default=nw=1 "$SOURCE" | awk -F= '
    $1 == "codec_name" { c = c (c ? "/" : "") $2 }
    $1 == "width" && $2 != "N/A" { w = $2 } $1 == "height" && $2 != "N/A" { h = $2 }
    $1 == "duration" { d = $2 } $1 == "bit_rate" { b = $2 }
    END { printf "%s %sx%s, %.0f s, %.0f Mbit/s", c, w, h, d, b / 1e6 }')

# 3. Build -------------------------------------------------------------------------------------
if [[ $BUILD -eq 1 ]]; then
    say "cargo build --release --bin marquee"
    (cd "$ROOT" && cargo build --release --bin marquee)
fi
[[ -x "$BIN" ]] || die "$BIN is missing; run without --no-build"

# 4. Marquee's data folder, made fresh with Marquee's own commands ----------------------------
RUN="$OUT/stream-run"
rm -rf "$RUN"
mkdir -p "$RUN/data" "$RUN/nginx/tmp"
DATA="$RUN/data"
say "adding the film to a fresh data folder ($DATA)"
"$BIN" --data-dir "$DATA" movie add --title "Big Buck" --slug big --year 2024 >"$RUN/movie-add.txt"
add_start=$(date +%s.%N)
"$BIN" --data-dir "$DATA" media add big "$SOURCE" >"$RUN/media-add.txt" 2>&1 ||
    { cat "$RUN/media-add.txt" >&2; die "marquee media add failed"; }
ADD_SECS=$(awk -v a="$add_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
"$BIN" --data-dir "$DATA" media show big >"$RUN/media-show-before.txt" 2>&1 || true
sed 's/^/    /' "$RUN/media-show-before.txt"
# The stored copy: the one file under media/ of the film's size. nginx serves this very file.
STORED=$(find "$DATA/media" -type f -size "${SIZE}c" | head -n1)
[[ -n "$STORED" ]] || die "no file of $SIZE bytes under $DATA/media after media add"
cmp -s "$SOURCE" "$STORED" || die "$STORED differs from $SOURCE"
echo "stored as ${STORED#"$DATA"/} ($SIZE bytes) in ${ADD_SECS} s"
# Both servers read it from the page cache, not the disk: the machine has RAM to spare and
# media add has just written it; reading it once makes sure.
cat "$STORED" >/dev/null

# 5. Marquee, with its packaging worker off when this build can turn it off -------------------
# The worker would start packaging the new film into HLS (ffmpeg on every core) at start-up.
SERVE_HELP=$("$BIN" serve --help 2>&1 || true)
SERVE_ARGS=()
if grep -q -- '--no-worker' <<<"$SERVE_HELP"; then
    SERVE_ARGS+=(--no-worker)
    WORKER_NOTE="started with --no-worker"
else
    WORKER_NOTE="this build has no switch to turn the packaging worker off (no --no-worker in \`serve --help\`)"
fi

rss_kb() { # VmRSS of the given processes, summed, in kB
    mem_sample "$@" | cut -f1
}
mem_sample() { # VmRSS, RssAnon (both kB) and threads of the given processes, summed, tab-separated
    local pid rss=0 anon=0 threads=0 r a t
    for pid in "$@"; do
        read -r r a t <<<"$(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^Threads:/ { t = $2 }
            END { print r + 0, a + 0, t + 0 }' "/proc/$pid/status" 2>/dev/null || echo 0 0 0)"
        rss=$((rss + r)) anon=$((anon + a)) threads=$((threads + t))
    done
    printf '%s\t%s\t%s\n' "$rss" "$anon" "$threads"
}
MARQUEE_PID=""
NGINX_PID=""
WATCH_PID=""
CURL_PIDS=()
stop() {
    local pid="$1" name="$2"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    echo "stream: $name ($pid) did not stop; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${CURL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    [[ -n "$WATCH_PID" ]] && kill -TERM "$WATCH_PID" 2>/dev/null || true
    stop "$MARQUEE_PID" marquee
    stop "$NGINX_PID" nginx
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting marquee on $MARQUEE_ADDR ($WORKER_NOTE)"
"$BIN" --data-dir "$DATA" serve --listen "$MARQUEE_ADDR" "${SERVE_ARGS[@]}" \
    >"$RUN/marquee.log" 2>&1 &
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
RSS_FRESH_KB=$(rss_kb "$MARQUEE_PID")
# Packaging runs ffmpeg as Marquee's child. Record every child Marquee has, once a second, for
# the whole run, so the results can say whether packaging ran during the measurements.
(
    while kill -0 "$MARQUEE_PID" 2>/dev/null; do
        ps -o pid=,etimes=,args= --ppid "$MARQUEE_PID" | sed "s/^/$(date +%s) /" || true
        sleep 1
    done
) >"$RUN/marquee-children.txt" 2>/dev/null &
WATCH_PID=$!

# 6. nginx serving the same stored file at the same path --------------------------------------
say "starting nginx on $NGINX_ADDR"
NGX="$RUN/nginx"
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
        location = $FILM_PATH {
            alias $STORED;
            types { }
            default_type video/mp4;
        }
    }
}
EOF
} >"$NGX/nginx.conf"
nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;' >"$NGX/stdout.log" 2>&1 &
NGINX_PID=$!
wait_for "http://$NGINX_ADDR$FILM_PATH" "$NGINX_PID" "$NGX/error.log"
echo "nginx is up (pid $NGINX_PID)"

# 7. Check both servers' answers before measuring them ----------------------------------------
# HEAD names the whole film; a sample of ranges (random ones from SEED, the first and the last
# MiB, and a suffix range) must come back 206 with the right Content-Range and exactly the
# film's bytes at that place.
say "checking ranges from both servers against the stored file"
SAMPLE="$RUN/sample"
mkdir -p "$SAMPLE"
check_server() {
    local name="$1" url="$2" code len spec start end want got i=0 bad=0
    read -r code len <<<"$(curl -s -I -o "$SAMPLE/$name-head.txt" -w '%{http_code} ' "$url";
        tr -d '\r' <"$SAMPLE/$name-head.txt" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')"
    [[ "$code" == 200 && "$len" == "$SIZE" ]] ||
        die "$name: HEAD $url answered $code with Content-Length ${len:-none}, not 200 with $SIZE"
    while read -r spec start end; do
        i=$((i + 1))
        code=$(curl -s -D "$SAMPLE/$name-$i.headers" -o "$SAMPLE/$name-$i.body" -w '%{http_code}' \
            -H "Range: bytes=$spec" "$url")
        want="bytes $start-$end/$SIZE"
        got=$(tr -d '\r' <"$SAMPLE/$name-$i.headers" | sed -n 's/^[Cc]ontent-[Rr]ange: //p')
        if [[ "$code" != 206 || "$got" != "$want" ]]; then
            echo "    $name: Range: bytes=$spec answered $code, Content-Range '${got}', expected 206 '$want'" >&2
            bad=$((bad + 1))
        elif ! dd if="$STORED" bs=1M iflag=skip_bytes,count_bytes skip="$start" \
            count=$((end - start + 1)) status=none | cmp -s - "$SAMPLE/$name-$i.body"; then
            echo "    $name: Range: bytes=$spec: the body differs from the file's bytes" >&2
            bad=$((bad + 1))
        fi
    done <"$SAMPLE/ranges.txt"
    ((bad == 0)) || die "$name answered $bad of $i sample ranges wrongly (see $SAMPLE)"
    echo "$name: HEAD 200 with Content-Length $SIZE; $i sample ranges 206 with the right Content-Range and bytes"
}
awk -v size="$SIZE" -v seed="$SEED" -v mib="$MiB" 'BEGIN {
    srand(seed)
    # %.0f: awk would print numbers above 2^31 in exponent notation.
    for (i = 0; i < 12; i++) { s = int(rand() * (size - mib + 1)); printf "%.0f-%.0f %.0f %.0f\n", s, s + mib - 1, s, s + mib - 1 }
    printf "0-%.0f 0 %.0f\n", mib - 1, mib - 1
    printf "%.0f-%.0f %.0f %.0f\n", size - mib, size - 1, size - mib, size - 1
    printf "-%.0f %.0f %.0f\n", mib, size - mib, size - 1
    print "12345-12444 12345 12444"
}' >"$SAMPLE/ranges.txt"
check_server nginx "http://$NGINX_ADDR$FILM_PATH"
check_server marquee "http://$MARQUEE_ADDR$FILM_PATH"

# 8. Measurement helpers (as in title-page.sh) -------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    echo "stream: warning: load average is $LOAD_BEFORE before the runs; something else is busy" >&2
fi
# CPU time in clock ticks: all processes (user + system) and steal from /proc/stat, and ours:
# Marquee (not its children: packaging would count as other CPU), nginx's master and workers,
# and this script's finished children (wrk, curl).
cpu_ticks() {
    local ours=0 pid
    for pid in "$MARQUEE_PID" "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); do
        [[ -r /proc/$pid/stat ]] && ours=$((ours + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    ours=$((ours + $(sed 's/.*) //' /proc/$$/stat | awk '{ print $14 + $15 }')))
    awk -v ours="$ours" '/^cpu / { print $2 + $3 + $4, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, ours }' /proc/stat
}
# Share of the machine's CPU used by anything but ours between two samples, and the share the
# hypervisor stole. Prints "OTHER STEAL" in whole percent.
other_cpu() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        total = y[3] - x[3]; if (total <= 0) { print "0 0"; exit }
        other = (y[1] - x[1]) - (y[4] - x[4]); if (other < 0) other = 0
        printf "%.0f %.0f\n", 100 * other / total, 100 * (y[2] - x[2]) / total
    }'
}
# Waits (up to QUIET_WAIT s) until the machine has been nearly idle for 2 s.
wait_quiet() {
    local a b busy waited=0
    while ((waited < QUIET_WAIT)); do
        a=$(cpu_ticks)
        sleep 2
        b=$(cpu_ticks)
        busy=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
            t = y[3] - x[3]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }')
        ((busy > DISTURBED)) || return 0
        ((waited == 0)) && echo "    the machine is busy ($busy % CPU); waiting for it to be quiet"
        waited=$((waited + 2))
    done
    ((QUIET_WAIT == 0)) || echo "    still busy after $QUIET_WAIT s; measuring anyway"
}
# The value after NAME on the "stream:" line of a wrk output.
field() { awk -v k="$2" '/^stream:/ { for (i = 2; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
# What went wrong in a wrk output, or nothing: wrk's own error counts, and total bytes that do
# not fit requests × 1 MiB (headers and the bodies still in flight when wrk stopped aside).
wrk_errors() {
    local f="$1" out=() k n req bytes extra
    for k in connect read write status timeout; do
        n=$(field "$f" "errors_$k")
        [[ "${n:-0}" == 0 ]] || out+=("$k errors $n")
    done
    req=$(field "$f" requests) bytes=$(field "$f" bytes)
    extra=$((bytes - req * MiB))
    if ((req == 0 || extra < 0 || extra > req * 1024 + CONNECTIONS * MiB)); then
        out+=("$bytes bytes for $req answers, not 1 MiB each")
    fi
    n=$(field "$f" checked)
    if [[ -n "$n" ]]; then
        for k in bad_status bad_range bad_body; do
            [[ "$(field "$f" "$k")" == 0 ]] || out+=("$(field "$f" "$k") of $n checked answers: $k")
        done
    fi
    local IFS=';'
    echo "${out[*]}"
}
# CPU time (user + system, clock ticks) of the given processes, summed.
ticks_of() {
    local pid sum=0
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] && sum=$((sum + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$sum"
}
CLK_TCK=$(getconf CLK_TCK)
marquee_pids() { echo "$MARQUEE_PID"; }
nginx_pids() { echo "$NGINX_PID"; pgrep -P "$NGINX_PID" || true; }
nginx_worker_pids() { pgrep -P "$NGINX_PID" || true; }
declare -A RPS MIBS P50 P99 ERRS OTHER CHECKED CPU_US
run_wrk() {
    local key="$1" url="$2" pids_fn="$3" s_before s_after
    local args=(-t"$THREADS" -c"$CONNECTIONS" --latency -s "$LUA")
    echo "($key) $url"
    local attempt before after other steal best=101 errs
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        wait_quiet
        # The checked run: every answer's status, Content-Range and length. It doubles as the
        # warm-up.
        wrk "${args[@]}" -d"${CHECK_SECS}s" "$url" -- "$FILM_PATH" "$SIZE" "$SEED" check >"$RUN/wrk-$key-check-$attempt.txt"
        errs=$(wrk_errors "$RUN/wrk-$key-check-$attempt.txt")
        echo "    checked $(field "$RUN/wrk-$key-check-$attempt.txt" checked) answers: ${errs:-all 206, right Content-Range, 1 MiB}"
        before=$(cpu_ticks) s_before=$(ticks_of $($pids_fn))
        wrk "${args[@]}" -d"${DURATION}s" "$url" -- "$FILM_PATH" "$SIZE" "$SEED" >"$RUN/wrk-$key-$attempt.txt"
        after=$(cpu_ticks) s_after=$(ticks_of $($pids_fn))
        read -r other steal <<<"$(other_cpu "$before" "$after")"
        sed 's/^/    /' "$RUN/wrk-$key-$attempt.txt"
        echo "    other processes' CPU during the run: $other % (steal $steal %)"
        if ((other < best)); then
            best=$other
            cp "$RUN/wrk-$key-$attempt.txt" "$RUN/wrk-$key.txt"
            cp "$RUN/wrk-$key-check-$attempt.txt" "$RUN/wrk-$key-check.txt"
            OTHER[$key]="$other % (steal $steal %)"
            # The server's own CPU per answer (per MiB): what a range costs it, whatever else ran.
            CPU_US[$key]=$(awk -v t=$((s_after - s_before)) -v hz="$CLK_TCK" \
                -v n="$(field "$RUN/wrk-$key-$attempt.txt" requests)" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
        fi
        ((other > DISTURBED)) || break
        ((attempt <= RETRIES)) && echo "    disturbed by other processes; measuring ($key) again"
    done
    local f="$RUN/wrk-$key.txt" secs
    secs=$(field "$f" seconds)
    RPS[$key]=$(awk -v n="$(field "$f" requests)" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    MIBS[$key]=$(awk -v b="$(field "$f" bytes)" -v s="$secs" -v m="$MiB" 'BEGIN { printf "%.0f", b / s / m }')
    P50[$key]=$(awk -v u="$(field "$f" p50_us)" 'BEGIN { printf "%.2f", u / 1000 }')
    P99[$key]=$(awk -v u="$(field "$f" p99_us)" 'BEGIN { printf "%.2f", u / 1000 }')
    CHECKED[$key]=$(field "$RUN/wrk-$key-check.txt" checked)
    errs=$(wrk_errors "$f")
    local check_errs
    check_errs=$(wrk_errors "$RUN/wrk-$key-check.txt")
    ERRS[$key]="${errs}${errs:+${check_errs:+;}}${check_errs:+checked run: $check_errs}"
}

# 9. Throughput: random 1 MiB ranges, nginx then Marquee ---------------------------------------
say "measuring: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/stream-ranges.lua (seed $SEED)"
run_wrk a "http://$NGINX_ADDR$FILM_PATH" nginx_pids
run_wrk b "http://$MARQUEE_ADDR$FILM_PATH" marquee_pids
kill -0 "$MARQUEE_PID" 2>/dev/null || die "marquee died during the runs; see $RUN/marquee.log"

# 10. Memory: STREAMS clients each streaming the whole film, rate-limited ----------------------
# Slow clients are the test: a server that reads ahead of what the socket takes, or reads a
# whole file into memory, grows by megabytes per client. RSS is sampled every 0.5 s.
declare -A M_START M_PEAK M_END M_AFTER M_RATE M_CLIENTS M_OTHER M_THREADS M_ANON M_LATE
mem_run() {
    local key="$1" url="$2" pids_fn="$3" t0 i kb sample before after other steal
    local samples="$RUN/mem-$key.tsv"
    echo "($key) $STREAMS × curl --limit-rate $STREAM_RATE --max-time $MEM_SECS $url"
    wait_quiet
    : >"$RUN/mem-$key-curl.txt"
    t0=$(date +%s.%N)
    printf 'seconds\tVmRSS_kB\tRssAnon_kB\tthreads\twhen\n' >"$samples"
    sample=$(mem_sample $($pids_fn))
    kb=${sample%%$'\t'*}
    M_START[$key]=$kb
    local threads0 anon0 threads_peak anon_peak t a
    read -r _ anon0 threads0 <<<"$sample"
    threads_peak=$threads0 anon_peak=$anon0
    printf '0.0\t%s\tbefore\n' "$sample" >>"$samples"
    before=$(cpu_ticks)
    CURL_PIDS=()
    for ((i = 0; i < STREAMS; i++)); do
        curl -s -o /dev/null --limit-rate "$STREAM_RATE" --max-time "$MEM_SECS" \
            -w '%{http_code} %{size_download}\n' "$url" >>"$RUN/mem-$key-curl.txt" 2>/dev/null &
        CURL_PIDS+=($!)
    done
    local peak=$kb last=$kb alive
    while :; do
        sleep 0.5
        alive=0
        for i in "${CURL_PIDS[@]}"; do kill -0 "$i" 2>/dev/null && alive=$((alive + 1)); done
        ((alive > 0)) || break
        sample=$(mem_sample $($pids_fn))
        kb=${sample%%$'\t'*}
        printf '%s\t%s\t%s streaming\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" \
            "$sample" "$alive" >>"$samples"
        ((kb > peak)) && peak=$kb
        read -r _ a t <<<"$sample"
        ((t > threads_peak)) && threads_peak=$t
        ((a > anon_peak)) && anon_peak=$a
        last=$kb
    done
    wait "${CURL_PIDS[@]}" 2>/dev/null || true # curl exits 28 when --max-time ends the transfer
    CURL_PIDS=()
    after=$(cpu_ticks)
    sleep 2
    sample=$(mem_sample $($pids_fn))
    kb=${sample%%$'\t'*}
    printf '%s\t%s\tafter\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" "$sample" >>"$samples"
    M_PEAK[$key]=$peak M_END[$key]=$last M_AFTER[$key]=$kb
    M_THREADS[$key]="$threads0 → $threads_peak" M_ANON[$key]="$anon0 → $anon_peak"
    # Growth over the second half of the streaming: a step at the start is buffers for the
    # connections; growth that goes on is memory held per byte sent.
    M_LATE[$key]=$(awk -F'\t' -v half="$(awk -v s="$MEM_SECS" 'BEGIN { print s / 2 }')" '
        $5 ~ /streaming/ && $1 >= half { if (first == "") first = $2; last = $2 }
        END { printf "%d", last - first }' "$samples")
    read -r other steal <<<"$(other_cpu "$before" "$after")"
    M_OTHER[$key]="$other % (steal $steal %)"
    # Each client's answer: 200 and how many bytes it took in MEM_SECS.
    read -r M_CLIENTS[$key] M_RATE[$key] <<<"$(awk -v n="$STREAMS" -v s="$MEM_SECS" -v m="$MiB" '
        $1 == 200 { ok++ } { bytes += $2 }
        END { printf "%d/%d %.0f\n", ok, n, bytes / s / m }' "$RUN/mem-$key-curl.txt")"
    echo "    RSS: before ${M_START[$key]} kB, peak $peak kB, at the end $last kB, 2 s after ${M_AFTER[$key]} kB;" \
        "${M_CLIENTS[$key]} clients answered 200, ${M_RATE[$key]} MiB/s in all; other CPU ${M_OTHER[$key]};" \
        "RssAnon ${M_ANON[$key]} kB, threads ${M_THREADS[$key]}"
}
say "memory: $STREAMS clients streaming the whole film for ${MEM_SECS} s"
mem_run marquee "http://$MARQUEE_ADDR$FILM_PATH" marquee_pids
mem_run nginx "http://$NGINX_ADDR$FILM_PATH" nginx_worker_pids

kill -0 "$MARQUEE_PID" 2>/dev/null || die "marquee died during the runs; see $RUN/marquee.log"
HWM_MB=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$MARQUEE_PID/status")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
server_errors=$(grep -cE 'ERROR|WARN' "$RUN/marquee.log" || true)
"$BIN" --data-dir "$DATA" media show big >"$RUN/media-show-after.txt" 2>&1 || true
"$BIN" --data-dir "$DATA" media jobs >"$RUN/media-jobs-after.txt" 2>&1 || true
# Packaging: did Marquee have a child process (ffmpeg) at any point, and what does media show say?
children=$(awk '{ $1 = ""; $2 = ""; $3 = ""; print }' "$RUN/marquee-children.txt" | sed 's/^ *//' | sort -u | head -n3 | paste -sd';' -)
packaging_line=$(grep -iE 'packag|hls|job' "$RUN/media-show-after.txt" | head -n2 | sed 's/^ *//' | paste -sd';' -)
jobs_line=$(grep -v '^[[:space:]]*$' "$RUN/media-jobs-after.txt" | head -n3 | sed 's/^ *//; s/  */ /g' | paste -sd';' -)
if [[ -n "$children" ]]; then
    PACKAGING="**a packaging job was running** (Marquee's children: $children); the Marquee figures are not comparable"
else
    PACKAGING="no packaging ran: Marquee started no child process during the run"
fi

# 11. The table -------------------------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }
flat() { verdict "${M_PEAK[$1]} - ${M_START[$1]} < 32 * 1024"; }
row() {
    local key="$1" what="$2"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$key" "$what" "${RPS[$key]}" \
        "${MIBS[$key]}" "${P50[$key]}" "${P99[$key]}" "$(ratio "${MIBS[$key]}" "${MIBS[a]}")" \
        "${CPU_US[$key]}" "${OTHER[$key]}" "${CHECKED[$key]:-0}" "${ERRS[$key]:-none}"
}
mem_row() {
    local key="$1" what="$2"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$what" "$(mb "${M_START[$key]}")" \
        "$(mb "${M_PEAK[$key]}")" "$(mb "${M_END[$key]}")" "$(mb "${M_AFTER[$key]}")" \
        "$(mb $((M_PEAK[$key] - M_START[$key])))" "$(mb "${M_LATE[$key]}")" "${M_CLIENTS[$key]}" "${M_RATE[$key]}" "${M_OTHER[$key]}"
}
BLOCK="$RUN/results.md"
{
    echo "## Streaming benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -n "$(git -C "$ROOT" status --porcelain -- crates 2>/dev/null)" ]] && echo ' (crates/ has uncommitted changes)'); binary target/release/marquee built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')$([[ $BUILD -eq 0 ]] && echo ' (--no-build: not rebuilt by this run)')"
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- command: \`bench/stream.sh${ARGS_GIVEN:+ $ARGS_GIVEN}\` → \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/stream-ranges.lua\`, random 1 MiB ranges (seed $SEED), after a ${CHECK_SECS} s checked run per server; wrk, nginx and Marquee share the machine"
    echo "- film: $SIZE bytes ($(awk -v s="$SIZE" 'BEGIN { printf "%.2f", s / 2^30 }') GiB), $FILM_DESC, made in ${GEN_SECS} s ($VERSION); \`media add\` took ${ADD_SECS} s; both servers read the same stored file (${STORED#"$DATA"/}) from the page cache"
    echo "- packaging worker: $WORKER_NOTE; $PACKAGING${packaging_line:+; \`media show\` after: $packaging_line}${jobs_line:+; \`media jobs\` after: $jobs_line}"
    echo
    echo "| | what | req/s | MiB/s | p50 ms | p99 ms | × nginx | server CPU µs/MiB | other CPU | checked 206 | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    row a "nginx, the stored file (sendfile)"
    row b "Marquee, \`GET $FILM_PATH\`"
    echo
    echo "Memory while $STREAMS clients stream the whole film (\`curl --limit-rate $STREAM_RATE\`, ${MEM_SECS} s), VmRSS sampled every 0.5 s:"
    echo
    echo "| | before MB | peak MB | at the end MB | 2 s after MB | peak − before MB | growth in the 2nd half MB | clients 200 | MiB/s in all | other CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    mem_row marquee "Marquee"
    mem_row nginx "nginx workers (sum)"
    echo
    echo "Marquee's RSS right after start: $(mb "$RSS_FRESH_KB") MB; peak over the whole run (VmHWM): ${HWM_MB} MB. While streaming, Marquee's anonymous memory (RssAnon) went $(mb "${M_ANON[marquee]%% *}") → $(mb "${M_ANON[marquee]##* }") MB at most and its threads ${M_THREADS[marquee]}. Marquee log lines at WARN or ERROR: ${server_errors}."
    echo
    echo "Targets (bench/README.md):"
    echo
    echo "- Marquee ≥ 0.7 × nginx MiB/s on random 1 MiB ranges: $(ratio "${MIBS[b]}" "${MIBS[a]}") → $(verdict "${MIBS[b]} >= 0.7 * ${MIBS[a]}")"
    echo "- every answer right (no wrk errors, checked answers all 206 with the right Content-Range): $([[ -z "${ERRS[a]}${ERRS[b]}" ]] && echo met || echo "**missed**")"
    echo "- Marquee's memory flat while $STREAMS clients stream (peak − before < 32 MB): $(mb $((M_PEAK[marquee] - M_START[marquee]))) MB → $(flat marquee)"
    echo
} >"$BLOCK"
cat "$BLOCK" >>"$RESULTS"
say "results (appended to $RESULTS)"
cat "$BLOCK"
