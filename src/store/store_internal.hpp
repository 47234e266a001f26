// Internal to the store: statement cache, schema introspection and the descriptor-driven
// mapping between an Object's typed fields and the columns of its table family.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "virtumancer/descriptors.hpp"
#include "virtumancer/hash.hpp"
#include "virtumancer/model.hpp"
#include "virtumancer/sql.hpp"

namespace virtumancer::store_detail {

using Value = std::optional<std::string>; // NULL or the text bound/read

struct ColumnInfo {
    std::string name, type; // declared type, upper case
    bool notnull = false;
    Value dflt; // default as a literal value ("dir", "1"); nullopt when none
};

struct TableInfo {
    std::string name;
    std::vector<ColumnInfo> cols;
    const ColumnInfo* find(const std::string& col) const;
};

// A statement cache over one connection. Statements are reset before reuse.
class Sql {
  public:
    explicit Sql(sql::Connection& db) : db_(db) {}
    sql::Statement& stmt(const std::string& sql);
    // A query over a whole table: its rows fetched in batches (sql::Connection::
    // prepare_streamed), for the reads of the desired state.
    sql::Statement& stream(const std::string& sql);
    // Binds values (text or NULL) to ?1..?N, executes, resets; returns rows changed.
    int exec(const std::string& sql, const std::vector<Value>& binds);
    // An INSERT into a table with an id column -> the new row's id (through RETURNING id).
    int64_t insert(const std::string& sql, const std::vector<Value>& binds);
    const TableInfo& table(const std::string& name);
    sql::Connection& db() { return db_; }
    // Called before each statement this cache runs (save_desired: waits for the rows a
    // writer thread is still sending, so every statement sees them; store_save.cpp).
    std::function<void()> before_statement;

  private:
    sql::Connection& db_;
    std::unordered_map<std::string, std::unique_ptr<sql::Statement>> cache_, streamed_;
    sql::Statement& cached(const std::string& sql, bool streamed);
    std::map<std::string, TableInfo> tables_;
};

void bind_all(sql::Statement& st, const std::vector<Value>& binds);
Value column_value(sql::Statement& st, int idx);

// One typed field stored in a column.
struct ColumnField {
    const FieldDesc* field = nullptr;
    std::string table; // kind table, or the side table of "table.column"
    std::string column;
    bool integer = false;  // INTEGER affinity: only canonical int64 text goes there
    bool bool_int = false; // a Bool/OnOff/Presence field in an INTEGER column (1/0)
    bool notnull = false;
    Value dflt;
};

struct KindLayout {
    const KindDesc* kind = nullptr;
    std::vector<ColumnField> main;                        // columns of kind.table
    std::map<std::string, std::vector<ColumnField>> side; // side table -> columns (vm_id)
    std::vector<std::string> main_columns() const;
};

// Built from the descriptors and checked against the schema (throws Error on a mismatch).
const KindLayout& layout(Sql& sql, const KindDesc& kind);

// The attachment table of a device kind ("" for disks and interfaces, whose table has vm_id)
// and its foreign key column to the resource row.
std::string attach_table_of(const KindDesc& kind);
std::string attach_fk_of(const std::string& attach_table);

// Every table that holds devices of VMs, once, in the order of the device kinds (`other`
// last): its attachment table and that table's key to the device ("" for volume_attachments
// and ports, which carry vm_id and position themselves), and the kinds it stores
// (serial_devices: serial, console and parallel, told apart by device_kind).
struct DeviceTable {
    std::string table, attach, fk;
    std::vector<const KindDesc*> kinds;
};
const std::vector<DeviceTable>& device_tables();

// Encoded row of one object: main column values in layout order, side table values, props.
struct Encoded {
    std::vector<Value> main;
    std::map<std::string, std::vector<Value>> side; // only tables with a non-NULL value
    std::string props_json;
};
Encoded encode(const KindLayout& l, const Object& obj, const std::string& what);

// Decodes column values (in layout order) and props_json into obj->fields.
void decode(const KindLayout& l, const std::vector<Value>& main,
            const std::map<std::string, std::vector<Value>>& side, const std::string& props_json,
            Object* obj);

// Network children (ip, dhcp range/host) <-> JSON.
nlohmann::json children_to_json(const std::vector<Object>& children);
std::vector<Object> children_from_json(const KindDesc& parent, const std::string& text);

// Fingerprint of an object's content (fields, residue, children).
std::string object_fingerprint(const Object& obj);

std::string bool_text(bool b); // "1" / "0"

// Identity of the running executable (version, size and mtime of /proc/self/exe): the
// same spec bytes give the same desired state only under the same loader code.
std::string loader_build_id();

} // namespace virtumancer::store_detail
