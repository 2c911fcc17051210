#include "lamp/core/shared_library.h"

#include <dlfcn.h>

#include <fmt/format.h>
#include <utility>

#include "lamp/core/error.h"

namespace lamp {

SharedLibrary::SharedLibrary(std::string soname) : soname_(std::move(soname)) {
  handle_ = ::dlopen(soname_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = ::dlerror();
    throw Error(fmt::format("cannot load {}: {}", soname_, why != nullptr ? why : "unknown error"));
  }
}

void* SharedLibrary::symbol(const char* name) const {
  void* address = ::dlsym(handle_, name);
  if (address == nullptr) throw Error(fmt::format("{} has no function {}", soname_, name));
  return address;
}

}  // namespace lamp
