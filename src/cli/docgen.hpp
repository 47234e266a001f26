// The man page (roff) and the bash and zsh completion scripts, generated from the command tree
// (make_app) at build time (tools/docgen.cpp), so they list exactly what `--help` lists.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace virtumancer::cli {

// Options `--help` shows for `app` (hidden ones, group "", are left out; `--help` itself only
// for the top-level app), in definition order.
std::vector<const CLI::Option*> documented_options(const CLI::App& app);
// Subcommands `--help` shows, in definition order.
std::vector<const CLI::App*> documented_subcommands(const CLI::App& app);

// man 1 virtumancer: every global option, one subsection per subcommand (nested ones too) with
// every option, its value type, default, choices and environment variable, then the exit
// status, environment, files and examples.
std::string man_page(const CLI::App& app, const std::string& version, const std::string& date);

// `complete -F` script for bash-completion (share/bash-completion/completions/virtumancer).
std::string bash_completion(const CLI::App& app);
// #compdef script for zsh (share/zsh/vendor-completions/_virtumancer).
std::string zsh_completion(const CLI::App& app);

} // namespace virtumancer::cli
