// plan --speculative (issue 14): spec paths planned without being loaded. The database keeps
// every row it held (load revisions, desired state, spec file records, tasks, audit), on
// SQLite and on PostgreSQL, while the plan is the one a real load followed by plan makes:
// changed, added and removed specs (pending delete) included. A malformed spec changes
// nothing either; a speculative plan cannot be saved with --out nor applied.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../../src/cli/load_specs.hpp"
#include "../../src/cli/pipeline.hpp"
#include "store_test_util.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/planner.hpp"

using namespace virtumancer;
using namespace store_test;
using virtumancer::testing_util::run_cli;

namespace {

// Every row of every table, column by column, in a fixed order: equal dumps mean the
// database holds exactly the same data.
std::string dump(Database& db) {
    std::string out;
    for (const auto& t : db.db().tables()) {
        size_t n = db.db().columns(t).size();
        std::string order;
        for (size_t i = 1; i <= n; ++i) order += (i > 1 ? "," : "") + std::to_string(i);
        sql::Statement q(db.db(), "SELECT * FROM " + t + " ORDER BY " + order);
        out += "== " + t + "\n";
        while (q.executeStep()) {
            for (size_t i = 0; i < n; ++i) {
                auto c = q.getColumn(static_cast<int>(i));
                out += (c.isNull() ? std::string("NULL") : "'" + c.getString() + "'") + "|";
            }
            out += "\n";
        }
    }
    return out;
}

std::string vcpus_of(const DesiredState& d, const std::string& vm) {
    for (const auto& s : d.vms)
        if (s.obj.name() == vm) return s.obj.get("vcpus");
    return "(absent)";
}

std::vector<std::string> ops(const Plan& p) {
    std::vector<std::string> v;
    for (const auto& s : p.steps) v.push_back(std::string(op_name(s.op())) + " " + s.name);
    std::sort(v.begin(), v.end());
    return v;
}

class SpeculativePlan : public BackendTest {
  protected:
    std::string specs = tmp.file("specs");
    std::string target_;
    std::unique_ptr<Database> db;

    void SetUp() override {
        BackendTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        fs::create_directories(specs);
        write_file(specs + "/host.yaml", kH1HostYaml);
        write_file(specs + "/a.yaml", h1_vm_yaml("vm-a", 1));
        write_file(specs + "/b.yaml", h1_vm_yaml("vm-b", 2));
        target_ = target("v.db");
        db = Database::open(target_);
        ASSERT_TRUE(cli::load_specs(*db, {specs}, "tester").ok);
        // Rows beyond the desired state that must survive as they are.
        Store store(*db);
        store.audit("tester", "apply", "vm", "vm-a", "{}");
        store.task_finish(store.task_begin("run1", "tester", "vm.define", "vm", "vm-a", ""), true,
                          "");
    }

    // The pull request: vm-a changed, vm-b removed, vm-c added.
    void change_specs() {
        write_file(specs + "/a.yaml", h1_vm_yaml("vm-a", 4));
        fs::remove(specs + "/b.yaml");
        write_file(specs + "/c.yaml", h1_vm_yaml("vm-c", 3));
    }

    // The hosts as the first load's specs would have made them: vm-a and vm-b defined by
    // virtumancer (ownership marker), shut off.
    std::vector<ObservedHost> applied_v1(const DesiredState& v1) {
        ObservedHost h;
        h.host = "h1";
        h.uri = "test:///default";
        h.reachable = true;
        for (const auto& s : v1.vms) {
            ObservedDomain od;
            od.name = s.obj.name();
            od.state = "shutoff";
            od.inactive_xml = desired_domain_xml(s, v1.revision);
            h.domains.push_back(od);
        }
        return {h};
    }

    std::string cli(const std::string& args) {
        auto r = run_cli("--db '" + target_ + "' " + args);
        last_rc = r.rc;
        return r.out;
    }
    int last_rc = -1;
};

VIRTUMANCER_ON_BOTH_BACKENDS(SpeculativePlan);

// The speculative desired state is the one a real load makes (same plan, pending delete
// included), and the database is unchanged until that real load.
TEST_P(SpeculativePlan, SameDesiredStateAsALoadAndNothingWritten) {
    DesiredState v1 = Store(*db).load_desired();
    auto observed = applied_v1(v1);
    const std::string before = dump(*db);
    const long long revisions = count(*db, "load_revisions");
    ASSERT_EQ(revisions, 1);
    ASSERT_GT(count(*db, "spec_files"), 0);
    ASSERT_EQ(count(*db, "audit_log"), 1);
    const int64_t rev = Store(*db).latest_revision_id();
    change_specs();

    cli::Desired s = cli::speculative_desired(*db, {specs});
    EXPECT_EQ(dump(*db), before) << "a speculative plan must leave every row as it was";
    EXPECT_EQ(count(*db, "load_revisions"), revisions);
    EXPECT_EQ(count(*db, "audit_log"), 1);
    EXPECT_EQ(s.revision_id, rev) << "the database's latest load: the speculative one is gone";
    EXPECT_EQ(vcpus_of(s.state, "vm-a"), "4");
    EXPECT_EQ(vcpus_of(s.state, "vm-b"), "(absent)");
    EXPECT_EQ(vcpus_of(s.state, "vm-c"), "3");
    EXPECT_EQ(s.pending_delete, std::vector<std::string>{"h1/vm/vm-b"});
    // The database still holds the first specs.
    DesiredState still = Store(*db).load_desired();
    EXPECT_EQ(vcpus_of(still, "vm-a"), "1");
    EXPECT_EQ(vcpus_of(still, "vm-b"), "2");
    EXPECT_EQ(vcpus_of(still, "vm-c"), "(absent)");

    PlanOptions opts;
    opts.prune = true;
    opts.pending_delete = s.pending_delete;
    opts.revision = s.revision;
    Plan speculative = make_plan(s.state, observed, opts);
    EXPECT_EQ(ops(speculative),
              (std::vector<std::string>{"vm.define vm-a", "vm.define vm-c", "vm.undefine vm-b"}))
        << plan_to_json(speculative);

    // A real load of the same specs, then plan: the same desired state and the same plan.
    cli::Desired r = cli::desired_state(*db, {specs});
    EXPECT_EQ(count(*db, "load_revisions"), revisions + 1);
    EXPECT_EQ(r.pending_delete, s.pending_delete);
    EXPECT_EQ(r.revision, s.revision);
    opts.pending_delete = r.pending_delete;
    opts.revision = r.revision;
    EXPECT_EQ(plan_to_json(make_plan(r.state, observed, opts)), plan_to_json(speculative));
}

TEST_P(SpeculativePlan, MalformedSpecIsAnErrorAndNothingIsWritten) {
    const std::string before = dump(*db);
    change_specs();
    write_file(specs + "/bad.yaml", "kind: VirtualMachine\nname: vm-bad\nhost: h1\nvcpus: many\n");
    try {
        cli::speculative_desired(*db, {specs});
        ADD_FAILURE() << "a malformed spec must be an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("error(s) in the specs"), std::string::npos)
            << e.what();
        EXPECT_NE(e.remedy().find("validate"), std::string::npos) << e.remedy();
    }
    EXPECT_EQ(dump(*db), before);
    // From the command line: exit 1, the file and line named, the database unchanged.
    std::string out = cli("plan --speculative " + specs);
    EXPECT_EQ(last_rc, 1) << out;
    EXPECT_NE(out.find("bad.yaml:"), std::string::npos) << out;
    EXPECT_NE(out.find("hint:"), std::string::npos) << out;
    EXPECT_EQ(dump(*db), before);
}

// Specs unchanged since the latest load: nothing to roll back, the database's state is used.
TEST_P(SpeculativePlan, UnchangedSpecsPlanTheDatabase) {
    const std::string before = dump(*db);
    cli::Desired s = cli::speculative_desired(*db, {specs});
    EXPECT_EQ(vcpus_of(s.state, "vm-b"), "2");
    EXPECT_TRUE(s.pending_delete.empty());
    EXPECT_EQ(dump(*db), before);
}

TEST_P(SpeculativePlan, CommandLineShowsTheChangesAndCannotBeApplied) {
    const std::string before = dump(*db);
    change_specs();
    std::string out = cli("plan --speculative " + specs + " --json");
    ASSERT_EQ(last_rc, 0) << out;
    EXPECT_NE(out.find("speculative load of revision"), std::string::npos) << out;
    auto start = out.find("{\n");
    ASSERT_NE(start, std::string::npos) << out;
    auto j = nlohmann::json::parse(out.substr(start));
    EXPECT_EQ(j.value("speculative", false), true);
    std::set<std::string> created;
    for (const auto& c : j.at("changes"))
        if (c.at("action") == "create") created.insert(c.at("address").get<std::string>());
    EXPECT_TRUE(created.count("h1/vm/vm-c")) << out;
    EXPECT_EQ(dump(*db), before);

    // Human output says what it is.
    out = cli("plan --speculative " + specs);
    EXPECT_EQ(last_rc, 0) << out;
    EXPECT_NE(out.find("Speculative plan:"), std::string::npos) << out;
    EXPECT_NE(out.find("cannot be applied"), std::string::npos) << out;
    EXPECT_NE(out.find("vm-c"), std::string::npos) << out;

    // Without --speculative, plan (no paths) still plans the database's specs: no vm-c.
    out = cli("plan --json");
    EXPECT_EQ(last_rc, 0) << out;
    EXPECT_EQ(out.find("vm-c"), std::string::npos) << out;
    EXPECT_EQ(out.find("\"speculative\""), std::string::npos) << out;

    // --out is refused, with what to do instead; no file is written.
    std::string saved = tmp.file("plan.json");
    out = cli("plan --speculative " + specs + " --out " + saved);
    EXPECT_EQ(last_rc, 1) << out;
    EXPECT_NE(out.find("cannot be applied"), std::string::npos) << out;
    EXPECT_NE(out.find("hint:"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(saved));

    // Its JSON kept as a file is refused by apply --plan before anything runs.
    write_file(saved, j.dump(2));
    out = cli("apply --plan " + saved + " --auto-approve");
    EXPECT_EQ(last_rc, 1) << out;
    EXPECT_NE(out.find("is a speculative plan"), std::string::npos) << out;
    EXPECT_NE(out.find("apply --plan plan.json"), std::string::npos) << out;

    // Without paths there is nothing to plan speculatively.
    out = cli("plan --speculative");
    EXPECT_EQ(last_rc, 1) << out;
    EXPECT_NE(out.find("none were given"), std::string::npos) << out;
    EXPECT_EQ(dump(*db), before);
}

// No permission is needed: it writes nothing (a viewer may make one, and nothing is audited).
// SQLite only: on PostgreSQL the actor is the database login, and the tests have one login.
class SpeculativePlanAccess : public SpeculativePlan {};
INSTANTIATE_TEST_SUITE_P(Backends, SpeculativePlanAccess,
                         ::testing::Values(virtumancer::sql::Backend::sqlite), backend_name);

TEST_P(SpeculativePlanAccess, NeedsNoPermission) {
    ASSERT_EQ(cli("user add root --role admin --actor root").empty(), false);
    ASSERT_EQ(last_rc, 0);
    cli("user add val --role viewer --actor root");
    ASSERT_EQ(last_rc, 0);
    const std::string before = dump(*db);
    change_specs();
    std::string out = cli("plan --speculative " + specs + " --actor val");
    EXPECT_EQ(last_rc, 0) << out;
    EXPECT_NE(out.find("vm-c"), std::string::npos) << out;
    EXPECT_EQ(dump(*db), before) << "no load, and no denial in the audit log";
    out = cli("plan " + specs + " --actor val");
    EXPECT_EQ(last_rc, 1) << "loading needs spec.load: " << out;
}

} // namespace
