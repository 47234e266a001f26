// The PostgreSQL password appears nowhere virtumancer writes (issue 14): not in any command's
// output or log line at the most verbose level, not in a saved plan, not in any row of any
// table (tasks, audit, load records...), not in a file `db copy` writes. The whole workflow
// runs once with the URI given by --db and once by VIRTUMANCER_DB, on a schema of its own on
// the test PostgreSQL, with the test driver as the host.
#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;
using virtumancer::testing_util::run_cli;

namespace {

std::string specs_text(const std::string& vm, int vcpus) {
    return "kind: Host\nname: h\nuri: test:///default\n---\n"
           "kind: Network\nname: sn\nhost: h\nmode: isolated\nbridge: vmrsec0\n---\n"
           "kind: VirtualMachine\nname: " +
           vm + "\nhost: h\nmemory: 64MiB\nvcpus: " + std::to_string(vcpus) + "\nstate: shutoff\n";
}

// Every text value of every table of the database at `uri`, one string.
std::string all_rows(const std::string& uri) {
    auto db = Database::open(uri);
    std::string out;
    for (const auto& t : db->db().tables()) {
        auto cols = db->db().columns(t);
        sql::Statement q(db->db(), "SELECT * FROM \"" + t + "\"");
        while (q.executeStep())
            for (size_t i = 0; i < cols.size(); ++i) {
                auto c = q.getColumn(static_cast<int>(i));
                if (!c.isNull()) out += c.getString() + "\n";
            }
    }
    return out;
}

} // namespace

class PgPassword : public BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, PgPassword,
                         ::testing::Values(virtumancer::sql::Backend::postgresql), backend_name);

TEST_P(PgPassword, AppearsInNoOutputLogPlanFileRowOrCopy) {
    for (bool by_env : {false, true}) {
        SCOPED_TRACE(by_env ? "URI in VIRTUMANCER_DB" : "URI in --db");
        std::string uri = target(by_env ? "env" : "flag");
        auto at = uri.find('@');
        auto colon = uri.rfind(':', at);
        ASSERT_NE(at, std::string::npos);
        const std::string password = uri.substr(colon + 1, at - colon - 1);
        ASSERT_GE(password.size(), 8u);

        std::string dir = tmp.file(by_env ? "env" : "flag");
        fs::create_directories(dir + "/specs");
        write_file(dir + "/specs/all.yaml", specs_text("sec1", 1));
        std::string plan_file = dir + "/plan.json", copy_file = dir + "/copy.db";
        // Trace level, every command that connects; the failing ones too.
        std::string pre = by_env ? "VIRTUMANCER_DB='" + uri + "' " : "";
        std::string db = by_env ? "" : "--db '" + uri + "' ";
        std::string out;
        auto run = [&](const std::string& args, int want) {
            auto r = run_cli("--log-level trace " + db + args, "cd '" + dir + "' && " + pre);
            EXPECT_EQ(r.rc, want) << args << ":\n" << r.out;
            out += r.out;
            return r;
        };
        run("db migrate", 0);
        run("db status", 0);
        run("db check", 0);
        run("validate specs", 0);
        run("load specs", 0);
        run("plan --out " + plan_file, 0);
        run("plan --json", 0);
        auto applied = run("apply --auto-approve --plan " + plan_file, 0);
        EXPECT_NE(applied.out.find("sec1"), std::string::npos) << applied.out;
        write_file(dir + "/specs/all.yaml", specs_text("sec1", 2));
        run("plan specs --out " + plan_file, 0);
        run("drift", 2); // the test driver forgets between runs: everything is missing
        run("tasks", 0);
        run("audit", 0);
        run("db targets", 0);
        run("render sec1", 0);
        run("db copy --to '" + copy_file + "'", 0);
        run("db copy --to '" + copy_file + "'", 1); // a non-empty target: refused
        write_file(dir + "/specs/bad.yaml", "kind: VirtualMachine\nname: [unclosed\n");
        run("load specs", 1);
        run("apply --auto-approve --plan " + dir + "/missing.json", 1);
        // Something happened and was recorded, so the checks below look at real rows.
        std::string rows = all_rows(uri);
        EXPECT_NE(rows.find("sec1"), std::string::npos);
        EXPECT_NE(out.find("****@"), std::string::npos) << "the redacted URI is shown somewhere";

        EXPECT_EQ(out.find(password), std::string::npos) << "password in the output:\n" << out;
        EXPECT_EQ(slurp(plan_file).find(password), std::string::npos) << "password in the plan";
        EXPECT_EQ(rows.find(password), std::string::npos) << "password in a row";
        ASSERT_TRUE(fs::exists(copy_file));
        EXPECT_EQ(slurp(copy_file).find(password), std::string::npos) << "password in the copy";
        EXPECT_EQ(all_rows(copy_file).find(password), std::string::npos);
    }
}
