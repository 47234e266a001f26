// Store::load_desired: the canonical tables -> DesiredState. Each table is read once and
// grouped in memory (no query per VM), so loading scales with the number of rows.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "store_internal.hpp"
#include "virtumancer/store.hpp"

namespace virtumancer {
namespace {

using namespace store_detail;

std::string join_cols(const std::vector<std::string>& cols, const std::string& prefix) {
    std::string s;
    for (const auto& c : cols) s += ", " + prefix + c;
    return s;
}

// A Host spec from the first five columns of a row selected with kHostColumns.
const char* const kHostColumns = "name, uri, description, spec_file, spec_line";
HostSpec host_from_row(sql::Statement& q) {
    HostSpec h;
    h.name = q.getColumn(0).getString();
    h.uri = q.getColumn(1).getString();
    h.description = q.getColumn(2).getString();
    h.src.file = q.getColumn(3).getString();
    h.src.line = q.getColumn(4).getInt();
    return h;
}

// A VM's cloud_init column (store_save.cpp writes it).
CloudInitSpec cloud_init_of(const std::string& text) {
    CloudInitSpec ci;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return ci;
    ci.enabled = true;
    ci.user_data = j.value("user_data", "");
    ci.user_data_file = j.value("user_data_file", "");
    ci.user_data_env = j.value("user_data_env", "");
    ci.meta_data = j.value("meta_data", "");
    ci.has_network_config = j.contains("network_config");
    ci.network_config = j.value("network_config", "");
    ci.hash = j.value("hash", "");
    return ci;
}

std::vector<Value> read_values(sql::Statement& q, int from, size_t n) {
    std::vector<Value> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(column_value(q, from + static_cast<int>(i)));
    return v;
}

class Loader {
  public:
    Loader(Sql& sql, std::vector<std::string>* pending) : sql_(sql), pending_(pending) {}

    DesiredState run() {
        DesiredState st;
        read_vendor_options();
        {
            auto& q = sql_.stmt(std::string("SELECT ") + kHostColumns +
                                ", id, pending_delete FROM hosts ORDER BY id");
            while (q.executeStep()) {
                hosts_[q.getColumn(5).getInt64()] = q.getColumn(0).getString();
                if (!q.getColumn(6).getInt()) st.hosts.push_back(host_from_row(q));
            }
        }
        read_top(pool_kind(), "pool", &st.pools);
        read_top(volume_kind(), "volume", &st.volumes);
        read_top(network_kind(), "network", &st.networks);
        read_vms(&st.vms);
        read_snapshots(&st.snapshots);
        auto& q = sql_.stmt("SELECT revision FROM load_revisions ORDER BY id DESC LIMIT 1");
        if (q.executeStep()) st.revision = q.getColumn(0).getString();
        q.reset();
        auto& o = sql_.stmt("SELECT owner_id FROM installation WHERE id = 1");
        if (o.executeStep()) st.owner_id = o.getColumn(0).getString();
        o.reset();
        auto& vs = sql_.stmt("SELECT host, pool, volume, source, checksum, digest FROM "
                             "volume_sources");
        while (vs.executeStep())
            st.volume_sources[volume_source_key(vs.getColumn(0).getString(),
                                                vs.getColumn(1).getString(),
                                                vs.getColumn(2).getString())] = {
                vs.getColumn(3).getString(), vs.getColumn(4).getString(),
                vs.getColumn(5).getString()};
        vs.reset();
        return st;
    }

  private:
    Sql& sql_;
    std::vector<std::string>* pending_;
    std::unordered_map<int64_t, std::string> hosts_;
    std::unordered_map<int64_t, std::pair<std::string, std::string>> pools_; // id -> host, name
    std::unordered_map<std::string, std::unordered_map<int64_t, std::string>> vendor_;
    std::unordered_map<int64_t, std::pair<std::string, std::string>> vms_; // id -> host, name

    void read_vendor_options() {
        auto& q = sql_.stream("SELECT owner_table, owner_id, xml_fragment FROM vendor_options");
        while (q.executeStep())
            vendor_[q.getColumn(0).getString()][q.getColumn(1).getInt64()] =
                q.getColumn(2).getString();
    }

    std::string residue(const std::string& table, int64_t id) {
        auto t = vendor_.find(table);
        if (t == vendor_.end()) return {};
        auto it = t->second.find(id);
        return it == t->second.end() ? std::string() : std::move(it->second);
    }

    void note_pending(const std::string& host, const std::string& kind, const std::string& name) {
        if (pending_) pending_->push_back(host + "/" + kind + "/" + name);
    }

    // SELECT id, parent, spec_file, spec_line, spec_hash, pending_delete, props_json,
    //        <extras>, <layout columns> FROM table
    void read_top(const KindDesc& kind, const std::string& kname, std::vector<Spec>* out) {
        const KindLayout& l = layout(sql_, kind);
        bool vol = &kind == &volume_kind();
        bool net = &kind == &network_kind();
        auto cols = l.main_columns();
        std::string sql = std::string("SELECT id, ") + (vol ? "storage_pool_id" : "host_id") +
                          ", spec_file, spec_line, spec_hash, pending_delete, props_json, " +
                          (net ? "children_json" : "NULL") + join_cols(cols, "") + " FROM " +
                          kind.table + " ORDER BY id";
        auto& q = sql_.stream(sql);
        while (q.executeStep()) {
            int64_t id = q.getColumn(0).getInt64();
            int64_t parent = q.getColumn(1).getInt64();
            Spec s;
            s.obj.kind = &kind;
            decode(l, read_values(q, 8, cols.size()), {}, q.getColumn(6).getString(), &s.obj);
            if (vol)
                s.host = pools_[parent].first;
            else
                s.host = hosts_[parent];
            if (&kind == &pool_kind()) pools_[id] = {s.host, s.obj.name()};
            if (q.getColumn(5).getInt()) {
                note_pending(s.host, kname,
                             (vol ? pools_[parent].second + "/" : "") + s.obj.name());
                continue;
            }
            s.src.file = q.getColumn(2).getString();
            s.src.line = q.getColumn(3).getInt();
            s.content_hash = q.getColumn(4).getString();
            if (net) s.obj.children = children_from_json(kind, q.getColumn(7).getString());
            s.obj.extra_xml = residue(kind.table, id);
            out->push_back(std::move(s));
        }
    }

    // The devices of every VM stored in one device table, each with its VM and its position in
    // the VM's document (from the attachment table, or from the device table itself for disks
    // and NICs). A table that holds several kinds (serial_devices: serial, console, parallel)
    // tells them apart by its device_kind column.
    using Devices = std::unordered_map<int64_t, std::vector<std::pair<int64_t, Object>>>;
    void read_device_table(const DeviceTable& t, Devices* out) {
        std::set<std::string> names;
        for (const KindDesc* k : t.kinds)
            for (const auto& c : layout(sql_, *k).main) names.insert(c.column);
        std::vector<std::string> cols(names.begin(), names.end());
        std::unordered_map<std::string, size_t> index;
        for (size_t i = 0; i < cols.size(); ++i) index[cols[i]] = i;
        bool shared = t.kinds.size() > 1;
        std::string owner = t.attach.empty() ? "d" : "a"; // where vm_id and position are
        std::string sql = "SELECT d.id, " + owner + ".vm_id, " + owner + ".position, " +
                          (shared ? "d.device_kind" : "NULL") + ", d.props_json" +
                          join_cols(cols, "d.") + " FROM " + t.table + " d";
        if (!t.attach.empty()) sql += " JOIN " + t.attach + " a ON a." + t.fk + " = d.id";
        auto& q = sql_.stream(sql);
        while (q.executeStep()) {
            int64_t row_id = q.getColumn(0).getInt64();
            const KindDesc* k = t.kinds.front();
            if (shared) {
                std::string dk = q.getColumn(3).getString();
                k = nullptr;
                for (const KindDesc* c : t.kinds)
                    if (c->discriminator == dk) k = c;
                if (!k)
                    throw Error(t.table + " row " + std::to_string(row_id) +
                                    " has unknown device kind '" + dk + "'",
                                "the database was written by another virtumancer version");
            }
            std::vector<Value> all = read_values(q, 5, cols.size());
            const KindLayout& dl = layout(sql_, *k);
            std::vector<Value> vals;
            vals.reserve(dl.main.size());
            for (const auto& c : dl.main) vals.push_back(std::move(all[index[c.column]]));
            Object d;
            d.kind = k;
            decode(dl, vals, {}, q.getColumn(4).getString(), &d);
            d.extra_xml = residue(t.table, row_id);
            (*out)[q.getColumn(1).getInt64()].emplace_back(q.getColumn(2).getInt64(), std::move(d));
        }
    }

    void read_vms(std::vector<Spec>* out) {
        const KindDesc& kind = domain_kind();
        const KindLayout& l = layout(sql_, kind);
        // Side tables, by vm_id.
        std::map<std::string, std::unordered_map<int64_t, std::vector<Value>>> side;
        for (const auto& [table, cols] : l.side) {
            std::vector<std::string> names;
            for (const auto& c : cols) names.push_back(c.column);
            auto& q = sql_.stream("SELECT vm_id" + join_cols(names, "") + " FROM " + table);
            while (q.executeStep())
                side[table][q.getColumn(0).getInt64()] = read_values(q, 1, names.size());
        }
        // Devices: every device table once, then each VM's in document order (the positions
        // the store wrote, 0..n-1 across all of a VM's device tables).
        Devices found;
        for (const DeviceTable& t : device_tables()) read_device_table(t, &found);
        std::unordered_map<int64_t, std::vector<Object>> devices;
        for (auto& [vm, list] : found) {
            std::sort(list.begin(), list.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            for (size_t i = 1; i < list.size(); ++i)
                if (list[i].first == list[i - 1].first)
                    throw Error("VM row " + std::to_string(vm) + " has two devices at position " +
                                    std::to_string(list[i].first),
                                "run `virtumancer db check`, then load the specs again");
            auto& objs = devices[vm];
            objs.reserve(list.size());
            for (auto& [pos, obj] : list) objs.push_back(std::move(obj));
            std::vector<std::pair<int64_t, Object>>().swap(list); // free as we go
        }
        found.clear();
        auto cols = l.main_columns();
        auto& q = sql_.stream(
            "SELECT id, host_id, spec_file, spec_line, spec_hash, pending_delete, props_json, "
            "desired_state, autostart, is_template, clone_of, restart_policy, shutdown_timeout, "
            "force_stop, cloud_init_json, wait_for_ip_json" +
            join_cols(cols, "") + " FROM virtual_machines ORDER BY id");
        while (q.executeStep()) {
            int64_t id = q.getColumn(0).getInt64();
            Spec s;
            s.host = hosts_[q.getColumn(1).getInt64()];
            s.obj.kind = &kind;
            std::map<std::string, std::vector<Value>> sv;
            for (auto& [table, rows] : side) {
                auto it = rows.find(id);
                if (it != rows.end()) sv[table] = std::move(it->second);
            }
            decode(l, read_values(q, 16, cols.size()), sv, q.getColumn(6).getString(), &s.obj);
            vms_[id] = {s.host, s.obj.name()};
            if (q.getColumn(5).getInt()) {
                note_pending(s.host, "vm", s.obj.name());
                continue;
            }
            s.src.file = q.getColumn(2).getString();
            s.src.line = q.getColumn(3).getInt();
            s.content_hash = q.getColumn(4).getString();
            s.vm.state = q.getColumn(7).getString();
            s.vm.autostart = q.getColumn(8).getInt() != 0;
            s.vm.is_template = q.getColumn(9).getInt() != 0;
            s.vm.clone_of = q.getColumn(10).getString();
            s.vm.restart_policy = q.getColumn(11).getString();
            s.vm.shutdown_timeout = q.getColumn(12).getInt();
            s.vm.force_stop = q.getColumn(13).getInt() != 0;
            if (!q.getColumn(14).isNull())
                s.vm.cloud_init = cloud_init_of(q.getColumn(14).getString());
            if (!q.getColumn(15).isNull()) {
                auto w = nlohmann::json::parse(q.getColumn(15).getString(), nullptr, false);
                WaitForIp& wi = s.vm.wait_for_ip;
                wi.enabled = w.is_object();
                if (wi.enabled) {
                    wi.timeout = w.value("timeout", wi.timeout);
                    wi.source = w.value("source", wi.source);
                    wi.ipv4 = w.value("ipv4", wi.ipv4);
                    wi.ipv6 = w.value("ipv6", wi.ipv6);
                }
            }
            s.obj.extra_xml = residue(kind.table, id);
            auto d = devices.find(id);
            if (d != devices.end()) {
                s.obj.children = std::move(d->second);
                s.obj.children.shrink_to_fit(); // grown by doubling: up to half unused
                devices.erase(d);
            }
            out->push_back(std::move(s));
        }
    }

    void read_snapshots(std::vector<SnapshotSpec>* out) {
        auto& q = sql_.stream("SELECT vm_id, name, description, include_memory, spec_file, "
                              "spec_line, pending_delete FROM vm_snapshots ORDER BY id");
        while (q.executeStep()) {
            SnapshotSpec s;
            const auto& vm = vms_[q.getColumn(0).getInt64()];
            s.host = vm.first;
            s.vm = vm.second;
            s.name = q.getColumn(1).getString();
            if (q.getColumn(6).getInt()) {
                note_pending(s.host, "snapshot", s.vm + "/" + s.name);
                continue;
            }
            s.description = q.getColumn(2).getString();
            s.memory = q.getColumn(3).getInt() != 0;
            s.src.file = q.getColumn(4).getString();
            s.src.line = q.getColumn(5).getInt();
            out->push_back(std::move(s));
        }
    }
};

} // namespace

DesiredState Store::load_desired(std::vector<std::string>* pending_delete) {
    // One read transaction: a consistent snapshot even while another process loads.
    sql::Transaction tx(db_.db(), sql::Tx::read);
    DesiredState st = read_desired(pending_delete);
    return st;
}

DesiredState Store::read_desired(std::vector<std::string>* pending_delete) {
    Sql sql(db_.db());
    return Loader(sql, pending_delete).run();
}

std::vector<HostSpec> Store::load_hosts() {
    Sql sql(db_.db());
    std::vector<HostSpec> out;
    auto& q = sql.stmt(std::string("SELECT ") + kHostColumns +
                       " FROM hosts WHERE pending_delete = 0 ORDER BY id");
    while (q.executeStep()) out.push_back(host_from_row(q));
    q.reset();
    return out;
}

int64_t Store::latest_revision_id() {
    return db_.db().execAndGet("SELECT coalesce(max(id), 0) FROM load_revisions").getInt64();
}

std::string Store::loaded_file_hash(const std::string& path) {
    sql::Statement q(db_.db(), "SELECT content_hash FROM spec_files WHERE path=?");
    q.bind(1, path);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

} // namespace virtumancer
