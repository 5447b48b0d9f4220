#include "core/catalog.h"

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(CatalogTest, SerializeRoundTrips) {
  CatalogRecord full{.model_id = "org/m",
                     .pipeline_tag = "text-generation",
                     .modality = Modality::kMultimodal,
                     .num_parameters = 7'000'000'000,
                     .architecture = Architecture::kEncoderDecoder,
                     .library_name = "open_clip"};
  CatalogRecord empty{.model_id = "gpt2"};
  for (const CatalogRecord& record : {full, empty}) {
    ASSERT_TRUE(ValidateRecord(record).ok());
    absl::StatusOr<CatalogRecord> parsed = ParseRecord(record.model_id, SerializeRecord(record));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, record);
  }
  EXPECT_EQ(ParseRecord("x", "garbage").status().code(), absl::StatusCode::kDataLoss);
}

TEST(CatalogTest, ValidationNamesTheField) {
  auto field_of = [](CatalogRecord record) { return FieldOf(ValidateRecord(record)); };
  EXPECT_EQ(field_of({.model_id = "bad id"}), "model_id");
  EXPECT_EQ(field_of({.model_id = "a/b", .pipeline_tag = "Text Generation"}), "pipeline_tag");
  EXPECT_EQ(field_of({.model_id = "a/b", .pipeline_tag = std::string(65, 'a')}), "pipeline_tag");
  EXPECT_EQ(field_of({.model_id = "a/b", .modality = Modality::kUnknown}), "modality");
  EXPECT_EQ(field_of({.model_id = "a/b", .modality = static_cast<Modality>(40)}), "modality");
  EXPECT_EQ(field_of({.model_id = "a/b", .num_parameters = -1}), "num_parameters");
  EXPECT_EQ(field_of({.model_id = "a/b", .num_parameters = 1'000'000'000'000'001}),
            "num_parameters");
  EXPECT_EQ(field_of({.model_id = "a/b", .library_name = "a|b"}), "library_name");
  EXPECT_EQ(field_of({.model_id = "a/b", .library_name = "tab\there"}), "library_name");
}

TEST(CatalogTest, ArchitectureNames) {
  EXPECT_EQ(ArchitectureName(Architecture::kEncoderDecoder), "encoder-decoder");
  EXPECT_EQ(ArchitectureFromName("encoder_decoder"), Architecture::kEncoderDecoder);
  EXPECT_EQ(ArchitectureFromName("decoder"), Architecture::kDecoder);
  EXPECT_EQ(ArchitectureFromName("transformer"), std::nullopt);
}

}  // namespace
}  // namespace hubstats
