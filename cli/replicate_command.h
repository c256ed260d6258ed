#pragma once

namespace walsim {

// `walsim replicate --source URI --store FILE --rules FILE [...]`: replicate
// a live Postgres database into a bucket store until SIGINT/SIGTERM; a
// restart resumes where it stopped. See docs/live.md.
int replicate_command(int argc, char** argv);

}  // namespace walsim
