// Man page and shell completion generated from the CLI11 command tree (see docgen.hpp).
#include "docgen.hpp"

#include <sstream>

namespace virtumancer::cli {

namespace {

constexpr const char* kProg = "virtumancer";

bool is_flag(const CLI::Option* o) {
    return o->get_items_expected_max() == 0;
}

// The value placeholder without validator descriptions ("TEXT:{a,b}" -> "TEXT").
std::string value_type(const CLI::Option* o) {
    std::string t = o->get_type_name();
    if (auto c = t.find(':'); c != std::string::npos) t.resize(c);
    return t.empty() ? "VALUE" : t;
}

// Choices of an IsMember validator ("TEXT:{a,b,c}" -> a b c); empty when there is none.
std::vector<std::string> choices(const CLI::Option* o) {
    std::vector<std::string> out;
    std::string t = o->get_type_name();
    auto b = t.find(":{");
    if (b == std::string::npos) return out;
    auto e = t.find('}', b);
    if (e == std::string::npos) return out;
    std::string item;
    for (char c : t.substr(b + 2, e - b - 2)) {
        if (c == ',') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else if (c != ' ') {
            item += c;
        }
    }
    if (!item.empty()) out.push_back(item);
    return out;
}

std::vector<std::string> switches(const CLI::Option* o) {
    std::vector<std::string> out;
    for (const auto& s : o->get_snames()) out.push_back("-" + s);
    for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    return out;
}

bool is_positional(const CLI::Option* o) {
    return !o->nonpositional();
}

bool repeatable(const CLI::Option* o) {
    return o->get_items_expected_max() > 1 || o->get_expected_max() > 1;
}

// What a value of the option is, for completion: a file or directory path, a directory, one of
// fixed choices, or free text (no completion).
enum class ValueKind { None, Path, Dir, Choice, Target };

// Options whose value is a path (their value type says only TEXT). A type name FILE or DIR
// (->type_name) also counts.
ValueKind value_kind(const CLI::Option* o, const std::string& command) {
    if (is_flag(o)) return ValueKind::None;
    if (!choices(o).empty()) return ValueKind::Choice;
    const auto& ln = o->get_lnames();
    // --target of plan and apply: the KIND/NAME values of the database (`db targets`).
    if (!ln.empty() && ln.front() == "target" && (command == "plan" || command == "apply"))
        return ValueKind::Target;
    const std::string t = value_type(o);
    if (t == "DIR") return ValueKind::Dir;
    if (t == "FILE" || t == "PATH") return ValueKind::Path;
    const auto& l = o->get_lnames();
    const std::string name = l.empty() ? "" : l.front();
    if (name == "out" && command == "import") return ValueKind::Dir;
    for (const char* p : {"db", "plan", "out", "junit", "prometheus", "from-xml"})
        if (name == p) return ValueKind::Path;
    return ValueKind::None;
}

// roff: escape backslashes and hyphens, protect a leading dot or quote.
std::string roff(const std::string& s) {
    std::string out;
    bool line_start = true;
    for (char c : s) {
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        line_start = false;
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else if (c == '\n') {
            out += "\n.br\n";
            line_start = true;
            continue;
        } else
            out += c;
    }
    return out;
}

void man_option(std::ostream& os, const CLI::Option* o) {
    os << ".TP\n";
    if (is_positional(o)) {
        os << "\\fI" << roff(o->get_name(true)) << "\\fR" << (repeatable(o) ? "..." : "") << "\n";
    } else {
        auto sw = switches(o);
        for (size_t i = 0; i < sw.size(); ++i)
            os << (i ? ", " : "") << "\\fB" << roff(sw[i]) << "\\fR";
        if (!is_flag(o)) os << " \\fI" << roff(value_type(o)) << "\\fR";
        os << "\n";
    }
    const std::string d = o->get_description();
    os << roff(d) << (d.empty() || d.back() == '.' ? "" : ".");
    auto ch = choices(o);
    if (!ch.empty()) {
        os << " One of: ";
        for (size_t i = 0; i < ch.size(); ++i) os << (i ? ", " : "") << roff(ch[i]);
        os << ".";
    }
    if (!o->get_default_str().empty()) os << " Default: " << roff(o->get_default_str()) << ".";
    if (!o->get_envname().empty()) os << " Environment: " << roff(o->get_envname()) << ".";
    if (repeatable(o) && !is_positional(o) && d.find("repeat") == std::string::npos)
        os << " May be given more than once.";
    if (o->get_required()) os << " Required.";
    os << "\n";
}

std::string usage(const CLI::App* sub, const std::string& path) {
    std::string u = path;
    bool has_opts = false;
    std::string pos;
    for (const auto* o : documented_options(*sub)) {
        if (is_positional(o))
            pos += " " + std::string(o->get_required() ? "" : "[") + o->get_name(true) +
                   (repeatable(o) ? "..." : "") + (o->get_required() ? "" : "]");
        else
            has_opts = true;
    }
    if (has_opts) u += " [OPTIONS]";
    if (!documented_subcommands(*sub).empty()) u += " COMMAND";
    return u + pos;
}

void man_subcommand(std::ostream& os, const CLI::App* sub, const std::string& parent) {
    const std::string path = parent + " " + sub->get_name();
    os << ".SS \"" << roff(usage(sub, path)) << "\"\n";
    const std::string d = sub->get_description();
    os << roff(d) << (d.empty() || d.back() == '.' ? "" : ".") << "\n";
    for (const auto* o : documented_options(*sub)) man_option(os, o);
    for (const auto* s : documented_subcommands(*sub)) man_subcommand(os, s, path);
}

// Sections written by hand; what they say is in README.md and docs/ (keep them in step).
constexpr const char* kExitStatus = R"(.TP
.B 0
Success. For \fBplan \-\-detailed\-exitcode\fR: no changes. For \fBdrift\fR: no drift.
.TP
.B 1
An error: a command line, spec or database error, a plan error, a host that did not answer
within \fB\-\-host\-timeout\fR (the other hosts are still planned and applied), a failed
apply step, or a database check that found a problem.
.TP
.B 2
\fBplan \-\-detailed\-exitcode\fR: the plan has changes, or changes are pending on running
VMs or networks. \fBdrift\fR: drift was found (including pending changes).
.TP
.B 130
Interrupted by SIGINT or SIGTERM. \fBapply\fR starts no new step, lets running libvirt calls
finish, lists what was done and what was not and releases the lock; \fBplan\fR, \fBdrift\fR and
\fBload\fR print one line (an interrupted load changes nothing). A second signal exits at once.
)";

constexpr const char* kEnvironment = R"(.TP
.B VIRTUMANCER_DB
The database file when \fB\-\-db\fR is not given (default \fIvirtumancer.db\fR in the current
directory).
.TP
.B VIRTUMANCER_ACTOR
Who is acting, recorded in tasks and the audit log when \fB\-\-actor\fR is not given; then
.B GITHUB_ACTOR
and
.B GITLAB_USER_LOGIN
(CI), then the name of the OS user.
.TP
.B NO_COLOR
When set, plan and apply print without colour (they use colour only on a terminal).
.TP
Variables named by \fBpassword_env\fR in a spec
Hold the passwords of graphics devices; read at apply time and never stored.
.TP
Variables named by \fBuser_data_env\fR in a spec
Hold a VM's cloud\-init user\-data; read at load (for its content hash) and at apply (to build
the seed), never stored.
)";

constexpr const char* kFiles = R"(.TP
.I ./virtumancer.db
The default SQLite database (\fB\-\-db\fR, \fBVIRTUMANCER_DB\fR): desired state, tasks, audit
log, load revisions. \fBdb migrate\fR backs an existing file up to \fI<db>.bak\-v<old>\fR
before migrating it.
.TP
.I ./specs
The default spec directory of \fBvalidate\fR, \fBload\fR and \fBrender\fR.
.TP
.I /usr/share/virtumancer/virtumancer.schema.json
The JSON Schema of the spec format (also printed by \fBvirtumancer schema\fR), for editors.
.TP
.I /usr/share/doc/virtumancer/examples/
Example specs (\fIspecs/\fR), CI pipelines (GitHub Actions, GitLab CI) and a systemd timer
running \fBdrift\fR nightly.
)";

constexpr const char* kExamples = R"(.nf
virtumancer validate specs/
virtumancer load specs/
virtumancer plan \-\-detailed\-exitcode
virtumancer plan \-\-out plan.json
virtumancer plan \-\-speculative specs/
virtumancer apply \-\-plan plan.json
virtumancer apply specs/ \-\-auto\-approve
virtumancer apply \-\-restart\-pending \-\-target vm/web
virtumancer drift \-\-junit drift.xml \-\-prometheus /var/lib/node_exporter/virtumancer.prom
virtumancer import \-\-from\-xml vm.xml \-\-out specs/
virtumancer render specs/ web
virtumancer tasks \-\-last 20
virtumancer audit \-\-since 2026\-11\-01
virtumancer db status
.fi
)";

// The words completed after `path` (a command path such as "virtumancer db"): its subcommands
// and its options.
std::string words(const CLI::App& a) {
    std::string w;
    for (const auto* s : documented_subcommands(a)) w += (w.empty() ? "" : " ") + s->get_name();
    for (const auto* o : documented_options(a))
        for (const auto& sw : switches(o)) w += (w.empty() ? "" : " ") + sw;
    return w;
}

void collect(const CLI::App* a, const std::string& path,
             std::vector<std::pair<std::string, const CLI::App*>>& out) {
    out.emplace_back(path, a);
    for (const auto* s : documented_subcommands(*a)) collect(s, path + " " + s->get_name(), out);
}

std::string zsh_quote(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else if (c == '[' || c == ']' || c == ':')
            out += std::string("\\") + c;
        else if (c == '\n')
            out += ' ';
        else
            out += c;
    }
    return out;
}

} // namespace

std::vector<const CLI::Option*> documented_options(const CLI::App& app) {
    const bool top = app.get_parent() == nullptr;
    return app.get_options([&](const CLI::Option* o) {
        if (o->get_group().empty()) return false;
        if (!top && o == app.get_help_ptr()) return false;
        return true;
    });
}

std::vector<const CLI::App*> documented_subcommands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

std::string man_page(const CLI::App& app, const std::string& version, const std::string& date) {
    std::ostringstream os;
    os << ".\\\" Generated from the command tree by virtumancer-docgen; do not edit.\n"
       << ".TH VIRTUMANCER 1 \"" << date << "\" \"virtumancer " << roff(version)
       << "\" \"User Commands\"\n"
       << ".SH NAME\n"
       << "virtumancer \\- declarative configuration reconciler for libvirt virtual machines\n"
       << ".SH SYNOPSIS\n"
       << ".B virtumancer\n"
       << "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n"
       << ".SH DESCRIPTION\n";
    std::string desc = app.get_description();
    if (auto nl = desc.find('\n'); nl != std::string::npos) desc = desc.substr(nl + 1);
    os << roff(desc) << "\n"
       << ".PP\n"
       << "Every change is classified as \\fBlive\\fR (applied to the running VM), "
          "\\fBnext\\-boot\\fR, \\fBrestart\\fR or \\fBreplace\\fR before anything happens.\n"
       << ".SH GLOBAL OPTIONS\n"
       << "Given before the command.\n";
    for (const auto* o : documented_options(app)) man_option(os, o);
    os << ".SH COMMANDS\n";
    for (const auto* s : documented_subcommands(app)) man_subcommand(os, s, kProg);
    os << ".SH EXIT STATUS\n"
       << kExitStatus << ".SH ENVIRONMENT\n"
       << kEnvironment << ".SH FILES\n"
       << kFiles << ".SH EXAMPLES\n"
       << kExamples << ".SH SEE ALSO\n"
       << ".BR virsh (1),\n.BR libvirtd (8),\n.BR sqlite3 (1).\n"
       << "The spec reference (every kind and key), the architecture, pending changes and the "
          "safety rules: \\fI/usr/share/doc/virtumancer/\\fR.\n";
    return os.str();
}

std::string bash_completion(const CLI::App& app) {
    std::vector<std::pair<std::string, const CLI::App*>> paths;
    collect(&app, kProg, paths);
    std::ostringstream os;
    os << "# bash completion for virtumancer; generated from the command tree by "
          "virtumancer-docgen (do not edit).\n"
       << "_virtumancer() {\n"
       << "    local cur prev words cword\n"
       << "    _init_completion || return\n"
       << "    # The command path: the subcommand words so far (options and their values "
          "skipped).\n"
       << "    local path=virtumancer i w\n"
       << "    for ((i = 1; i < cword; i++)); do\n"
       << "        w=${words[i]}\n"
       << "        case \"$path $w\" in\n";
    for (const auto& [p, a] : paths)
        for (const auto* s : documented_subcommands(*a))
            os << "            \"" << p << " " << s->get_name() << "\") path=\"$path $w\" ;;\n";
    os << "        esac\n"
       << "    done\n"
       << "    # The value of an option.\n"
       << "    case \"$path $prev\" in\n";
    for (const auto& [p, a] : paths) {
        std::vector<std::string> none, file, dir;
        for (const auto* o : documented_options(*a)) {
            if (is_positional(o) || is_flag(o)) continue;
            std::string pats;
            for (const auto& sw : switches(o))
                pats += (pats.empty() ? "\"" : "|\"") + p + " " + sw + "\"";
            switch (value_kind(o, a->get_name())) {
            case ValueKind::Choice: {
                std::string ws;
                for (const auto& c : choices(o)) ws += (ws.empty() ? "" : " ") + c;
                os << "        " << pats << ") COMPREPLY=($(compgen -W '" << ws
                   << "' -- \"$cur\")); return ;;\n";
                break;
            }
            case ValueKind::Target:
                // The database named on the command line (--db), else VIRTUMANCER_DB or the
                // default; nothing when it cannot be read.
                os << "        " << pats << ")\n"
                   << "            local db=() j\n"
                   << "            for ((j = 1; j < cword; j++)); do\n"
                   << "                [[ ${words[j]} == --db ]] && db=(--db \"${words[j + 1]}\")\n"
                   << "            done\n"
                   << "            COMPREPLY=($(compgen -W \"$(virtumancer \"${db[@]}\" db targets "
                      "2>/dev/null)\" -- \"$cur\")); return ;;\n";
                break;
            case ValueKind::Path:
                file.push_back(pats);
                break;
            case ValueKind::Dir:
                dir.push_back(pats);
                break;
            case ValueKind::None:
                none.push_back(pats);
                break;
            }
        }
        auto join = [](const std::vector<std::string>& v) {
            std::string j;
            for (const auto& s : v) j += (j.empty() ? "" : "|") + s;
            return j;
        };
        if (!file.empty()) os << "        " << join(file) << ") _filedir; return ;;\n";
        if (!dir.empty()) os << "        " << join(dir) << ") _filedir -d; return ;;\n";
        if (!none.empty()) os << "        " << join(none) << ") return ;;\n";
    }
    os << "    esac\n"
       << "    # Subcommands and options of the command path; otherwise spec paths.\n"
       << "    case \"$path\" in\n";
    for (const auto& [p, a] : paths) {
        bool takes_paths = false;
        for (const auto* o : documented_options(*a)) takes_paths |= is_positional(o);
        os << "        \"" << p << "\")\n";
        if (takes_paths)
            os << "            if [[ $cur == -* ]]; then\n"
               << "                COMPREPLY=($(compgen -W '" << words(*a) << "' -- \"$cur\"))\n"
               << "            else\n"
               << "                _filedir\n"
               << "            fi ;;\n";
        else
            os << "            COMPREPLY=($(compgen -W '" << words(*a) << "' -- \"$cur\")) ;;\n";
    }
    os << "    esac\n"
       << "}\n"
       << "complete -F _virtumancer virtumancer\n";
    return os.str();
}

std::string zsh_completion(const CLI::App& app) {
    std::vector<std::pair<std::string, const CLI::App*>> paths;
    collect(&app, kProg, paths);
    std::ostringstream os;
    os << "#compdef virtumancer\n"
       << "# zsh completion for virtumancer; generated from the command tree by "
          "virtumancer-docgen (do not edit).\n\n";
    auto fn = [](const std::string& p) {
        std::string f = "_" + p;
        for (auto& c : f)
            if (c == ' ' || c == '-') c = '_';
        return f;
    };
    for (const auto& [p, a] : paths) {
        os << fn(p) << "() {\n"
           << "    local curcontext=\"$curcontext\" state line ret=1\n"
           << "    typeset -A opt_args\n"
           << "    _arguments -C";
        for (const auto* o : documented_options(*a)) {
            std::string desc = zsh_quote(o->get_description());
            std::string action;
            switch (value_kind(o, a->get_name())) {
            case ValueKind::Choice: {
                std::string ws;
                for (const auto& c : choices(o)) ws += (ws.empty() ? "" : " ") + c;
                action = "(" + ws + ")";
                break;
            }
            case ValueKind::Target:
                action = "{compadd -- ${(f)\"$(virtumancer db targets 2>/dev/null)\"}}";
                break;
            case ValueKind::Path:
                action = "_files";
                break;
            case ValueKind::Dir:
                action = "_files -/";
                break;
            case ValueKind::None:
                action = " ";
                break;
            }
            if (is_positional(o)) {
                os << " \\\n        '" << (repeatable(o) ? "*" : "1") << ":" << o->get_name(true)
                   << ":_files'";
                continue;
            }
            const auto sw = switches(o);
            const bool again =
                repeatable(o) ||
                (is_flag(o) && o->get_description().find("repeat") != std::string::npos);
            const std::string star = again ? "*" : "";
            std::string names = sw.size() > 1 ? "{" : "";
            for (size_t i = 0; i < sw.size(); ++i) names += (i ? "," : "") + sw[i];
            if (sw.size() > 1) names += "}";
            std::string excl;
            if (sw.size() > 1 && star.empty()) {
                excl = "(";
                for (size_t i = 0; i < sw.size(); ++i) excl += (i ? " " : "") + sw[i];
                excl += ")";
            }
            std::string spec = "[" + desc + "]";
            if (!is_flag(o)) spec += ":" + zsh_quote(value_type(o)) + ":" + action;
            if (sw.size() > 1)
                os << " \\\n        '" << excl << star << "'" << names << "'" << spec << "'";
            else
                os << " \\\n        '" << star << names << spec << "'";
        }
        auto subs = documented_subcommands(*a);
        if (!subs.empty()) os << " \\\n        '1:command:->cmds' '*::arg:->args'";
        os << " && ret=0\n";
        if (!subs.empty()) {
            os << "    case $state in\n"
               << "    cmds)\n"
               << "        local -a cmds=(\n";
            for (const auto* s : subs)
                os << "            '" << s->get_name() << ":" << zsh_quote(s->get_description())
                   << "'\n";
            os << "        )\n"
               << "        _describe -t commands command cmds && ret=0 ;;\n"
               << "    args)\n"
               << "        case $line[1] in\n";
            for (const auto* s : subs)
                os << "        " << s->get_name() << ") " << fn(p + " " + s->get_name())
                   << " && ret=0 ;;\n";
            os << "        esac ;;\n"
               << "    esac\n";
        }
        os << "    return ret\n"
           << "}\n\n";
    }
    os << "_virtumancer \"$@\"\n";
    return os.str();
}

} // namespace virtumancer::cli
