#!/usr/bin/env bash
# lamp rank --ranker bm25 against the official rank_profiles.py work (bench/python/
# official_rank_bm25.py), both timed in this run on the issue's two benchmark sets, with the
# speed-up and a byte comparison of the two ranking files. The machine's neighbours move timings
# by 10 % and more from one minute to the next, so only ratios measured together mean much.
#
#   bench/rank_vs_official.sh [--python PY] [--runs N] [--dir DIR] [--lamp BIN]
#
# PY (default python3) needs rank_bm25==0.2.2 and numpy==1.24.4, and torch and transformers for
# the official script's start-up imports (left out, with a note, when it has not). lamp rank runs
# N times (default 11); its fastest and median runs are compared with the official script's one.
# The sets are made once in DIR (default /tmp/lamp-rank-bench) with lamp data synth.
set -euo pipefail

python=python3
runs=11
dir=/tmp/lamp-rank-bench
lamp="$(cd "$(dirname "$0")/.." && pwd)/build/lamp"
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --lamp) lamp=$2; shift 2 ;;
    *) echo "usage: $0 [--python PY] [--runs N] [--dir DIR] [--lamp BIN]" >&2; exit 2 ;;
  esac
done
official="$(cd "$(dirname "$0")" && pwd)/python/official_rank_bm25.py"
imports=--with-imports
if ! "$python" -c "import torch, transformers" 2>/dev/null; then
  imports=""
  echo "note: $python has no torch/transformers: the official script runs without its imports"
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }
for set in "LaMP-5 90" "LaMP-3 185"; do
  read -r task profile <<<"$set"
  data="$dir/$task"
  if [ ! -f "$data/dev_questions.json" ]; then
    "$lamp" data synth --task "$task" --samples 2500 --profile-size "$profile" --seed 1 \
      --out "$data" >/dev/null
  fi
  questions="$data/dev_questions.json"
  start=$(now)
  "$python" "$official" --task "$task" --questions "$questions" --out "$data/official.json" \
    $imports >/dev/null
  official_s=$(since "$start")
  times=()
  for _ in $(seq "$runs"); do
    start=$(now)
    "$lamp" rank --task "$task" --ranker bm25 --questions "$questions" --out "$data/lamp.json" \
      2>/dev/null
    times+=("$(since "$start")")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  fastest=$(echo "$sorted" | head -1)
  median=$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")
  same=$(cmp -s "$data/official.json" "$data/lamp.json" && echo "identical" || echo "DIFFERENT")
  awk -v t="$task" -v o="$official_s" -v f="$fastest" -v m="$median" -v s="$same" 'BEGIN {
    printf "%s: official %.2f s; lamp rank fastest %.3f s (%.0fx), median %.3f s (%.0fx); rankings %s\n",
           t, o, f, o / f, m, o / m, s }'
done
