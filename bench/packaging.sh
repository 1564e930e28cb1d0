#!/usr/bin/env bash
# The packaging benchmark: how fast `marquee media package` turns a film into HLS, as a multiple
# of real time (seconds of film per second of wall time), for (a) the remux path alone (the top
# rendition copied from browser-safe H.264) and (b) the full ladder (that remux plus every smaller
# rendition encoded with x264). See bench/README.md ("Packaging") for what the numbers mean.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/packaging.sh [options]

  --seconds N     length of the test film (default 60)
  --size WxH      its picture size (default 1280x720; 1920x1080 adds a rung)
  --runs N        package each case N times; the fastest run counts (default 1)
  --no-build      use target/release/marquee as it is, without `cargo build --release`
  -h, --help      this text

The film is made once with ffmpeg and cached in bench/out/packaging/. Results are appended to
bench/out/packaging-results.md; each run's output stays in bench/out/packaging/run-*.txt.
EOF
}

SECONDS_LONG=60
SIZE=1280x720
RUNS=1
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_LONG="$2"; shift ;;
        --size) SIZE="$2"; shift ;;
        --runs) RUNS="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ "$SIZE" =~ ^[0-9]+x[0-9]+$ ]] || { echo "packaging: --size must look like 1280x720" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
WORK="$OUT/packaging"
BIN="$ROOT/target/release/marquee"
RESULTS="$OUT/packaging-results.md"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'packaging: %s\n' "$*" >&2; exit 1; }

for tool in ffmpeg ffprobe cargo awk; do
    command -v "$tool" >/dev/null 2>&1 || die "missing: $tool (ffmpeg: apt-get install -y ffmpeg)"
done
mkdir -p "$WORK"

if [[ $BUILD -eq 1 ]]; then
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release -p marquee-server)
fi
[[ -x "$BIN" ]] || die "$BIN is missing; run without --no-build"

# The film: H.264 High, 4:2:0, 25 fps, a keyframe every 2 s (so a remux can cut 4-second
# segments), AAC-LC stereo, like a typical download or camera export. ffmpeg's test pattern with
# a little grain, so x264 has real detail to encode rather than flat colour.
CLIP="$WORK/film-$SIZE-${SECONDS_LONG}s.mp4"
if [[ ! -f "$CLIP" ]]; then
    say "making the ${SECONDS_LONG} s $SIZE test film"
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=size=$SIZE:rate=25" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" \
        -t "$SECONDS_LONG" -vf "noise=alls=12:allf=t" \
        -c:v libx264 -preset medium -profile:v high -pix_fmt yuv420p -g 50 -b:v 6M \
        -c:a aac -b:a 128k -ac 2 -movflags +faststart "$CLIP.tmp.mp4"
    mv "$CLIP.tmp.mp4" "$CLIP"
fi
MEDIA_S=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$CLIP")

# CPU ticks: the whole machine (busy, total) and the finished children of shell process $1
# (Marquee and the ffmpeg processes it ran), to tell how much of the machine something else took.
cpu_ticks() {
    local ours
    ours=$(sed 's/.*) //' "/proc/$1/stat" | awk '{ print $14 + $15 }')
    awk -v ours="$ours" '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, ours }' /proc/stat
}
other_cpu() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        total = y[2] - x[2]; if (total <= 0) { print 0; exit }
        other = (y[1] - x[1]) - (y[3] - x[3]); if (other < 0) other = 0
        printf "%.0f\n", 100 * other / total
    }'
}

# CPU seconds (user + system) of Marquee and its ffmpeg processes between two samples.
ours_cpu_s() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " "); printf "%.1f", (y[3] - x[3]) / hz }'
}

# One packaging in a fresh data folder: prints "JOB_S SPEED COMMAND_S CPU_S OTHER|RENDITIONS".
package_once() {
    local label="$1" n="$2"
    shift 2
    local data="$WORK/data-$label"
    rm -rf "$data"
    "$BIN" --data-dir "$data" movie add --title "Bench" --slug bench >/dev/null
    "$BIN" --data-dir "$data" media add bench "$CLIP" >/dev/null
    local log="$WORK/run-$label-$n.txt" before after start end me=$BASHPID
    before=$(cpu_ticks "$me")
    start=$(date +%s.%N)
    "$BIN" --data-dir "$data" media package bench "$@" >"$log" 2>&1 || { cat "$log" >&2; die "packaging failed"; }
    end=$(date +%s.%N)
    after=$(cpu_ticks "$me")
    local secs renditions
    # "Packaged 'Bench' in 12.34 s (4.9× real time) under …": the job's own time, from reading
    # the source to the last upload; the process's start and the probe are not part of it.
    secs=$(sed -n "s/^Packaged 'Bench' in \([0-9.]*\) s .*/\1/p" "$log")
    [[ -n "$secs" ]] || { cat "$log" >&2; die "no timing in the output"; }
    renditions=$(awk '/^ +[0-9]+p +[0-9]+x[0-9]+ +(remux|encode)/ { printf "%s%s %s", sep, $1, $3; sep = ", " }' "$log")
    awk -v s="$secs" -v m="$MEDIA_S" -v t0="$start" -v t1="$end" \
        'BEGIN { printf "%.2f %.1f %.2f ", s, m / s, t1 - t0 }'
    printf '%s %s|%s\n' "$(ours_cpu_s "$before" "$after")" "$(other_cpu "$before" "$after")" "$renditions"
    rm -rf "$data"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    echo "packaging: warning: load average is $LOAD_BEFORE before the runs; something else is busy and the figures will be low" >&2
fi

declare -A BEST ROW
for case in remux ladder; do
    args=()
    [[ $case == remux ]] && args=(--top-only)
    for ((n = 1; n <= RUNS; n++)); do
        say "($case) run $n of $RUNS: marquee media package bench ${args[*]:-}"
        line=$(package_once "$case" "$n" "${args[@]}")
        echo "    $line"
        secs=${line%% *}
        if [[ -z "${BEST[$case]:-}" ]] || awk -v a="$secs" -v b="${BEST[$case]}" 'BEGIN { exit !(a < b) }'; then
            BEST[$case]=$secs
            ROW[$case]=$line
        fi
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

row() {
    local key="$1" what="$2" line="${ROW[$3]}"
    local secs speed wall cpu rest other renditions
    read -r secs speed wall cpu rest <<<"$line"
    other=${rest%%|*}
    renditions=${rest#*|}
    printf '| %s | %s | %s | %.0f | %s | %s | %s | **%s×** | %s %% |\n' \
        "$key" "$what" "$renditions" "$MEDIA_S" "$secs" "$wall" "$cpu" "$speed" "$other"
}

{
    echo
    echo "### Packaging, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -n "$(git -C "$ROOT" status --porcelain -- crates 2>/dev/null)" ]] && echo ' (crates/ has uncommitted changes)')"
    echo "- film: ${SECONDS_LONG} s $SIZE H.264 High / AAC ($(du -h "$CLIP" | cut -f1)), \`bench/packaging.sh --seconds $SECONDS_LONG --size $SIZE --runs $RUNS\`"
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); $(ffmpeg -version | head -n1 | cut -d' ' -f1-3); load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo
    echo "| | what | renditions | film s | job s | command s | CPU s | × real time | other CPU |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
    row a "remux path (\`--top-only\`)" remux
    row b "full ladder" ladder
} | tee -a "$RESULTS"
echo
echo "(appended to $RESULTS)"
