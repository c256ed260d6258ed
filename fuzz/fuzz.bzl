"""walsim_fuzz_target: one fuzz target source, built two ways.

  <name>_fuzzer       a libFuzzer binary under --config=fuzz (clang-14, which
                      defines walsim_fuzz=1 and adds -fsanitize=fuzzer); in
                      any other build a replayer of the inputs it is given,
                      so `bazel build //...` with gcc never needs libFuzzer.
  <name>_corpus_test  replays every file of corpus/<name>/ under `bazel test`;
                      under --config=fuzz libFuzzer runs the same files once.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

# Bazel links with `clang`, not `clang++`, so UBSan's C++ half (vptr and
# function checks) must be asked for; lld spares the hundreds of warnings
# gold prints about ASan's local symbols.
FUZZ_LINKOPTS = select({
    ":fuzzing": ["-fsanitize-link-c++-runtime", "-fuse-ld=lld"],
    "//conditions:default": [],
})

def walsim_fuzz_target(name, srcs, deps):
    target = name + "_target"
    cc_library(
        name = target,
        testonly = True,
        srcs = srcs,
        deps = deps + [":fuzz_check"],
        # Only libFuzzer or replay_main call LLVMFuzzerTestOneInput.
        alwayslink = True,
    )

    # libFuzzer brings its own main(); every other build replays files.
    driver = [":" + target] + select({
        ":fuzzing": [],
        "//conditions:default": [":replay_main"],
    })

    cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        linkopts = FUZZ_LINKOPTS,
        deps = driver,
    )

    corpus = name + "_corpus"
    native.filegroup(
        name = corpus,
        testonly = True,
        srcs = native.glob(["corpus/" + name + "/*"]),
    )

    cc_test(
        name = name + "_corpus_test",
        size = "small",
        # Files, not the directory: libFuzzer fuzzes a directory forever but
        # runs named files once, and replay_main takes either.
        args = ["$(locations :" + corpus + ")"],
        data = [":" + corpus],
        linkopts = FUZZ_LINKOPTS,
        deps = driver,
    )
