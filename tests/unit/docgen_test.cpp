// The man page and the shell completion are generated from the command tree (make_app): every
// option of every subcommand appears in them, and the bash completion really completes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "../../src/cli/commands.hpp"
#include "../../src/cli/docgen.hpp"
#include "test_support.hpp"

using namespace virtumancer;
using virtumancer::testing_util::run_shell;

namespace {

struct Tree {
    cli::Globals g;
    cli::Runner run;
    std::unique_ptr<CLI::App> app = cli::make_app(g, run);
};

// This test's own walk of the tree: every subcommand --help shows, with its command path.
void walk(const CLI::App* a, const std::string& path,
          std::vector<std::pair<std::string, const CLI::App*>>& out) {
    for (const CLI::App* s : a->get_subcommands([](const CLI::App*) { return true; })) {
        if (s->get_group().empty()) continue; // hidden from --help
        out.emplace_back(path + " " + s->get_name(), s);
        walk(s, path + " " + s->get_name(), out);
    }
}

std::vector<const CLI::Option*> shown_options(const CLI::App* a) {
    std::vector<const CLI::Option*> out;
    for (const CLI::Option* o : a->get_options())
        if (!o->get_group().empty() && o != a->get_help_ptr()) out.push_back(o);
    return out;
}

std::string roff_dashes(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
    return out;
}

// The text of one `.SS` subsection (up to the next .SS or .SH).
std::string subsection(const std::string& man, const std::string& path) {
    auto b = man.find(".SS \"" + roff_dashes(path) + " ");
    if (b == std::string::npos) b = man.find(".SS \"" + roff_dashes(path) + "\"");
    if (b == std::string::npos) return "";
    auto e = std::min(man.find("\n.SS ", b + 1), man.find("\n.SH ", b + 1));
    return man.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

std::vector<std::string> names_of(const CLI::Option* o) {
    std::vector<std::string> n;
    for (const auto& s : o->get_snames()) n.push_back("-" + s);
    for (const auto& l : o->get_lnames()) n.push_back("--" + l);
    if (n.empty()) n.push_back(o->get_name(true)); // positional
    return n;
}

} // namespace

TEST(Docgen, ManPageHasEveryOptionOfEverySubcommand) {
    Tree t;
    const std::string man = cli::man_page(*t.app, "1.2.3~test", "2026-11-30");
    std::vector<std::pair<std::string, const CLI::App*>> subs;
    walk(t.app.get(), "virtumancer", subs);
    ASSERT_GE(subs.size(), 14u); // 11 commands + db migrate/status/check
    size_t checked = 0;
    for (const auto& [path, sub] : subs) {
        const std::string sec = subsection(man, path);
        ASSERT_FALSE(sec.empty()) << "no .SS section for " << path;
        std::string desc = sub->get_description();
        EXPECT_NE(sec.find(roff_dashes(desc.substr(0, 30))), std::string::npos)
            << path << ": description missing";
        for (const CLI::Option* o : shown_options(sub)) {
            for (const auto& n : names_of(o)) {
                EXPECT_NE(sec.find(roff_dashes(n)), std::string::npos)
                    << path << ": option " << n << " missing from its man section";
                ++checked;
            }
            // The first words of its description, as --help prints them.
            std::string d = o->get_description().substr(1, 24);
            EXPECT_NE(sec.find(roff_dashes(d)), std::string::npos)
                << path << " " << names_of(o)[0] << ": description missing";
            if (!o->get_default_str().empty()) {
                EXPECT_NE(sec.find("Default: " + roff_dashes(o->get_default_str())),
                          std::string::npos)
                    << path << " " << names_of(o)[0] << ": default missing";
            }
        }
    }
    EXPECT_GT(checked, 50u);
    // Hidden options stay hidden, as in --help.
    EXPECT_EQ(man.find("markdown"), std::string::npos);
}

TEST(Docgen, ManPageGlobalOptionsVersionAndHandWrittenSections) {
    Tree t;
    const std::string man = cli::man_page(*t.app, "1.2.3~test", "2026-11-30");
    EXPECT_NE(man.find("\n.TH VIRTUMANCER 1 \"2026-11-30\" \"virtumancer 1.2.3~test\""),
              std::string::npos)
        << man.substr(0, 200);
    auto b = man.find(".SH GLOBAL OPTIONS");
    auto e = man.find(".SH COMMANDS");
    ASSERT_NE(b, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    const std::string global = man.substr(b, e - b);
    for (const CLI::Option* o : t.app->get_options())
        for (const auto& n : names_of(o))
            EXPECT_NE(global.find(roff_dashes(n)), std::string::npos) << n;
    EXPECT_NE(global.find("Default: virtumancer.db"), std::string::npos);
    EXPECT_NE(global.find("trace, debug, info"), std::string::npos); // --log-level choices
    for (const char* s : {".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"})
        EXPECT_NE(man.find(s), std::string::npos) << s;
    for (const char* s : {".B 130", ".B 2\n", "VIRTUMANCER_DB", "VIRTUMANCER_ACTOR", "NO_COLOR",
                          "virtumancer.schema.json"})
        EXPECT_NE(man.find(s), std::string::npos) << s;
    // No line may start with a dot or quote that is not a request (descriptions are escaped).
    std::istringstream in(man);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] != '.') continue;
        const std::string req = line.substr(
            1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1);
        static const std::set<std::string> known = {"TH", "SH", "SS", "TP", "B",  "BR",
                                                    "I",  "PP", "br", "nf", "fi", "\\\""};
        EXPECT_TRUE(known.count(req)) << line;
    }
}

TEST(Docgen, CompletionScriptsNameEveryCommandAndOption) {
    Tree t;
    const std::string bash = cli::bash_completion(*t.app);
    const std::string zsh = cli::zsh_completion(*t.app);
    std::vector<std::pair<std::string, const CLI::App*>> subs;
    walk(t.app.get(), "virtumancer", subs);
    subs.emplace_back("virtumancer", t.app.get());
    for (const auto& [path, sub] : subs) {
        EXPECT_NE(bash.find("\"" + path + "\")"), std::string::npos) << path;
        if (sub != t.app.get()) {
            EXPECT_NE(zsh.find("'" + sub->get_name() + ":"), std::string::npos) << path;
        }
        for (const CLI::Option* o : shown_options(sub)) {
            if (!o->nonpositional()) continue;
            for (const auto& n : names_of(o)) {
                EXPECT_TRUE(bash.find(" " + n) != std::string::npos ||
                            bash.find("'" + n) != std::string::npos)
                    << path << " " << n;
                EXPECT_NE(zsh.find(n), std::string::npos) << path << " " << n;
            }
        }
    }
}

namespace {

// Runs the generated bash completion for the words of `line` (the last one being completed)
// in `cwd`; returns COMPREPLY, one per line.
std::string complete_bash(const std::filesystem::path& script, const std::string& line,
                          const std::string& cwd = ".", const std::string& path_first = "") {
    std::string env = path_first.empty() ? "" : "PATH='" + path_first + "':\"$PATH\" ";
    std::string cmd = "cd '" + cwd + "' && " + env +
                      "bash --norc -c '"
                      "source /usr/share/bash-completion/bash_completion; source \"$1\"; "
                      "COMP_LINE=\"$2\"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "
                      "\"$COMP_LINE\"; [[ $COMP_LINE == *\" \" ]] && COMP_WORDS+=(\"\"); "
                      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _virtumancer; "
                      "printf \"%s\\n\" \"${COMPREPLY[@]}\" | sort' _ '" +
                      script.string() + "' '" + line + "' 2>&1";
    int st = 0;
    return run_shell(cmd, &st);
}

} // namespace

TEST(Docgen, BashCompletionCompletesCommandsOptionsChoicesAndSpecPaths) {
    if (!std::filesystem::exists("/usr/share/bash-completion/bash_completion"))
        GTEST_FAIL() << "bash-completion is not installed (scripts/deps.sh installs it)";
    Tree t;
    auto dir =
        std::filesystem::temp_directory_path() / ("vmr-docgen-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "specs");
    std::ofstream(dir / "specs" / "web.yaml") << "kind: VM\n";
    const auto script = dir / "virtumancer.bash";
    std::ofstream(script) << cli::bash_completion(*t.app);

    EXPECT_EQ(complete_bash(script, "virtumancer pl"), "plan\n");
    EXPECT_EQ(complete_bash(script, "virtumancer db "), "check\ncopy\nmigrate\nstatus\ntargets\n");
    EXPECT_EQ(complete_bash(script, "virtumancer db copy --t"), "--to\n");
    EXPECT_EQ(complete_bash(script, "virtumancer db copy --to sp", dir.string()), "specs\n");
    EXPECT_EQ(complete_bash(script, "virtumancer --db x.db plan --detailed"),
              "--detailed-exitcode\n");
    EXPECT_EQ(complete_bash(script, "virtumancer --log-level d"), "debug\n");
    EXPECT_EQ(complete_bash(script, "virtumancer render --kind v"), "vm\nvolume\n");
    EXPECT_EQ(complete_bash(script, "virtumancer tasks --status R"), "RUNNING\n");
    // Spec paths: file completion for the positional paths and for file options.
    EXPECT_EQ(complete_bash(script, "virtumancer validate sp", dir.string()), "specs\n");
    EXPECT_EQ(complete_bash(script, "virtumancer load specs/w", dir.string()), "specs/web.yaml\n");
    EXPECT_EQ(complete_bash(script, "virtumancer apply --plan sp", dir.string()), "specs\n");
    // A value that is not a path gets no file names.
    EXPECT_EQ(complete_bash(script, "virtumancer plan --target sp", dir.string()), "\n");
    std::filesystem::remove_all(dir);
}

TEST(Docgen, ZshCompletionIsValidZsh) {
    if (!std::filesystem::exists("/usr/bin/zsh"))
        GTEST_FAIL() << "zsh is not installed (scripts/deps.sh installs it)";
    Tree t;
    auto file =
        std::filesystem::temp_directory_path() / ("_virtumancer-" + std::to_string(::getpid()));
    std::ofstream(file) << cli::zsh_completion(*t.app);
    int st = -1;
    std::string out = run_shell("zsh -n '" + file.string() + "' 2>&1", &st);
    EXPECT_EQ(st, 0) << out;
    // Loaded by compinit from a directory on $fpath, it defines the completion function.
    auto dir = file.parent_path() / ("vmr-zfunc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(file, dir / "_virtumancer",
                               std::filesystem::copy_options::overwrite_existing);
    out = run_shell("HOME='" + dir.string() + "' zsh -f -c 'fpath=(\"" + dir.string() +
                        "\" $fpath); autoload -Uz compinit; compinit -u -d \"" + dir.string() +
                        "/zcompdump\"; echo ${_comps[virtumancer]}' 2>&1",
                    &st);
    EXPECT_EQ(out, "_virtumancer\n");
    std::filesystem::remove_all(dir);
    std::filesystem::remove(file);
}

TEST(Docgen, BashCompletionOfTargetsListsTheDatabasesObjects) {
    if (!std::filesystem::exists("/usr/share/bash-completion/bash_completion"))
        GTEST_FAIL() << "bash-completion is not installed (scripts/deps.sh installs it)";
    Tree t;
    virtumancer::testing_util::TempDir dir("vmr-docgen-targets-");
    const std::string script = dir.write("virtumancer.bash", cli::bash_completion(*t.app));
    const std::string db = dir.file("t.db");
    auto load = virtumancer::testing_util::run_cli(
        "--db '" + db + "' load '" + (virtumancer::testing_util::source_dir() / "specs").string() +
        "'");
    ASSERT_EQ(load.rc, 0) << load.out;
    // `db targets`: every object of the example specs, spelled as plan addresses spell them.
    auto listed = virtumancer::testing_util::run_cli("--db '" + db + "' db targets");
    ASSERT_EQ(listed.rc, 0) << listed.out;
    for (const char* want : {"vm/web\n", "pool/vm-images\n", "volume/vm-images/web-root\n",
                             "network/lab\n", "snapshot/db/db-before-upgrade\n"})
        EXPECT_NE(listed.out.find(want), std::string::npos) << want << " in:\n" << listed.out;
    // The completion of --target calls the virtumancer on PATH with the command line's --db.
    const std::string bindir =
        std::filesystem::path(virtumancer::testing_util::binary()).parent_path().string();
    std::string vms = complete_bash(script, "virtumancer --db " + db + " plan --target vm/w",
                                    dir.path().string(), bindir);
    EXPECT_EQ(vms, "vm/web\nvm/worker1\n");
    EXPECT_EQ(complete_bash(script,
                            "virtumancer --db " + db + " apply --target volume/vm-images/db-",
                            dir.path().string(), bindir),
              "volume/vm-images/db-data\nvolume/vm-images/db-root\n");
    // No database there: no candidates, and no error text in the completion.
    EXPECT_EQ(complete_bash(script,
                            "virtumancer --db " + dir.file("missing/x.db") + " plan --target vm/",
                            dir.path().string(), bindir),
              "\n");
    EXPECT_EQ(complete_bash(script, "virtumancer --db " + dir.file("none.db") + " plan --target v",
                            dir.path().string(), bindir),
              "\n");
    EXPECT_FALSE(std::filesystem::exists(dir.file("none.db"))) << "completion created a database";
}
