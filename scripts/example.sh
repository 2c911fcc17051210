#!/usr/bin/env bash
# The main job on the bundled example data (examples/): builds lamp if needed, then for every
# task prints the dataset statistics and evaluates the example predictions against the golds.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/lamp ]]; then
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j"$(nproc)" --target lamp
fi
for dir in examples/LaMP-*/; do
  task=$(basename "$dir")
  echo "== $task"
  build/lamp data stats --questions "$dir/dev_questions.json" --outputs "$dir/dev_outputs.json"
  build/lamp eval --task "$task" --golds "$dir/dev_outputs.json" --preds "$dir/dev_predictions.json"
done
