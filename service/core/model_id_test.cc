#include "core/model_id.h"

#include <string>

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

TEST(ModelIdTest, AcceptsHubIds) {
  for (const char* id :
       {"google-bert/bert-base-uncased", "gpt2", "MIT/ast-finetuned-audioset-10-10-0.4593", "a/b",
        "Org_1/model.v2", "x", "sentence-transformers/all-MiniLM-L6-v2"}) {
    EXPECT_TRUE(ValidateModelId(id).ok()) << id;
  }
  EXPECT_TRUE(ValidateModelId(std::string(96, 'a') + "/" + std::string(96, 'b')).ok());
}

TEST(ModelIdTest, RejectsWithFieldAndReason) {
  struct Case {
    std::string id;
    std::string reason;
  };
  const Case cases[] = {
      {"", "is required"},
      {"a/b/c", "more than one '/'"},
      {"/b", "owner must be 1-96 characters"},
      {"a/", "name must be 1-96 characters"},
      {std::string(97, 'a'), "name must be 1-96 characters, got 97"},
      {"a b/c", "owner contains ' '"},
      {"a/b\x01", "byte 0x01"},
      {"-a/b", "must not start or end"},
      {"a/b.", "must not start or end"},
      {"a--b/c", "must not contain '--' or '..'"},
      {"a/b..c", "must not contain '--' or '..'"},
      {"a/b:c", "contains ':'"},
  };
  for (const Case& c : cases) {
    absl::Status status = ValidateModelId(c.id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.id;
    EXPECT_EQ(FieldOf(status), "model_id") << c.id;
    EXPECT_THAT(ReasonOf(status), HasSubstr(c.reason)) << c.id;
  }
}

TEST(ModelIdTest, AuthorIsOwnerOrCanonical) {
  EXPECT_EQ(AuthorOf("google/vit-base"), "google");
  EXPECT_EQ(AuthorOf("gpt2"), kCanonicalAuthor);
  EXPECT_EQ(kCanonicalAuthor, "(canonical)");
  // The canonical author can never be a real owner.
  EXPECT_FALSE(ValidateModelId(std::string(kCanonicalAuthor) + "/x").ok());
}

}  // namespace
}  // namespace hubstats
