#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "lamp/core/error.h"
#include "lamp/nn/plugin.h"

namespace lamp::nn {
namespace {

constexpr const char* kPluginName = "liblamp_nn_plugin.so";

std::vector<std::filesystem::path> candidates() {
  if (const char* env = std::getenv("LAMP_NN_PLUGIN"); env && *env) return {env};
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {kPluginName};
  return {exe.parent_path() / kPluginName, exe.parent_path() / ".." / "lib" / "lamp" / kPluginName};
}

const NnPlugin* load() {
  std::string tried;
  for (const std::filesystem::path& path : candidates()) {
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      using Entry = const NnPlugin* (*)();
      if (auto entry = reinterpret_cast<Entry>(dlsym(handle, "lamp_nn_plugin"))) return entry();
      throw Error(path.string() + ": not a lamp nn plugin (no lamp_nn_plugin symbol)");
    }
    tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
  }
  throw Error("cannot load lamp's model plugin (" + std::string(kPluginName) +
              ", which holds the libtorch code): " + tried +
              ". Build it (`cmake --build BUILD_DIR --target lamp_nn_plugin`; the default "
              "target builds it too) or set LAMP_NN_PLUGIN to its path.");
}

}  // namespace

const NnPlugin& nn_plugin() {
  static std::once_flag once;
  static const NnPlugin* plugin = nullptr;
  std::call_once(once, [] { plugin = load(); });
  return *plugin;
}

}  // namespace lamp::nn
