#include "virtumancer/diag.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace virtumancer {

const char* severity_name(Severity s) {
    switch (s) {
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Note:
        return "note";
    }
    return "error";
}

std::string Diagnostic::to_string() const {
    std::string out = file.empty() ? "<input>" : file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    out += ": ";
    out += severity_name(severity);
    out += ": ";
    out += message;
    if (!remedy.empty()) out += "\n  hint: " + remedy;
    return out;
}

void Diagnostics::error(std::string file, int line, int col, std::string msg, std::string remedy) {
    items_.push_back(
        {Severity::Error, std::move(file), line, col, std::move(msg), std::move(remedy)});
}

void Diagnostics::warning(std::string file, int line, int col, std::string msg,
                          std::string remedy) {
    items_.push_back(
        {Severity::Warning, std::move(file), line, col, std::move(msg), std::move(remedy)});
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const {
    return error_count() > 0;
}

size_t Diagnostics::error_count() const {
    return std::count_if(items_.begin(), items_.end(),
                         [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

void Diagnostics::sort() {
    std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.file != b.file) return a.file < b.file;
        if (a.line != b.line) return a.line < b.line;
        return a.column < b.column;
    });
}

std::string Diagnostics::json() const {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : items_) {
        arr.push_back({{"severity", severity_name(d.severity)},
                       {"message", d.message},
                       {"remedy", d.remedy},
                       {"file", d.file},
                       {"line", d.line},
                       {"column", d.column}});
    }
    nlohmann::json doc = {{"diagnostics", arr},
                          {"errors", error_count()},
                          {"warnings", items_.size() - error_count()}};
    // invalid UTF-8 in a message (quoted input) becomes U+FFFD instead of a JSON error
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace virtumancer
