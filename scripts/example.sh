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
# The baselines need only the lamp binary; a real model also needs the libtorch plugin, whose
# build takes minutes on a small machine. Both are no-ops when up to date.
model=${MODEL:-profile-vote}
case "$model" in
  profile-vote | majority | openai:*) targets=(lamp) ;;
  *) targets=(lamp lamp_nn_plugin) ;;
esac
cmake --build build -j"$(nproc)" --target "${targets[@]}"
for dir in examples/LaMP-*/; do
  task=$(basename "$dir")
  build/lamp run --task "$task" --data "$dir" --retrievers none,random,recency,bm25 --k 1,2,4 \
    --model "$model" --out "build/example/$model/$task" "$@"
  echo
done
echo "plots: build/example/$model/LaMP-*/results.svg"
