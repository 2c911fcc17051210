// `lamp run --config run.toml`: a small TOML subset holding the same settings as the flags, e.g.
//   task = "LaMP-3"
//   data = "examples/LaMP-3"
//   retrievers = ["none", "bm25"]   # or "none,bm25"
//   k = [1, 2, 4]
//   model = "profile-vote"
//   use_date = true
// Supported: one `key = value` per line, `#` comments, basic "strings" (with \" \\ \n \t escapes),
// 'literal strings', integers, floats, booleans and one-line arrays of those. Tables ([section])
// and multi-line values are not: they are a lamp::Error naming the file and line, as is any
// other syntax error. Keys are the long flags without "--" ('_' and '-' alike); paths are read
// as on the command line, relative to the current folder.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace lamp::cli {

struct ConfigEntry {
  std::string key;                  // '_' turned into '-'
  std::vector<std::string> values;  // one per array element; the text of scalars
  int line = 0;
};

std::vector<ConfigEntry> parse_run_config(std::string_view text, const std::string& file);

// Gives each option of `cmd` named by an entry the entry's values, unless the command line set
// it (flags win over the file). lamp::Error for keys that name no option, naming file and line.
void apply_run_config(CLI::App& cmd, const std::vector<ConfigEntry>& entries,
                      const std::string& file);

}  // namespace lamp::cli
