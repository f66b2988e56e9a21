// viewer_fixture BASE_DIR: creates the viewer tests' synthetic sealed store under BASE_DIR and
// prints what it holds as one JSON line (for tests/viewer/browser_test.mjs).
#include <iostream>
#include <nlohmann/json.hpp>

#include "fixture_store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: viewer_fixture BASE_DIR\n";
    return 2;
  }
  auto f = ritma::test::make_fixture_store(argv[1]);
  if (!f.ok()) {
    std::cerr << "viewer_fixture: " << f.error().message << "\n";
    return 1;
  }
  std::cout << nlohmann::json{{"base_dir", argv[1]},   {"windows", f->windows},
                              {"events", f->events},   {"curl_seq", f->curl_seq},
                              {"from_ns", f->from_ns}, {"to_ns", f->to_ns}}
                   .dump()
            << "\n";
  return 0;
}
