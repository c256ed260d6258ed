"""Repository rule: Debian's rules_cc, mended for Bazel 4.2.3.

Why: /usr/share/bazel/rules/cc (rules_cc 0.0.4) loads `use_cpp_toolchain`
from @bazel_tools, which Bazel 4.2.3 does not have. We copy the rules and
replace that symbol with the toolchain type it stands for.
"""

_SOURCE = "/usr/share/bazel/rules/cc"
_PATCHED = [
    "cc/private/rules_impl/cc_flags_supplier.bzl",
    "cc/private/rules_impl/compiler_flag.bzl",
]

def _debian_rules_cc_impl(ctx):
    result = ctx.execute(["cp", "-r", _SOURCE + "/.", "."])
    if result.return_code != 0:
        fail("cannot copy %s (install bazel-rules-cc): %s" % (_SOURCE, result.stderr))
    for path in _PATCHED:
        text = ctx.read(path)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        ctx.file(path, text)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    local = True,
)
