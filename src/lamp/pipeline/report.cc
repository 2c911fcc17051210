#include "lamp/pipeline/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>

#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"

namespace lamp {
namespace {

std::vector<std::string> metric_names(const RunResult& result) {
  std::vector<std::string> names;
  for (const CellResult& cell : result.cells)
    for (const auto& [name, value] : cell.metrics)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

std::optional<double> metric_of(const CellResult& cell, const std::string& name) {
  for (const auto& [key, value] : cell.metrics)
    if (key == name) return value;
  return std::nullopt;
}

bool lower_is_better(const TaskSpec& task) { return task.metric == MetricKind::kRating; }

// "LaMP-3 personalized product rating (dev)" and "profile-vote, 40 samples".
std::pair<std::string, std::string> title(const RunConfig& config, const RunResult& result) {
  return {fmt::format("{} {} ({})", result.task->name, result.task->title, config.split),
          fmt::format("{}, {} samples", config.model_name, result.samples)};
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Tick marks at 1, 2 or 5 times a power of ten, about five over [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  double raw = (hi - lo) / 5;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= raw) break;
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

void write_string_list(JsonWriter& w, const std::vector<std::string>& items) {
  w.begin_array();
  for (const std::string& s : items) w.value(s);
  w.end_array();
}

}  // namespace

std::string results_markdown(const RunConfig& config, const RunResult& result) {
  std::vector<std::string> names = metric_names(result);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"retriever", "k"};
  header.insert(header.end(), names.begin(), names.end());
  if (names.empty()) header.push_back("predictions");
  rows.push_back(header);
  for (const CellResult& cell : result.cells) {
    std::vector<std::string> row = {cell.retriever, cell.k == 0 ? "" : std::to_string(cell.k)};
    for (const std::string& name : names) {
      std::optional<double> v = metric_of(cell, name);
      row.push_back(v ? fmt::format("{:.4f}", *v) : "");
    }
    if (names.empty()) row.push_back("cells/" + cell.name + "/predictions.json");
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size(), 3);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  // Text left (the retriever, a predictions path), numbers right.
  auto left = [&](std::size_t c) { return c == 0 || (names.empty() && c == 2); };
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = "|";
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += left(c) ? fmt::format(" {:<{}} |", row[c], width[c])
                     : fmt::format(" {:>{}} |", row[c], width[c]);
    }
    return out + "\n";
  };
  auto [task, run] = title(config, result);
  std::string out = fmt::format("## {}, {}\n\n", task, run);
  out += line(rows[0]);
  out += "|";
  for (std::size_t c = 0; c < width.size(); ++c)
    out += left(c) ? " " + std::string(width[c], '-') + " |"
                   : " " + std::string(width[c] - 1, '-') + ": |";
  out += "\n";
  for (std::size_t r = 1; r < rows.size(); ++r) out += line(rows[r]);
  return out;
}

std::string results_json(const RunConfig& config, const RunResult& result) {
  JsonWriter w(2);
  w.begin_object();
  w.key("task").value(result.task->name).key("split").value(config.split);
  w.key("model").value(config.model_name);
  w.key("samples").value(static_cast<std::int64_t>(result.samples));
  w.key("cells").begin_array();
  for (const CellResult& cell : result.cells) {
    w.begin_object().key("name").value(cell.name).key("retriever").value(cell.retriever);
    w.key("k");
    if (cell.k == 0) {
      w.null();
    } else {
      w.value(std::int64_t{cell.k});
    }
    w.key("metrics").begin_object();
    for (const auto& [name, value] : cell.metrics) w.key(name).value(value);
    w.end_object();
    w.key("prompts_without_profile").value(static_cast<std::int64_t>(cell.bare_prompts));
    w.key("predictions").value("cells/" + cell.name + "/predictions.json");
    w.end_object();
  }
  w.end_array().end_object();
  return w.str() + "\n";
}

std::string results_svg(const RunConfig& config, const RunResult& result) {
  constexpr double kWidth = 640, kHeight = 400;
  constexpr double kLeft = 70, kRight = 490, kTop = 50, kBottom = 340;
  static constexpr const char* kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                             "#d62728", "#9467bd", "#8c564b"};
  std::vector<std::string> names = metric_names(result);
  std::string metric = names.empty() ? "" : names.front();
  std::vector<int> ks;
  std::vector<std::string> retrievers;
  std::optional<double> lo, hi;
  for (const CellResult& cell : result.cells) {
    if (cell.k > 0 && std::find(ks.begin(), ks.end(), cell.k) == ks.end()) ks.push_back(cell.k);
    if (cell.k > 0 &&
        std::find(retrievers.begin(), retrievers.end(), cell.retriever) == retrievers.end())
      retrievers.push_back(cell.retriever);
    if (std::optional<double> v = metric_of(cell, metric)) {
      lo = std::min(lo.value_or(*v), *v);
      hi = std::max(hi.value_or(*v), *v);
    }
  }
  std::sort(ks.begin(), ks.end());
  if (!lo) {
    lo = 0;
    hi = 1;
  }
  double pad = (*hi - *lo) * 0.1;
  if (pad == 0) pad = std::max(0.05, std::abs(*lo) * 0.05);
  double y0 = *lo - pad, y1 = *hi + pad;
  auto x_of = [&](std::size_t i) {
    double inner = 30;
    if (ks.size() < 2) return (kLeft + kRight) / 2;
    return kLeft + inner +
           (kRight - kLeft - 2 * inner) * static_cast<double>(i) /
               static_cast<double>(ks.size() - 1);
  };
  auto y_of = [&](double v) { return kBottom - (v - y0) / (y1 - y0) * (kBottom - kTop); };

  std::string s = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      kWidth, kHeight);
  auto [task, run] = title(config, result);
  s += fmt::format(
      "<text x=\"{0}\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">{1}</text>\n"
      "<text x=\"{0}\" y=\"38\" text-anchor=\"middle\">{2}</text>\n",
      kWidth / 2, xml_escape(task), xml_escape(run));
  for (double t : ticks(y0, y1)) {
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{2:.1f}\" x2=\"{1}\" y2=\"{2:.1f}\" stroke=\"#dddddd\"/>\n"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, kRight, y_of(t), kLeft - 6, y_of(t) + 4, format_double(t));
  }
  s += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"black\"/>\n",
      kLeft, kTop, kRight - kLeft, kBottom - kTop);
  for (std::size_t i = 0; i < ks.size(); ++i) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x_of(i),
                     kBottom + 18, ks[i]);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">k (retrieved items)</text>\n",
                   (kLeft + kRight) / 2, kBottom + 40);
  s += fmt::format(
      "<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">{1}"
      "</text>\n",
      (kTop + kBottom) / 2,
      xml_escape(metric.empty()                  ? std::string("no golds: no metric")
                 : lower_is_better(*result.task) ? metric + " (lower is better)"
                                                 : metric));
  double legend_y = kTop + 10;
  auto legend = [&](const std::string& name, const char* colour, bool dashed) {
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>\n"
        "<text x=\"{5}\" y=\"{6}\">{7}</text>\n",
        kRight + 16, legend_y, kRight + 40, colour, dashed ? " stroke-dasharray=\"6 4\"" : "",
        kRight + 46, legend_y + 4, xml_escape(name));
    legend_y += 20;
  };
  for (const CellResult& cell : result.cells) {
    std::optional<double> v = metric_of(cell, metric);
    if (cell.k != 0 || !v) continue;
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{2:.1f}\" x2=\"{1}\" y2=\"{2:.1f}\" stroke=\"#555555\" "
        "stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n",
        kLeft, kRight, y_of(*v));
    legend("none", "#555555", true);
  }
  for (std::size_t r = 0; r < retrievers.size(); ++r) {
    const char* colour = kColours[r % std::size(kColours)];
    std::string points, marks;
    for (const CellResult& cell : result.cells) {
      std::optional<double> v = metric_of(cell, metric);
      if (cell.retriever != retrievers[r] || cell.k == 0 || !v) continue;
      std::size_t i = std::find(ks.begin(), ks.end(), cell.k) - ks.begin();
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x_of(i), y_of(*v));
      marks += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", x_of(i),
                           y_of(*v), colour);
    }
    if (points.empty()) continue;
    s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                     points, colour);
    s += marks;
    legend(retrievers[r], colour, false);
  }
  s += "</svg>\n";
  return s;
}

std::string manifest_json(const RunConfig& config, const RunResult& result,
                          const ReportInfo& info) {
  JsonWriter w(2);
  w.begin_object();
  w.key("lamp_version").value(info.lamp_version);
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  w.key("created").value(created);
  w.key("command");
  write_string_list(w, info.command);
  w.key("task").value(result.task->name).key("split").value(config.split);
  w.key("inputs").begin_array();
  for (const auto& [path, hash] : result.inputs) {
    w.begin_object().key("path").value(path.string()).key("siphash128").value(hash);
    w.end_object();
  }
  w.end_array();
  // What the cells were scored against (lamp compare reads it); null: predictions only.
  w.key("golds");
  if (config.golds.empty()) {
    w.null();
  } else {
    w.value(config.golds.string());
  }
  w.key("model").begin_object().key("name").value(config.model_name);
  w.key("identity").value(info.model_identity).end_object();
  w.key("settings").begin_object();
  w.key("retrievers");
  write_string_list(w, config.retrievers);
  w.key("k").begin_array();
  for (int k : config.ks) w.value(std::int64_t{k});
  w.end_array();
  w.key("seed").value(static_cast<std::int64_t>(config.rank.seed));
  w.key("use_date").value(config.rank.use_date);
  w.key("official_random").value(config.rank.official_random);
  w.key("bm25").begin_object().key("k1").value(config.rank.bm25.k1);
  w.key("b").value(config.rank.bm25.b).key("epsilon").value(config.rank.bm25.epsilon);
  w.end_object();
  w.key("retriever_model").value(config.dense_identity);
  w.key("tokenizer").value(config.tokenizer.string());
  w.key("max_length").value(std::int64_t{config.max_length});
  w.key("cache").value(
      (config.cache_dir.empty() ? config.out_dir / "cache" : config.cache_dir).string());
  w.end_object();
  w.key("timings").begin_object().key("total_s").value(result.seconds);
  w.key("rankings_s").begin_object();
  for (const auto& [name, seconds] : result.ranking_seconds) w.key(name).value(seconds);
  w.end_object().key("cells_s").begin_object();
  for (const CellResult& cell : result.cells) w.key(cell.name).value(cell.seconds);
  w.end_object().end_object();
  w.key("cells").begin_array();
  for (const CellResult& cell : result.cells) {
    w.begin_object().key("name").value(cell.name);
    w.key("ranking_cached").value(cell.ranking_cached);
    w.key("prompts_cached").value(cell.prompts_cached);
    w.key("outputs_cached").value(cell.outputs_cached).end_object();
  }
  w.end_array();
  w.key("notes");
  write_string_list(w, result.notes);
  w.end_object();
  return w.str() + "\n";
}

void write_reports(const RunConfig& config, const RunResult& result, const ReportInfo& info) {
  write_file_atomic(config.out_dir / "results.json", results_json(config, result));
  write_file_atomic(config.out_dir / "results.md", results_markdown(config, result));
  write_file_atomic(config.out_dir / "results.svg", results_svg(config, result));
  write_file_atomic(config.out_dir / "manifest.json", manifest_json(config, result, info));
}

}  // namespace lamp
