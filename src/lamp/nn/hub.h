// Finding a model: a local folder, or a Hugging Face hub id resolved in (and downloaded into) the
// Hugging Face cache, laid out exactly as huggingface_hub lays it out, so that models Python
// users downloaded are reused and lamp's downloads are reused by Python:
//   CACHE/models--ORG--NAME/refs/REVISION            the commit hash REVISION points to
//   CACHE/models--ORG--NAME/snapshots/COMMIT/FILE    symlink to ../../blobs/ETAG
//   CACHE/models--ORG--NAME/blobs/ETAG               the file's bytes (ETAG.incomplete while
//                                                    downloading; resumed from there)
//   CACHE/models--ORG--NAME/.no_exist/COMMIT/FILE    empty: FILE is known not to exist there
//   CACHE/.locks/models--ORG--NAME/ETAG.lock         flock()ed while a blob is downloaded
// CACHE is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
//
// A model's files: config.json (required), the weights (model.safetensors, or
// model.safetensors.index.json and every shard it names; required), and the optional
// generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// spiece.model and vocab.txt. When the snapshot already holds every required file and each
// optional one is present or known missing, it is used without touching the network (a branch is
// not re-checked for new commits: pass a commit hash or delete refs/REVISION to move on).
// Otherwise, unless offline, the missing files are downloaded from
// {endpoint}/{id}/resolve/{revision}/{file}: a HEAD request gives the commit (X-Repo-Commit) and
// the blob name (X-Linked-Etag for LFS files, else ETag, quotes removed), then the bytes are
// fetched with lamp::download_file (resumable, retried, with its progress meter).
//
// Every failure is a lamp::Error: a repository that only has pytorch_model.bin (saying how to
// convert it), a model that is not found or needs a token, missing files while offline (naming
// them and the setting that made lamp offline).
//
// Thread-safety: concurrent calls (and concurrent Python downloads) may share a cache; blob
// downloads are serialized by the same lock files huggingface_hub uses.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "lamp/data/fetch.h"

namespace lamp::nn {

inline constexpr std::string_view kDefaultHubEndpoint = "https://huggingface.co";

struct HubOptions {
  std::string revision = "main";  // a branch, a tag or a 40-hex commit hash
  // No network: the model must be in the cache. Also on when $HF_HUB_OFFLINE is 1, true, yes or
  // on (any case), as in huggingface_hub.
  bool offline = false;
  std::filesystem::path cache_dir;  // empty: hub_cache_dir()
  std::string endpoint;             // empty: $HF_ENDPOINT, else kDefaultHubEndpoint
  // Sent as "Authorization: Bearer TOKEN". Empty: $HF_TOKEN, else the file `huggingface-cli
  // login` writes ($HF_TOKEN_PATH, else $HF_HOME/token, else ~/.cache/huggingface/token).
  std::string token;
  DownloadOptions download;
};

// A folder holding config.json and the weights (see above): `dir_or_id` itself when it is an
// existing folder, else the cache snapshot of the hub model `dir_or_id` ("ORG/NAME" or "NAME").
std::filesystem::path resolve_model(std::string_view dir_or_id, const HubOptions& options = {});

// The Hugging Face hub cache folder from the environment (see above).
std::filesystem::path hub_cache_dir();

// Whether `id` is a valid hub repository id, by huggingface_hub's rules: "NAME" or "ORG/NAME",
// letters, digits, '_', '-' and '.', each part starting and ending with a letter, digit or '_',
// no "--" or "..", at most 96 characters.
bool is_hub_id(std::string_view id);

}  // namespace lamp::nn
