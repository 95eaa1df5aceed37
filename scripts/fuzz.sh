#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] — builds the libFuzzer targets under fuzz/ and runs each for SECONDS (default 10).
#
# Targets (fuzz/<target>/main.swift, seeds in fuzz/<target>/corpus/, see fuzz/README.md):
#   wire         WireFrameDecoder.next(&buffer) on every split of a byte stream, WireRequest/WireResponse(frame:),
#                the dispatcher's envelope checks, protobuf and frame round trips
#   jwt          AccessTokenVerifier / JWSVerifier on arbitrary token strings against a fixed key set
#   jwt_signed   header and payload from the input, signed with the fixed key when the verifier reaches the
#                signature check, then verified (reaches the claims)
#   json         StrictJSON / JSONScanner, AccessTokenClaims, AccessTokenPayload, JWKSet, Base64URL
#   config       ConfigLoader.load(file:environment:) on key=value lines ($NAME=value for the environment)
#   config_yaml  the CLI's YAML flattening (ConfigFile.flatten) feeding ConfigLoader
#   cron         CronExpression(parsing:), matches, nextFireTime, with search invariants
#
# Nothing here uses SwiftPM's build directory: every module is compiled with swiftc into .build-fuzz/ (sources
# of the project's modules straight from Sources/, dependencies from the package checkouts), and rebuilt only
# when its sources, flags or compiler change. Each run fuzzes a fresh copy of the seed corpus; a crashing input
# is kept under .build-fuzz/crashes/<target>/ and the script exits non-zero.
#
# Environment:
#   FUZZ_TARGETS="wire cron"  run a subset             FUZZ_BUILD_ONLY=1      build, do not run
#   FUZZ_ARGS="-max_len=9000" more libFuzzer flags     FUZZ_OUT=dir           build and run elsewhere than .build-fuzz
#   FUZZ_JOBS=2               build wire's dependencies beside the other targets (cold build ~4 instead of ~5
#                             minutes on 2 cores; the default, 1, compiles one module at a time)
#   FUZZ_IGNORE=ID,...        count instead of fail the checks of findings already reported (fuzz/RESULTS.md)
#   FUZZ_SOURCE_ROOT=dir      fuzz the Sources/ of another tree (e.g. `git archive HEAD Sources | tar -x -C dir`)
#   FUZZ_CHECKOUTS=dir        package checkouts (default .build/checkouts, read only; else resolved into
#                             .build-fuzz/spm)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

seconds=${1:-10}
case $seconds in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
out=${FUZZ_OUT:-$repo/.build-fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)
all_targets="wire jwt jwt_signed json config config_yaml cron"
targets=${FUZZ_TARGETS:-$all_targets}
mkdir -p "$out/mod" "$out/bin" "$out/crashes" "$out/work" "$out/logs"
# The project sources fuzzed: the working tree, or another copy of it (e.g. `git archive HEAD Sources | tar -x`).
src=$(cd "${FUZZ_SOURCE_ROOT:-$repo}" && pwd)

# --- toolchain -----------------------------------------------------------------------------------------------
swiftc=$(command -v swiftc || true)
[ -n "$swiftc" ] || { echo "fuzz.sh: swiftc not found" >&2; exit 1; }
toolchain=$(cd "$(dirname "$(readlink -f "$swiftc")")/.." && pwd)
clang=$toolchain/bin/clang
[ -x "$clang" ] || clang=$(command -v clang)
# swiftc -sanitize=fuzzer links the libFuzzer runtime of its own toolchain's clang resource directory.
if ! ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a >/dev/null 2>&1 \
  && ! ls "$toolchain"/lib/swift/clang/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a >/dev/null 2>&1; then
  echo "fuzz.sh: the Swift toolchain at $toolchain ships no libclang_rt.fuzzer; use a swift.org toolchain" >&2
  exit 1
fi
if ! pkg-config --exists openssl 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config >/dev/null
  else
    echo "fuzz.sh: OpenSSL headers missing (apt-get install libssl-dev pkg-config)" >&2
    exit 1
  fi
fi
compiler_id=$("$swiftc" --version 2>&1 | head -1)

# --- package checkouts ---------------------------------------------------------------------------------------
checkouts=${FUZZ_CHECKOUTS:-$repo/.build/checkouts}
need="swift-nio swift-protobuf swift-collections swift-atomics Yams"
missing=0
for package in $need; do [ -d "$checkouts/$package/Sources" ] || missing=1; done
if [ $missing = 1 ]; then
  checkouts=$out/spm/checkouts
  for package in $need; do [ -d "$checkouts/$package/Sources" ] || missing=2; done
  if [ $missing = 2 ]; then
    echo "fuzz.sh: resolving package dependencies into .build-fuzz/spm"
    swift package --package-path "$repo" --scratch-path "$out/spm" resolve >/dev/null
  fi
fi
nio=$checkouts/swift-nio/Sources
collections=$checkouts/swift-collections/Sources
atomics=$checkouts/swift-atomics/Sources
protobuf=$checkouts/swift-protobuf/Sources
yams=$checkouts/Yams/Sources

# --- module builds with a content stamp --------------------------------------------------------------------
mods=$out/mod
common=(-module-cache-path "$out/ModuleCache" -I "$mods" -parse-as-library -suppress-warnings)
# Every C module map is passed to every compile: unused maps cost nothing, and no compile misses one.
cmaps=()
clang_module() { # name include-dir [umbrella-header-or-existing-modulemap] — registers a C module's map
  local name=$1 include=$2 map=${3:-}
  if [ -z "$map" ]; then
    mkdir -p "$mods/maps/$name"
    map=$mods/maps/$name/module.modulemap
    printf 'module %s {\n  umbrella header "%s/%s.h"\n  export *\n}\n' "$name" "$include" "$name" >"$map.tmp"
    if cmp -s "$map.tmp" "$map" 2>/dev/null; then rm "$map.tmp"; else mv "$map.tmp" "$map"; fi
  fi
  cmaps+=(-Xcc "-fmodule-map-file=$map" -Xcc -I -Xcc "$include")
}
clang_module CNIOAtomics "$nio/CNIOAtomics/include"
clang_module CNIOLinux "$nio/CNIOLinux/include"
clang_module CNIODarwin "$nio/CNIODarwin/include"
clang_module CNIOOpenBSD "$nio/CNIOOpenBSD/include"
clang_module CNIOFreeBSD "$nio/CNIOFreeBSD/include"
clang_module CNIOWASI "$nio/CNIOWASI/include"
clang_module CNIOWindows "$nio/CNIOWindows/include" "$nio/CNIOWindows/include/module.modulemap"
clang_module _AtomicsShims "$atomics/_AtomicsShims/include" "$atomics/_AtomicsShims/include/module.modulemap"
clang_module CYaml "$yams/CYaml/include" "$yams/CYaml/include/module.modulemap"
cmaps+=(-Xcc -DYAML_DECLARE_STATIC -Xcc -D_GNU_SOURCE)
cmaps+=(-I "$src/Sources/COpenSSL")

stamp_of() { # prints a hash of the given files' contents plus the remaining words on stdin
  { cat; printf '%s\n' "$compiler_id"; sha256sum "$@" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1
}

c_library() { # name "cflags" files... → $mods/lib<name>.a
  local name=$1 cflags=$2
  shift 2
  local stamp
  stamp=$(echo "c $name $cflags" | stamp_of "$@")
  if [ "$(cat "$mods/$name.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  echo "  cc     $name"
  rm -rf "$mods/$name.objs"
  mkdir -p "$mods/$name.objs"
  local file objects=()
  for file in "$@"; do
    local object
    object=$mods/$name.objs/$(basename "${file%.c}").o
    # shellcheck disable=SC2086
    "$clang" -O2 -fPIC -w -D_GNU_SOURCE $cflags -c "$file" -o "$object"
    objects+=("$object")
  done
  rm -f "$mods/lib$name.a"
  "$toolchain/bin/llvm-ar" rcs "$mods/lib$name.a" "${objects[@]}" 2>/dev/null \
    || ar rcs "$mods/lib$name.a" "${objects[@]}"
  echo "$stamp" >"$mods/$name.stamp"
}

swift_module() { # name "deps" "flags" files... → $mods/<name>.swiftmodule and $mods/<name>.o (one WMO object)
  local name=$1 deps=$2 flags=$3
  shift 3
  local stamp dep
  stamp=$({
    echo "swift $name $flags"
    for dep in $deps; do cat "$mods/$dep.stamp"; done
  } | stamp_of "$@")
  if [ "$(cat "$mods/$name.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  echo "  swiftc $name ($# files)"
  local start=$SECONDS
  rm -f "$mods/$name.stamp"
  # shellcheck disable=SC2086
  if ! "$swiftc" -module-name "$name" -wmo -c -emit-module -emit-module-path "$mods/$name.swiftmodule" \
    -o "$mods/$name.o" "${common[@]}" "${cmaps[@]}" $flags "$@"; then
    echo "fuzz.sh: building module $name failed" >&2
    exit 1
  fi
  echo "         $name took $((SECONDS - start))s"
  echo "$stamp" >"$mods/$name.stamp"
}

# Sets FILES to the Swift sources under the given directories (some names hold spaces).
swift_files() {
  FILES=()
  local file
  while IFS= read -r -d '' file; do FILES+=("$file"); done \
    < <(find "$@" -name '*.swift' -not -path '*/Docs.docc/*' -print0 | LC_ALL=C sort -z)
}

# Instrumentation: the project's modules and SwiftProtobuf (whose decoder the wire target drives) get
# coverage feedback and AddressSanitizer; the plumbing below them gets AddressSanitizer only.
asan="-O -sanitize=address"
fuzz="-O -sanitize=fuzzer,address"
# Each package's own settings (their Package.swift), as SwiftPM passes them.
nio_flags="-swift-version 6 -enable-experimental-feature Lifetimes -enable-upcoming-feature MemberImportVisibility"
nio_flags+=" -package-name swift_nio"
collections_flags="-swift-version 6 -DCOLLECTIONS_RANDOMIZED_TESTING -enable-upcoming-feature MemberImportVisibility"
for feature in BuiltinModule Lifetimes InoutLifetimeDependence AddressableParameters AddressableTypes \
  SuppressedAssociatedTypesWithDefaults; do
  collections_flags+=" -enable-experimental-feature $feature"
done
collections_flags+=" -package-name swift_collections"
atomics_flags="-swift-version 5 -enable-experimental-feature BuiltinModule -package-name swift_atomics"
protobuf_flags="-swift-version 6 -DBinaryDelimitedStreams -DFieldMaskUtilities -enable-upcoming-feature ExistentialAny"
protobuf_flags+=" -package-name swift_protobuf"
# swift-collections spells its availability through macros; macOS-only, but they must be defined to parse.
collections_macros=()
for version in 5.0 5.1 5.6 5.7 5.8 5.9 5.10 6.0 6.1 6.2 6.3 6.4 6.5; do
  collections_macros+=(-enable-experimental-feature "AvailabilityMacro=SwiftStdlib $version: macOS 9999")
done

build_wire_deps() {
  c_library _AtomicsShims "-I $atomics/_AtomicsShims/include" "$atomics"/_AtomicsShims/src/*.c
  swift_files "$atomics/Atomics"
  swift_module Atomics "" "$asan $atomics_flags" "${FILES[@]}"
  c_library CNIOAtomics "-I $nio/CNIOAtomics/include" "$nio"/CNIOAtomics/src/*.c
  c_library CNIOLinux "-I $nio/CNIOLinux/include" "$nio"/CNIOLinux/*.c
  c_library CNIOWASI "-I $nio/CNIOWASI/include" "$nio"/CNIOWASI/*.c
  swift_files "$nio/NIOConcurrencyHelpers"
  swift_module NIOConcurrencyHelpers "" "$asan $nio_flags" "${FILES[@]}"
  swift_files "$nio/_NIODataStructures"
  swift_module _NIODataStructures "" "$asan $nio_flags" "${FILES[@]}"
  swift_files "$nio/_NIOBase64"
  swift_module _NIOBase64 "" "$asan $nio_flags" "${FILES[@]}"
  local saved_common=("${common[@]}")
  common+=("${collections_macros[@]}")
  swift_files "$collections/InternalCollectionsUtilities"
  swift_module InternalCollectionsUtilities "" "$asan $collections_flags" "${FILES[@]}"
  swift_files "$collections/ContainersPreview"
  swift_module ContainersPreview "InternalCollectionsUtilities" "$asan $collections_flags" "${FILES[@]}"
  swift_files "$collections/DequeModule"
  swift_module DequeModule "ContainersPreview InternalCollectionsUtilities" "$asan $collections_flags" \
    "${FILES[@]}"
  common=("${saved_common[@]}")
  swift_files "$nio/NIOCore"
  swift_module NIOCore "Atomics NIOConcurrencyHelpers _NIODataStructures _NIOBase64 DequeModule" \
    "$asan $nio_flags" "${FILES[@]}"
  # EmbeddedChannel: the target also runs the decoder inside NIO's real ByteToMessageHandler.
  swift_files "$nio/NIOEmbedded"
  swift_module NIOEmbedded "NIOCore" "$asan $nio_flags" "${FILES[@]}"
  swift_files "$protobuf/SwiftProtobuf"
  swift_module SwiftProtobuf "" "$fuzz $protobuf_flags" "${FILES[@]}"
}
wire_deps_objects() {
  echo "$mods/Atomics.o $mods/NIOConcurrencyHelpers.o $mods/_NIODataStructures.o $mods/_NIOBase64.o"
  echo "$mods/InternalCollectionsUtilities.o $mods/ContainersPreview.o $mods/DequeModule.o $mods/NIOCore.o"
  echo "$mods/NIOEmbedded.o"
  echo "$mods/SwiftProtobuf.o $mods/lib_AtomicsShims.a $mods/libCNIOAtomics.a $mods/libCNIOLinux.a"
  echo "$mods/libCNIOWASI.a"
}

project_flags="-swift-version 6"
build_openssl() {
  swift_files "$src"/Sources/OpenSSLCrypto
  swift_module OpenSSLCrypto "" "$fuzz $project_flags" "${FILES[@]}"
}
build_cron() {
  swift_files "$src"/Sources/CronSchedule
  swift_module CronSchedule "" "$fuzz $project_flags" "${FILES[@]}"
}
# The Config files are compiled without the rest of SessionCore. Another SessionCore file importing Foundation
# makes Foundation's members visible to them too (the package does not enable MemberImportVisibility), so the
# partial module gets the same import when the whole one has it.
core_imports=$mods/SessionCoreImports.swift
if grep -rqsE '^[[:space:]]*(@preconcurrency |public |internal |package )?import Foundation' \
  "$src/Sources/SessionCore"; then
  echo 'import Foundation'
else
  echo '// SessionCore imports no Foundation'
fi >"$core_imports.tmp"
if cmp -s "$core_imports.tmp" "$core_imports" 2>/dev/null; then rm "$core_imports.tmp"; else
  mv "$core_imports.tmp" "$core_imports"
fi

build_config_core() {
  # The configuration half of SessionCore alone (the rest needs the store, NIOPosix and swift-log); the
  # module keeps its name so that ConfigFile.swift's `import SessionCore` finds it.
  build_cron
  swift_files "$src"/Sources/SessionCore/Config
  swift_module SessionCore "CronSchedule" "$fuzz $project_flags" "${FILES[@]}" "$core_imports"
}
build_yams() {
  c_library CYaml "-DYAML_DECLARE_STATIC -I $yams/CYaml/include" "$yams"/CYaml/src/*.c
  swift_files "$yams/Yams"
  swift_module Yams "" "$asan -swift-version 6 -DSWIFT_PACKAGE" "${FILES[@]}"
}

# A fuzz binary: the entry point compiled into one module with the module sources it drives.
fuzz_binary() { # target module "deps" "link inputs" files...
  local target=$1 module=$2 deps=$3 link=$4
  shift 4
  local stamp dep
  stamp=$({
    echo "bin $target $module $fuzz $link"
    for dep in $deps; do cat "$mods/$dep.stamp"; done
  } | stamp_of "$@")
  if [ -x "$out/bin/$target" ] && [ "$(cat "$out/bin/$target.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  echo "  link   $target"
  local start=$SECONDS
  rm -f "$out/bin/$target.stamp"
  # shellcheck disable=SC2086
  if ! "$swiftc" -module-name "$module" $fuzz $project_flags -wmo "${common[@]}" "${cmaps[@]}" \
    -use-ld=lld "$@" $link -o "$out/bin/$target"; then
    echo "fuzz.sh: building $target failed" >&2
    exit 1
  fi
  echo "         $target took $((SECONDS - start))s"
  echo "$stamp" >"$out/bin/$target.stamp"
}

build_target() {
  case $1 in
    wire)
      build_wire_deps
      swift_files "$src"/Sources/SessionSidecarWire
      fuzz_binary wire SessionSidecarWire "NIOCore NIOEmbedded SwiftProtobuf" "$(wire_deps_objects)" "${FILES[@]}" \
        fuzz/FuzzSupport.swift fuzz/wire/main.swift
      ;;
    jwt | jwt_signed | json)
      build_openssl
      swift_files "$src"/Sources/SessionToken
      fuzz_binary "$1" SessionToken "OpenSSLCrypto" "$mods/OpenSSLCrypto.o -lssl -lcrypto" "${FILES[@]}" \
        fuzz/FuzzSupport.swift fuzz/TokenKeys.swift "fuzz/$1/main.swift"
      ;;
    config)
      build_config_core
      swift_files "$src"/Sources/SessionCore/Config
      # Cookies.swift (pure) too: the target checks the Set-Cookie headers an accepted config produces.
      fuzz_binary config SessionCore "CronSchedule" "$mods/CronSchedule.o" "${FILES[@]}" "$core_imports" \
        "$src/Sources/SessionCore/Sessions/Cookies.swift" fuzz/FuzzSupport.swift fuzz/config/main.swift
      ;;
    config_yaml)
      build_config_core
      build_yams
      fuzz_binary config_yaml SessionSidecarCLI "SessionCore CronSchedule Yams" \
        "$mods/SessionCore.o $mods/CronSchedule.o $mods/Yams.o $mods/libCYaml.a" \
        "$src/Sources/SessionSidecarCLI/ConfigFile.swift" fuzz/FuzzSupport.swift fuzz/config_yaml/main.swift
      ;;
    cron)
      swift_files "$src"/Sources/CronSchedule
      fuzz_binary cron CronSchedule "" "" "${FILES[@]}" fuzz/FuzzSupport.swift fuzz/cron/main.swift
      ;;
    *) echo "fuzz.sh: unknown target $1 (known: $all_targets)" >&2; exit 2 ;;
  esac
}

echo "=== build (${out#"$repo"/})"
build_start=$SECONDS
if [ "${FUZZ_JOBS:-1}" -gt 1 ] && [[ " $targets " == *" wire "* ]] && [ "$targets" != wire ]; then
  # wire's dependencies (NIOCore, SwiftProtobuf) are most of a cold build and share nothing with the rest.
  (build_target wire) >"$out/logs/build-wire.log" 2>&1 &
  wire_build=$!
  for target in $targets; do [ "$target" = wire ] || build_target "$target"; done
  wire_status=0
  wait $wire_build || wire_status=$?
  sed 's/^/  [wire] /' "$out/logs/build-wire.log"
  [ $wire_status = 0 ] || exit 1
else
  for target in $targets; do build_target "$target"; done
fi
echo "    builds took $((SECONDS - build_start))s"
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# --- runs ------------------------------------------------------------------------------------------------------
echo "=== fuzz, ${seconds}s per target"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:symbolize=1}
# The Swift runtime's own crash backtracer reads the stack in ways ASan reports; libFuzzer prints the trace.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
# The targets run with only these variables: Yams reads the whole environment (ProcessInfo.environment) on every
# parse, which made config_yaml a quarter slower in a CI-sized environment. No target reads anything else.
run_env=()
for name in PATH HOME TMPDIR ASAN_OPTIONS ASAN_SYMBOLIZER_PATH SWIFT_BACKTRACE FUZZ_IGNORE; do
  [ -n "${!name+set}" ] && run_env+=("$name=${!name}")
done
crashed=()
summary=()
for target in $targets; do
  work=$out/work/$target
  rm -rf "$work"
  mkdir -p "$work/corpus" "$out/crashes/$target"
  cp -R "fuzz/$target/corpus/." "$work/corpus/"
  dict=()
  case $target in
    config | config_yaml)
      # The loader's keys and environment variables, read from its source so new keys are found at once.
      { grep -ohE '"[A-Za-z]+(\.[A-Za-z]+)+"|"[A-Z][A-Z_]{3,}"' "$src"/Sources/SessionCore/Config/*.swift || true; } \
        | sort -u \
        | while IFS= read -r word; do
          if [ "$target" = config_yaml ]; then
            echo "$word" | tr -d '"' | tr '.' '\n' | sed 's/.*/"&:"/'
            echo "${word%\"}:\""
          elif [[ $word == *.* ]]; then
            echo "\"${word//\"/}=\""
          else
            echo "\"\$${word//\"/}=\""
          fi
        done | sort -u >"$work/dictionary"
      dict=(-dict="$work/dictionary")
      ;;
  esac
  log=$out/logs/$target.log
  status=0
  # Inputs of findings still open (fuzz/<target>/crashes-found/) are seeds too: while a finding is open its
  # target fails at once, every run, instead of whenever the fuzzer happens to find it again.
  found=()
  [ -n "$(ls -A "fuzz/$target/crashes-found" 2>/dev/null)" ] && found=("fuzz/$target/crashes-found")
  # shellcheck disable=SC2086
  env -i "${run_env[@]}" "$out/bin/$target" "$work/corpus" "${found[@]}" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/crashes/$target/" ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  coverage=$({ grep -o 'cov: [0-9]*' "$log" || true; } | tail -1 | cut -d' ' -f2)
  artifacts=$(find "$out/crashes/$target" -type f -newer "$work" 2>/dev/null | head -1)
  if [ $status != 0 ] || [ -n "$artifacts" ]; then
    result="CRASH (exit $status) ${artifacts:-see $log}"
    crashed+=("$target")
    { grep -m1 -E 'Fatal error|==ERROR|ERROR: libFuzzer' "$log" || true; grep -m1 '^SUMMARY' "$log" || true; } \
      | cut -c1-600 | sed 's/^/      /'
  else
    result="ok"
  fi
  line=$(printf '%-12s executions %-10s exec/s %-7s cov %-5s %s' "$target" "${executions:-?}" "${rate:-?}" \
    "${coverage:-?}" "$result")
  echo "$line"
  summary+=("$line")
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ ${#crashed[@]} -gt 0 ]; then
  where=${out#"$repo"/}
  echo "fuzz.sh: crashes in: ${crashed[*]} (inputs under $where/crashes/, logs under $where/logs/)" >&2
  exit 1
fi
