// Replays inputs through a fuzz target without libFuzzer, so every build
// (gcc, asan, ubsan) can run the checked-in corpus as a plain test, and a
// saved crash input can be replayed under a debugger.
//
// Usage: <target> FILE_OR_DIR...   Directories are read in sorted order,
// one level deep. Exits non-zero when no input was found, so a test whose
// corpus path broke does not pass by running nothing. Under `bazel run`,
// relative paths are taken from the directory bazel was run in.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// `bazel run` starts binaries in their runfiles directory and says where
// the user was in BUILD_WORKING_DIRECTORY.
fs::path resolve(const char* arg) {
  fs::path path(arg);
  const char* working_directory = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.is_relative() && working_directory != nullptr) return working_directory / path;
  return path;
}

std::vector<fs::path> inputs_of(const fs::path& arg) {
  if (!fs::is_directory(arg)) return {arg};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(arg)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool replay(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so ASan sees a read past its end.
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; i++) {
    for (const fs::path& path : inputs_of(resolve(argv[i]))) {
      if (!replay(path)) return 1;
      replayed++;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "no inputs: pass corpus files or directories\n");
    return 1;
  }
  std::printf("replayed %zu inputs without a finding\n", replayed);
  return 0;
}
