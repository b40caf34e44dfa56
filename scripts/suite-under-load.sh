#!/usr/bin/env bash
# The whole suite under load: `npm test` run N times in a row (default 3) in this checkout while a
# second copy of the suite (`npm run test:unit` in a fresh clone of HEAD, sharing node_modules) runs
# beside each run, so a test that depends on a quiet machine fails here. Prints each run's pass count
# and time; exits 1 if any run of this checkout failed. The copy's own result is printed, not judged.
#
#   bash scripts/suite-under-load.sh [runs]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
root=$(pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git clone -q . "$copy/prodmon"
ln -s "$root/node_modules" "$copy/prodmon/node_modules"
(cd "$copy/prodmon" && npm run --silent build >/dev/null 2>&1)
failed=0
for i in $(seq 1 "$runs"); do
  (cd "$copy/prodmon" && npm run --silent test:unit >"$copy/load-$i.log" 2>&1) &
  load=$!
  start=$(date +%s)
  npm test >"$copy/run-$i.log" 2>&1
  code=$?
  took=$(($(date +%s) - start))
  wait "$load"
  loadcode=$?
  summary=$(grep -E '^# (tests|pass|fail) ' "$copy/run-$i.log" | tr '\n' ' ')
  loadsummary=$(grep -E '^# (pass|fail) ' "$copy/load-$i.log" | tr '\n' ' ')
  echo "run $i: exit $code in ${took} s; ${summary}(second copy beside it: exit $loadcode, ${loadsummary})"
  if [ "$code" != 0 ]; then
    failed=1
    grep -E '^not ok|^# Subtest|failureType|error:' "$copy/run-$i.log" | grep -B1 -A2 'not ok' | head -40
  fi
done
exit $failed
