#include "security/access_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TokenSet Tokens(const std::string& text) {
  absl::StatusOr<TokenSet> tokens = TokenSet::Parse(text);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return *std::move(tokens);
}

std::string Line(const std::string& name, const std::string& scopes, const std::string& token,
                 const std::string& options = "") {
  return absl::StrCat(name, " ", scopes, " sha256:", HexOf(Sha256Of(token)), " ", options, "\n");
}

const std::string kFile = Line("writer", "ingest", "w-secret", "producers=job-a- rate=100") +
                          Line("reader", "read", "r-secret") +
                          Line("ops", "ingest,read,admin", "o-secret");

absl::StatusCode CodeOf(const absl::StatusOr<Grant>& grant) { return grant.status().code(); }

TEST(AccessPolicyTest, TokensOffLetsEveryCallIn) {
  AccessPolicy policy;
  EXPECT_FALSE(policy.tokens_on());
  for (TokenScope scope : {TokenScope::kIngest, TokenScope::kRead, TokenScope::kAdmin}) {
    absl::StatusOr<Grant> grant = policy.Authorize(std::nullopt, scope);
    ASSERT_TRUE(grant.ok());
    EXPECT_EQ(grant->principal, nullptr);
    EXPECT_TRUE(grant->MayProduce("anyone"));
    // Even a garbage token: nothing is checked.
    EXPECT_TRUE(policy.Authorize("Bearer nonsense", scope).ok());
  }
}

TEST(AccessPolicyTest, EachTokenGetsExactlyItsScopes) {
  AccessPolicy policy(Tokens(kFile), /*public_reads=*/false);
  EXPECT_TRUE(policy.Authorize("Bearer w-secret", TokenScope::kIngest).ok());
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer w-secret", TokenScope::kRead)),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer r-secret", TokenScope::kIngest)),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.Authorize("Bearer r-secret", TokenScope::kRead).ok());
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer r-secret", TokenScope::kAdmin)),
            absl::StatusCode::kPermissionDenied);
  for (TokenScope scope : {TokenScope::kIngest, TokenScope::kRead, TokenScope::kAdmin}) {
    EXPECT_TRUE(policy.Authorize("Bearer o-secret", scope).ok());
    EXPECT_EQ(CodeOf(policy.Authorize(std::nullopt, scope)), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(CodeOf(policy.Authorize("Bearer x-secret", scope)),
              absl::StatusCode::kUnauthenticated);
  }
  absl::StatusOr<Grant> denied = policy.Authorize("Bearer w-secret", TokenScope::kRead);
  EXPECT_THAT(denied.status().message(), HasSubstr("'writer'"));
  EXPECT_THAT(denied.status().message(), HasSubstr("'read'"));
  EXPECT_THAT(denied.status().message(), Not(HasSubstr("w-secret")));
}

TEST(AccessPolicyTest, TheAuthorizationValueMustBeABearerToken) {
  AccessPolicy policy(Tokens(kFile), /*public_reads=*/false);
  EXPECT_TRUE(policy.Authorize("bearer r-secret", TokenScope::kRead).ok());
  EXPECT_TRUE(policy.Authorize("BEARER  r-secret ", TokenScope::kRead).ok());
  for (const char* value :
       {"", "Bearer", "Bearer ", "r-secret", "Basic r-secret", "Bearerr-secret"}) {
    absl::StatusOr<Grant> grant = policy.Authorize(value, TokenScope::kRead);
    EXPECT_EQ(CodeOf(grant), absl::StatusCode::kUnauthenticated) << value;
  }
}

TEST(AccessPolicyTest, PublicReadsNeedNoTokenButAWrongOneIsStillRefused) {
  AccessPolicy policy(Tokens(kFile), /*public_reads=*/true);
  absl::StatusOr<Grant> anonymous = policy.Authorize(std::nullopt, TokenScope::kRead);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->principal, nullptr);
  // A writer's job may read what everyone may.
  EXPECT_TRUE(policy.Authorize("Bearer w-secret", TokenScope::kRead).ok());
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer nobody", TokenScope::kRead)),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(policy.Authorize(std::nullopt, TokenScope::kIngest)),
            absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, IngestGrantsCarryTheBindingAndTheRate) {
  AccessPolicy policy(Tokens(kFile), /*public_reads=*/false);
  absl::StatusOr<Grant> writer = policy.Authorize("Bearer w-secret", TokenScope::kIngest);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(writer->name(), "writer");
  EXPECT_TRUE(writer->MayProduce("job-a-1"));
  EXPECT_FALSE(writer->MayProduce("job-b-1"));
  ASSERT_NE(writer->rate, nullptr);
  EXPECT_EQ(writer->rate->rate(), 100);
  absl::StatusOr<Grant> ops = policy.Authorize("Bearer o-secret", TokenScope::kIngest);
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->rate, nullptr);
  EXPECT_TRUE(ops->MayProduce("job-b-1"));
}

TEST(AccessPolicyTest, ReloadingRevokesAddsAndKeepsTheRateBalance) {
  AccessPolicy policy(Tokens(kFile), /*public_reads=*/false);
  absl::StatusOr<Grant> before = policy.Authorize("Bearer w-secret", TokenScope::kIngest);
  ASSERT_TRUE(before.ok());
  before->rate->Take(1000, absl::Now());  // Deep in debt.
  policy.SetTokens(Tokens(Line("writer", "ingest", "w-secret-2", "rate=200") +
                          Line("reader", "read", "r-secret")));
  EXPECT_EQ(policy.token_count(), 2u);
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer w-secret", TokenScope::kIngest)),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(policy.Authorize("Bearer o-secret", TokenScope::kRead)),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<Grant> after = policy.Authorize("Bearer w-secret-2", TokenScope::kIngest);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->rate, before->rate) << "the token's limiter must survive the reload";
  EXPECT_EQ(after->rate->rate(), 200);
  EXPECT_GT(after->rate->Debt(absl::Now()), absl::Seconds(3));
  EXPECT_TRUE(after->MayProduce("job-b-1")) << "the new line binds no producers";
}

}  // namespace
}  // namespace hubstats
