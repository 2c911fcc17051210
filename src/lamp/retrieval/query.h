// The query (phi_q) and the documents that rank_profiles.py builds for a sample, from the task's
// registry row (shared spec, "Queries and corpora"):
//  - kQuotedReferences (LaMP-1): the 2nd and 3rd double-quoted strings of the input joined by a
//    space; quote detection toggles on every '"';
//  - kAfterMarker: the text after the first occurrence of the marker;
// then Python-strip()ped. A document is the task's corpus fields joined by spaces, plus
// " date: <date>" with use_date.
//
// A missing marker (or fewer than three quoted strings) is a lamp::Error naming the sample; the
// official code crashes there.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"

namespace lamp {

std::string extract_query(const TaskSpec& task, const Sample& sample);

// The double-quoted strings of `text`, as prompts/utils.py's extract_strings_between_quotes
// finds them: quote detection toggles on every '"'. For LaMP-1 the 2nd and 3rd are the two
// candidate references, in label order.
std::vector<std::string_view> quoted_strings(std::string_view text);

// The document for `item` as pieces whose str.split() tokens, concatenated, are the document's:
// the corpus fields, then "date:" and the date with use_date. Returns how many of `pieces`.
using DocumentPieces = std::array<std::string_view, kMaxProfileFields + 2>;
std::size_t document_pieces(const TaskSpec& task, const ProfileItem& item, bool use_date,
                            DocumentPieces& pieces);

// The whitespace tokens (Python str.split()) of the document for `item`, appended to `tokens`.
// Equal to splitting the joined document string, without building it.
void append_document_tokens(const TaskSpec& task, const ProfileItem& item, bool use_date,
                            std::vector<std::string_view>& tokens);

// The document text itself (for dense retrievers and debugging).
std::string document_text(const TaskSpec& task, const ProfileItem& item, bool use_date);

}  // namespace lamp
