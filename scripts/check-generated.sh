#!/usr/bin/env bash
# Fails when the committed generated code in packages/proto/src/gen is not what proto/ generates.
#
# Run from anywhere after `pnpm install`; CI runs it on a clean clone. It regenerates with the pinned
# buf and protoc-gen-es (`pnpm --filter @tsraft/proto generate`), then asks git whether anything under
# packages/proto/src/gen changed, was added or was deleted.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
gen_dir="packages/proto/src/gen"
buf="packages/proto/node_modules/.bin/buf"

if [[ ! -x "$buf" ]]; then
  echo "check-generated: $buf is missing; run 'pnpm install' first." >&2
  exit 2
fi

# Same command as the package's `generate` script, without needing pnpm on PATH.
"$buf" generate

changes="$(git status --porcelain --untracked-files=all -- "$gen_dir")"
if [[ -n "$changes" ]]; then
  echo "check-generated: $gen_dir is out of date with proto/ (or with the pinned generator):" >&2
  echo "$changes" >&2
  echo >&2
  git --no-pager diff --stat -- "$gen_dir" >&2 || true
  echo >&2
  echo "Run 'pnpm generate' from the repository root and commit the result." >&2
  exit 1
fi
echo "check-generated: $gen_dir matches proto/."
