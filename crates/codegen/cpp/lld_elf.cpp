// lld's ELF linker called in-process (link.rs): the one C++ file of the
// project. lld's C++ entry point takes an argument vector and two streams;
// this wraps it in a C function that Rust can declare.
#include "lld/Common/Driver.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <string>

LLD_HAS_DRIVER(elf)

// lld/Common/Version.h includes a generated file that Debian does not ship;
// this is its one declaration.
namespace lld {
std::string getLLDVersion();
}

namespace {
char *copy_out(const std::string &s, size_t *len) {
  *len = s.size();
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p) {
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = 0;
  }
  return p;
}
} // namespace

extern "C" {

// Runs `ld.lld args...` in this process. Returns lld's exit code; its
// diagnostics (stdout and stderr together) are returned in *messages
// (malloc'd, freed by tritonc_lld_free). *can_run_again is 0 when lld says
// its state may be corrupt and it must not be called again.
int tritonc_lld_elf_link(const char *const *args, size_t n_args, char **messages, size_t *messages_len,
                         int *can_run_again) {
  std::string out;
  llvm::raw_string_ostream os(out);
  const lld::DriverDef drivers[] = {{lld::Gnu, &lld::elf::link}};
  lld::Result r = lld::lldMain(llvm::ArrayRef<const char *>(args, n_args), os, os, drivers);
  os.flush();
  *messages = copy_out(out, messages_len);
  *can_run_again = r.canRunAgain ? 1 : 0;
  return r.retCode;
}

// lld's version line ("LLD 22.1.8 ..."), malloc'd.
char *tritonc_lld_version(size_t *len) { return copy_out(lld::getLLDVersion(), len); }

void tritonc_lld_free(char *p) { std::free(p); }
}
