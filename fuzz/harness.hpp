// What each fuzz target checks for one input; shared by the libFuzzer targets (fuzz_*.cpp) and
// the unit test that replays the kept inputs (tests/unit/fuzz_regression_test.cpp).
// Each returns "" when the input was handled as it should be, else what went wrong. Errors
// (virtumancer::Error) are a correct answer to bad input; any other exception, a crash, a
// sanitizer report or a broken invariant is a finding.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "virtumancer/diag.hpp"
#include "virtumancer/import_xml.hpp"
#include "virtumancer/planner.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/xml_codec.hpp"

namespace virtumancer::fuzz {

// Spec YAML: every problem is a diagnostic with a place and a remedy, and the JSON of the
// diagnostics (`validate --json`) is valid JSON whatever bytes the input held.
inline std::string check_spec(const std::string& text) {
    SpecLoadResult r = load_spec_text("fuzz.yaml", text);
    for (const auto& d : r.diags.items()) {
        if (d.file != "fuzz.yaml" || d.line < 1) return "diagnostic without a place: " + d.message;
        if (d.remedy.empty()) return "diagnostic without a remedy: " + d.message;
    }
    std::string js = r.diags.json();
    auto doc = nlohmann::json::parse(js, nullptr, false);
    if (doc.is_discarded()) return "validate --json output is not JSON";
    if (doc["diagnostics"].size() != r.diags.items().size()) return "diagnostics lost in JSON";
    for (const auto& s : r.state.vms) {
        std::string y = emit_spec_yaml("VirtualMachine", s);
        (void)y;
    }
    return "";
}

// Domain XML as `import --from-xml` reads it: import, emit the spec, render, compare. The spec
// may not grow much more than the input (residue written without quadratic blow-up).
inline std::string check_domain_xml(const std::string& text) {
    ImportedDomain d;
    try {
        d = import_domain_xml(text, "local");
    } catch (const Error&) {
        return "";
    }
    std::string yaml = emit_spec_yaml("VirtualMachine", d.spec);
    if (yaml.size() > 16 * text.size() + 65536)
        return "spec of " + std::to_string(yaml.size()) + " bytes from " +
               std::to_string(text.size()) + " bytes of XML";
    try {
        std::string xml = render_xml(d.spec.obj);
        std::string why;
        (void)xml_equal(text, xml, &why);
        (void)xml_equal(xml, xml, &why);
    } catch (const Error&) {
    }
    return "";
}

// Saved plan: read, and what was read writes back to a plan that reads the same.
inline std::string check_plan_json(const std::string& text) {
    Plan p;
    try {
        p = plan_from_json(text);
    } catch (const Error&) {
        return "";
    }
    std::string again = plan_to_json(p);
    Plan q;
    try {
        q = plan_from_json(again);
    } catch (const Error& e) {
        return std::string("a plan read from JSON does not read back: ") + e.what();
    }
    if (plan_to_json(q) != again) return "plan JSON does not round-trip";
    return "";
}

} // namespace virtumancer::fuzz
