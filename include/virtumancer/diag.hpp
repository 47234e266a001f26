// Diagnostics: errors as values, each with a place (file:line:col or object) and a remedy.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace virtumancer {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
    Severity severity = Severity::Error;
    std::string file; // spec file, or an object such as "host/kvm1" when not from a file
    int line = 0;     // 1-based; 0 when unknown
    int column = 0;   // 1-based; 0 when unknown
    std::string message;
    // What the user should change to resolve it (spec loader, checker and import diagnostics
    // always carry one; some plan errors still say theirs in `message`).
    std::string remedy = {};

    // "file:line:col: error: message", then "\n  hint: remedy" when there is a remedy.
    std::string to_string() const;
};

const char* severity_name(Severity s);

class Diagnostics {
  public:
    // `remedy`: what to change in the input so the diagnostic goes away (never empty).
    void error(std::string file, int line, int col, std::string msg, std::string remedy);
    void warning(std::string file, int line, int col, std::string msg, std::string remedy);
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void append(const Diagnostics& other);
    bool has_errors() const;
    size_t error_count() const;
    const std::vector<Diagnostic>& items() const { return items_; }
    std::vector<Diagnostic>& items() { return items_; }
    // Sorted by file, line, column (stable) for printing.
    void sort();
    std::string json() const;

  private:
    std::vector<Diagnostic> items_;
};

// A fatal error with a remedy; caught once in main and printed.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what, std::string remedy = {})
        : std::runtime_error(what), remedy_(std::move(remedy)) {}
    const std::string& remedy() const { return remedy_; }

  private:
    std::string remedy_;
};

// Process exit codes, in one place.
enum ExitCode : int { kExitOk = 0, kExitError = 1, kExitChanges = 2 };

} // namespace virtumancer
