// The SQL migrations of schema/migrations, embedded at build time.
#pragma once
#include <vector>

namespace virtumancer {

struct Migration {
    int version;      // NNNN of schema/migrations/NNNN_name.sql
    const char* name; // file name
    const char* sql;
};

// In ascending version order.
const std::vector<Migration>& embedded_migrations();

} // namespace virtumancer
