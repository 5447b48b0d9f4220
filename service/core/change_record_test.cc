#include "core/change_record.h"

#include <algorithm>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace hubstats {
namespace {

Day D(int32_t number) { return Day::FromNumber(number); }

ChangeRecord Sample() {
  ChangeRecord record;
  record.indexed = {{7, "org/new"}, {2, "org/other"}};
  CatalogRecord catalog;
  catalog.model_id = "org/new";
  catalog.pipeline_tag = "text-generation";
  catalog.num_parameters = 7'000'000'000;
  record.records = {{7, catalog}};
  record.downloads = {{7, D(19'980), 5}, {2, D(19'981), 1}, {7, D(19'970), 1'000'000'000}};
  return record;
}

ChangeRecord Sorted(ChangeRecord record) {
  std::sort(record.downloads.begin(), record.downloads.end(), [](const auto& a, const auto& b) {
    return std::pair(a.index, a.day) < std::pair(b.index, b.day);
  });
  std::sort(record.all_time_only.begin(), record.all_time_only.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  return record;
}

TEST(ChangeRecordTest, RoundTripsInFormatOneWithoutAllTimeOnlyDownloads) {
  const ChangeRecord record = Sample();
  const std::string bytes = EncodeChangeRecord(record);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes[0], 1);  // What servers that predate all-time-only downloads read.
  absl::StatusOr<ChangeRecord> decoded = DecodeChangeRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Sorted(record));
}

TEST(ChangeRecordTest, RoundTripsAllTimeOnlyDownloadsInFormatTwo) {
  ChangeRecord record = Sample();
  record.all_time_only = {{9, 4}, {2, 1}, {100'000, 1'000'000'000}};
  const std::string bytes = EncodeChangeRecord(record);
  EXPECT_EQ(bytes[0], 2);
  absl::StatusOr<ChangeRecord> decoded = DecodeChangeRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Sorted(record));
  // Only all-time-only downloads.
  ChangeRecord late_only;
  late_only.all_time_only = {{0, 1}};
  decoded = DecodeChangeRecord(EncodeChangeRecord(late_only));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, late_only);
}

TEST(ChangeRecordTest, RoundTripsFoldedMonthsInFormatThree) {
  const Day march = Day::FromCivil(2024, 3, 1).value();
  const Day february = Day::FromCivil(2024, 2, 1).value();
  ChangeRecord folds;
  folds.folded_months = {march};
  std::string bytes = EncodeChangeRecord(folds);
  EXPECT_EQ(bytes[0], 3);
  absl::StatusOr<ChangeRecord> decoded = DecodeChangeRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, folds);
  // With every other part, all-time-only downloads included (format 3 holds format 2's parts).
  ChangeRecord record = Sample();
  record.all_time_only = {{9, 4}};
  record.folded_months = {february, march};
  decoded = DecodeChangeRecord(EncodeChangeRecord(record));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Sorted(record));
  EXPECT_FALSE(folds.empty());
}

TEST(ChangeRecordTest, RefusesAFoldedMonthThatIsNotAFirstOfMonth) {
  ChangeRecord record;
  record.folded_months = {Day::FromCivil(2024, 3, 2).value()};
  EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(EncodeChangeRecord(record)).status()));
}

TEST(ChangeRecordTest, RefusesTruncatedAndUnknownBytes) {
  ChangeRecord record = Sample();
  record.all_time_only = {{9, 4}};
  const std::string bytes = EncodeChangeRecord(record);
  for (size_t size = 0; size < bytes.size(); ++size) {
    absl::StatusOr<ChangeRecord> decoded = DecodeChangeRecord(bytes.substr(0, size));
    EXPECT_TRUE(absl::IsDataLoss(decoded.status())) << size;
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(bytes + "x").status()));
  std::string unknown = bytes;
  unknown[0] = 4;
  EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(unknown).status()));
  // A format-1 record followed by an all-time section is trailing bytes, not a format-2 record.
  std::string relabelled = bytes;
  relabelled[0] = 1;
  EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(relabelled).status()));
  // The same for format 3 read as format 2, and every truncation of a format-3 record.
  record.folded_months = {Day::FromCivil(2024, 3, 1).value()};
  const std::string folds = EncodeChangeRecord(record);
  for (size_t size = 0; size < folds.size(); ++size) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(folds.substr(0, size)).status())) << size;
  }
  relabelled = folds;
  relabelled[0] = 2;
  EXPECT_TRUE(absl::IsDataLoss(DecodeChangeRecord(relabelled).status()));
}

}  // namespace
}  // namespace hubstats
