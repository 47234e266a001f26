// The one hash (include/virtumancer/hash.hpp), used by the store and the planner alike.
#include <gtest/gtest.h>

#include "virtumancer/hash.hpp"

using namespace virtumancer;

// The FNV-1a fingerprints are stored (content hashes, host and snapshot hashes in the
// database, object fingerprints): these values must never change. (The offset basis is the
// decimal 1469598103934665603, not FNV's 14695981039346656037: kept, it is persisted.)
TEST(Hash, Fnv1aValuesAreStable) {
    EXPECT_EQ(fnv1a_hex(""), "14650fb0739d0383");
    EXPECT_EQ(fnv1a_hex("a"), "44bd8ad473cd9906");
    EXPECT_EQ(fnv1a_hex("foobar"), "88fad7c0a8ff07f2");
}
