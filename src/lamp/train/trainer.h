// Fine-tuning a T5 checkpoint as train_llm.py does with transformers' Seq2SeqTrainer: teacher-
// forced cross entropy, AdamW with the linear warmup schedule and gradient clipping
// (train/optimizer.h), dev evaluation by generation after every epoch, the best checkpoint kept.
//
// The run folder OUT:
//   checkpoint-N/   after N updates, a Hugging Face model folder (config.json, model.safetensors,
//                   the model's tokenizer files) plus optimizer.safetensors and trainer_state.json
//   state.json      the run: task, model identity, data fingerprint, the latest and best
//                   checkpoints and the best dev metric
//   log.jsonl       one JSON object per logging step and per evaluation
// A checkpoint folder is written under a temporary name and renamed; state.json is replaced
// atomically after it, and only then are checkpoints other than the latest and the best deleted.
// So a run killed at any moment resumes (job.resume) from the last checkpoint state.json names,
// and continues exactly as if it had not stopped: each epoch's batch order and each update's
// dropout come from (seed, epoch) and (seed, update), not from a generator's running state.
//
// Thread-safety: one run per process (libtorch's thread settings are global).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <span>
#include <vector>

#include "lamp/nn/t5.h"
#include "lamp/train/job.h"

namespace lamp::train {

// Runs the job; lamp::Error for bad settings, an OUT that holds another run (or none to
// resume), and a resumed run whose task, model or data differ.
TrainResult run_training(const TrainJob& job);

// One epoch's batches: indices into `examples` (each batch at most batch_size, the last one
// shorter). A permutation seeded by (seed, epoch); with group_by_length, as transformers'
// LengthGroupedSampler: megabatches of min(n / (4 batch_size), 50) batches each sorted by input
// length, longest first, and the longest input's batch moved to the front (so a run that runs
// out of memory does so at once).
std::vector<std::vector<std::size_t>> epoch_batches(std::span<const TrainExample> examples,
                                                    int batch_size, bool group_by_length,
                                                    std::uint64_t seed, std::int64_t epoch);

// Forward and backward of the examples `rows`: the gradients of loss * scale accumulate into
// the model's tensors (which must require grad). Dropout when `train`. Returns the loss (the
// token mean over the batch's labels).
double accumulate_gradients(const nn::T5Model& model, std::span<const TrainExample> examples,
                            std::span<const std::size_t> rows, bool train, double scale);

}  // namespace lamp::train
