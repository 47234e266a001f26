// Entry points of the spec loader: find files, read them (within limits), parse, check.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "spec_internal.hpp"
#include "virtumancer/parallel.hpp"
#include "virtumancer/spec.hpp"

namespace fs = std::filesystem;

namespace virtumancer {

namespace {

bool is_yaml(const fs::path& p) {
    auto e = p.extension().string();
    return e == ".yaml" || e == ".yml";
}

SpecLoadResult finish(spec::Loaded& loaded, Diagnostics& diags, std::vector<SpecFile> files) {
    spec::check_documents(loaded, diags);
    diags.sort();
    SpecLoadResult r;
    r.state = std::move(loaded.state);
    r.diags = std::move(diags);
    r.files = std::move(files);
    return r;
}

void load_text(const std::string& name, const std::string& text, spec::Loaded& loaded,
               Diagnostics& diags) {
    auto docs = spec::parse_yaml_text(name, text, diags);
    for (const auto& d : docs) spec::load_document(d, loaded, diags);
}

// Appends `part` (the documents of later files) to `into`, as if loaded one after the other.
void append_loaded(spec::Loaded& into, spec::Loaded& part) {
    auto move_all = [](auto& dst, auto& src) {
        dst.insert(dst.end(), std::make_move_iterator(src.begin()),
                   std::make_move_iterator(src.end()));
    };
    move_all(into.state.hosts, part.state.hosts);
    move_all(into.state.pools, part.state.pools);
    move_all(into.state.volumes, part.state.volumes);
    move_all(into.state.networks, part.state.networks);
    move_all(into.state.vms, part.state.vms);
    move_all(into.state.snapshots, part.state.snapshots);
    // A later position of the same key wins, as with one loader.
    into.notes.pos.merge_later(part.notes.pos);
    into.notes.nulls.merge(part.notes.nulls);
}

// Stage 1 (parse, types, ranges) of every file, on up to 4 threads: files are independent
// until check_documents. Each thread takes a contiguous run of files and the results are
// appended in file order, so documents, positions and diagnostics are exactly those of a
// serial load.
size_t parse_all(const std::vector<SpecFile>& files, std::vector<std::string>& texts,
                 spec::Loaded& loaded, Diagnostics& diags) {
    size_t hw = std::max(1U, std::thread::hardware_concurrency());
    size_t nthreads = files.size() < 64 ? 1 : std::min<size_t>(hw, 4);
    std::vector<spec::Loaded> parts(nthreads);
    std::vector<Diagnostics> part_diags(nthreads);
    std::vector<size_t> parsed(nthreads, 0);
    std::vector<std::exception_ptr> failed(nthreads);
    auto work = [&](size_t t) {
        size_t from = files.size() * t / nthreads, to = files.size() * (t + 1) / nthreads;
        try {
            for (size_t i = from; i < to; ++i) {
                if (files[i].content_hash.empty()) continue; // too large: reported already
                load_text(files[i].path, texts[i], parts[t], part_diags[t]);
                ++parsed[t];
                std::string().swap(texts[i]);
            }
        } catch (...) { // safe: kept and rethrown on the calling thread below
            failed[t] = std::current_exception();
        }
    };
    parallel_for(nthreads, nthreads, work);
    size_t total = 0;
    for (size_t t = 0; t < nthreads; ++t) {
        if (failed[t]) std::rethrow_exception(failed[t]);
        append_loaded(loaded, parts[t]);
        diags.append(part_diags[t]);
        total += parsed[t];
    }
    return total;
}

} // namespace

SpecLoadResult load_spec_text(const std::string& name, const std::string& text) {
    spec::Loaded loaded;
    Diagnostics diags;
    load_text(name, text, loaded, diags);
    SpecFile f{name, sha256_hex(text), text.size()};
    SpecLoadResult r = finish(loaded, diags, {f});
    r.files_parsed = 1;
    return r;
}

SpecLoadResult load_spec_files(const std::vector<std::string>& paths_in) {
    return load_spec_files(paths_in, nullptr);
}

SpecLoadResult load_spec_files(const std::vector<std::string>& paths_in,
                               const SpecFilesPredicate& skip_if) {
    std::vector<std::string> paths = paths_in;
    if (paths.empty()) paths.push_back("specs");
    spec::Loaded loaded;
    Diagnostics diags;
    std::vector<std::string> found;
    for (const auto& p : paths) {
        std::error_code ec;
        fs::file_status st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
            diags.error(p, 0, 0,
                        "no such file or directory (give a spec file or a directory of "
                        "*.yaml files; the default is ./specs)",
                        "check the path, or give a spec file or a directory of *.yaml files");
            continue;
        }
        if (fs::is_directory(st)) {
            std::vector<std::string> here;
            fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied,
                                                ec),
                end;
            for (; !ec && it != end; it.increment(ec))
                if (it->is_regular_file(ec) && is_yaml(it->path()))
                    here.push_back(it->path().string());
            if (ec)
                diags.error(p, 0, 0, "cannot read directory: " + ec.message(),
                            "check the directory's permissions (it must be readable and "
                            "searchable)");
            std::sort(here.begin(), here.end());
            found.insert(found.end(), here.begin(), here.end());
        } else {
            found.push_back(p);
        }
    }
    // Read and hash every file first (cheap), parse only when the caller does not skip.
    std::vector<SpecFile> files;
    std::vector<std::string> texts; // texts[i] is files[i]'s text ("" when too large)
    std::unordered_set<std::string> seen;
    for (const auto& path : found) {
        if (!seen.insert(path).second) continue;
        std::error_code ec;
        auto size = fs::file_size(path, ec);
        if (ec) {
            diags.error(path, 0, 0, "cannot read: " + ec.message(),
                        "check that the file exists and is readable");
            continue;
        }
        if (size > spec::kMaxFileBytes) {
            diags.error(path, 1, 1,
                        "file is " + std::to_string(size) + " bytes; spec files are limited to " +
                            std::to_string(spec::kMaxFileBytes >> 20) +
                            " MiB (split it into several files)",
                        "split it into several files of at most " +
                            std::to_string(spec::kMaxFileBytes >> 20) + " MiB each");
            files.push_back({path, "", size});
            texts.emplace_back();
            continue;
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diags.error(path, 0, 0, "cannot open the file for reading",
                        "check the file's permissions");
            continue;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        files.push_back({path, sha256_hex(text), text.size()});
        texts.push_back(std::move(text));
    }
    // A cloud_init user_data_file / user_data_env holds content outside these files, which
    // may have changed since the last load: such files are always loaded again.
    bool outside = std::any_of(texts.begin(), texts.end(), [](const std::string& t) {
        return t.find("user_data_file") != std::string::npos ||
               t.find("user_data_env") != std::string::npos;
    });
    if (skip_if && !outside && !diags.has_errors() && skip_if(files)) {
        SpecLoadResult r;
        r.files = std::move(files);
        r.skipped = true;
        return r;
    }
    size_t parsed = parse_all(files, texts, loaded, diags);
    SpecLoadResult r = finish(loaded, diags, std::move(files));
    r.files_parsed = parsed;
    return r;
}

} // namespace virtumancer
