// The YAML layer (libyaml events -> YNode trees): scalar kinds, nulls, 1-based places, aliases,
// documents and syntax errors.
#include <gtest/gtest.h>

#include "../../src/spec/spec_internal.hpp"

using namespace virtumancer;
using namespace virtumancer::spec;

namespace {

struct Parsed {
    std::vector<Doc> docs;
    Diagnostics diags;
};

Parsed parse(const std::string& text) {
    Parsed p;
    p.docs = parse_yaml_text("y.yaml", text, p.diags);
    return p;
}

std::string first_error(const Parsed& p) {
    for (const auto& d : p.diags.items())
        if (d.severity == Severity::Error) return d.to_string();
    return "";
}

} // namespace

TEST(SpecYaml, PlainQuotedTaggedAndNullScalars) {
    auto p = parse("a: 5\nb: \"5\"\nc: !!str 5\nd: ~\ne: null\nf: Null\ng: NULL\nh:\n"
                   "i: \"null\"\nj: ''\nk: nUll\n");
    ASSERT_FALSE(p.diags.has_errors()) << first_error(p);
    ASSERT_EQ(p.docs.size(), 1u);
    const YNode& r = p.docs[0].root;
    ASSERT_EQ(r.type, YNode::Map);
    ASSERT_EQ(r.map.size(), 11u);
    auto scalar = [&](const char* key, const char* value, bool plain) {
        const YNode* v = r.find(key);
        ASSERT_NE(v, nullptr) << key;
        EXPECT_EQ(v->type, YNode::Scalar) << key;
        EXPECT_EQ(v->value, value) << key;
        EXPECT_EQ(v->plain, plain) << key;
    };
    scalar("a", "5", true);
    scalar("b", "5", false);
    scalar("c", "5", false);
    for (const char* k : {"d", "e", "f", "g", "h"}) EXPECT_EQ(r.find(k)->type, YNode::Null) << k;
    scalar("i", "null", false);
    scalar("j", "", false);
    scalar("k", "nUll", true);
}

TEST(SpecYaml, PlacesAreOneBased) {
    auto p = parse("a:\n  b: [x, \"y\"]\n  c:\n  - z\n");
    ASSERT_FALSE(p.diags.has_errors()) << first_error(p);
    const YNode& r = p.docs[0].root;
    EXPECT_EQ(r.line, 1); // a block mapping starts at its first key
    EXPECT_EQ(r.col, 1);
    const YNode& a = *r.find("a");
    EXPECT_EQ(a.line, 2);
    EXPECT_EQ(a.col, 3);
    const YNode& b = *a.find("b");
    EXPECT_EQ(b.line, 2);
    EXPECT_EQ(b.col, 6);
    EXPECT_EQ(b.seq[1].col, 10);
    EXPECT_EQ(a.map[0].first.line, 2); // the key `b`
    EXPECT_EQ(a.map[0].first.col, 3);
    const YNode& c = *a.find("c");
    ASSERT_EQ(c.type, YNode::Seq);
    EXPECT_EQ(c.line, 4);
    EXPECT_EQ(c.col, 3);
    EXPECT_EQ(c.seq[0].line, 4);
    EXPECT_EQ(c.seq[0].col, 5);
}

TEST(SpecYaml, AliasesAreCopiesOfTheAnchoredNode) {
    auto p = parse("a: &x {k: v, n: [1, 2]}\nb: *x\nc: &s hello\nd: *s\ne: &s again\nf: *s\n");
    ASSERT_FALSE(p.diags.has_errors()) << first_error(p);
    const YNode& r = p.docs[0].root;
    const YNode& b = *r.find("b");
    ASSERT_EQ(b.type, YNode::Map);
    EXPECT_EQ(b.find("k")->value, "v");
    ASSERT_EQ(b.find("n")->seq.size(), 2u);
    EXPECT_EQ(b.line, 1); // the place of the anchored node
    EXPECT_EQ(b.col, 4);
    EXPECT_EQ(r.find("d")->value, "hello");
    EXPECT_EQ(r.find("f")->value, "again"); // the latest anchor of that name
}

TEST(SpecYaml, UnknownAliasIsASyntaxErrorAtItsPlace) {
    auto p = parse("a: 1\nb: *nope\n");
    EXPECT_TRUE(p.docs.empty());
    EXPECT_EQ(p.diags.error_count(), 1u);
    EXPECT_NE(first_error(p).find("y.yaml:2:4: error: YAML syntax error: unknown alias `*nope`"),
              std::string::npos)
        << first_error(p);
    // anchors do not reach into the next document
    auto q = parse("- &a [x]\n---\n- *a\n");
    EXPECT_NE(first_error(q).find("y.yaml:3:3: error: YAML syntax error: unknown alias `*a`"),
              std::string::npos)
        << first_error(q);
}

TEST(SpecYaml, RecursiveAliasIsRefused) {
    auto p = parse("a: &x [1, *x]\n");
    EXPECT_TRUE(p.docs.empty());
    EXPECT_NE(first_error(p).find("y.yaml:1:11: error: alias `*x` refers to a node that contains"),
              std::string::npos)
        << first_error(p);
}

TEST(SpecYaml, DocumentsAndEmptyDocuments) {
    auto p = parse("---\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n");
    ASSERT_FALSE(p.diags.has_errors()) << first_error(p);
    ASSERT_EQ(p.docs.size(), 2u);
    EXPECT_EQ(p.docs[0].root.find("a")->value, "1");
    EXPECT_EQ(p.docs[1].root.find("b")->value, "2");
    EXPECT_EQ(p.docs[1].file, "y.yaml");
    EXPECT_TRUE(parse("").docs.empty());
    EXPECT_TRUE(parse("# nothing\n").docs.empty());
}

TEST(SpecYaml, SyntaxErrorsDropTheWholeFile) {
    // an error in the second document: the first is not returned either, and only the syntax
    // error is reported (not the duplicate key before it)
    auto p = parse("a: 1\na: 2\n---\nb: [unclosed\n");
    EXPECT_TRUE(p.docs.empty());
    ASSERT_EQ(p.diags.error_count(), 1u) << first_error(p);
    EXPECT_NE(first_error(p).find("y.yaml:5:1: error: YAML syntax error: did not find expected "
                                  "',' or ']' (while parsing a flow sequence that starts at "
                                  "line 4, column 4)"),
              std::string::npos)
        << first_error(p);
    auto q = parse("a: b: c\n");
    EXPECT_NE(
        first_error(q).find("y.yaml:1:5: error: YAML syntax error: mapping values are not allowed"),
        std::string::npos)
        << first_error(q);
}

TEST(SpecYaml, DuplicateAndNonScalarKeys) {
    auto p = parse("a: 1\nb:\n  x: 1\n  x: 2\n? [complex, key]\n: v\n~: 3\n");
    std::vector<std::string> errs;
    for (const auto& d : p.diags.items()) // the first line (the remedy follows on the next)
        errs.push_back(d.to_string().substr(0, d.to_string().find('\n')));
    ASSERT_EQ(errs.size(), 3u);
    EXPECT_EQ(errs[0], "y.yaml:4:3: error: duplicate key `x` (first given at line 3, column 3); "
                       "remove one of them");
    EXPECT_EQ(errs[1], "y.yaml:5:3: error: mapping keys must be plain strings");
    EXPECT_EQ(errs[2], "y.yaml:7:1: error: mapping keys must be plain strings");
    ASSERT_EQ(p.docs.size(), 1u);
    EXPECT_EQ(p.docs[0].root.map.size(), 2u);
}
