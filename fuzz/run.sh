#!/bin/sh
# Coverage-guided fuzzing of faxengine's decoders and parsers, each target for
# a bounded time.  See fuzz/README.md.
#
#   fuzz/run.sh [-t SECONDS] [--no-asan] [TARGET...]
#
# Targets: t4 t4_libtiff tiff hdlc t30 terminal modem sip ua rtp t38 (atheris,
# Python + the compiled kernels)
# and c-t4 c-hdlc c-modem (libFuzzer on csrc/ directly, ASan + UBSan).
# Default: all of them, 60 s each, 5 s at most per input.
#
# With clang installed the atheris targets run on build/fuzz/asan, a copy of
# faxengine whose C kernels are built with AddressSanitizer and coverage
# (fuzz/build_asan.sh); --no-asan fuzzes the checkout's own build instead
# (Python-level findings and hangs only).  Corpora grow in build/fuzz/work/,
# seeded from fuzz/corpus/ (fuzz/make_corpus.py) and the regression inputs in
# fuzz/crashes/; findings land in build/fuzz/artifacts/<target>/, logs in
# build/fuzz/logs/.  Exit status 1 when any target found something, 2 when
# nothing could run (an unknown target, no atheris and no clang for the ones
# asked) or a build failed: a run that fuzzed nothing never passes.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TIME=60
ASAN=auto
TARGETS=""
while [ $# -gt 0 ]; do
    case "$1" in
        -t) TIME=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
        --no-asan) ASAN=no; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) TARGETS="$TARGETS $1"; shift ;;
    esac
done
case "$TIME" in
    ''|*[!0-9]*|0) echo "run.sh: -t takes a whole number of seconds, not '$TIME'" >&2; exit 2 ;;
esac
ALL="t4 t4_libtiff tiff hdlc t30 terminal modem sip ua rtp t38 c-t4 c-hdlc c-modem"
[ -n "$TARGETS" ] || TARGETS=$ALL
for target in $TARGETS; do
    case " $ALL " in
        *" $target "*) ;;
        *) echo "run.sh: unknown target '$target'; the targets are: $ALL" >&2; exit 2 ;;
    esac
done
PYTHON=${PYTHON:-python3}
OUT=$ROOT/build/fuzz
mkdir -p "$OUT/logs"

have_clang=no
command -v clang >/dev/null && have_clang=yes
if ! $PYTHON -c "import atheris" 2>/dev/null; then
    echo "run.sh: atheris is missing (pip install atheris); the Python targets are skipped" >&2
    ATHERIS=no
else
    ATHERIS=yes
    ATHERIS_DIR=$($PYTHON -c "import atheris; print(atheris.path())")
fi

# what can run here: a run that fuzzes nothing fails and says why
runnable=""
need_clang=no
need_atheris=no
for target in $TARGETS; do
    case "$target" in
        c-*) need_clang=yes; [ "$have_clang" = yes ] && runnable="$runnable $target" ;;
        *) need_atheris=yes; [ "$ATHERIS" = yes ] && runnable="$runnable $target" ;;
    esac
done
if [ -z "$runnable" ]; then
    why=""
    [ "$need_atheris" = yes ] && why="atheris is missing (pip install atheris)"
    [ "$need_clang" = yes ] && why="${why:+$why and }clang is missing (apt-get install clang)"
    echo "run.sh: nothing ran: $why" >&2
    exit 2
fi

$PYTHON fuzz/make_corpus.py >/dev/null || { echo "run.sh: make_corpus.py failed" >&2; exit 2; }

if [ "$ATHERIS" = yes ] && [ "$ASAN" != no ]; then
    if [ "$have_clang" = yes ]; then
        TREE=$(fuzz/build_asan.sh 2>"$OUT/logs/build_asan.log") \
            || { echo "run.sh: ASan build failed, see $OUT/logs/build_asan.log" >&2; exit 2; }
        ASAN=yes
    else
        echo "run.sh: no clang: fuzzing the plain build (apt-get install clang for ASan)" >&2
        ASAN=no
    fi
fi

# the C sources each libFuzzer target needs
c_sources() {
    case "$1" in
        t4) echo "csrc/t4_codes.c csrc/t4_t6_decode.c csrc/t4_t6_encode.c" ;;
        hdlc) echo "csrc/hdlc.c" ;;
        modem) echo "csrc/v21rx.c csrc/tone.c csrc/v27ter_rx.c csrc/v29rx.c csrc/v17rx.c" \
                    "csrc/v17_trellis.c $(ls csrc/dsp_*.c | tr '\n' ' ')" ;;
    esac
}

max_len() {
    case "$1" in
        t4|tiff) echo 8192 ;; hdlc) echo 2048 ;; t30|terminal) echo 512 ;; modem) echo 24100 ;;
        sip|rtp|t38) echo 2048 ;; ua) echo 4096 ;;
    esac
}

found=0
failed=0
ran=0
for target in $TARGETS; do
    base=${target#c-}
    corpus=${base%_libtiff}      # t4_libtiff shares t4's corpus and dictionary
    work=$OUT/work/$target
    artifacts=$OUT/artifacts/$target
    log=$OUT/logs/$target.log
    mkdir -p "$work" "$artifacts"
    seeds="fuzz/corpus/$corpus"
    [ -d "fuzz/crashes/$base" ] && seeds="$seeds fuzz/crashes/$base"
    # a twin (c-t4, t4_libtiff) starts from what its Python target has grown
    [ "$target" != "$corpus" ] && [ -d "$OUT/work/$corpus" ] && seeds="$seeds $OUT/work/$corpus"
    dict=""
    [ -f "fuzz/$corpus.dict" ] && dict="-dict=fuzz/$corpus.dict"
    # a call needs many frames: let inputs reach max_len at once
    [ "$corpus" = terminal ] && dict="$dict -len_control=0"
    args="$dict -max_total_time=$TIME -timeout=5 -rss_limit_mb=2048 -max_len=$(max_len "$corpus")
          -print_final_stats=1 -artifact_prefix=$artifacts/ $work $seeds"
    case "$target" in
        c-*)
            if [ "$have_clang" != yes ]; then
                echo "$target: skipped (no clang)"; continue
            fi
            exe=$OUT/${base}_fuzz
            # shellcheck disable=SC2046
            clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Icsrc \
                "fuzz/c/${base}_fuzz.c" $(c_sources "$base") -lm -o "$exe" \
                || { echo "$target: build failed"; failed=1; continue; }
            # shellcheck disable=SC2086
            nice -n 10 "$exe" $args >"$log" 2>&1
            status=$? ;;
        *)
            if [ "$ATHERIS" != yes ]; then
                echo "$target: skipped (no atheris)"; continue
            fi
            if [ "$ASAN" = yes ]; then
                # shellcheck disable=SC2086
                FAXENGINE_FUZZ_TREE=$TREE LD_PRELOAD=$ATHERIS_DIR/asan_with_fuzzer.so \
                ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
                    nice -n 10 $PYTHON "fuzz/fuzz_$base.py" $args >"$log" 2>&1
            else
                # shellcheck disable=SC2086
                nice -n 10 $PYTHON "fuzz/fuzz_$base.py" $args >"$log" 2>&1
            fi
            status=$? ;;
    esac
    ran=$((ran + 1))
    done_line=$(grep -E "DONE|INITED" "$log" | tail -1 | sed 's/^#[0-9]*[[:space:]]*//')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ "$status" -eq 0 ]; then
        echo "$target: ok, ${execs:-?} runs, ${rate:-?}/s; $done_line"
    else
        found=1
        echo "$target: FOUND SOMETHING (exit $status), see $log; $done_line"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|Traceback|AssertionError|.*Error:|artifact_prefix|Test unit written)" \
            "$log" | head -8 | sed 's/^/    /'
    fi
done
[ "$found" = 1 ] && exit 1
if [ "$ran" -eq 0 ] || [ "$failed" = 1 ]; then
    echo "run.sh: $ran target(s) ran; see the lines above for why the others did not" >&2
    exit 2
fi
exit 0
