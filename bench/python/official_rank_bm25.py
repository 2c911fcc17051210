"""The official `rank_profiles.py --ranker bm25` work, timed on this machine (a baseline for
`lamp rank`; see docs/performance.md). Not part of lamp or its tests.

The official script (LaMP-Benchmark/LaMP) loads the questions with json.load, builds each
sample's corpus and query as strings, tokenizes with str.split(), ranks the whole profile with
rank_bm25 0.2.2's BM25Okapi.get_top_n, and json.dumps {id: [profile ids]}. This script does the
same calls for LaMP-3 and LaMP-5 (the two benchmark shapes). The official script also imports
torch and transformers at start-up; pass --with-imports to count that too (the default leaves it
out, which favours the official script).

    python official_rank_bm25.py --task LaMP-5 --questions Q.json --out R.json [--with-imports]

Needs: pip install rank_bm25==0.2.2 numpy==1.24.4 (plus torch and transformers for
--with-imports).
"""
import argparse
import json
import time

start = time.perf_counter()
parser = argparse.ArgumentParser()
parser.add_argument("--task", required=True, choices=["LaMP-3", "LaMP-5"])
parser.add_argument("--questions", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--with-imports", action="store_true")
opts = parser.parse_args()
if opts.with_imports:
    import torch  # noqa: F401
    import transformers  # noqa: F401
from rank_bm25 import BM25Okapi


def corpus_and_query(task, sample):
    inp, profile = sample["input"], sample["profile"]
    if task == "LaMP-3":
        corpus = [f'{x["text"]}' for x in profile]
        query = inp[inp.find("review:") + len("review:"):].strip()
    else:
        corpus = [f'{x["title"]} {x["abstract"]}' for x in profile]
        query = inp[inp.find(":") + 1:].strip()
    return corpus, query


with open(opts.questions) as file:
    dataset = json.load(file)
ranking = {}
for sample in dataset:
    corpus, query = corpus_and_query(opts.task, sample)
    bm25 = BM25Okapi([x.split() for x in corpus])
    ranked = bm25.get_top_n(query.split(), sample["profile"], n=len(sample["profile"]))
    ranking[sample["id"]] = [x["id"] for x in ranked]
with open(opts.out, "w") as file:
    json.dump(ranking, file)
print(f"{opts.task}: {len(dataset)} samples in {time.perf_counter() - start:.2f} s")
