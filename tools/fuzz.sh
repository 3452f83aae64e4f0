#!/usr/bin/env bash
# libFuzzer targets for Onboard's file readers (docs/fuzzing.md). Builds the library modules with
# coverage + AddressSanitizer into .build-fuzz, links one fuzzer per Tests/Fuzz/Targets/<name>.swift
# and runs each against its committed seeds in Tests/Fuzz/corpus/<name>/.
#
#   tools/fuzz.sh [TARGET|all] [SECONDS] [libFuzzer flags...]   run (default: all, 5 s each)
#   tools/fuzz.sh build                                          build only
#   tools/fuzz.sh seeds                                          remake the committed seed corpus
#
# New inputs go to .build-fuzz/corpus/<name>/ (never into the committed seeds); crashes, leaks,
# timeouts and out-of-memory inputs to .build-fuzz/findings/<name>/. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

build=.build-fuzz
release=$build/release
bin=$build/fuzz
seeds=Tests/Fuzz/corpus
targets=(safetensors nuscenes results rig recipe board bundle_config delta quant_plan jpeg)
# The modules' objects, in dependency order; the pipeline goes in for the board reader, with
# swift-crypto's modules (its SHA-256 identifies sharded runs; CXKCP exists from its version 4 on)
# and swift-protobuf's (the ONNX import the pipeline links).
modules=(CKernels CImageCodec OnboardCore OnboardQuant OnboardGraph OnboardModels OnboardSensors OnboardEval OnboardText
         SwiftProtobuf OnboardONNX
         CYaml Yams CCryptoBoringSSL CCryptoBoringSSLShims CXKCP CXKCPShims CryptoBoringWrapper Crypto OnboardPipeline)

build_modules() {
    # The executable product is never linked here (libFuzzer brings its own main). The output goes
    # to a log, shown on failure.
    mkdir -p "$build/logs"
    swift build -c release --build-path "$build" --target OnboardPipeline \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -g \
        -Xcc -fsanitize=fuzzer-no-link,address -Xcc -g >"$build/logs/build.log" 2>&1 || {
        tail -30 "$build/logs/build.log" >&2
        echo "fuzz: build failed; log $build/logs/build.log" >&2
        return 1
    }
}

objects() {
    local module
    for module in "${modules[@]}"; do
        [ -d "$release/$module.build" ] && find "$release/$module.build" -name '*.o'
    done
}

# Everything a Swift file importing the Onboard modules needs: their .swiftmodules and the C modules' maps.
swift_flags() {
    echo -I "$release/Modules" -I Sources/CKernels/include -I Sources/CImageCodec/include \
        -Xcc -fmodule-map-file="$release/CKernels.build/module.modulemap" \
        -Xcc -fmodule-map-file="$release/CImageCodec.build/module.modulemap" \
        -Xcc -fmodule-map-file=Sources/CBLAS/module.modulemap -Xcc -fmodule-map-file=Sources/CJPEG/module.modulemap \
        -Xcc -fmodule-map-file="$release/Yams.build/include/module.modulemap" \
        -lopenblas -ljpeg
}

link_target() {
    local name=$1
    local -a objs
    mapfile -t objs < <(objects)
    # shellcheck disable=SC2046
    swiftc -parse-as-library -O -g -sanitize=fuzzer,address $(swift_flags) \
        Tests/Fuzz/FuzzScratch.swift Tests/Fuzz/DeltaFuzzBase.swift "Tests/Fuzz/Targets/$name.swift" \
        "${objs[@]}" -o "$bin/$name" 2> >(grep -v "Cannot export local symbol" >&2)
}

build_all() {
    build_modules
    mkdir -p "$bin"
    local name
    for name in "${targets[@]}"; do
        if [ ! -x "$bin/$name" ] || [ -n "$(find Tests/Fuzz "$release/Modules" -newer "$bin/$name" -name '*.swift*' -print -quit)" ]; then
            link_target "$name"
        fi
    done
}

make_seeds() {
    build_modules
    mkdir -p "$bin"
    local -a objs
    mapfile -t objs < <(objects)
    # shellcheck disable=SC2046
    swiftc -O -sanitize=address $(swift_flags) Tests/Fuzz/FuzzScratch.swift Tests/Fuzz/DeltaFuzzBase.swift Tests/Fuzz/MakeSeeds/main.swift -lstdc++ \
        "${objs[@]}" -o "$bin/make-seeds" 2> >(grep -v "Cannot export local symbol" >&2)
    # Reproducers of past findings (crash-*, leak-*, oom-*, timeout-*) stay; everything else is remade.
    mkdir -p "$seeds"
    find "$seeds" -type f ! -name 'crash-*' ! -name 'leak-*' ! -name 'oom-*' ! -name 'timeout-*' -delete
    ASAN_OPTIONS=detect_leaks=0 "$bin/make-seeds" "$seeds"
    local t
    mkdir -p "$seeds"/{results,rig,recipe,board,bundle_config}
    cp Tests/Fixtures/nuscenes-eval/invalid/results_{no_results_key,short_translation,unknown_attribute}.json "$seeds/results/"
    # A valid submission, cut to its first sample so the seed stays small.
    python3 - "$seeds/results/results_perfect_one_sample.json" <<'PY'
import json, sys
data = json.load(open("Tests/Fixtures/nuscenes-eval/results_perfect.json"))
token = sorted(data["results"])[0]
json.dump({"meta": data["meta"], "results": {token: data["results"][token][:4]}}, open(sys.argv[1], "w"), indent=1)
PY
    cp Sensors/*.json "$seeds/rig/"
    cp Configs/recipes/*.json "$seeds/recipe/"
    cp Configs/boards/*.yaml "$seeds/board/"
    for t in vit-demo petr-demo qpetr-demo; do cp "Configs/models/$t/config.json" "$seeds/bundle_config/$t.json"; done
    for t in vit/deit_distilled vit/fp16_weights petr/tiny_lid; do
        cp "Tests/Fixtures/$t/config.json" "$seeds/bundle_config/${t#*/}.json"
    done
    du -sh --apparent-size "$seeds"
}

run_target() {
    local name=$1 seconds=$2
    shift 2
    local corpus=$build/corpus/$name findings=$build/findings/$name log=$build/logs/$name.log
    mkdir -p "$corpus" "$findings" "$(dirname "$log")"
    # The first corpus directory receives new inputs; the committed seeds are only read.
    # -len_control=0: mutate whole inputs from the start (the seeds are valid files of a few KB;
    # libFuzzer's default would cut them to a few hundred bytes of broken JSON at first).
    # SWIFT_BACKTRACE off: libFuzzer's own handler must see the trap to save the crashing input.
    local status=0
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=Tests/Fuzz/lsan.supp:print_suppressions=0 \
        "$bin/$name" "$corpus" "$seeds/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -len_control=0 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$@" >"$log" 2>&1 || status=$?
    local runs rate
    rm -f "$build/logs/$name.runs"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ]; then
        grep -E "^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)|Fatal error|ERROR: libFuzzer" "$log" | head -8 >&2 || true
        echo "fuzz $name: FAILED (exit $status) after ${runs:-?} runs; log $log" >&2
        return 1
    fi
    printf 'fuzz %-14s %10s runs  %7s exec/s\n' "$name" "${runs:-0}" "${rate:-0}" | tee "$build/logs/$name.runs"
}

command=${1:-all}
seconds=${2:-5}
shift $(($# > 2 ? 2 : $#))
case "$command" in
    build) build_all ;;
    seeds) make_seeds ;;
    all)
        # One summary line on stdout (tools/test.sh ends with it); the per-target lines are in the logs.
        build_all
        failed=() total=0 counts=()
        for name in "${targets[@]}"; do
            run_target "$name" "$seconds" "$@" >/dev/null || failed+=("$name")
            if [ -f "$build/logs/$name.runs" ]; then
                runs=$(awk '{print $3}' "$build/logs/$name.runs")
                total=$((total + runs)) && counts+=("$name $runs")
            fi
        done
        if ((${#failed[@]})); then
            echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed (${failed[*]}); inputs in $build/findings/" >&2
            exit 1
        fi
        summary=$(IFS=,; echo "${counts[*]}")
        echo "fuzz: ${#targets[@]} targets x ${seconds} s, $total runs (${summary//,/, }), no crash, leak or timeout"
        ;;
    *)
        [[ " ${targets[*]} " == *" $command "* ]] || { echo "fuzz: unknown target '$command' (${targets[*]})" >&2; exit 2; }
        build_all
        run_target "$command" "$seconds" "$@"
        ;;
esac
