#include "core/modality.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

TEST(ModalityTest, NamesRoundTrip) {
  for (Modality modality : AllModalities()) {
    EXPECT_EQ(ModalityFromName(ModalityName(modality)), modality);
  }
  EXPECT_EQ(ModalityFromName("cv"), Modality::kComputerVision);
  EXPECT_EQ(ModalityFromName("rl"), Modality::kReinforcementLearning);
  EXPECT_EQ(ModalityFromName("vision"), std::nullopt);
}

TEST(TaskTableTest, BuiltInMapsTheRequiredTasks) {
  const TaskTable& table = TaskTable::BuiltIn();
  for (const char* tag : {"text-classification", "fill-mask", "text-generation",
                          "sentence-similarity", "token-classification", "translation"}) {
    EXPECT_EQ(table.Lookup(tag), Modality::kNlp) << tag;
  }
  for (const char* tag : {"image-classification", "object-detection", "image-segmentation"}) {
    EXPECT_EQ(table.Lookup(tag), Modality::kComputerVision) << tag;
  }
  for (const char* tag :
       {"automatic-speech-recognition", "audio-classification", "text-to-speech"}) {
    EXPECT_EQ(table.Lookup(tag), Modality::kAudio) << tag;
  }
  EXPECT_EQ(table.Lookup("image-text-to-text"), Modality::kMultimodal);
  EXPECT_EQ(table.Lookup("visual-question-answering"), Modality::kMultimodal);
  EXPECT_EQ(table.Lookup("time-series-forecasting"), Modality::kTimeSeries);
  EXPECT_EQ(table.Lookup("reinforcement-learning"), Modality::kReinforcementLearning);
  EXPECT_EQ(table.Lookup("tabular-regression"), Modality::kTabular);
  EXPECT_EQ(table.Lookup("graph-ml"), Modality::kOther);
  // Not in the table: other.
  EXPECT_EQ(table.Lookup("made-up-task"), Modality::kOther);
  EXPECT_EQ(table.Lookup(""), Modality::kOther);
  // The Hub lists 56 tasks in pipelines.ts at the pinned commit.
  EXPECT_EQ(table.size(), 56u);
}

TEST(TaskTableTest, ParseReportsBadLines) {
  absl::StatusOr<TaskTable> table = TaskTable::Parse("# c\nfill-mask nlp\nfoo vision\n");
  EXPECT_THAT(table.status().message(), HasSubstr("line 3"));
  table = TaskTable::Parse("fill-mask nlp\nfill-mask audio\n");
  EXPECT_THAT(table.status().message(), HasSubstr("listed twice"));
  table = TaskTable::Parse("fill-mask\n");
  EXPECT_THAT(table.status().message(), HasSubstr("line 1"));
  table = TaskTable::Parse("fill-mask unknown\n");
  EXPECT_FALSE(table.ok());
  table = TaskTable::Parse("fill-mask\tcv  # comment\n\n");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Lookup("fill-mask"), Modality::kComputerVision);
}

TEST(TaskTableTest, FingerprintFollowsMappingsOnly) {
  const TaskTable a = *TaskTable::Parse("fill-mask nlp\ntext-to-speech audio\n");
  const TaskTable reordered =
      *TaskTable::Parse("# comment\ntext-to-speech\taudio\nfill-mask nlp\n");
  const TaskTable changed = *TaskTable::Parse("fill-mask audio\ntext-to-speech audio\n");
  const TaskTable extended = *TaskTable::Parse("fill-mask nlp\ntext-to-speech audio\nx other\n");
  EXPECT_EQ(a.Fingerprint(), reordered.Fingerprint());
  EXPECT_NE(a.Fingerprint(), changed.Fingerprint());
  EXPECT_NE(a.Fingerprint(), extended.Fingerprint());
  EXPECT_NE(a.Fingerprint(), TaskTable::BuiltIn().Fingerprint());
}

}  // namespace
}  // namespace hubstats
