// `virtumancer render [PATH...] NAME [--kind vm|pool|volume|network] [--host H]`: the libvirt
// XML virtumancer would define for one object of the specs, on stdout.
#include <iostream>

#include "commands.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

namespace virtumancer::cli {
namespace {

struct RenderOpts {
    std::vector<std::string> args; // PATH... NAME
    std::string kind = "vm";
    std::string host;
};

int run_render(const RenderOpts& o) {
    std::vector<std::string> paths(o.args.begin(), o.args.end() - 1);
    const std::string name = o.args.back();
    SpecLoadResult r = load_spec_files(paths);
    if (r.diags.has_errors()) {
        r.diags.sort();
        for (const auto& d : r.diags.items()) std::cerr << d.to_string() << "\n";
        std::cerr << "error: the specs have errors; nothing rendered\n";
        return kExitError;
    }
    const std::vector<Spec>* list = &r.state.vms;
    if (o.kind == "pool") list = &r.state.pools;
    if (o.kind == "volume") list = &r.state.volumes;
    if (o.kind == "network") list = &r.state.networks;
    std::vector<const Spec*> found;
    for (const auto& s : *list) {
        std::string full = o.kind == "volume" ? s.obj.get("pool") + "/" + s.obj.name() : "";
        if ((s.obj.name() == name || full == name) && (o.host.empty() || s.host == o.host))
            found.push_back(&s);
    }
    if (found.empty()) {
        std::cerr << "error: no " << o.kind << " named `" << name << "`"
                  << (o.host.empty() ? "" : " on host `" + o.host + "`") << " in the specs\n"
                  << "  hint: `virtumancer validate` lists what the specs define\n";
        return kExitError;
    }
    if (found.size() > 1) {
        std::cerr << "error: " << found.size() << " " << o.kind << "s named `" << name
                  << "` (on hosts";
        for (auto* s : found) std::cerr << " " << s->host;
        std::cerr << ")\n  hint: pass --host NAME" << (o.kind == "volume" ? " or POOL/NAME" : "")
                  << "\n";
        return kExitError;
    }
    if (o.kind == "vm")
        std::cout << desired_domain_xml(*found[0], r.state.revision) << "\n";
    else
        std::cout << render_xml(found[0]->obj) << "\n";
    return kExitOk;
}

} // namespace

void register_render(CLI::App& app, Globals& g, Runner& run) {
    (void)g;
    auto opts = std::make_shared<RenderOpts>();
    auto* cmd = app.add_subcommand(
        "render", "Print the libvirt XML virtumancer would define for an object of the specs");
    cmd->add_option("args", opts->args,
                    "[PATH...] NAME (spec files or directories, default "
                    "./specs; a volume may be named POOL/NAME)")
        ->required();
    cmd->add_option("--kind", opts->kind, "object kind")
        ->check(CLI::IsMember({"vm", "pool", "volume", "network"}))
        ->capture_default_str();
    cmd->add_option("--host", opts->host, "the host, when several define the name");
    cmd->callback([&run, opts] { run = [opts] { return run_render(*opts); }; });
}

} // namespace virtumancer::cli
