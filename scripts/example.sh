#!/usr/bin/env bash
# The main job on the bundled example data (examples/): builds lamp if needed, then for every
# task: dataset statistics, BM25 ranking of every profile, the merged ranked dataset,
# personalized prompts (k = 2, 256 tokens, the Flan-T5 tokenizer), and the official metrics of
# the example predictions. Outputs go to build/example/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/lamp ]]; then
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j"$(nproc)" --target lamp
fi
out=build/example
mkdir -p "$out"
tokenizer=tests/fixtures/tokenizers/t5
for dir in examples/LaMP-*/; do
  task=$(basename "$dir")
  echo "== $task"
  build/lamp data stats --questions "$dir/dev_questions.json" --outputs "$dir/dev_outputs.json"
  build/lamp rank --ranker bm25 --questions "$dir/dev_questions.json" --out "$out/$task.ranking.json"
  build/lamp merge --questions "$dir/dev_questions.json" --outputs "$dir/dev_outputs.json" \
    --ranking "$out/$task.ranking.json" --out "$out/$task.merged.json"
  build/lamp prompt --ranker bm25 --k 2 --max-length 256 --tokenizer "$tokenizer" \
    --questions "$dir/dev_questions.json" --out "$out/$task.prompts.jsonl"
  head -c 300 "$out/$task.prompts.jsonl"; echo " ..."
  build/lamp eval --task "$task" --golds "$dir/dev_outputs.json" --preds "$dir/dev_predictions.json"
done
