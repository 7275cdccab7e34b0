#!/usr/bin/env bash
# Checks that `pnpm bench --quick` left, for every registered suite, its docs/benchmarks/<suite>.local.json
# (parses, names the suite), <suite>.local.md, and the charts that Markdown links (at least one
# <suite>-<chart>.local.svg, each well-formed XML with an <svg> root). It checks that the files are there
# and well-formed, not the numbers in them. Run it after the quick run: it reads the built bench package.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=docs/benchmarks
runner=bench/dist/run.js
check_svg=bench/dist/report/check-svg.js
if [[ ! -f $runner || ! -f $check_svg ]]; then
  echo "check-bench-outputs: bench is not built; run: npx -y pnpm@10.34.9 bench --quick" >&2
  exit 1
fi

mapfile -t suites < <(node "$runner" --suites)
if ((${#suites[@]} == 0)); then
  echo "check-bench-outputs: no suite is registered" >&2
  exit 1
fi

failed=0
problem() {
  echo "check-bench-outputs: $*" >&2
  failed=1
}

for suite in "${suites[@]}"; do
  json="$dir/$suite.local.json"
  md="$dir/$suite.local.md"
  if [[ ! -s $json ]]; then
    problem "$suite: $json is missing or empty"
  elif ! node -e '
    const [file, suite] = process.argv.slice(1);
    const report = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
    if (report.suite !== suite || !Array.isArray(report.cases)) process.exit(1);
  ' "$json" "$suite"; then
    problem "$suite: $json is not a report of suite $suite"
  fi
  if [[ ! -s $md ]]; then
    problem "$suite: $md is missing or empty"
    continue
  fi
  # The charts are the SVG files the summary links, so another suite's files never count for this one.
  mapfile -t svgs < <(grep -oE "\]\($suite-[A-Za-z0-9._-]+\.local\.svg\)" "$md" | sed -E 's/^\]\((.*)\)$/\1/' | sort -u)
  if ((${#svgs[@]} == 0)); then
    problem "$suite: $md links no $suite-<chart>.local.svg"
    continue
  fi
  paths=()
  for svg in "${svgs[@]}"; do paths+=("$dir/$svg"); done
  if ! node "$check_svg" "${paths[@]}"; then
    problem "$suite: a chart is missing or is not well-formed SVG"
  fi
  if ((failed == 0)); then echo "ok  $suite: $(basename "$json"), $(basename "$md"), ${svgs[*]}"; fi
done

if ((failed != 0)); then
  echo "check-bench-outputs: FAILED" >&2
  exit 1
fi
echo "check-bench-outputs: every suite (${#suites[@]}) wrote its results, summary and charts"
