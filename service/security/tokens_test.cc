#include "security/tokens.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Line(const std::string& name, const std::string& scopes, const std::string& token,
                 const std::string& options = "") {
  return absl::StrCat(name, " ", scopes, " sha256:", HexOf(Sha256Of(token)), " ", options, "\n");
}

TEST(Sha256Test, KnownDigests) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(HexOf(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TokenSetTest, FindsEachTokenAndNothingElse) {
  const std::string text = "# a comment line\n\n" + Line("job", "ingest", "secret-1") +
                           Line("board", "read", "secret-2") + "  # indented comment\n" +
                           Line("ops", "ingest,read,admin", "secret-3");
  absl::StatusOr<TokenSet> tokens = TokenSet::Parse(text);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 3u);
  ASSERT_NE(tokens->Find("secret-1"), nullptr);
  EXPECT_EQ(tokens->Find("secret-1")->name, "job");
  EXPECT_TRUE(tokens->Find("secret-1")->Has(TokenScope::kIngest));
  EXPECT_FALSE(tokens->Find("secret-1")->Has(TokenScope::kRead));
  EXPECT_EQ(tokens->Find("secret-2")->name, "board");
  EXPECT_TRUE(tokens->Find("secret-2")->Has(TokenScope::kRead));
  EXPECT_FALSE(tokens->Find("secret-2")->Has(TokenScope::kIngest));
  const Principal& ops = *tokens->Find("secret-3");
  EXPECT_TRUE(ops.Has(TokenScope::kIngest) && ops.Has(TokenScope::kRead) &&
              ops.Has(TokenScope::kAdmin));
  EXPECT_EQ(tokens->Find("secret-"), nullptr);
  EXPECT_EQ(tokens->Find("secret-11"), nullptr);
  EXPECT_EQ(tokens->Find(""), nullptr);
  // The digest itself is not a token.
  EXPECT_EQ(tokens->Find(HexOf(Sha256Of("secret-1"))), nullptr);
}

TEST(TokenSetTest, UpperCaseDigestsAndTabsAreFine) {
  std::string line = Line("job", "ingest", "t");
  for (char& c : line) c = c == ' ' ? '\t' : c;
  const std::string upper = "job ingest sha256:" + [] {
    std::string hex = HexOf(Sha256Of("t"));
    for (char& c : hex) c = static_cast<char>(std::toupper(c));
    return hex;
  }();
  for (const std::string& text : {line, upper, upper + "\r\n"}) {
    absl::StatusOr<TokenSet> tokens = TokenSet::Parse(text);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    EXPECT_NE(tokens->Find("t"), nullptr);
  }
}

TEST(TokenSetTest, OptionsBindProducersAndRate) {
  absl::StatusOr<TokenSet> tokens =
      TokenSet::Parse(Line("job", "ingest", "t", "producers=nightly-,backfill: rate=5000"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const Principal& job = *tokens->Find("t");
  EXPECT_EQ(job.ingest_rate, 5000);
  EXPECT_TRUE(job.MayProduce("nightly-2024-09-01"));
  EXPECT_TRUE(job.MayProduce("backfill:1"));
  EXPECT_TRUE(job.MayProduce(""));  // A server-made identity takes over nothing.
  EXPECT_FALSE(job.MayProduce("nightly"));
  EXPECT_FALSE(job.MayProduce("other-nightly-1"));
  Principal open;
  EXPECT_TRUE(open.MayProduce("anything"));
}

TEST(TokenSetTest, BadLinesAreRefusedWithTheirNumber) {
  const std::string good = Line("ok", "read", "good");
  const std::string digest = "sha256:" + HexOf(Sha256Of("x"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"job ingest", "expected NAME SCOPES"},
      {"j/b ingest " + digest, "name must be"},
      {std::string(65, 'n') + " ingest " + digest, "name must be"},
      {"job write " + digest, "unknown scope 'write'"},
      {"job ingest,, " + digest, "unknown scope ''"},
      {"job ingest " + HexOf(Sha256Of("x")), "the digest must be"},
      {"job ingest sha256:abc", "the digest must be"},
      {"job ingest " + digest.substr(0, digest.size() - 1) + "g", "the digest must be"},
      {"job ingest " + digest + " producers=", "producer prefix ''"},
      {"job ingest " + digest + " producers=a/b", "producer prefix 'a/b'"},
      {"job ingest " + digest + " rate=0", "rate '0'"},
      {"job ingest " + digest + " rate=fast", "rate 'fast'"},
      {"job ingest " + digest + " burst=3", "unknown option 'burst=3'"},
      {"ok ingest " + digest, "the name 'ok' is used twice"},
      {"other ingest sha256:" + HexOf(Sha256Of("good")), "has the digest of an earlier token"},
  };
  for (const auto& [line, message] : cases) {
    absl::StatusOr<TokenSet> tokens = TokenSet::Parse(good + line + "\n");
    ASSERT_FALSE(tokens.ok()) << line;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tokens.status().message(), HasSubstr("line 2: "));
    EXPECT_THAT(tokens.status().message(), HasSubstr(message)) << line;
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr(HexOf(Sha256Of("good")))));
  }
}

TEST(TokenSetTest, AnEmptyFileHasNoTokens) {
  absl::StatusOr<TokenSet> tokens = TokenSet::Parse("# nobody yet\n");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 0u);
  EXPECT_EQ(tokens->Find(""), nullptr);
}

}  // namespace
}  // namespace hubstats
