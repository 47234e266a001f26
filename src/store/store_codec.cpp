// Descriptor-driven mapping between Object fields and SQL columns (see store_internal.hpp).
#include <algorithm>
#include <cctype>

#include "store_internal.hpp"
#include "virtumancer/diag.hpp"
#include "virtumancer/parse_int.hpp"

namespace virtumancer::store_detail {

const ColumnInfo* TableInfo::find(const std::string& col) const {
    for (const auto& c : cols)
        if (c.name == col) return &c;
    return nullptr;
}

sql::Statement& Sql::cached(const std::string& sql, bool streamed) {
    if (before_statement) before_statement();
    auto& cache = streamed ? streamed_ : cache_;
    auto it = cache.find(sql);
    if (it == cache.end())
        it = cache
                 .emplace(sql, streamed ? std::make_unique<sql::Statement>(
                                              db_, sql, sql::Statement::Streamed{})
                                        : std::make_unique<sql::Statement>(db_, sql))
                 .first;
    it->second->reset();
    it->second->clearBindings();
    return *it->second;
}

sql::Statement& Sql::stmt(const std::string& sql) {
    return cached(sql, false);
}
sql::Statement& Sql::stream(const std::string& sql) {
    return cached(sql, true);
}

void bind_all(sql::Statement& st, const std::vector<Value>& binds) {
    for (size_t i = 0; i < binds.size(); ++i) {
        if (binds[i])
            st.bind(static_cast<int>(i + 1), *binds[i]);
        else
            st.bind(static_cast<int>(i + 1));
    }
}

Value column_value(sql::Statement& st, int idx) {
    auto c = st.getColumn(idx);
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

int Sql::exec(const std::string& sql, const std::vector<Value>& binds) {
    auto& st = stmt(sql);
    bind_all(st, binds);
    int n = st.exec();
    st.reset();
    return n;
}

int64_t Sql::insert(const std::string& sql, const std::vector<Value>& binds) {
    auto& st = stmt(sql + " RETURNING id");
    bind_all(st, binds);
    int64_t id = st.executeStep() ? st.getColumn(0).getInt64() : 0;
    st.reset();
    return id;
}

const TableInfo& Sql::table(const std::string& name) {
    auto it = tables_.find(name);
    if (it != tables_.end()) return it->second;
    if (before_statement) before_statement();
    TableInfo ti;
    ti.name = name;
    for (auto& m : db_.columns(name)) {
        ColumnInfo c;
        c.name = std::move(m.name);
        c.type = std::move(m.type);
        c.notnull = m.notnull;
        c.dflt = std::move(m.dflt);
        ti.cols.push_back(std::move(c));
    }
    return tables_.emplace(name, std::move(ti)).first->second;
}

std::vector<std::string> KindLayout::main_columns() const {
    std::vector<std::string> out;
    for (const auto& c : main) out.push_back(c.column);
    return out;
}

namespace {

bool is_bool_type(FieldType t) {
    return t == FieldType::Bool || t == FieldType::OnOff || t == FieldType::Presence;
}

const char* true_text(FieldType t) {
    return t == FieldType::OnOff ? "on" : "yes";
}
const char* false_text(FieldType t) {
    return t == FieldType::OnOff ? "off" : "no";
}

// Canonical int64 decimal: what an INTEGER column gives back byte for byte.
bool canonical_int(const std::string& s) {
    if (s.empty()) return false;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i >= s.size()) return false;
    if (s[i] == '0' && s.size() > i + 1) return false;
    if (s == "-0") return false;
    return parse_int(s).has_value();
}

// The text to put in the column, or nullopt when the value must go to props_json instead
// (it would not come back identical from that column).
Value to_column(const ColumnField& c, const std::string& v) {
    if (c.bool_int) {
        FieldType t = c.field->type;
        if (v == true_text(t)) return std::string("1");
        if (v == false_text(t) && t != FieldType::Presence) return std::string("0");
        return std::nullopt;
    }
    if (c.integer) return canonical_int(v) ? Value(v) : std::nullopt;
    return v;
}

std::string from_column(const ColumnField& c, const std::string& v) {
    if (c.bool_int) return v == "0" ? false_text(c.field->type) : true_text(c.field->type);
    return v;
}

std::map<const KindDesc*, KindLayout>& layouts() {
    static std::map<const KindDesc*, KindLayout> m;
    return m;
}

} // namespace

const KindLayout& layout(Sql& sql, const KindDesc& kind) {
    auto it = layouts().find(&kind);
    if (it != layouts().end()) return it->second;
    KindLayout l;
    l.kind = &kind;
    for (const auto& f : kind.fields) {
        if (f.column.empty()) continue;
        ColumnField c;
        c.field = &f;
        auto dot = f.column.find('.');
        c.table = dot == std::string::npos ? kind.table : f.column.substr(0, dot);
        c.column = dot == std::string::npos ? f.column : f.column.substr(dot + 1);
        const ColumnInfo* ci = sql.table(c.table).find(c.column);
        if (!ci)
            throw Error("descriptor " + kind.kind + "." + f.key + " names column " + c.table + "." +
                            c.column + ", which the schema does not have",
                        "add the column in a new schema/migrations file or fix the descriptor");
        c.integer = ci->type.find("INT") != std::string::npos;
        c.bool_int = c.integer && is_bool_type(f.type);
        c.notnull = ci->notnull;
        c.dflt = ci->dflt;
        if (dot == std::string::npos)
            l.main.push_back(c);
        else
            l.side[c.table].push_back(c);
    }
    return layouts().emplace(&kind, std::move(l)).first->second;
}

std::string attach_table_of(const KindDesc& kind) {
    if (!kind.attach_table.empty()) return kind.attach_table;
    if (kind.kind == "other") return "other_device_attachments";
    return "";
}

std::string attach_fk_of(const std::string& attach_table) {
    const std::string suffix = "_attachments";
    return attach_table.substr(0, attach_table.size() - suffix.size()) + "_id";
}

const std::vector<DeviceTable>& device_tables() {
    static const std::vector<DeviceTable> tables = [] {
        std::vector<DeviceTable> out;
        auto kinds = device_kinds();
        kinds.push_back(&other_device_kind());
        for (const KindDesc* k : kinds) {
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const DeviceTable& t) { return t.table == k->table; });
            if (it == out.end()) {
                std::string at = attach_table_of(*k);
                it = out.insert(out.end(), {k->table, at, at.empty() ? "" : attach_fk_of(at), {}});
            }
            it->kinds.push_back(k);
        }
        return out;
    }();
    return tables;
}

Encoded encode(const KindLayout& l, const Object& obj, const std::string& what) {
    Encoded e;
    nlohmann::json props = nlohmann::json::object();
    nlohmann::json absent = nlohmann::json::array();
    std::map<std::string, bool> in_column;
    auto put = [&](const ColumnField& c) -> Value {
        auto it = obj.fields.find(c.field->key);
        Value v;
        if (it != obj.fields.end()) {
            v = to_column(c, it->second);
            if (v) in_column[c.field->key] = true;
        }
        if (!v && c.notnull) {
            if (!c.dflt)
                throw Error(what + ": `" + c.field->key + "` is required",
                            "set " + c.field->key + " in the spec");
            // Stored as the column default; read back as absent (or overridden by props).
            if (it == obj.fields.end()) absent.push_back(c.field->key);
            v = c.dflt;
        }
        return v;
    };
    for (const auto& c : l.main) e.main.push_back(put(c));
    for (const auto& [table, cols] : l.side) {
        std::vector<Value> vals;
        bool any = false;
        for (const auto& c : cols) {
            vals.push_back(put(c));
            any = any || vals.back().has_value();
        }
        if (any) e.side[table] = std::move(vals);
    }
    for (const auto& [k, v] : obj.fields)
        if (!in_column.count(k)) props[k] = v;
    if (!absent.empty()) props["_absent"] = absent;
    e.props_json = props.dump();
    return e;
}

void decode(const KindLayout& l, const std::vector<Value>& main,
            const std::map<std::string, std::vector<Value>>& side, const std::string& props_json,
            Object* obj) {
    for (size_t i = 0; i < l.main.size() && i < main.size(); ++i)
        if (main[i]) obj->fields[l.main[i].field->key] = from_column(l.main[i], *main[i]);
    for (const auto& [table, cols] : l.side) {
        auto it = side.find(table);
        if (it == side.end()) continue;
        for (size_t i = 0; i < cols.size() && i < it->second.size(); ++i)
            if (it->second[i])
                obj->fields[cols[i].field->key] = from_column(cols[i], *it->second[i]);
    }
    if (!props_json.empty() && props_json != "{}") {
        auto j = nlohmann::json::parse(props_json);
        for (auto& [k, v] : j.items()) {
            if (k == "_absent") continue;
            obj->fields[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
        if (j.contains("_absent"))
            for (const auto& k : j["_absent"]) obj->fields.erase(k.get<std::string>());
    }
    obj->fields.shrink_to_fit(); // desired objects are all held at once while planning
}

nlohmann::json children_to_json(const std::vector<Object>& children) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : children) {
        nlohmann::json o;
        o["kind"] = c.kind ? c.kind->kind : "";
        nlohmann::json fields = nlohmann::json::object();
        for (const auto& [k, v] : c.fields) fields[k] = v;
        o["fields"] = std::move(fields);
        o["extra_xml"] = c.extra_xml;
        o["children"] = children_to_json(c.children);
        arr.push_back(std::move(o));
    }
    return arr;
}

namespace {
std::vector<Object> children_from(const KindDesc& parent, const nlohmann::json& arr) {
    std::vector<Object> out;
    for (const auto& o : arr) {
        Object c;
        std::string kind = o.value("kind", "");
        for (const auto* k : parent.children)
            if (k->kind == kind) c.kind = k;
        if (!c.kind)
            throw Error("stored child of a " + parent.kind + " has unknown kind '" + kind + "'",
                        "the database was written by another virtumancer version; reload specs");
        for (auto& [k, v] : o["fields"].items()) c.fields[k] = v.get<std::string>();
        c.extra_xml = o.value("extra_xml", "");
        if (o.contains("children")) c.children = children_from(*c.kind, o["children"]);
        out.push_back(std::move(c));
    }
    return out;
}
} // namespace

std::vector<Object> children_from_json(const KindDesc& parent, const std::string& text) {
    if (text.empty() || text == "[]") return {};
    return children_from(parent, nlohmann::json::parse(text));
}

namespace {
void fingerprint_into(const Object& o, std::string* s) {
    *s += o.kind ? o.kind->kind : "?";
    *s += '\x1f';
    for (const auto& [k, v] : o.fields) {
        *s += k;
        *s += '=';
        *s += v;
        *s += '\x1e';
    }
    *s += o.extra_xml;
    *s += '\x1d';
    for (const auto& c : o.children) fingerprint_into(c, s);
    *s += '\x1c';
}
} // namespace

std::string object_fingerprint(const Object& obj) {
    std::string s;
    fingerprint_into(obj, &s);
    return "obj:" + fnv1a_hex(s);
}

std::string bool_text(bool b) {
    return b ? "1" : "0";
}

} // namespace virtumancer::store_detail
