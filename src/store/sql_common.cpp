// What both connections share: Cell, execAndGet, telling a URI from a path, redaction.
#include <cstdlib>
#include <regex>

#include "virtumancer/sql.hpp"

namespace virtumancer::sql {

int64_t Cell::getInt64() const {
    return v_ ? std::strtoll(v_->c_str(), nullptr, 10) : 0;
}

Cell Connection::execAndGet(const std::string& sql) {
    auto st = prepare(sql);
    if (!st->step()) return Cell(std::nullopt);
    return Cell(st->is_null(0) ? std::nullopt : std::optional<std::string>(st->text(0)));
}

bool is_postgres_uri(const std::string& target) {
    return target.rfind("postgresql://", 0) == 0 || target.rfind("postgres://", 0) == 0;
}

std::string redact(const std::string& target) {
    if (!is_postgres_uri(target)) return target;
    std::string s = target;
    // scheme://user:password@ -> scheme://user:****@ (the last @ of the authority)
    size_t start = s.find("://") + 3;
    size_t end = s.find_first_of("/?", start);
    std::string auth = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t at = auth.rfind('@');
    if (at != std::string::npos) {
        size_t colon = auth.find(':');
        if (colon != std::string::npos && colon < at)
            s.replace(start + colon + 1, at - colon - 1, "****");
    }
    static const std::regex pw(R"(([?&]password=)[^&]*)");
    return std::regex_replace(s, pw, "$1****");
}

} // namespace virtumancer::sql
