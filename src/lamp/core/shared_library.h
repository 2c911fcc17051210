// A shared library loaded at run time, for the dependencies only some commands use (libcurl for
// downloads, libzip for archives). Linked, they and the libraries they bring (TLS, Kerberos,
// LDAP, libcrypto) were loaded and initialised at every start of lamp: 4-5 ms, more than some
// whole commands take (docs/design.md).
//
// Thread-safety: bind() may be called from several threads.
#pragma once

#include <string>

namespace lamp {

class SharedLibrary {
 public:
  // Loads `soname` (searched as the dynamic linker searches); it stays loaded for the life of
  // the process. lamp::Error naming it when it cannot be loaded.
  explicit SharedLibrary(std::string soname);

  // Points `function` at the library's symbol `name`; lamp::Error when it has none. F is the
  // function's type as its header declares it: bind(fn, "zip_open") for decltype(&zip_open) fn.
  template <class F>
  void bind(F*& function, const char* name) const {
    function = reinterpret_cast<F*>(symbol(name));
  }

 private:
  void* symbol(const char* name) const;

  std::string soname_;
  void* handle_ = nullptr;
};

}  // namespace lamp
