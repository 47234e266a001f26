// Store::save_desired: a validated load -> the canonical tables, in one transaction.
#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_map>

#include "store_internal.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer {
namespace {

using namespace store_detail;

const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

struct Existing {
    int64_t id = 0;
    Value hash;
    bool pending = false;
};
using ExistingMap = std::unordered_map<std::string, Existing>;

ExistingMap load_existing(Sql& sql, const std::string& query) {
    ExistingMap out;
    auto& q = sql.stmt(query);
    while (q.executeStep())
        out[q.getColumn(1).getString()] =
            Existing{q.getColumn(0).getInt64(), column_value(q, 2), q.getColumn(3).getInt() != 0};
    return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
    return s;
}

std::string root_element(const std::string& xml) {
    auto b = xml.find('<');
    if (b == std::string::npos) return "";
    auto e = xml.find_first_of(" \t\r\n/>", b + 1);
    return xml.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
}

// A VM's cloud_init as stored (NULL: none). Never the content of user_data_file/_env.
Value cloud_init_json(const CloudInitSpec& ci) {
    if (!ci.enabled) return Value();
    nlohmann::json j = {{"meta_data", ci.meta_data}, {"hash", ci.hash}};
    if (!ci.user_data_file.empty())
        j["user_data_file"] = ci.user_data_file;
    else if (!ci.user_data_env.empty())
        j["user_data_env"] = ci.user_data_env;
    else
        j["user_data"] = ci.user_data;
    if (ci.has_network_config) j["network_config"] = ci.network_config;
    return j.dump();
}

Value opt(const std::string& s) {
    return s.empty() ? Value() : Value(s);
}

// New rows, queued per table and column list in the order each first appears (a parent's
// rows before its children's) and written with Connection::insert_rows (PostgreSQL: one COPY
// per table, not a round trip per row; docs/schema.md "Bulk writes"): when full() and at the
// end of each stage. A failing row is named by the object it belongs to.
//
// On PostgreSQL a flush hands the rows to a writer thread and returns: the server checks and
// indexes one chunk while this thread encodes the next (the two run on different cores).
// wait() ends the write in flight and throws its error; it runs before every other statement
// of the load (Sql::before_statement, Ids), before the next flush and at the end, so the
// order of writes and what each statement sees are those of a synchronous flush. SQLite
// writes in this process: its flush writes before returning.
class Batch {
  public:
    // Rows per flush (memory stays bounded). On PostgreSQL the first chunk, which nothing
    // overlaps, is smaller (5,000 rows, some 170 VMs), and each next one twice as large up to
    // kFlushRows: every COPY costs the server a fixed start (some 0.2 ms a table), so many small
    // chunks cost more.
    static constexpr size_t kFlushRows = 20000;
    static constexpr size_t kFirstAsyncRows = 5000;
    explicit Batch(sql::Connection& c) : c_(c), async_(c.backend() == sql::Backend::postgresql) {}
    ~Batch() {
        if (writer_.joinable()) writer_.join(); // an error is already being thrown
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void add(const std::string& table, const std::vector<std::string>& cols, sql::Row row,
             const std::string& what) {
        std::string key = table + "(" + join(cols, ",") + ")";
        auto it = index_.find(key);
        if (it == index_.end()) {
            it = index_.emplace(key, next_.groups.size()).first;
            next_.groups.push_back(Group{table, cols, {}, {}});
        }
        auto& whats = next_.whats;
        if (whats.empty() || whats.back() != what) whats.push_back(what);
        Group& g = next_.groups[it->second];
        g.rows.push_back(std::move(row));
        g.what.push_back(whats.size() - 1);
        ++queued_;
    }
    bool full() const { return queued_ >= limit_; }

    // Writes every queued row (PostgreSQL: starts writing them); on failure sets `cur` to the
    // object of the failing row.
    void flush(std::string& cur) {
        wait(cur);
        if (next_.groups.empty()) return;
        inflight_ = std::move(next_);
        next_ = Chunk{};
        index_.clear();
        queued_ = 0;
        limit_ = std::min(kFlushRows, limit_ * 2);
        if (!async_) {
            write(inflight_, cur);
            inflight_ = Chunk{};
            return;
        }
        writer_ = std::thread([this] {
            try {
                write(inflight_, failed_at_);
            } catch (...) { // safe: handed to the loading thread, rethrown by wait()
                error_ = std::current_exception();
            }
        });
    }

    // Waits for the rows in flight; throws their error (and sets `cur`) when they failed.
    void wait(std::string& cur) {
        if (!writer_.joinable()) return;
        writer_.join();
        inflight_ = Chunk{};
        if (!error_) return;
        cur = failed_at_;
        std::exception_ptr e = error_;
        error_ = nullptr;
        std::rethrow_exception(e);
    }

  private:
    struct Group {
        std::string table;
        std::vector<std::string> cols;
        std::vector<sql::Row> rows;
        std::vector<size_t> what; // per row: index into Chunk::whats
    };
    struct Chunk {
        std::vector<Group> groups;
        std::vector<std::string> whats;
    };

    void write(const Chunk& ch, std::string& cur) {
        for (const Group& g : ch.groups) {
            try {
                c_.insert_rows(g.table, g.cols, g.rows);
            } catch (const sql::BatchException& e) {
                cur = e.row ? ch.whats[g.what[*e.row]]
                            : "one of " + ch.whats[g.what.front()] + " ... " +
                                  ch.whats[g.what.back()] + " (table " + g.table + ")";
                throw;
            }
        }
    }

    sql::Connection& c_;
    bool async_;
    Chunk next_;     // being queued
    Chunk inflight_; // being written by writer_
    std::unordered_map<std::string, size_t> index_;
    size_t queued_ = 0;
    size_t limit_ = async_ ? kFirstAsyncRows : kFlushRows;
    std::thread writer_;
    std::exception_ptr error_;
    std::string failed_at_;
};

// Ids of new rows, reserved per table in one call before a stage writes them.
class Ids {
  public:
    Ids(sql::Connection& c, Batch& batch, std::string& cur) : c_(c), batch_(batch), cur_(cur) {}
    void reserve(const std::map<std::string, size_t>& need) {
        batch_.wait(cur_);
        for (const auto& [table, n] : need) {
            auto got = c_.reserve_ids(table, n);
            auto& q = free_[table];
            q.insert(q.end(), got.begin(), got.end());
        }
    }
    int64_t take(const std::string& table) {
        auto& q = free_[table];
        if (q.empty()) reserve({{table, 1}}); // a count missed: still correct, one more query
        int64_t id = q.front();
        q.pop_front();
        return id;
    }

  private:
    sql::Connection& c_;
    Batch& batch_;
    std::string& cur_;
    std::map<std::string, std::deque<int64_t>> free_;
};

class Saver {
  public:
    Saver(Sql& sql, Batch& batch, const DesiredState& st, LoadSummary& sum, std::string& current)
        : sql_(sql), batch_(batch), ids_(sql.db(), batch, current), st_(st), sum_(sum),
          cur_(current) {}

    void run() {
        save_hosts();
        save_top(pool_kind(), st_.pools, "pool");
        save_top(volume_kind(), st_.volumes, "volume");
        save_top(network_kind(), st_.networks, "network");
        save_vms();
        save_snapshots();
        cur_ = "linking disks to volumes and interfaces to networks";
        relink();
    }

  private:
    Sql& sql_;
    Batch& batch_;
    Ids ids_;
    const DesiredState& st_;
    LoadSummary& sum_;
    std::string& cur_;
    std::unordered_map<std::string, int64_t> host_ids_, pool_ids_, vm_ids_;

    void count(const Existing* ex, bool changed) {
        if (!ex)
            ++sum_.inserted;
        else if (changed)
            ++sum_.updated;
        else
            ++sum_.unchanged;
    }

    // Marks rows whose spec disappeared; returns their ids.
    std::vector<int64_t> mark_missing(const std::string& table, const ExistingMap& ex,
                                      const std::set<std::string>& seen) {
        std::vector<int64_t> ids;
        for (const auto& [key, e] : ex) {
            if (seen.count(key) || e.pending) continue;
            cur_ = table + " " + key + " (marking pending_delete)";
            std::string stamp = sql_.table(table).find("updated_at")
                                    ? std::string(", updated_at=") + kNow
                                    : std::string();
            sql_.exec("UPDATE " + table + " SET pending_delete=1, spec_hash=NULL" + stamp +
                          " WHERE id=?",
                      {std::to_string(e.id)});
            ids.push_back(e.id);
            ++sum_.marked_for_deletion;
        }
        return ids;
    }

    int64_t host_id(const std::string& host, const std::string& what) {
        auto it = host_ids_.find(host);
        if (it == host_ids_.end())
            throw Error(what + " is on host '" + host + "', which has no Host spec",
                        "add a Host document named " + host + " to the specs");
        return it->second;
    }

    void save_hosts() {
        auto ex = load_existing(sql_, "SELECT id, name, spec_hash, pending_delete FROM hosts");
        std::set<std::string> seen;
        for (const auto& h : st_.hosts) {
            cur_ = "host/" + h.name;
            seen.insert(h.name);
            std::string hash = fnv1a_hex(h.uri + '\x1f' + h.description);
            auto it = ex.find(h.name);
            const Existing* e = it == ex.end() ? nullptr : &it->second;
            bool changed = !e || e->pending || e->hash != Value(hash);
            count(e, changed);
            std::vector<Value> v = {h.uri, h.description, opt(h.src.file),
                                    std::to_string(h.src.line), hash};
            if (!e) {
                v.insert(v.begin(), h.name);
                host_ids_[h.name] = sql_.insert(
                    "INSERT INTO hosts(name, uri, description, spec_file, spec_line, spec_hash) "
                    "VALUES(?,?,?,?,?,?)",
                    v);
                continue;
            }
            host_ids_[h.name] = e->id;
            if (!changed) continue;
            v.push_back(std::to_string(e->id));
            sql_.exec(std::string("UPDATE hosts SET uri=?, description=?, spec_file=?, "
                                  "spec_line=?, spec_hash=?, pending_delete=0, updated_at=") +
                          kNow + " WHERE id=?",
                      v);
        }
        for (const auto& [name, e] : ex) host_ids_.emplace(name, e.id);
        mark_missing("hosts", ex, seen);
    }

    std::string key_of(const KindDesc& kind, const Spec& s) {
        if (&kind == &volume_kind()) return s.host + "/" + s.obj.get("pool") + "/" + s.obj.name();
        return s.host + "/" + s.obj.name();
    }

    static std::string spec_hash(const Spec& s) {
        return s.content_hash.empty() ? object_fingerprint(s.obj) : s.content_hash;
    }

    // Writes one top-level object row (+ side tables, residue); returns its id.
    int64_t write_row(const KindDesc& kind, const std::string& parent_col, int64_t parent_id,
                      const Spec& s, const std::vector<std::pair<std::string, Value>>& extras,
                      const Existing* e) {
        const KindLayout& l = layout(sql_, kind);
        Encoded enc = encode(l, s.obj, cur_);
        std::vector<std::string> cols = {parent_col};
        std::vector<Value> vals = {std::to_string(parent_id)};
        auto mc = l.main_columns();
        cols.insert(cols.end(), mc.begin(), mc.end());
        vals.insert(vals.end(), enc.main.begin(), enc.main.end());
        for (const auto& [c, v] :
             std::vector<std::pair<std::string, Value>>{{"props_json", enc.props_json},
                                                        {"spec_file", opt(s.src.file)},
                                                        {"spec_line", std::to_string(s.src.line)},
                                                        {"spec_hash", spec_hash(s)}}) {
            cols.push_back(c);
            vals.push_back(v);
        }
        for (const auto& [c, v] : extras) {
            cols.push_back(c);
            vals.push_back(v);
        }
        int64_t id;
        if (!e) {
            id = ids_.take(kind.table);
            cols.insert(cols.begin(), "id");
            vals.insert(vals.begin(), std::to_string(id));
            batch_.add(kind.table, cols, std::move(vals), cur_);
        } else {
            id = e->id;
            vals.push_back(std::to_string(id));
            sql_.exec("UPDATE " + kind.table + " SET " + join(cols, "=?,") +
                          "=?, pending_delete=0, updated_at=" + kNow + " WHERE id=?",
                      vals);
            sql_.exec("DELETE FROM vendor_options WHERE owner_table=? AND owner_id=?",
                      {kind.table, std::to_string(id)});
        }
        for (const auto& [table, svals] : enc.side) {
            std::vector<std::string> sc = {"vm_id"};
            for (const auto& c : l.side.at(table)) sc.push_back(c.column);
            std::vector<Value> sv = {std::to_string(id)};
            sv.insert(sv.end(), svals.begin(), svals.end());
            batch_.add(table, sc, std::move(sv), cur_);
        }
        residue(kind.table, id, s.obj.extra_xml);
        return id;
    }

    void residue(const std::string& table, int64_t id, const std::string& xml) {
        if (xml.empty()) return;
        static const std::vector<std::string> cols = {"owner_table", "owner_id", "xml_fragment"};
        batch_.add("vendor_options", cols, {table, std::to_string(id), xml}, cur_);
    }

    void save_top(const KindDesc& kind, const std::vector<Spec>& specs, const std::string& kname) {
        bool vol = &kind == &volume_kind();
        std::string q =
            vol ? "SELECT v.id, h.name || '/' || p.name || '/' || v.name, v.spec_hash, "
                  "v.pending_delete FROM volumes v JOIN storage_pools p ON p.id = "
                  "v.storage_pool_id JOIN hosts h ON h.id = p.host_id"
                : "SELECT t.id, h.name || '/' || t.name, t.spec_hash, t.pending_delete FROM " +
                      kind.table + " t JOIN hosts h ON h.id = t.host_id";
        auto ex = load_existing(sql_, q);
        size_t fresh = 0;
        for (const auto& s : specs) fresh += !ex.count(key_of(kind, s));
        ids_.reserve({{kind.table, fresh}});
        std::set<std::string> seen;
        for (const auto& s : specs) {
            std::string key = key_of(kind, s);
            cur_ = s.host + "/" + kname + "/" + (vol ? s.obj.get("pool") + "/" : "") +
                   s.obj.name() + (s.src.file.empty() ? "" : " (" + s.src.file + ")");
            if (!seen.insert(key).second)
                throw Error(cur_ + " is defined twice", "give each " + kname + " a unique name");
            auto it = ex.find(key);
            const Existing* e = it == ex.end() ? nullptr : &it->second;
            bool changed = !e || e->pending || e->hash != Value(spec_hash(s));
            count(e, changed);
            int64_t id = e ? e->id : 0;
            if (changed) {
                std::string parent_col = vol ? "storage_pool_id" : "host_id";
                int64_t parent;
                if (vol) {
                    auto p = pool_ids_.find(s.host + "/" + s.obj.get("pool"));
                    if (p == pool_ids_.end())
                        throw Error(cur_ + " names pool '" + s.obj.get("pool") +
                                        "', which has no StoragePool spec on host " + s.host,
                                    "add the StoragePool or fix `pool:`");
                    parent = p->second;
                } else {
                    parent = host_id(s.host, cur_);
                }
                std::vector<std::pair<std::string, Value>> extras;
                if (&kind == &network_kind())
                    extras.push_back({"children_json", children_to_json(s.obj.children).dump()});
                id = write_row(kind, parent_col, parent, s, extras, e);
            }
            if (&kind == &pool_kind()) pool_ids_[key] = id;
        }
        if (&kind == &pool_kind())
            for (const auto& [key, e] : ex) pool_ids_.emplace(key, e.id);
        mark_missing(kind.table, ex, seen);
        batch_.flush(cur_);
    }

    // Device rows of a VM (and its side-table rows) are deleted and written again on change.
    void clear_vm(int64_t vm) {
        std::string id = std::to_string(vm);
        sql_.exec("DELETE FROM vendor_options WHERE (owner_table, owner_id) IN (" +
                      device_owners_sql() + ")",
                  {id});
        for (const DeviceTable& t : device_tables())
            sql_.exec(t.attach.empty() ? "DELETE FROM " + t.table + " WHERE vm_id=?"
                                       : "DELETE FROM " + t.table + " WHERE id IN (SELECT " + t.fk +
                                             " FROM " + t.attach + " WHERE vm_id=?)",
                      {id});
        for (const auto& [table, cols] : layout(sql_, domain_kind()).side)
            sql_.exec("DELETE FROM " + table + " WHERE vm_id=?", {id});
        sql_.exec("UPDATE virtual_machines SET uuid=NULL WHERE id=?", {id});
    }

    // SELECT (owner_table, owner_id) of every device of the VM ?1, across the device tables.
    static const std::string& device_owners_sql() {
        static const std::string s = [] {
            std::string out;
            for (const DeviceTable& t : device_tables())
                out += std::string(out.empty() ? "" : " UNION ALL ") + "SELECT '" + t.table +
                       "', " +
                       (t.attach.empty() ? "id FROM " + t.table : t.fk + " FROM " + t.attach) +
                       " WHERE vm_id=?1";
            return out;
        }();
        return s;
    }

    void write_devices(int64_t vm, int64_t host, const Object& dom) {
        std::string vm_s = std::to_string(vm);
        for (size_t pos = 0; pos < dom.children.size(); ++pos) {
            const Object& c = dom.children[pos];
            const KindDesc& k = *c.kind;
            cur_ = cur_.substr(0, cur_.find(" device ")) + " device " + std::to_string(pos) + " <" +
                   (k.element == "*" ? root_element(c.extra_xml) : k.element) + ">";
            const KindLayout& l = layout(sql_, k);
            Encoded enc = encode(l, c, cur_);
            const TableInfo& ti = sql_.table(k.table);
            std::string at = attach_table_of(k);
            std::vector<std::string> cols;
            std::vector<Value> vals;
            if (at.empty()) {
                cols = {"vm_id", "position"};
                vals = {vm_s, std::to_string(pos)};
                if (ti.find("host_id")) {
                    cols.push_back("host_id");
                    vals.push_back(std::to_string(host));
                }
            }
            if (!k.discriminator.empty()) {
                cols.push_back("device_kind");
                vals.push_back(k.discriminator);
            }
            if (ti.find("element")) {
                cols.push_back("element");
                vals.push_back(opt(root_element(c.extra_xml)));
            }
            auto mc = l.main_columns();
            cols.insert(cols.end(), mc.begin(), mc.end());
            vals.insert(vals.end(), enc.main.begin(), enc.main.end());
            cols.push_back("props_json");
            vals.push_back(enc.props_json);
            int64_t row = ids_.take(k.table);
            std::string row_s = std::to_string(row), pos_s = std::to_string(pos);
            cols.insert(cols.begin(), "id");
            vals.insert(vals.begin(), row_s);
            batch_.add(k.table, cols, std::move(vals), cur_);
            if (!at.empty())
                batch_.add(at, {"vm_id", attach_fk_of(at), "position"}, {vm_s, row_s, pos_s}, cur_);
            residue(k.table, row, c.extra_xml);
        }
    }

    void save_vms() {
        const KindDesc& kind = domain_kind();
        auto ex = load_existing(sql_, "SELECT t.id, h.name || '/' || t.name, t.spec_hash, "
                                      "t.pending_delete FROM virtual_machines t JOIN hosts h ON "
                                      "h.id = t.host_id");
        std::set<std::string> seen;
        struct Todo {
            const Spec* s;
            const Existing* e;
        };
        std::vector<Todo> todo;
        for (const auto& s : st_.vms) {
            std::string key = key_of(kind, s);
            cur_ = s.host + "/vm/" + s.obj.name();
            if (!seen.insert(key).second)
                throw Error(cur_ + " is defined twice", "give each VM a unique name per host");
            auto it = ex.find(key);
            const Existing* e = it == ex.end() ? nullptr : &it->second;
            bool changed = !e || e->pending || e->hash != Value(spec_hash(s));
            count(e, changed);
            if (e) vm_ids_[key] = e->id;
            if (changed) todo.push_back({&s, e});
        }
        for (const auto& [key, e] : ex) vm_ids_.emplace(key, e.id);
        // Phase 1: clear the devices of changed and removed VMs (so MACs, targets and UUIDs
        // may move between VMs within one load); phase 2: write rows and devices.
        for (const auto& t : todo)
            if (t.e) clear_vm(t.e->id);
        for (int64_t id : mark_missing("virtual_machines", ex, seen)) clear_vm(id);
        std::map<std::string, size_t> need; // ids of new rows, per table
        for (const auto& t : todo) {
            if (!t.e) ++need[kind.table];
            for (const Object& c : t.s->obj.children) ++need[c.kind->table];
        }
        ids_.reserve(need);
        for (const auto& t : todo) {
            const Spec& s = *t.s;
            cur_ = s.host + "/vm/" + s.obj.name() +
                   (s.src.file.empty() ? "" : " (" + s.src.file + ")");
            int64_t host = host_id(s.host, cur_);
            const VmSettings& v = s.vm;
            std::vector<std::pair<std::string, Value>> extras = {
                {"desired_state", v.state},
                {"autostart", bool_text(v.autostart)},
                {"is_template", bool_text(v.is_template)},
                {"clone_of", opt(v.clone_of)},
                {"restart_policy", v.restart_policy},
                {"shutdown_timeout", std::to_string(v.shutdown_timeout)},
                {"force_stop", bool_text(v.force_stop)},
                {"cloud_init_json", cloud_init_json(v.cloud_init)},
                {"wait_for_ip_json", v.wait_for_ip.enabled
                                         ? Value(nlohmann::json{{"timeout", v.wait_for_ip.timeout},
                                                                {"source", v.wait_for_ip.source},
                                                                {"ipv4", v.wait_for_ip.ipv4},
                                                                {"ipv6", v.wait_for_ip.ipv6}}
                                                     .dump())
                                         : Value()},
                // A new or changed spec has not been applied or checked yet.
                {"sync_status", std::string(vm_sync_status_name(VmSyncStatus::Pending))},
            };
            int64_t id = write_row(kind, "host_id", host, s, extras, t.e);
            vm_ids_[key_of(kind, s)] = id;
            write_devices(id, host, s.obj);
            if (batch_.full()) batch_.flush(cur_);
        }
        batch_.flush(cur_);
    }

    void save_snapshots() {
        auto ex = load_existing(
            sql_, "SELECT s.id, h.name || '/' || m.name || '/' || s.name, s.spec_hash, "
                  "s.pending_delete FROM vm_snapshots s JOIN virtual_machines m ON m.id = s.vm_id "
                  "JOIN hosts h ON h.id = m.host_id");
        std::set<std::string> seen;
        for (const auto& s : st_.snapshots) {
            std::string key = s.host + "/" + s.vm + "/" + s.name;
            cur_ = s.host + "/snapshot/" + s.vm + "/" + s.name;
            if (!seen.insert(key).second)
                throw Error(cur_ + " is defined twice", "give each snapshot a unique name");
            std::string hash = fnv1a_hex(s.description + '\x1f' + (s.memory ? "1" : "0"));
            auto it = ex.find(key);
            const Existing* e = it == ex.end() ? nullptr : &it->second;
            bool changed = !e || e->pending || e->hash != Value(hash);
            count(e, changed);
            if (!changed) continue;
            auto vm = vm_ids_.find(s.host + "/" + s.vm);
            if (vm == vm_ids_.end())
                throw Error(cur_ + " names VM '" + s.vm + "', which has no spec on host " + s.host,
                            "add the VirtualMachine or fix `vm:`");
            std::vector<Value> v = {s.description, bool_text(s.memory), opt(s.src.file),
                                    std::to_string(s.src.line), hash};
            if (!e) {
                v.insert(v.begin(), {std::to_string(vm->second), s.name});
                static const std::vector<std::string> cols = {
                    "vm_id",     "name",      "description", "include_memory",
                    "spec_file", "spec_line", "spec_hash"};
                batch_.add("vm_snapshots", cols, std::move(v), cur_);
            } else {
                v.push_back(std::to_string(e->id));
                sql_.exec("UPDATE vm_snapshots SET description=?, include_memory=?, spec_file=?, "
                          "spec_line=?, spec_hash=?, pending_delete=0 WHERE id=?",
                          v);
            }
        }
        mark_missing("vm_snapshots", ex, seen);
        batch_.flush(cur_);
    }

    // Set-based links, also for rows whose own spec did not change (a Volume or Network
    // spec may have appeared or gone since).
    void relink() {
        const KindDesc& disk = *kind_by_name("disk");
        std::string type_c = disk.field("type")->column, pool_c = disk.field("pool")->column,
                    vol_c = disk.field("volume")->column;
        std::string sub = "(SELECT v.id FROM volumes v JOIN storage_pools p ON p.id = "
                          "v.storage_pool_id JOIN virtual_machines m ON m.host_id = p.host_id "
                          "WHERE m.id = volume_attachments.vm_id AND p.name = "
                          "volume_attachments." +
                          pool_c + " AND v.name = volume_attachments." + vol_c + ")";
        sql_.exec("UPDATE volume_attachments SET volume_id = CASE WHEN " + type_c +
                      " = 'volume' THEN " + sub + " END WHERE volume_id IS NOT (CASE WHEN " +
                      type_c + " = 'volume' THEN " + sub + " END)",
                  {});
        const KindDesc& nic = *kind_by_name("interface");
        std::string ntype = nic.field("type")->column, nnet = nic.field("network")->column;
        sql_.exec("DELETE FROM port_bindings WHERE id IN (SELECT b.id FROM port_bindings b JOIN "
                  "ports p ON p.id = b.port_id JOIN networks n ON n.id = b.network_id WHERE p." +
                      ntype + " IS NOT 'network' OR p." + nnet +
                      " IS NOT n.name OR n.host_id != p.host_id)",
                  {});
        sql_.exec("INSERT INTO port_bindings(port_id, network_id) SELECT p.id, n.id FROM ports p "
                  "JOIN networks n ON n.host_id = p.host_id AND n.name = p." +
                      nnet + " WHERE p." + ntype +
                      " = 'network' AND NOT EXISTS (SELECT 1 FROM port_bindings b WHERE "
                      "b.port_id = p.id)",
                  {});
        const FieldDesc* bv = volume_kind().field("backing_volume");
        std::string bexpr = bv && !bv->column.empty()
                                ? "volumes." + bv->column
                                : "json_extract(volumes.props_json, '$.backing_volume')";
        std::string bsub = "(SELECT b.id FROM volumes b WHERE b.storage_pool_id = "
                           "volumes.storage_pool_id AND b.name = " +
                           bexpr + ")";
        sql_.exec("UPDATE volumes SET backing_volume_id = " + bsub +
                      " WHERE backing_volume_id IS NOT " + bsub,
                  {});
    }
};

} // namespace

LoadSummary Store::save_desired(const SpecLoadResult& load, const std::string& revision,
                                const std::string& actor, const std::vector<std::string>& paths) {
    return write_load(load, revision, actor, paths, {});
}

LoadPreview Store::preview_desired(const SpecLoadResult& load, const std::string& revision,
                                   const std::string& actor,
                                   const std::vector<std::string>& paths) {
    LoadPreview out;
    out.summary = write_load(load, revision, actor, paths,
                             [&] { out.state = read_desired(&out.pending_delete); });
    out.summary.revision_id = 0; // rolled back with the rest
    return out;
}

LoadSummary Store::write_load(const SpecLoadResult& load, const std::string& revision,
                              const std::string& actor, const std::vector<std::string>& paths,
                              const std::function<void()>& then_rollback) {
    if (load.diags.has_errors())
        throw Error("the specs have " + std::to_string(load.diags.error_count()) +
                        " error(s); nothing was written",
                    "run `virtumancer validate` and fix them");
    LoadSummary sum;
    sum.revision = revision;
    std::string current = "the load revision";
    try {
        sql::Transaction tx(db_.db(), sql::Tx::write);
        [&] {
            Sql sql(db_.db());
            sum.revision_id =
                sql.insert("INSERT INTO load_revisions(revision, actor, spec_paths) VALUES(?,?,?)",
                           {revision, actor, nlohmann::json(paths).dump()});
            Batch batch(db_.db());
            sql.before_statement = [&] { batch.wait(current); };
            Saver(sql, batch, load.state, sum, current).run();
            current = "the spec file records";
            std::unordered_map<std::string, std::string> recorded; // path -> content hash
            {
                auto& q = sql.stmt("SELECT path, content_hash FROM spec_files");
                while (q.executeStep())
                    recorded.emplace(q.getColumn(0).getString(), q.getColumn(1).getString());
            }
            std::set<std::string> files;
            for (const auto& f : load.files) {
                if (!files.insert(f.path).second) continue; // listed twice: written once
                auto it = recorded.find(f.path);
                if (it != recorded.end() && it->second == f.content_hash) {
                    ++sum.files_skipped;
                    continue;
                }
                if (it == recorded.end()) {
                    static const std::vector<std::string> cols = {
                        "path", "content_hash", "size_bytes", "loaded_revision_id"};
                    batch.add("spec_files", cols,
                              {f.path, f.content_hash, std::to_string(f.size),
                               std::to_string(sum.revision_id)},
                              "the spec file record of " + f.path);
                    continue;
                }
                sql.exec("INSERT INTO spec_files(path, content_hash, size_bytes, "
                         "loaded_revision_id) VALUES(?,?,?,?) ON CONFLICT(path) DO UPDATE SET "
                         "content_hash=excluded.content_hash, size_bytes=excluded.size_bytes, "
                         "loaded_revision_id=excluded.loaded_revision_id, loaded_at=" +
                             std::string(kNow),
                         {f.path, f.content_hash, std::to_string(f.size),
                          std::to_string(sum.revision_id)});
            }
            batch.flush(current);
            std::vector<std::string> stale;
            for (const auto& [path, hash] : recorded)
                if (!files.count(path)) stale.push_back(path);
            std::sort(stale.begin(), stale.end());
            for (const auto& p : stale) sql.exec("DELETE FROM spec_files WHERE path=?", {p});
            nlohmann::json summary = {
                {"inserted", sum.inserted},   {"updated", sum.updated},
                {"unchanged", sum.unchanged}, {"marked_for_deletion", sum.marked_for_deletion},
                {"files", load.files.size()}, {"files_unchanged", sum.files_skipped},
                {"loader", loader_build_id()}};
            sql.exec("UPDATE load_revisions SET summary_json=? WHERE id=?",
                     {summary.dump(), std::to_string(sum.revision_id)});
        }();
        if (!then_rollback) {
            tx.commit();
            return sum;
        }
        current = "reading the desired state back";
        then_rollback();
        tx.rollback();
    } catch (const sql::Exception& e) {
        if (db_.db().lost()) // not the specs' fault: the transaction never committed
            throw Error("saving the specs failed at " + current + ": " + e.what() +
                            "; nothing was written",
                        "check the database server and the network to it, then run the same "
                        "load again");
        throw Error("saving the specs failed at " + current + ": " + e.what() +
                        "; nothing was written",
                    "fix the spec named above (a name, MAC, UUID or device target may be used "
                    "twice) and load again");
    }
    return sum;
}

} // namespace virtumancer
