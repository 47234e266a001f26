// Everything about a field lives in its descriptor: the tables that remain outside the
// descriptors name only keys that exist, and the descriptors' own rules are consistent.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "../../src/spec/spec_internal.hpp"
#include "virtumancer/descriptors.hpp"
#include "virtumancer/model.hpp"

using namespace virtumancer;

namespace {

// Every kind reachable from the four top-level kinds (devices, network ip/dhcp children).
std::vector<const KindDesc*> all_kinds() {
    std::vector<const KindDesc*> out;
    std::vector<const KindDesc*> todo = {&domain_kind(), &pool_kind(), &volume_kind(),
                                         &network_kind()};
    while (!todo.empty()) {
        const KindDesc* k = todo.back();
        todo.pop_back();
        if (std::find(out.begin(), out.end(), k) != out.end()) continue;
        out.push_back(k);
        for (const KindDesc* c : spec::child_kinds(*k)) todo.push_back(c);
    }
    return out;
}

bool has_key(const std::vector<spec::SpecKey>& keys, const std::string& key) {
    return std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.key == key; });
}

} // namespace

// The one side table of defaults left (settings of spec documents and notes on unset fields):
// each entry names a setting of that document or a field of the kind it describes.
TEST(FieldTables, SpecOnlyDefaultsNameExistingKeys) {
    ASSERT_FALSE(spec::spec_only_defaults().empty());
    for (const auto& d : spec::spec_only_defaults()) {
        bool found = false;
        if (d.kind == "VirtualMachine")
            found = has_key(spec::vm_setting_keys(), d.key) || domain_kind().field(d.key);
        else if (d.kind == "Network")
            found = network_kind().field(d.key) != nullptr;
        else if (d.kind == "Snapshot")
            found = has_key(spec::snapshot_keys(), d.key);
        else if (d.kind == "Host")
            found = has_key(spec::host_keys(), d.key);
        EXPECT_TRUE(found) << d.kind << " `" << d.key << "` has no descriptor or setting";
        EXPECT_FALSE(d.shown.empty()) << d.kind << " " << d.key;
    }
}

// The generated list of defaults (docs) holds every descriptor default once, and only those.
TEST(FieldTables, DocumentedDefaultsComeFromDescriptors) {
    std::set<std::pair<std::string, std::string>> listed;
    for (const auto& d : spec::spec_defaults()) {
        EXPECT_TRUE(listed.insert({d.kind, d.key}).second) << "twice: " << d.kind << " " << d.key;
        if (const KindDesc* k = kind_by_name(d.kind)) {
            const FieldDesc* f = k->field(d.key);
            ASSERT_NE(f, nullptr) << d.kind << " `" << d.key << "` has no descriptor";
            EXPECT_EQ(d.shown, spec::shown_default(*f));
        }
    }
    for (const KindDesc* k : all_kinds())
        for (const auto& f : k->fields) {
            if (!spec::shown_default(f).empty()) {
                EXPECT_TRUE(listed.count({k->kind, f.key})) << k->kind << "." << f.key;
            }
        }
    // The defaults the loader has always applied are still there.
    for (auto [kind, key] : {std::pair{"domain", "domain_type"},
                             {"domain", "os_type"},
                             {"domain", "arch"},
                             {"domain", "acpi"},
                             {"disk", "device"},
                             {"disk", "bus"},
                             {"disk", "type"},
                             {"interface", "model"},
                             {"interface", "type"},
                             {"pool", "autostart"},
                             {"network", "autostart"},
                             {"volume", "format"}})
        EXPECT_TRUE(listed.count({kind, key})) << kind << "." << key;
}

TEST(FieldTables, DescriptorRulesAreConsistent) {
    int ranges = 0, hotplug = 0;
    for (const KindDesc* k : all_kinds()) {
        std::set<std::string> keys;
        for (const auto& f : k->fields) {
            std::string at = k->kind + "." + f.key;
            EXPECT_TRUE(keys.insert(f.key).second) << "duplicate key " << at;
            // a default is a constant or computed, not both
            EXPECT_FALSE(f.default_from && !f.default_value.empty()) << at;
            if (!f.default_value.empty() && !f.allowed.empty() && f.type == FieldType::String) {
                EXPECT_NE(std::find(f.allowed.begin(), f.allowed.end(), f.default_value),
                          f.allowed.end())
                    << at << " default not allowed";
            }
            if (f.range) {
                ++ranges;
                EXPECT_TRUE(f.type == FieldType::Int || f.type == FieldType::SizeKiB ||
                            f.type == FieldType::SizeBytes)
                    << at;
                EXPECT_LE(f.range->min, f.range->max) << at;
            }
            if (!f.observed_fallback.empty()) {
                EXPECT_NE(k->field(f.observed_fallback), nullptr) << at;
            }
            if (!f.live_max_field.empty()) {
                EXPECT_EQ(k, &domain_kind()) << at << ": classify_counts reads domain fields";
                EXPECT_NE(k->field(f.live_max_field), nullptr) << at;
            }
            EXPECT_TRUE(!f.decrease_change || !f.live_max_field.empty()) << at;
            if (!f.hotplug_values.empty()) {
                ++hotplug;
                for (const auto& v : f.hotplug_values)
                    EXPECT_TRUE(f.allowed.empty() ||
                                std::find(f.allowed.begin(), f.allowed.end(), v) != f.allowed.end())
                        << at << " hotplug value " << v;
            }
            // MACs and UUIDs compare without regard to letter case wherever they appear.
            if (f.key == "mac" || f.key == "uuid") {
                EXPECT_EQ(f.compare, CompareRule::CaseInsensitive) << at;
            }
            if (f.compare == CompareRule::MachineAlias) {
                EXPECT_EQ(f.key, "machine");
            }
        }
    }
    EXPECT_EQ(ranges, 13); // every range of the former table (spec_defaults.cpp) is in a field
    EXPECT_EQ(hotplug, 3); // disk device and bus, watchdog model
}

TEST(FieldTables, ComputedDefaults) {
    Object disk;
    disk.kind = kind_by_name("disk");
    ASSERT_NE(disk.kind, nullptr);
    disk.fields["device"] = "cdrom";
    EXPECT_EQ(spec::default_for(*disk.kind, "bus", disk).value_or(""), "sata");
    EXPECT_FALSE(spec::default_for(*disk.kind, "type", disk));
    disk.fields["volume"] = "v1";
    EXPECT_EQ(spec::default_for(*disk.kind, "type", disk).value_or(""), "volume");
    EXPECT_TRUE(spec::has_late_default(*disk.kind, "pool", disk));
    EXPECT_TRUE(spec::has_late_default(*disk.kind, "target", disk));
    EXPECT_FALSE(spec::has_late_default(*disk.kind, "bus", disk));
    Object dom;
    dom.kind = &domain_kind();
    EXPECT_EQ(spec::default_for(domain_kind(), "acpi", dom).value_or(""), "yes");
    EXPECT_EQ(spec::default_for(domain_kind(), "domain_type", dom).value_or(""), "kvm");
    EXPECT_FALSE(spec::default_for(domain_kind(), "current_memory", dom));
}

// The graphics kind whose password keys are refused (spec_defaults.cpp refused_key) exists.
TEST(FieldTables, RefusedKeysBelongToAKind) {
    const KindDesc* g = kind_by_name("graphics");
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(spec::refused_key(*g, "password"));
    EXPECT_TRUE(spec::refused_key(*g, "passwd"));
    EXPECT_FALSE(g->field("password")) << "a refused key must not also be a field";
}
