// Placeholder until the planner lands; replaced by src/planner/*.cpp.
#include "virtumancer/planner.hpp"

namespace virtumancer {
std::string desired_domain_xml(const Spec&, const std::string&) { throw Error("not implemented yet"); }
Plan make_plan(const DesiredState&, const std::vector<ObservedHost>&, const PlanOptions&) {
    throw Error("not implemented yet");
}
std::vector<DriftItem> detect_drift(const DesiredState&, const std::vector<ObservedHost>&) {
    throw Error("not implemented yet");
}
std::string plan_to_json(const Plan&) { throw Error("not implemented yet"); }
Plan plan_from_json(const std::string&) { throw Error("not implemented yet"); }
} // namespace virtumancer
