// Catalog upload against an in-process fake server: batching, rejections by line, retries.
#include "catalog.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "fake_ingest_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

using ::testing::HasSubstr;

CatalogSummary Upload(const std::string& text, const CatalogSettings& settings,
                      InputFormat format = InputFormat::kCsv) {
  std::istringstream stream(text);
  auto reader = InputReader::Open(stream, format, ItemKind::kRecord, settings.batch_bytes);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return UploadCatalog(**reader, settings, [](const std::string&) {});
}

TEST(CatalogTest, UploadsInBatchesAndReportsRejectionsByLine) {
  FakeIngestServer server;
  CatalogSettings settings;
  settings.target = server.target();
  settings.batch_size = 4;
  std::string text = "model_id,pipeline_tag,num_parameters\n";
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&text, i == 5 ? "bad/" : "org/", "m", i, ",fill-mask,", i + 1, "M\n");
    if (i == 2) text += "org/x,fill\"mask,1M\n";  // Malformed here: line 5.
  }
  const CatalogSummary summary = Upload(text, settings);
  ASSERT_TRUE(summary.status.ok()) << summary.status.error_message();
  EXPECT_EQ(summary.accepted, 9);
  EXPECT_EQ(summary.rejected, 2);
  ASSERT_EQ(summary.errors.size(), 2u);
  EXPECT_EQ(summary.errors[0].line, 5);
  EXPECT_THAT(summary.errors[0].reason, HasSubstr("a quote inside an unquoted field"));
  EXPECT_EQ(summary.errors[1].line, 8);  // bad/m5: header, m0..m2, the bad line, m3, m4, m5.
  EXPECT_EQ(summary.errors[1].reason, "model_id: refused by the fake server");
  std::vector<int> sizes;
  for (const auto& request : server.upsert_requests()) sizes.push_back(request.models_size());
  EXPECT_THAT(sizes, ::testing::ElementsAre(4, 4, 2));
  EXPECT_EQ(server.upsert_requests()[0].models(2).num_parameters(), 3'000'000);
}

TEST(CatalogTest, CutsBatchesByBytes) {
  FakeIngestServer server;
  CatalogSettings settings;
  settings.target = server.target();
  settings.batch_bytes = 2 << 10;
  std::string text;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&text, R"({"model_id": "org/model-number-)", i,
                    R"(", "pipeline_tag": "text-generation", "library_name": "transformers"})",
                    "\n");
  }
  const CatalogSummary summary = Upload(text, settings, InputFormat::kJsonLines);
  ASSERT_TRUE(summary.status.ok());
  EXPECT_EQ(summary.accepted, 100);
  const auto requests = server.upsert_requests();
  EXPECT_GE(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_LE(request.ByteSizeLong(), static_cast<size_t>(settings.batch_bytes));
  }
}

TEST(CatalogTest, RetriesAServerThatAnswersUnavailable) {
  FakeIngestServer server;
  server.unavailable_upserts = 2;
  CatalogSettings settings;
  settings.target = server.target();
  const CatalogSummary summary = Upload("model_id\norg/a\norg/b\n", settings);
  ASSERT_TRUE(summary.status.ok()) << summary.status.error_message();
  EXPECT_EQ(summary.accepted, 2);
}

TEST(CatalogTest, FailsFastWhenNoServerAnswers) {
  CatalogSettings settings;
  settings.target = UnusedTarget();
  const absl::Time started = absl::Now();
  const CatalogSummary summary = Upload("model_id\norg/a\n", settings);
  EXPECT_LT(absl::Now() - started, absl::Seconds(10));
  EXPECT_EQ(summary.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(summary.status.error_message(), HasSubstr("no server answered"));
  EXPECT_EQ(summary.accepted, 0);
}

}  // namespace
}  // namespace hubstats::cli
