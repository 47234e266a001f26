// Streamed reads (sql::Connection::prepare_streamed): inside a transaction PostgreSQL fetches
// the rows through a cursor, 2,000 a round trip, so a large result is never in memory at once;
// the rows are those of a plain statement, at every batch boundary, re-run, abandoned or
// outside a transaction. SQLite steps row by row anyway: the same results.
#include "store_test_util.hpp"

using namespace virtumancer;
using namespace store_test;

namespace {

std::vector<std::string> rows_of(sql::Statement& q) {
    std::vector<std::string> out;
    while (q.executeStep())
        out.push_back(q.getColumn(0).getString() + "=" +
                      (q.getColumn(1).isNull() ? "NULL" : q.getColumn(1).getString()));
    return out;
}

// A table t(id, v) with ids 1..n, v = 'v<id>' (NULL for every 7th).
std::unique_ptr<Database> with_rows(const std::string& where, int n) {
    auto db = Database::open(where);
    auto& c = db->db();
    c.exec("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT)");
    c.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
           std::to_string(n) +
           ") INSERT INTO t(id, v) SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END "
           "FROM n");
    return db;
}

const char* kQuery = "SELECT id, v FROM t WHERE id <= ?1 ORDER BY id";

} // namespace

class SqlStreamed : public BackendTest {};
VIRTUMANCER_ON_BOTH_BACKENDS(SqlStreamed);

TEST_P(SqlStreamed, GivesTheRowsOfAPlainStatementAtEveryBatchBoundary) {
    auto db = with_rows(target("s"), 4500);
    auto& c = db->db();
    sql::Transaction tx(c, sql::Tx::read);
    sql::Statement plain(c, kQuery);
    sql::Statement streamed(c, kQuery, sql::Statement::Streamed{});
    for (int n : {0, 1, 1999, 2000, 2001, 4000, 4500}) {
        plain.reset();
        plain.bind(1, n);
        streamed.reset();
        streamed.bind(1, n);
        auto want = rows_of(plain);
        ASSERT_EQ(want.size(), static_cast<size_t>(n));
        EXPECT_EQ(rows_of(streamed), want) << n << " rows";
    }
    // Run again in the same transaction: a new cursor, the same rows.
    streamed.reset();
    streamed.bind(1, 4500);
    auto first = rows_of(streamed);
    streamed.reset();
    streamed.bind(1, 4500);
    EXPECT_EQ(rows_of(streamed), first);
    EXPECT_EQ(first.back(), "4500=v4500");
    EXPECT_EQ(first[6], "7=NULL");
}

TEST_P(SqlStreamed, PostgreSQLFetchesInBatchesInsideATransactionOnly) {
    auto db = with_rows(target("b"), 4500);
    auto& c = db->db();
    auto statements = [&](sql::Statement& q) {
        int64_t before = c.statements();
        EXPECT_EQ(rows_of(q).size(), 4500u);
        return c.statements() - before;
    };
    {
        sql::Transaction tx(c, sql::Tx::read);
        sql::Statement q(c, kQuery, sql::Statement::Streamed{});
        q.bind(1, 4500);
        // PostgreSQL: DECLARE, then FETCH 2,000 + 2,000 + 500 rows; SQLite: one statement.
        EXPECT_EQ(statements(q), pg() ? 4 : 1);
    }
    // Outside a transaction there is no cursor: one statement, the whole result.
    sql::Statement q(c, kQuery, sql::Statement::Streamed{});
    q.bind(1, 4500);
    EXPECT_EQ(statements(q), 1);
}

TEST_P(SqlStreamed, AnAbandonedReadLeavesTheNextTransactionsAlone) {
    auto db = with_rows(target("a"), 4500);
    auto& c = db->db();
    sql::Statement q(c, kQuery, sql::Statement::Streamed{});
    {
        sql::Transaction tx(c, sql::Tx::read);
        q.bind(1, 4500);
        for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getString(), "10");
        tx.commit(); // its cursor ends with it
    }
    {
        sql::Transaction tx(c, sql::Tx::write);
        c.exec("INSERT INTO t(id, v) VALUES (4501, 'late')");
        q.reset(); // the statement of the ended read, reset inside another transaction
        q.clearBindings();
        q.bind(1, 4501);
        EXPECT_EQ(rows_of(q).back(), "4501=late");
        tx.commit();
    }
    EXPECT_EQ(c.execAndGet("SELECT count(*) FROM t").getInt(), 4501);
}
