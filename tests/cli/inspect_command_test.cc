// `walsim inspect` on paths that are not stores: exit 2 and one line that
// says what the path is.
#include "cli/inspect_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace walsim {
namespace {

struct Outcome {
  int exit_code;
  std::string err;
};

Outcome inspect(std::vector<std::string> args) {
  args.insert(args.begin(), "inspect");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStderr();
  const int code = inspect_command(static_cast<int>(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStderr()};
}

TEST(InspectCommand, ADirectoryIsNamedAsOne) {
  const std::string directory = ::testing::TempDir() + "/inspect-a-directory";
  std::filesystem::create_directories(directory);
  Outcome outcome = inspect({"--store", directory});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "walsim inspect: '" + directory +
                             "' is a directory; the store is a file in one: name the file, "
                             "e.g. '" + directory + "/walsim.db'\n");
}

TEST(InspectCommand, AMissingStoreIsNamedAsMissing) {
  const std::string path = ::testing::TempDir() + "/inspect-no-such-store.db";
  Outcome outcome = inspect({"--store", path});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "walsim inspect: store '" + path + "' does not exist\n");
}

}  // namespace
}  // namespace walsim
