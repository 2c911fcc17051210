"""Hugging Face transformers on the checkpoints model_bench uses: the baseline for issue 4's
targets, measured on the same machine (docs/performance.md). Not part of lamp or its tests.

Same workloads as build/bench/model_bench: T5 greedy generation at batch 1 and 16, 256-token
inputs, exactly 32 new tokens (min_new_tokens = max_new_tokens), encoder included: tokens/s;
BERT encoding of batch-16 inputs of 128 tokens: sequences/s. fp32, torch's default threads,
inference under torch.inference_mode.

    python hf_model_baseline.py --t5 /tmp/t5-base --bert /tmp/bert-base

Needs: pip install torch==1.13.1 transformers==4.34.0 safetensors
"""
import argparse
import time

import torch
from transformers import AutoModel, T5ForConditionalGeneration

parser = argparse.ArgumentParser()
parser.add_argument("--t5")
parser.add_argument("--bert")
parser.add_argument("--repeat", type=int, default=2, help="runs per workload; the fastest counts")
opts = parser.parse_args()
torch.manual_seed(0)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")


def fastest(work):
    best = float("inf")
    for _ in range(opts.repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


with torch.inference_mode():
    if opts.t5:
        model = T5ForConditionalGeneration.from_pretrained(opts.t5).eval()
        vocab = model.config.vocab_size
        for batch in (1, 16):
            ids = torch.randint(3, vocab, (batch, 256))
            mask = torch.ones_like(ids)
            seconds = fastest(lambda: model.generate(input_ids=ids, attention_mask=mask,
                                                     num_beams=1, do_sample=False,
                                                     min_new_tokens=32, max_new_tokens=32))
            print(f"T5 greedy batch {batch}: {seconds:.2f} s, {batch * 32 / seconds:.1f} tokens/s")
    if opts.bert:
        model = AutoModel.from_pretrained(opts.bert).eval()
        ids = torch.randint(1000, model.config.vocab_size, (16, 128))
        mask = torch.ones_like(ids)
        seconds = fastest(lambda: model(input_ids=ids, attention_mask=mask))
        print(f"BERT batch 16 x 128: {seconds:.2f} s, {16 / seconds:.1f} sequences/s")
