#!/usr/bin/env bash
# The main job on the bundled example data (examples/): builds lamp when needed, then runs the
# paper's grid for LaMP-1..7 with the profile-vote baseline (no model weights, no downloads):
# no profile vs random vs recency vs BM25 retrieval, k = 1, 2, 4, and prints each task's table.
# Runs go to build/example/MODEL/LaMP-N/ (results.md, results.svg plot, manifest.json, per-cell
# predictions); a second run takes everything from the cache there.
# MODEL picks another model, e.g. `MODEL=google/flan-t5-base scripts/example.sh` for the real one
# (downloaded once into the Hugging Face cache); extra arguments go to every lamp run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$(nproc)" --target lamp  # a no-op when lamp is up to date
for dir in examples/LaMP-*/; do
  task=$(basename "$dir")
  build/lamp run --task "$task" --data "$dir" --retrievers none,random,recency,bm25 --k 1,2,4 \
    --model "${MODEL:-profile-vote}" --out "build/example/${MODEL:-profile-vote}/$task" "$@"
  echo
done
echo "plots: build/example/${MODEL:-profile-vote}/LaMP-*/results.svg"
