// The interface between dense retrieval (torch-free) and the models that embed text (nn/).
// Contriever is a BERT encoder with mean pooling; retrieval only sees vectors.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace lamp {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  // Identifies the model and every setting that changes its vectors (weights' checksum,
  // truncation length), for on-disk embedding caches.
  virtual std::string cache_key() const = 0;
  virtual int dim() const = 0;
  // Embeds texts.size() texts into out (texts.size() x dim(), row-major). Batching and threads
  // are the implementation's business; the result must not depend on how texts are grouped
  // into calls beyond float rounding of padded batches.
  virtual void embed(std::span<const std::string_view> texts, std::span<float> out) = 0;
};

}  // namespace lamp
