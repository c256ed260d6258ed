#include "cli/parse_flags.h"

#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"

namespace walsim {

namespace {

// "unknown option '--bogus'", "unexpected argument 'x'".
std::string describe_unknown(const std::vector<std::string>& arguments) {
  std::string options, others;
  int option_count = 0, other_count = 0;
  for (const std::string& argument : arguments) {
    const bool is_option = argument.size() > 1 && argument[0] == '-';
    std::string& list = is_option ? options : others;
    list += (list.empty() ? "'" : ", '") + argument + "'";
    (is_option ? option_count : other_count)++;
  }
  std::string text;
  if (option_count > 0) text = (option_count > 1 ? "unknown options " : "unknown option ") + options;
  if (other_count > 0) {
    text += (text.empty() ? "" : "; ") +
            std::string(other_count > 1 ? "unexpected arguments " : "unexpected argument ") +
            others;
  }
  return text;
}

}  // namespace

std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& error) {
    const bool help = error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success);
    // What CLI11 could not place stays in remaining(), also when it threw
    // for another reason (a required option missing, a value out of range).
    const std::vector<std::string> unknown = app.remaining();
    if (help || unknown.empty()) return app.exit(error) == 0 ? kExitOk : kExitUsage;
    std::fprintf(stderr, "%s: %s (%s --help lists the options)\n", app.get_name().c_str(),
                 describe_unknown(unknown).c_str(), app.get_name().c_str());
    return kExitUsage;
  }
}

}  // namespace walsim
