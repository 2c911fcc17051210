#include "lamp/pipeline/report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>
#include <vector>

namespace lamp {
namespace {

struct Fixture {
  RunConfig config;
  RunResult result;
  Fixture() {
    config.split = "dev";
    config.model_name = "profile-vote";
    config.retrievers = {"none", "bm25", "recency"};
    config.ks = {1, 2};
    result.task = &find_task("LaMP-3");
    result.samples = 40;
    auto cell = [](std::string r, int k, double mae, double rmse) {
      CellResult c{.retriever = r, .k = k, .name = k ? r + "-k" + std::to_string(k) : r};
      c.metrics = {{"MAE", mae}, {"RMSE", rmse}};
      return c;
    };
    result.cells = {cell("none", 0, 0.9, 1.2), cell("bm25", 1, 0.8, 1.1), cell("bm25", 2, 0.7, 1.0),
                    cell("recency", 1, 0.85, 1.15), cell("recency", 2, 0.75, 1.05)};
  }
};

TEST(Report, MarkdownTable) {
  Fixture f;
  EXPECT_EQ(results_markdown(f.config, f.result),
            "## LaMP-3 personalized product rating (dev), profile-vote, 40 samples\n\n"
            "| retriever |   k |    MAE |   RMSE |\n"
            "| --------- | --: | -----: | -----: |\n"
            "| none      |     | 0.9000 | 1.2000 |\n"
            "| bm25      |   1 | 0.8000 | 1.1000 |\n"
            "| bm25      |   2 | 0.7000 | 1.0000 |\n"
            "| recency   |   1 | 0.8500 | 1.1500 |\n"
            "| recency   |   2 | 0.7500 | 1.0500 |\n");
}

// Checks that every tag is closed in order and returns the element names in document order.
std::vector<std::string> elements_of_well_formed_xml(const std::string& xml) {
  std::vector<std::string> stack, names;
  std::regex tag(R"(<(/?)([a-zA-Z?][\w:-]*)([^<>]*?)(/?)>)");
  std::string text_between;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    std::string name = m[2];
    if (name == "?xml") continue;
    if (m[1] == "/") {
      EXPECT_FALSE(stack.empty()) << name;
      if (stack.empty()) break;
      EXPECT_EQ(stack.back(), name);
      stack.pop_back();
    } else {
      names.push_back(name);
      if (m[4] != "/") stack.push_back(name);
    }
  }
  EXPECT_TRUE(stack.empty());
  // Text may not hold a bare '<' or '&' that is not an entity.
  EXPECT_EQ(std::regex_search(xml, std::regex("&(?!amp;|lt;|gt;|quot;)")), false);
  return names;
}

TEST(Report, SvgIsWellFormedWithOneLinePerRetrieverAndNoneDashed) {
  Fixture f;
  std::string svg = results_svg(f.config, f.result);
  std::vector<std::string> names = elements_of_well_formed_xml(svg);
  EXPECT_EQ(names.front(), "svg");
  EXPECT_EQ(std::count(names.begin(), names.end(), "polyline"), 2);
  EXPECT_EQ(std::count(names.begin(), names.end(), "circle"), 4);
  EXPECT_NE(svg.find("MAE (lower is better)"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  // Larger values are drawn higher: bm25 k=1 (0.8) above k=2 (0.7).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      svg, m, std::regex(R"(<polyline points="[\d.]+,([\d.]+) [\d.]+,([\d.]+)\")")));
  EXPECT_LT(std::stod(m[1]), std::stod(m[2]));

  // Titles are escaped; a run without golds still gives a valid picture.
  f.config.model_name = "a<b&c";
  for (CellResult& c : f.result.cells) c.metrics.clear();
  svg = results_svg(f.config, f.result);
  elements_of_well_formed_xml(svg);
  EXPECT_NE(svg.find("a&lt;b&amp;c"), std::string::npos);
}

TEST(Report, JsonFilesParse) {
  Fixture f;
  simdjson::dom::parser parser;
  simdjson::dom::element results = parser.parse(results_json(f.config, f.result));
  EXPECT_EQ(std::string_view(results["task"]), "LaMP-3");
  simdjson::dom::array cells = results["cells"];
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_TRUE(cells.at(0)["k"].is_null());
  EXPECT_EQ(int64_t(cells.at(2)["k"]), 2);
  EXPECT_DOUBLE_EQ(double(cells.at(2)["metrics"]["MAE"]), 0.7);
  EXPECT_EQ(std::string_view(cells.at(2)["predictions"]), "cells/bm25-k2/predictions.json");

  f.result.inputs = {{"q.json", "0123456789abcdef0123456789abcdef"}};
  f.config.golds = "data/dev_outputs.json";
  simdjson::dom::parser parser2;
  simdjson::dom::element manifest = parser2.parse(
      manifest_json(f.config, f.result, {.lamp_version = "0.1.0", .model_identity = "x"}));
  EXPECT_EQ(std::string_view(manifest["lamp_version"]), "0.1.0");
  EXPECT_EQ(std::string_view(manifest["inputs"].at(0)["siphash128"]),
            "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(simdjson::dom::array(manifest["cells"]).size(), 5u);
  EXPECT_EQ(std::string_view(manifest["golds"]), "data/dev_outputs.json");
}

}  // namespace
}  // namespace lamp
