// Human output of plans and drift reports (Terraform-like, colour on a terminal).
#pragma once
#include <ostream>
#include <vector>

#include "virtumancer/planner.hpp"

namespace virtumancer::cli {

void print_plan(std::ostream& os, const Plan& p, bool color);
// "Plan: 1 to create, 2 to update, 0 to redefine, 0 to delete." (+ ", N BLOCKED ...")
std::string plan_summary(const Plan& p);
// Human value of a field for display (sizes in MiB/GiB).
std::string display_value(const std::string& field, const std::string& value);

} // namespace virtumancer::cli
