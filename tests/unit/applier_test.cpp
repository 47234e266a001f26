// The applier's logic against a FakeHypervisor and a temporary SQLite database: ordering,
// parallelism, failure propagation, cycles, tasks, audit and redaction, shutdown semantics,
// post-apply verification and saved-plan staleness.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <variant>

#include "fake_hypervisor.hpp"
#include "iso_reader.hpp"
#include "test_support.hpp"
#include "virtumancer/applier.hpp"
#include "virtumancer/cloud_init.hpp"
#include "virtumancer/database.hpp"
#include "virtumancer/descriptors.hpp"
#include "virtumancer/spec.hpp"
#include "virtumancer/store.hpp"

namespace fs = std::filesystem;
using namespace virtumancer;
using nlohmann::json;
using virtumancer::testing::EventLog;
using virtumancer::testing::FakeConnector;
using virtumancer::testing::FakeHypervisor;

namespace {

class ApplierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = tmp_.path();
        db_ = Database::open((dir_ / "t.db").string());
        store_ = std::make_unique<Store>(*db_);
        opts_.actor = "tester";
        opts_.run_id = "run-1";
        opts_.poll_interval = 0.02;
    }
    void TearDown() override {
        store_.reset();
        db_.reset();
    }

    static Step step(int id, StepPayload payload, const std::string& name,
                     std::vector<int> deps = {}) {
        Step s;
        s.id = id;
        if (auto* def = std::get_if<VmDefine>(&payload); def && def->xml.empty())
            def->xml = "<domain><name>" + name + "</name></domain>";
        s.payload = std::move(payload);
        std::string op = op_name(s.op());
        s.host = "local";
        s.kind = op.substr(0, op.find('.'));
        s.name = name;
        s.deps = std::move(deps);
        s.change = "local/" + s.kind + "/" + name;
        return s;
    }

    ApplyResult run(const Plan& p) { return apply_plan(p, conn_, *store_, opts_, log_); }

    const StepResult& result(const ApplyResult& r, int id) {
        for (const auto& s : r.steps)
            if (s.id == id) return s;
        throw std::runtime_error("no step " + std::to_string(id));
    }

    testing_util::TempDir tmp_{"vm-applier-"};
    fs::path dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<Store> store_;
    FakeHypervisor hv_;
    FakeConnector conn_{hv_};
    EventLog log_;
    ApplyOptions opts_;
};

namespace {
// A seed step with inline user-data and the hash of its content.
VolumeCloudInitSeed seed_payload(const std::string& vm, const std::string& pool = "p") {
    VolumeCloudInitSeed s;
    s.pool = pool;
    s.volume = cloud_init_volume_name(vm);
    s.vm = vm;
    s.user_data = "#cloud-config\n";
    s.meta_data = "instance-id: i1\nlocal-hostname: " + vm + "\n";
    s.hash = cloud_init_hash({s.user_data, s.meta_data, "", false});
    return s;
}
} // namespace

// Every operation a plan can hold survives a saved plan (JSON and back, unchanged) and reaches
// its own hypervisor call with its arguments.
TEST_F(ApplierTest, EveryOpOfASavedPlanReachesItsHypervisorCall) {
    struct Case {
        StepPayload payload;
        std::string name, call, arg; // the object; the call it makes and its argument
    };
    const std::string dev = "<disk type='file'/>";
    std::vector<Case> cases = {
        {VmDefine{"<domain><name>d1</name></domain>", {}}, "d1", "define_domain d1", ""},
        {VmStart{}, "vs", "start_domain vs", ""},
        {VmShutdown{5, false}, "vsh", "shutdown_domain vsh", ""},
        {VmDestroy{}, "vd", "destroy_domain vd", ""},
        {VmUndefine{true, false}, "vu", "undefine_domain vu", "keep_nvram"},
        {VmAttachDevice{dev, true, false, {}}, "va", "attach_device va", dev + " [10]"},
        {VmDetachDevice{dev, false, true}, "vdt", "detach_device vdt", dev + " [01]"},
        {VmUpdateDevice{dev, true, true, {}}, "vup", "update_device vup", dev + " [11]"},
        {VmSetVcpus{3, true, false}, "vc", "set_vcpus vc", "3 [10]"},
        {VmSetMemory{262144, true, false}, "vm", "set_memory vm", "262144 [10]"},
        {VmRename{"new"}, "vr", "rename_domain vr", "new"},
        {VmAutostart{false}, "vas", "set_domain_autostart vas", "0"},
        {VmSuspend{}, "vsu", "suspend_domain vsu", ""},
        {VmResume{}, "vre", "resume_domain vre", ""},
        {PoolDefine{"<pool/>", true, false, true}, "pd", "define_pool", "<pool/> [10] autostart"},
        {PoolStart{}, "ps", "start_pool ps", ""},
        {PoolAutostart{true}, "pa", "set_pool_autostart pa", "1"},
        {PoolUndefine{}, "pu", "undefine_pool pu", ""},
        {VolumeCreate{"p", "<volume/>"}, "p/vc", "create_volume p", "<volume/>"},
        {VolumeResize{"p", "vr", 2097152}, "p/vr", "resize_volume p/vr", "2097152"},
        {VolumeDelete{"p", "vdl"}, "p/vdl", "delete_volume p/vdl", ""},
        {NetworkDefine{"<network/>", false, true}, "nd", "define_network", "<network/> [01]"},
        {NetworkStart{}, "ns", "start_network ns", ""},
        {NetworkAutostart{false}, "na", "set_network_autostart na", "0"},
        {NetworkUpdate{"ip-dhcp-host", "modify", 0, "<host/>", true, true}, "nu",
         "update_network nu", "ip-dhcp-host modify 0 <host/> [11]"},
        {NetworkUndefine{}, "nun", "undefine_network nun", ""},
        {SnapshotCreate{"sd1", "<domainsnapshot/>", true}, "sd1/s", "create_snapshot sd1",
         "<domainsnapshot/>"},
        {SnapshotSetDescription{"sd2", "s", "why"}, "sd2/s", "set_snapshot_description sd2",
         "s why"},
        {SnapshotDelete{"sd3", "s"}, "sd3/s", "delete_snapshot sd3", "s"},
        // its own pool: steps run in parallel, so a second `create_volume p` could be found
        // first by the VolumeCreate case above
        {seed_payload("ci", "pci"), "pci/ci-cidata.iso", "upload_volume pci/ci-cidata.iso", ""},
    };
    ASSERT_EQ(cases.size(), std::variant_size_v<StepPayload>) << "a case for every op";
    Plan p;
    std::set<Op> ops;
    for (size_t i = 0; i < cases.size(); ++i) {
        p.steps.push_back(step(static_cast<int>(i + 1), cases[i].payload, cases[i].name));
        ops.insert(p.steps.back().op());
        EXPECT_EQ(op_from_name(op_name(p.steps.back().op())), p.steps.back().op());
    }
    EXPECT_EQ(ops.size(), cases.size());
    std::string saved = plan_to_json(p);
    Plan back = plan_from_json(saved);
    EXPECT_EQ(plan_to_json(back), saved);
    ASSERT_EQ(back.steps.size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i)
        EXPECT_EQ(back.steps[i].payload.index(), cases[i].payload.index()) << i;
    hv_.state["vsh"] = "running";
    ApplyResult r = run(back);
    EXPECT_TRUE(r.ok());
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto* c = hv_.find(cases[i].call);
        ASSERT_TRUE(c) << op_name(back.steps[i].op()) << ": no " << cases[i].call << "; "
                       << r.steps[i].error;
        if (!cases[i].arg.empty()) {
            EXPECT_EQ(c->arg, cases[i].arg) << cases[i].call;
        }
    }
}

// A saved plan records the options it was made with; one of another format version is
// refused, naming the version and the remedy.
TEST(SavedPlan, RecordsItsOptionsAndRefusesAnotherFormatVersion) {
    Plan p;
    p.options = {true, {"vm/web"}, true};
    Plan back = plan_from_json(plan_to_json(p));
    EXPECT_TRUE(back.options.prune);
    EXPECT_EQ(back.options.targets, std::vector<std::string>{"vm/web"});
    EXPECT_TRUE(back.options.restart_pending);
    json doc = json::parse(plan_to_json(p));
    EXPECT_EQ(doc["format_version"], kPlanFormatVersion);
    for (int v : {kPlanFormatVersion - 1, kPlanFormatVersion + 1}) {
        doc["format_version"] = v;
        try {
            plan_from_json(doc.dump());
            ADD_FAILURE() << "version " << v << " accepted";
        } catch (const Error& e) {
            std::string m = e.what();
            EXPECT_NE(m.find("format version " + std::to_string(v)), std::string::npos) << m;
            EXPECT_NE(m.find(v < kPlanFormatVersion ? "older" : "newer"), std::string::npos) << m;
            EXPECT_NE(e.remedy().find("virtumancer plan --out"), std::string::npos);
        }
    }
    doc["format_version"] = kPlanFormatVersion;
    doc.erase("options");
    EXPECT_THROW(plan_from_json(doc.dump()), Error) << "a plan without its options";
}

TEST_F(ApplierTest, RunsStepsOnlyAfterTheirDependenciesCompleted) {
    Plan p;
    p.steps = {step(1, PoolDefine{"<pool/>", true, true, false}, "p"),
               step(2, VolumeCreate{"p", "<volume/>"}, "p/v", {1}),
               step(3, NetworkDefine{"<network/>", true, false}, "n"),
               step(4, VmDefine{}, "web", {2, 3}), step(5, VmStart{}, "web", {4})};
    hv_.delay_ms["define_pool"] = 80;
    hv_.delay_ms["define_network"] = 40;
    ApplyResult r = run(p);
    EXPECT_EQ(r.succeeded, 5);
    EXPECT_TRUE(r.ok());
    auto before = [&](const std::string& a, const std::string& b) {
        auto* ca = hv_.find(a);
        auto* cb = hv_.find(b);
        ASSERT_TRUE(ca && cb) << a << " / " << b;
        EXPECT_LE(ca->end, cb->start) << a << " must finish before " << b << " starts";
    };
    before("define_pool", "create_volume p");
    before("create_volume p", "define_domain web");
    before("define_network", "define_domain web");
    before("define_domain web", "start_domain web");
    EXPECT_EQ(hv_.domain_state("web"), "running");
}

TEST_F(ApplierTest, RunsIndependentStepsInParallel) {
    Plan p;
    for (int i = 1; i <= 4; ++i) {
        std::string n = "vm" + std::to_string(i);
        p.steps.push_back(step(i, VmStart{}, n));
        hv_.delay_ms["start_domain " + n] = 250;
    }
    auto t0 = std::chrono::steady_clock::now();
    ApplyResult r = run(p);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.succeeded, 4);
    EXPECT_EQ(hv_.peak_in_flight(), 4);
    EXPECT_LT(took, 0.8) << "four 250 ms steps with parallelism 4 ran one after another";
}

TEST_F(ApplierTest, ParallelismOneRunsOneStepAtATime) {
    opts_.parallelism = 1;
    Plan p;
    for (int i = 1; i <= 3; ++i) {
        p.steps.push_back(step(i, VmStart{}, "vm" + std::to_string(i)));
        hv_.delay_ms["start_domain vm" + std::to_string(i)] = 30;
    }
    EXPECT_EQ(run(p).succeeded, 3);
    EXPECT_EQ(hv_.peak_in_flight(), 1);
}

TEST_F(ApplierTest, FailedStepSkipsItsDependentsAndIndependentsFinish) {
    Plan p;
    p.steps = {step(1, VmDefine{}, "a"), step(2, VmStart{}, "a", {1}),
               step(3, VmAutostart{true}, "a", {2}), step(4, VmDefine{}, "b"),
               step(5, VmStart{}, "b", {4})};
    hv_.fail["define_domain a"] = "XML error: unsupported configuration: nope";
    hv_.delay_ms["define_domain b"] = 50;
    ApplyResult r = run(p);
    EXPECT_EQ(result(r, 1).status, StepStatus::Failed);
    EXPECT_NE(result(r, 1).error.find("unsupported configuration: nope"), std::string::npos);
    EXPECT_EQ(result(r, 2).status, StepStatus::Skipped);
    EXPECT_EQ(result(r, 3).status, StepStatus::Skipped);
    EXPECT_NE(result(r, 3).error.find("step 1"), std::string::npos);
    EXPECT_EQ(result(r, 4).status, StepStatus::Completed);
    EXPECT_EQ(result(r, 5).status, StepStatus::Completed);
    EXPECT_EQ(r.succeeded, 2);
    EXPECT_EQ(r.failed, 1);
    EXPECT_EQ(r.skipped, 2);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(hv_.called("start_domain a"));
    EXPECT_FALSE(hv_.called("set_domain_autostart a"));
    EXPECT_TRUE(hv_.called("start_domain b"));
    // Tasks: one row per executed step, none for skipped ones.
    auto tasks = store_->tasks(0, "");
    ASSERT_EQ(tasks.size(), 3u);
    int failed = 0, completed = 0;
    for (const auto& t : tasks) {
        failed += t.status == "FAILED";
        completed += t.status == "COMPLETED";
        EXPECT_EQ(t.run_id, "run-1");
        EXPECT_EQ(t.actor, "tester");
    }
    EXPECT_EQ(failed, 1);
    EXPECT_EQ(completed, 2);
    // The summary event counts them.
    ASSERT_FALSE(log_.events.empty());
    const ApplyEvent& sum = log_.events.back();
    EXPECT_EQ(sum.type, "summary");
    EXPECT_EQ(sum.failed, 1);
    EXPECT_EQ(sum.skipped, 2);
    EXPECT_EQ(sum.skipped_steps.size(), 2u);
    // Audit: only what was executed successfully.
    auto audit = store_->audit_rows("", "", "");
    ASSERT_EQ(audit.size(), 2u);
    EXPECT_EQ(audit[0].target_id, "b");
}

// A live detach the guest never acknowledged fails its step (the adapter's error names the
// device still attached); the VM's later steps depend on it and are not run, other VMs are.
TEST_F(ApplierTest, UnconfirmedDetachFailsAndItsDependentsAreSkipped) {
    Plan p;
    const std::string nic = "<interface type='network'><mac address='52:54:00:aa:00:02'/>"
                            "</interface>";
    p.steps = {step(1, VmDefine{}, "a"), step(2, VmDetachDevice{nic, true, false}, "a", {1}),
               step(3, VmAttachDevice{"<disk/>", true, false, {}}, "a", {2}),
               step(4, VmShutdown{1, false}, "a", {3}), step(5, VmStart{}, "b")};
    hv_.state["a"] = "running";
    hv_.fail["detach_device a"] =
        "the guest did not release interface (MAC 52:54:00:aa:00:02, alias net1) of domain 'a' "
        "within 10 s: it is still attached to the running VM";
    ApplyResult r = run(p);
    EXPECT_EQ(result(r, 1).status, StepStatus::Completed);
    EXPECT_EQ(result(r, 2).status, StepStatus::Failed);
    EXPECT_NE(result(r, 2).error.find("52:54:00:aa:00:02"), std::string::npos);
    EXPECT_EQ(result(r, 3).status, StepStatus::Skipped);
    EXPECT_EQ(result(r, 4).status, StepStatus::Skipped);
    EXPECT_NE(result(r, 4).error.find("step 2 (vm.detach_device"), std::string::npos)
        << result(r, 4).error;
    EXPECT_EQ(result(r, 5).status, StepStatus::Completed);
    EXPECT_FALSE(hv_.called("attach_device a"));
    EXPECT_FALSE(hv_.called("shutdown_domain a"));
    EXPECT_EQ(hv_.domain_state("a"), "running");
    EXPECT_FALSE(r.ok());
}

TEST_F(ApplierTest, CycleIsRefusedBeforeAnythingRuns) {
    Plan p;
    p.steps = {step(1, VmDefine{}, "x", {3}), step(2, VmStart{}, "y"),
               step(3, VmStart{}, "x", {1})};
    try {
        run(p);
        FAIL() << "a cycle was not detected";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(hv_.names().empty()) << "something ran before the cycle was detected";
    EXPECT_TRUE(store_->tasks(0, "").empty());
}

TEST_F(ApplierTest, UnknownDependencyIsRefused) {
    Plan p;
    p.steps = {step(1, VmStart{}, "x", {42})};
    EXPECT_THROW(run(p), Error);
    EXPECT_TRUE(hv_.names().empty());
}

TEST_F(ApplierTest, TaskIsRunningDuringTheCallAndFinishedWithDetails) {
    opts_.parallelism = 1;
    Plan p;
    ResourceChange rc;
    rc.host = "local";
    rc.kind = "vm";
    rc.name = "web";
    rc.action = Action::Update;
    rc.diffs = {{"memory", "134217728", "268435456", ChangeClass::NextBoot},
                {"state", "shutoff", "running", ChangeClass::Live}};
    p.changes = {rc};
    p.steps = {step(1, VmDefine{}, "web"), step(2, VmStart{}, "web", {1})};
    assign_step_fields(p); // as make_plan does: which diffs each step carries out
    hv_.fail["start_domain web"] = "internal error: qemu unexpectedly closed the monitor";
    // What the tasks table says while libvirt is being called.
    std::vector<std::string> seen;
    ApplyResult r;
    {
        // Observe the RUNNING row from inside the call through a second connection.
        auto reader = Database::open((dir_ / "t.db").string());
        Store rs(*reader);
        hv_.on_call = [&](const std::string& what) {
            for (const auto& t : rs.tasks(0, "RUNNING")) seen.push_back(what + ":" + t.type);
        };
        r = run(p);
        hv_.on_call = nullptr;
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"define_domain web:vm.define",
                                              "start_domain web:vm.start"}));
    auto tasks = store_->tasks(0, "");
    ASSERT_EQ(tasks.size(), 2u);
    EXPECT_EQ(tasks[0].status, "COMPLETED");
    EXPECT_EQ(tasks[0].progress, 100);
    EXPECT_FALSE(tasks[0].started_at.empty());
    EXPECT_FALSE(tasks[0].finished_at.empty());
    json d0 = json::parse(tasks[0].details);
    EXPECT_EQ(d0["op"], "vm.define");
    EXPECT_EQ(d0["object"], "local/vm/web");
    EXPECT_NE(d0["xml"].get<std::string>().find("<name>web</name>"), std::string::npos);
    ASSERT_EQ(d0["planned"].size(), 1u); // memory, not state
    EXPECT_EQ(d0["planned"][0]["field"], "memory");
    EXPECT_EQ(tasks[1].status, "FAILED");
    json d1 = json::parse(tasks[1].details);
    EXPECT_NE(d1["error"].get<std::string>().find("qemu unexpectedly closed the monitor"),
              std::string::npos);
    EXPECT_EQ(d1["planned"][0]["field"], "state");
    // Audit: the define only, with before/after of the changed field.
    auto audit = store_->audit_rows("", "vm", "web");
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].action, "vm.define");
    EXPECT_EQ(audit[0].actor, "tester");
    json a = json::parse(audit[0].details);
    ASSERT_EQ(a["changes"].size(), 1u);
    EXPECT_EQ(a["changes"][0]["field"], "memory");
    EXPECT_EQ(a["changes"][0]["before"], "134217728");
    EXPECT_EQ(a["changes"][0]["after"], "268435456");
}

TEST_F(ApplierTest, SecretsAreRedactedAndGraphicsPasswordsInjectedAtApplyTime) {
    setenv("VMR_APPLIER_TEST_PW", "hunter2", 1);
    std::string pwfile = (dir_ / "pw").string();
    {
        std::ofstream f(pwfile);
        f << "s3cr3t-from-file\n";
    }
    Plan p;
    ResourceChange rc;
    rc.host = "local";
    rc.kind = "vm";
    rc.name = "web";
    rc.action = Action::Update;
    rc.diffs = {{"graphics[vnc].passwd", "oldpass", "newpass", ChangeClass::Live},
                {"graphics[vnc].port", "5900", "5901", ChangeClass::Live}};
    p.changes = {rc};
    p.steps = {step(1,
                    VmDefine{"<domain><name>web</name><devices><graphics type='vnc' port='5901'/>"
                             "</devices></domain>",
                             {{0, "", "VMR_APPLIER_TEST_PW"}}},
                    "web"),
               step(2,
                    VmUpdateDevice{"<graphics type='vnc' port='5901' passwd='leaked-in-plan'/>",
                                   true,
                                   false,
                                   {{0, pwfile, ""}}},
                    "web", {1})};
    ApplyResult r = run(p);
    ASSERT_TRUE(r.ok()) << (r.steps[0].error + r.steps[1].error);
    auto* def = hv_.find("define_domain web");
    ASSERT_TRUE(def);
    EXPECT_NE(def->arg.find("passwd=\"hunter2\""), std::string::npos) << def->arg;
    auto* upd = hv_.find("update_device web");
    ASSERT_TRUE(upd);
    EXPECT_NE(upd->arg.find("passwd=\"s3cr3t-from-file\""), std::string::npos) << upd->arg;
    EXPECT_NE(upd->arg.find("[10]"), std::string::npos) << "live only: " << upd->arg;
    std::string everything;
    for (const auto& t : store_->tasks(0, "")) everything += t.details;
    for (const auto& a : store_->audit_rows("", "", "")) everything += a.details;
    for (const char* secret : {"hunter2", "s3cr3t", "oldpass", "newpass", "leaked-in-plan"})
        EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " leaked";
    EXPECT_NE(everything.find("(redacted)"), std::string::npos);
    EXPECT_NE(everything.find("5901"), std::string::npos) << "non-secret fields are kept";
    unsetenv("VMR_APPLIER_TEST_PW");
}

TEST_F(ApplierTest, MissingPasswordEnvFailsTheStepWithoutCallingLibvirt) {
    unsetenv("VMR_APPLIER_TEST_UNSET");
    Plan p;
    p.steps = {step(1,
                    VmDefine{"<domain><name>web</name><devices><graphics type='vnc'/></devices>"
                             "</domain>",
                             {{0, "", "VMR_APPLIER_TEST_UNSET"}}},
                    "web")};
    ApplyResult r = run(p);
    EXPECT_EQ(r.failed, 1);
    EXPECT_NE(r.steps[0].error.find("VMR_APPLIER_TEST_UNSET"), std::string::npos);
    EXPECT_FALSE(hv_.called("define_domain web"));
}

TEST_F(ApplierTest, ShutdownTimeoutWithoutForceFailsAndLeavesTheVmRunning) {
    hv_.acpi_works = false;
    hv_.state["web"] = "running";
    Plan p;
    p.steps = {step(1, VmShutdown{1, false}, "web"), step(2, VmStart{}, "web", {1})};
    ApplyResult r = run(p);
    EXPECT_EQ(r.steps[0].status, StepStatus::Failed);
    EXPECT_NE(r.steps[0].error.find("did not shut down within 1s"), std::string::npos)
        << r.steps[0].error;
    EXPECT_NE(r.steps[0].error.find("force_stop: true"), std::string::npos);
    EXPECT_GE(r.steps[0].seconds, 0.95);
    EXPECT_EQ(r.steps[1].status, StepStatus::Skipped);
    EXPECT_TRUE(hv_.called("shutdown_domain web"));
    EXPECT_FALSE(hv_.called("destroy_domain web"));
    EXPECT_EQ(hv_.domain_state("web"), "running");
    int progress = 0;
    for (const auto& e : log_.events) progress += e.type == "apply_progress";
    EXPECT_GT(progress, 0) << "no progress while waiting";
    auto tasks = store_->tasks(0, "FAILED");
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_GT(tasks[0].progress, 0);
    EXPECT_NE(tasks[0].details.find("did not shut down"), std::string::npos);
}

TEST_F(ApplierTest, ShutdownTimeoutWithForceDestroys) {
    hv_.acpi_works = false;
    hv_.state["web"] = "running";
    Plan p;
    p.steps = {step(1, VmShutdown{1, true}, "web")};
    ApplyResult r = run(p);
    EXPECT_TRUE(r.ok()) << r.steps[0].error;
    EXPECT_TRUE(hv_.called("destroy_domain web"));
    EXPECT_EQ(hv_.domain_state("web"), "shutoff");
}

TEST_F(ApplierTest, CleanAcpiShutdownNeedsNoDestroy) {
    hv_.state["web"] = "running";
    Plan p;
    p.steps = {step(1, VmShutdown{5, true}, "web")};
    EXPECT_TRUE(run(p).ok());
    EXPECT_FALSE(hv_.called("destroy_domain web"));
    EXPECT_EQ(hv_.domain_state("web"), "shutoff");
}

// Ctrl-C (ApplyOptions::interrupted) while a shutdown waits: the wait stops within a poll,
// its task is INTERRUPTED (not left RUNNING), nothing else starts, the VM is not forced off.
TEST_F(ApplierTest, InterruptStopsTheShutdownWaitAndStartsNoNewStep) {
    hv_.acpi_works = false;
    hv_.state["web"] = "running";
    opts_.parallelism = 1;
    std::atomic<int> sig{0};
    opts_.interrupted = [&] { return sig.load(); };
    Plan p;
    p.steps = {step(1, VmShutdown{60, true}, "web"), step(2, VmStart{}, "web", {1}),
               step(3, VmDefine{}, "other")};
    std::thread ctrl_c([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        sig = SIGINT;
    });
    auto t0 = std::chrono::steady_clock::now();
    ApplyResult r = run(p);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ctrl_c.join();
    EXPECT_LT(took, 3.0) << "the shutdown wait did not notice the interrupt";
    EXPECT_EQ(r.signal, SIGINT);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.steps[0].status, StepStatus::Interrupted);
    EXPECT_NE(r.steps[0].error.find("stopped waiting for VM web to shut down"), std::string::npos)
        << r.steps[0].error;
    EXPECT_NE(r.steps[0].error.find("SIGINT"), std::string::npos);
    EXPECT_EQ(r.steps[1].status, StepStatus::NotRun);
    EXPECT_EQ(r.steps[2].status, StepStatus::NotRun);
    EXPECT_EQ(r.interrupted, 1);
    EXPECT_EQ(r.not_run, 2);
    EXPECT_FALSE(hv_.called("destroy_domain web")) << "force_stop must not run on an interrupt";
    EXPECT_FALSE(hv_.called("define_domain other"));
    EXPECT_EQ(hv_.domain_state("web"), "running");
    EXPECT_TRUE(store_->tasks(0, "RUNNING").empty());
    auto tasks = store_->tasks(0, "INTERRUPTED");
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].type, "vm.shutdown");
    EXPECT_NE(tasks[0].details.find("stopped waiting"), std::string::npos) << tasks[0].details;
    EXPECT_EQ(store_->tasks(0, "").size(), 1u) << "steps not run get no task row";
    const ApplyEvent& sum = log_.events.back();
    EXPECT_EQ(sum.type, "summary");
    EXPECT_EQ(sum.interrupted_by, "SIGINT");
    EXPECT_EQ(sum.interrupted_steps.size(), 1u);
    ASSERT_EQ(sum.not_run_steps.size(), 2u);
    EXPECT_EQ(sum.not_run_steps[0], "2 vm.start local/vm/web");
}

// A call already running when the interrupt comes completes and is recorded; its dependents
// do not start.
TEST_F(ApplierTest, InterruptLetsRunningCallsFinish) {
    std::atomic<int> sig{0};
    opts_.interrupted = [&] { return sig.load(); };
    hv_.delay_ms["start_domain a"] = 400;
    Plan p;
    p.steps = {step(1, VmStart{}, "a"), step(2, VmAutostart{true}, "a", {1})};
    std::thread ctrl_c([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        sig = SIGTERM;
    });
    ApplyResult r = run(p);
    ctrl_c.join();
    EXPECT_EQ(r.signal, SIGTERM);
    EXPECT_EQ(r.steps[0].status, StepStatus::Completed);
    EXPECT_EQ(r.steps[1].status, StepStatus::NotRun);
    EXPECT_NE(r.steps[1].error.find("SIGTERM"), std::string::npos) << r.steps[1].error;
    EXPECT_EQ(hv_.domain_state("a"), "running");
    EXPECT_FALSE(hv_.called("set_domain_autostart a"));
    EXPECT_EQ(store_->tasks(0, "COMPLETED").size(), 1u);
    EXPECT_TRUE(store_->tasks(0, "RUNNING").empty());
}

TEST_F(ApplierTest, UnreachableHostFailsItsStepsOnly) {
    conn_.unreachable.insert("far");
    Plan p;
    Step far = step(1, VmStart{}, "x");
    far.host = "far";
    p.steps = {far, step(2, VmStart{}, "y")};
    ApplyResult r = run(p);
    EXPECT_EQ(r.steps[0].status, StepStatus::Failed);
    EXPECT_NE(r.steps[0].error.find("unreachable"), std::string::npos);
    EXPECT_EQ(r.steps[1].status, StepStatus::Completed);
}

TEST_F(ApplierTest, VerificationReportsWhatLibvirtDidNotDo) {
    // The desired pool is planned for creation; the fake "defines" it but keeps observing an
    // empty host, as if libvirt had dropped it: the difference must be reported.
    DesiredState d;
    d.hosts = {HostSpec{"local", "fake:///", "", {}}};
    Spec pool;
    pool.host = "local";
    pool.obj.kind = &pool_kind();
    pool.obj.fields = {{"name", "p1"}, {"type", "dir"}, {"path", "/tmp/vmr-p1"}};
    d.pools = {pool};
    hv_.observed.host = "local";
    hv_.observed.reachable = true;
    Plan p = make_plan(d, {hv_.observed}, {});
    ASSERT_FALSE(p.empty());
    opts_.desired = &d;
    ApplyResult r = run(p);
    EXPECT_EQ(r.failed, 0);
    ASSERT_FALSE(r.differences.empty());
    EXPECT_NE(r.differences[0].find("libvirt produced a different result than planned: "
                                    "local/pool/p1"),
              std::string::npos)
        << r.differences[0];
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(log_.events.back().differences, r.differences);
}

TEST_F(ApplierTest, VerificationIsQuietWhenTheHostMatches) {
    DesiredState d;
    d.hosts = {HostSpec{"local", "fake:///", "", {}}};
    hv_.observed.host = "local";
    hv_.observed.reachable = true;
    opts_.desired = &d;
    Plan p;
    p.steps = {step(1, VmStart{}, "web")}; // not in the desired state: nothing left to do
    ApplyResult r = run(p);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.differences.empty());
}

// Two VMs with specs on one host; the config libvirt returns for `bad` does not parse. That
// is an error of `bad` alone (its place and name, the remedy): `good` is still planned and
// applied, nothing touches `bad`, and drift reports it as an error, not the whole run.
TEST_F(ApplierTest, AnUnparsableDomainIsAnErrorOfThatVmAndTheOthersArePlanned) {
    SpecLoadResult r = load_spec_text(
        "specs.yaml", "kind: Host\nname: local\nuri: fake:///\n---\n"
                      "kind: VirtualMachine\nname: good\nhost: local\nmemory: 64MiB\nvcpus: 1\n"
                      "state: shutoff\n---\n"
                      "kind: VirtualMachine\nname: bad\nhost: local\nmemory: 64MiB\nvcpus: 1\n"
                      "state: shutoff\n");
    ASSERT_FALSE(r.diags.has_errors()) << r.diags.json();
    DesiredState& d = r.state;
    ASSERT_EQ(d.vms.size(), 2u);
    // `good` exists with 128 MiB (its spec says 64 MiB: an update); `bad` is cut short.
    Spec was = d.vms[0];
    was.obj.fields["memory"] = std::to_string(128ULL << 20);
    hv_.observed.host = "local";
    hv_.observed.reachable = true;
    ObservedDomain good;
    good.name = "good";
    good.inactive_xml = desired_domain_xml(was, "r1");
    good.state = "shutoff";
    ObservedDomain bad;
    bad.name = "bad";
    bad.inactive_xml = "<domain type='qemu'><name>bad</name><memory"; // not XML
    bad.state = "shutoff";
    hv_.observed.domains = {bad, good};

    Plan p = make_plan(d, {hv_.observed}, {});
    ASSERT_EQ(p.errors.size(), 1u) << plan_to_json(p);
    const Diagnostic& e = p.errors[0];
    EXPECT_EQ(e.severity, Severity::Error) << "the plan's exit code says error";
    EXPECT_EQ(e.file, "local/vm/bad");
    EXPECT_NE(e.message.find("domain bad on host local"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("persistent XML cannot be parsed"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("virsh dumpxml bad"), std::string::npos) << e.message;
    ASSERT_FALSE(p.steps.empty());
    for (const auto& st : p.steps) EXPECT_EQ(st.name, "good") << op_name(st.op());
    ASSERT_EQ(p.changes.size(), 1u);
    EXPECT_EQ(p.changes[0].address(), "local/vm/good");
    EXPECT_EQ(p.changes[0].diffs.at(0).field, "memory");
    EXPECT_TRUE(p.unmanaged.empty());
    EXPECT_TRUE(p.blocked.empty());
    EXPECT_TRUE(changes_without_steps(p).empty());
    // The same plan whatever the order the VMs are listed in.
    std::swap(d.vms[0], d.vms[1]);
    EXPECT_EQ(plan_to_json(make_plan(d, {hv_.observed}, {})), plan_to_json(p));

    opts_.desired = &d;
    ApplyResult res = run(p);
    EXPECT_EQ(res.failed, 0);
    EXPECT_TRUE(hv_.find("define_domain good"));
    for (const auto& c : hv_.calls()) EXPECT_EQ(c.what.find("bad"), std::string::npos) << c.what;

    auto drift = detect_drift(d, {hv_.observed});
    bool bad_reported = false, good_drifted = false;
    for (const auto& it : drift) {
        if (it.name == "bad") {
            bad_reported = it.status == DriftStatus::Error &&
                           it.error.find("domain bad on host local") != std::string::npos;
        }
        if (it.name == "good") good_drifted = it.status == DriftStatus::Drifted;
    }
    EXPECT_TRUE(bad_reported);
    EXPECT_TRUE(good_drifted);
}

// A domain whose XML does not parse may use any volume, pool or network of its host: their
// deletions (--prune) are blocked while it is there, naming it, and apply refuses the plan.
TEST_F(ApplierTest, PruneIsBlockedWhileADomainOfTheHostIsUnparsable) {
    DesiredState d;
    d.hosts = {HostSpec{"local", "fake:///", "", {}}};
    hv_.observed.host = "local";
    hv_.observed.reachable = true;
    ObservedPool pool;
    pool.name = "p";
    pool.xml = "<pool type='dir'><name>p</name><target><path>/tmp/p</path></target></pool>";
    pool.active = true;
    pool.volumes = {{"p", "v", "<volume><name>v</name></volume>", "/tmp/p/v"}};
    hv_.observed.pools = {pool};
    ObservedDomain bad;
    bad.name = "bad";
    bad.inactive_xml = "<domain><name>bad</name><devices><disk"; // not XML
    bad.state = "shutoff";
    hv_.observed.domains = {bad};
    PlanOptions o;
    o.prune = true;
    o.pending_delete = {"local/volume/p/v", "local/pool/p"};
    Plan p = make_plan(d, {hv_.observed}, o);
    EXPECT_TRUE(p.steps.empty()) << plan_to_json(p);
    ASSERT_EQ(p.blocked.size(), 2u) << plan_to_json(p);
    for (const auto& bl : p.blocked) {
        EXPECT_EQ(bl.users, std::vector<std::string>{"domain bad (its XML cannot be parsed)"});
        EXPECT_NE(bl.reason.find("virsh dumpxml bad"), std::string::npos) << bl.reason;
    }
    EXPECT_THROW(run(p), Error) << "apply refuses a plan with a blocked change";
    EXPECT_FALSE(hv_.find("delete_volume p/v")) << "the volume survived";
    // With the domain readable again (using nothing), the deletions are planned.
    hv_.observed.domains[0].inactive_xml = "<domain><name>bad</name></domain>";
    Plan ok = make_plan(d, {hv_.observed}, o);
    EXPECT_TRUE(ok.blocked.empty()) << plan_to_json(ok);
    EXPECT_EQ(ok.steps.size(), 2u) << plan_to_json(ok);
}

TEST(SavedPlan, StaleWhenObservedObjectsChangedAppearedOrDisappeared) {
    ObservedHost h;
    h.host = "local";
    h.reachable = true;
    ObservedDomain a;
    a.name = "a";
    a.inactive_xml = "<domain><name>a</name><memory>1</memory></domain>";
    a.state = "running";
    ObservedDomain b = a;
    b.name = "b";
    h.domains = {a, b};
    Plan p;
    p.fingerprints = fingerprints({h});
    p.revision_id = 7;
    EXPECT_EQ(plan_hosts(p), std::vector<std::string>{"local"});
    EXPECT_TRUE(stale_reasons(p, {h}, 7).empty());

    auto joined = [](const std::vector<std::string>& v) {
        std::string s;
        for (auto& x : v) s += x + "\n";
        return s;
    };
    ObservedHost changed = h;
    changed.domains[0].inactive_xml = "<domain><name>a</name><memory>2</memory></domain>";
    EXPECT_NE(joined(stale_reasons(p, {changed}, 7)).find("local/vm/a changed"), std::string::npos);
    ObservedHost stopped = h;
    stopped.domains[1].state = "shutoff";
    EXPECT_NE(joined(stale_reasons(p, {stopped}, 7)).find("local/vm/b changed"), std::string::npos);
    ObservedHost gone = h;
    gone.domains.pop_back();
    EXPECT_NE(joined(stale_reasons(p, {gone}, 7)).find("local/vm/b disappeared"),
              std::string::npos);
    ObservedHost more = h;
    ObservedNetwork n;
    n.name = "net";
    n.xml = "<network/>";
    more.networks = {n};
    EXPECT_NE(joined(stale_reasons(p, {more}, 7)).find("local/network/net appeared"),
              std::string::npos);
    EXPECT_NE(joined(stale_reasons(p, {h}, 8)).find("loaded again"), std::string::npos);
    ObservedHost down = h;
    down.reachable = false;
    down.error = "connection refused";
    EXPECT_NE(joined(stale_reasons(p, {down}, 7)).find("unreachable"), std::string::npos);
}

TEST(Redaction, SecretNamesAndXmlAttributes) {
    EXPECT_TRUE(is_secret_name("passwd"));
    EXPECT_TRUE(is_secret_name("graphics[vnc].passwd"));
    EXPECT_TRUE(is_secret_name("Password_File:0"));
    EXPECT_TRUE(is_secret_name("client_secret"));
    EXPECT_FALSE(is_secret_name("memory"));
    std::string x = redact_xml("<domain><devices><graphics type='vnc' passwd='abc'/></devices>"
                               "</domain>");
    EXPECT_EQ(x.find("abc"), std::string::npos);
    EXPECT_NE(x.find("(redacted)"), std::string::npos);
    EXPECT_NE(x.find("vnc"), std::string::npos);
}

} // namespace

namespace {

TEST(GraphicsPasswords, PlanNamesTheSourceNeverTheSecret) {
    SpecLoadResult r = load_spec_text("web.yaml", "kind: Host\nname: local\nuri: test:///default\n"
                                                  "---\nkind: VirtualMachine\nname: web\n"
                                                  "host: local\nmemory: 64MiB\nvcpus: 1\n"
                                                  "graphics:\n  - type: vnc\n"
                                                  "    password_file: /run/secrets/vnc\n");
    ASSERT_FALSE(r.diags.has_errors()) << r.diags.json();
    ObservedHost h;
    h.host = "local";
    h.reachable = true;
    Plan p = make_plan(r.state, {h}, {});
    ASSERT_FALSE(p.steps.empty());
    const Step& def = p.steps.front();
    ASSERT_EQ(def.op(), Op::VmDefine);
    const auto& pw = std::get<VmDefine>(def.payload).passwords;
    ASSERT_EQ(pw.size(), 1u) << plan_to_json(p);
    EXPECT_EQ(pw[0].index, 0);
    EXPECT_EQ(pw[0].file, "/run/secrets/vnc");
    EXPECT_NE(def.xml().find("<graphics"), std::string::npos);
    EXPECT_EQ(def.xml().find("passwd"), std::string::npos);
}

} // namespace

// A seed read from user_data_env at apply: built, its volume created with the image's size,
// the image uploaded (it parses back with the variable's value); the saved plan holds only the
// variable's name. A value that differs from the one loaded (another hash) writes nothing.
TEST_F(ApplierTest, CloudInitSeedReadsTheVariableAtApplyAndRefusesOtherContent) {
    const std::string secret = "#cloud-config\npassword: s3cr3t-marker\n";
    ::setenv("VMR_TEST_CI_USER_DATA", secret.c_str(), 1);
    VolumeCloudInitSeed seed = seed_payload("web");
    seed.user_data.clear();
    seed.user_data_env = "VMR_TEST_CI_USER_DATA";
    seed.hash = cloud_init_hash({secret, seed.meta_data, "", false});
    seed.exists = true;
    Plan p;
    p.steps.push_back(step(1, seed, "p/web-cidata.iso"));
    std::string saved = plan_to_json(p);
    EXPECT_EQ(saved.find("s3cr3t-marker"), std::string::npos) << saved;
    EXPECT_NE(saved.find("VMR_TEST_CI_USER_DATA"), std::string::npos) << saved;
    ApplyResult r = run(plan_from_json(saved));
    ASSERT_TRUE(r.ok()) << r.steps[0].error;
    ASSERT_TRUE(hv_.find("delete_volume p/web-cidata.iso")) << "the old seed is replaced";
    const auto* create = hv_.find("create_volume p");
    ASSERT_TRUE(create);
    const std::string& img = hv_.uploaded.at("p/web-cidata.iso");
    EXPECT_NE(create->arg.find("<capacity unit=\"bytes\">" + std::to_string(img.size())),
              std::string::npos)
        << create->arg;
    auto c = testing_util::read_iso(img);
    ASSERT_EQ(c.error, "");
    EXPECT_EQ(c.label, "cidata");
    EXPECT_EQ(c.rr_files.at("user-data"), secret);
    EXPECT_EQ(c.rr_files.at("meta-data"), seed.meta_data);

    // Another value than at load: the step fails before touching the host.
    ::setenv("VMR_TEST_CI_USER_DATA", "#cloud-config\nchanged: 1\n", 1);
    hv_.uploaded.clear();
    size_t calls = hv_.calls().size();
    ApplyResult r2 = run(p);
    EXPECT_FALSE(r2.ok());
    EXPECT_NE(r2.steps[0].error.find("changed since load"), std::string::npos) << r2.steps[0].error;
    EXPECT_EQ(hv_.calls().size(), calls) << "nothing deleted, created or uploaded";
    ::unsetenv("VMR_TEST_CI_USER_DATA");
    ApplyResult r3 = run(p);
    EXPECT_FALSE(r3.ok());
    EXPECT_NE(r3.steps[0].error.find("is not set"), std::string::npos) << r3.steps[0].error;
}
