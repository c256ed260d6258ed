// Every command names an unknown argument first: whatever else is wrong
// with the command line (a required flag missing, a value out of range),
// the typo is usually the cause, so it is what the one error line says.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/campaign_command.h"
#include "cli/check_rules_command.h"
#include "cli/inspect_command.h"
#include "cli/replicate_command.h"
#include "cli/rules_diff_command.h"
#include "cli/sim_command.h"

namespace walsim {
namespace {

struct CommandCase {
  const char* name;
  int (*run)(int argc, char** argv);
};

const CommandCase kCommands[] = {
    {"campaign", campaign_command}, {"check-rules", check_rules_command},
    {"inspect", inspect_command},   {"replicate", replicate_command},
    {"sim", sim_command},           {"rules diff", rules_diff_command},
};

struct Outcome {
  int exit_code;
  std::string err;
};

Outcome run(const CommandCase& command, std::vector<std::string> args) {
  args.insert(args.begin(), command.name);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStderr();
  const int code = command.run(static_cast<int>(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStderr()};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CommandFlags, EveryCommandNamesAnUnknownFlagFirst) {
  for (const CommandCase& command : kCommands) {
    SCOPED_TRACE(command.name);
    Outcome outcome = run(command, {"--bogus"});
    EXPECT_EQ(outcome.exit_code, 2);
    EXPECT_TRUE(contains(outcome.err, "unknown option '--bogus'")) << outcome.err;
    EXPECT_FALSE(contains(outcome.err, "is required")) << outcome.err;
    EXPECT_EQ(outcome.err.find('\n'), outcome.err.size() - 1) << "one line: " << outcome.err;
  }
}

TEST(CommandFlags, AnUnknownFlagWinsOverOtherMistakes) {
  const CommandCase& replicate = kCommands[3];
  ASSERT_STREQ(replicate.name, "replicate");
  // Missing --source and --rules, and a worker count out of range.
  Outcome outcome = run(replicate, {"--store", "x.db", "--snapshot-workers", "0", "--sorce",
                                    "postgresql://h/db", "stray"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_TRUE(contains(outcome.err, "walsim replicate: unknown option '--sorce'")) << outcome.err;
  EXPECT_TRUE(contains(outcome.err, "unexpected arguments 'postgresql://h/db', 'stray'"))
      << outcome.err;
}

TEST(CommandFlags, OtherMistakesAreStillReported) {
  const CommandCase& replicate = kCommands[3];
  Outcome missing = run(replicate, {"--store", "x.db"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "--source is required")) << missing.err;
  const CommandCase& check_rules = kCommands[1];
  Outcome no_rules = run(check_rules, {});
  EXPECT_EQ(no_rules.exit_code, 2);
  EXPECT_TRUE(contains(no_rules.err, "--rules is required")) << no_rules.err;
}

TEST(CommandFlags, HelpStillExitsZero) {
  for (const CommandCase& command : kCommands) {
    SCOPED_TRACE(command.name);
    ::testing::internal::CaptureStdout();
    Outcome outcome = run(command, {"--help", "--bogus"});
    std::string help = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_TRUE(contains(help, "--help")) << help;
  }
}

}  // namespace
}  // namespace walsim
