#include "core/model_class.h"

#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(ModelClassTest, ExplicitModalityWinsOverTag) {
  const TaskTable& table = TaskTable::BuiltIn();
  CatalogRecord record{.model_id = "a/b", .pipeline_tag = "text-generation"};
  EXPECT_EQ(Classify(record, table).modality, Modality::kNlp);
  record.modality = Modality::kAudio;
  EXPECT_EQ(Classify(record, table).modality, Modality::kAudio);
  record = {.model_id = "a/b", .pipeline_tag = "no-such-task"};
  EXPECT_EQ(Classify(record, table).modality, Modality::kOther);
  record = {.model_id = "a/b"};
  EXPECT_EQ(Classify(record, table).modality, Modality::kOther);
}

TEST(ModelClassTest, FieldsAndKeys) {
  CatalogRecord record{.model_id = "a/b",
                       .pipeline_tag = "fill-mask",
                       .num_parameters = 110'000'000,
                       .architecture = Architecture::kEncoder,
                       .library_name = "transformers"};
  ModelClass model_class = Classify(record, TaskTable::BuiltIn());
  EXPECT_EQ(model_class.size_bucket, 7);
  const std::array<std::string, 4> fields = model_class.AggregateFields();
  EXPECT_EQ(fields[0], "s|nlp|7");
  EXPECT_EQ(fields[1], "t|nlp|fill-mask");
  EXPECT_EQ(fields[2], "a|nlp|encoder");
  EXPECT_EQ(fields[3], "l|nlp|transformers");

  ModelClass bare = Classify({.model_id = "x"}, TaskTable::BuiltIn());
  EXPECT_EQ(bare.size_bucket, std::nullopt);
  EXPECT_EQ(bare.AggregateFields()[0], "s|other|u");
  EXPECT_EQ(bare.task, "(none)");
  EXPECT_EQ(bare.architecture, "(none)");

  const std::array<std::string, 4> unknown = ModelClass::Unknown().AggregateFields();
  EXPECT_EQ(unknown[0], "s|unknown|u");
  EXPECT_EQ(unknown[1], "t|unknown|unknown");
}

TEST(ModelClassTest, EncodeDecodeRoundTrips) {
  for (const ModelClass& original : {ModelClass::Unknown(), Classify({.model_id = "a/b",
                                                            .pipeline_tag = "image-classification",
                                                            .num_parameters = 86'000'000,
                                                            .library_name = "timm"},
                                                                     TaskTable::BuiltIn())}) {
    absl::StatusOr<ModelClass> decoded = ModelClass::Decode(original.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, original);
  }
  EXPECT_FALSE(ModelClass::Decode("nlp\ns|nlp|1").ok());
  EXPECT_FALSE(ModelClass::Decode("nlp\ns|cv|1\nt|nlp|x\na|nlp|x\nl|nlp|x").ok());
}

TEST(ModelClassTest, ParseAggregateField) {
  std::optional<ParsedAggregateField> field = ParseAggregateField("t|computer_vision|a|b");
  ASSERT_TRUE(field.has_value());
  EXPECT_EQ(field->kind, AggregateKind::kTask);
  EXPECT_EQ(field->modality, Modality::kComputerVision);
  EXPECT_EQ(field->value, "a|b");
  EXPECT_FALSE(ParseAggregateField("x|nlp|1").has_value());
  EXPECT_FALSE(ParseAggregateField("s|martian|1").has_value());
  EXPECT_FALSE(ParseAggregateField("s|nlp").has_value());
}

}  // namespace
}  // namespace hubstats
