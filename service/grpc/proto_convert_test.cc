#include "grpc/proto_convert.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/error_details.pb.h"

namespace hubstats {
namespace {

TEST(ProtoConvertTest, FieldErrorsCarryABadRequestDetail) {
  grpc::Status status = ToGrpcStatus(InvalidFieldError("range.start", "bad date"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "range.start: bad date");
  v1::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), "type.googleapis.com/google.rpc.BadRequest");
  v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(details.details(0).value()));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "range.start");
  EXPECT_EQ(bad_request.field_violations(0).description(), "bad date");

  grpc::Status unavailable = ToGrpcStatus(absl::UnavailableError("redis down"));
  EXPECT_EQ(unavailable.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(unavailable.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(ProtoConvertTest, StatusTextIsBounded) {
  const std::string huge(60 << 10, '9');
  grpc::Status status =
      ToGrpcStatus(InvalidFieldError("freshness.min_version", absl::StrCat("'", huge, "' bad")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(status.error_message().size(), kMaxStatusText + 40);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("freshness.min_version: '999"));
  EXPECT_THAT(status.error_message(), ::testing::EndsWith(" more bytes)"));
  EXPECT_LE(status.error_details().size(), 3 * kMaxStatusText);
  v1::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(details.details(0).value()));
  EXPECT_EQ(bad_request.field_violations(0).field(), "freshness.min_version");
  // Short texts pass unchanged.
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError(std::string(kMaxStatusText, 'x'))).error_message(),
            std::string(kMaxStatusText, 'x'));
}

TEST(ProtoConvertTest, DateRanges) {
  v1::DateRange range;
  range.mutable_start()->set_year(2024);
  range.mutable_start()->set_month(9);
  range.mutable_start()->set_day(1);
  absl::StatusOr<DayRange> open_end = FromProto(&range);
  ASSERT_TRUE(open_end.ok());
  EXPECT_EQ(open_end->first->ToString(), "2024-09-01");
  EXPECT_FALSE(open_end->last.has_value());
  EXPECT_TRUE(FromProto(nullptr)->all_time());

  range.mutable_end()->set_year(2024);
  range.mutable_end()->set_month(13);
  range.mutable_end()->set_day(1);
  EXPECT_EQ(FieldOf(FromProto(&range).status()), "range.end");
  range.mutable_end()->set_month(8);
  EXPECT_EQ(FieldOf(FromProto(&range).status()), "range.end");
  EXPECT_EQ(ToProto(*Day::Parse("2024-02-29")).day(), 29);
}

TEST(ProtoConvertTest, ModalitiesMapOneToOne) {
  for (Modality modality : AllModalities()) {
    absl::StatusOr<std::optional<Modality>> back = ModalityFilterFromProto(ToProto(modality));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(**back, modality);
    EXPECT_EQ(absl::AsciiStrToLower(v1::Modality_Name(ToProto(modality)).substr(9)),
              ModalityName(modality));
  }
  EXPECT_FALSE(ModalityFilterFromProto(v1::MODALITY_UNSPECIFIED)->has_value());
  EXPECT_EQ(FieldOf(ModalityFilterFromProto(static_cast<v1::Modality>(42)).status()), "modality");
}

TEST(ProtoConvertTest, RecordsRoundTrip) {
  v1::ModelRecord record;
  record.set_model_id("org/m");
  record.set_pipeline_tag("text-generation");
  record.set_modality(v1::MODALITY_MULTIMODAL);
  record.set_num_parameters(7'000'000'000);
  record.set_architecture(v1::ARCHITECTURE_DECODER);
  record.set_library_name("transformers");
  absl::StatusOr<CatalogRecord> converted = FromProto(record);
  ASSERT_TRUE(converted.ok());
  EXPECT_EQ(converted->architecture, Architecture::kDecoder);
  EXPECT_EQ(ToProto(*converted).SerializeAsString(), record.SerializeAsString());
  record.set_architecture(static_cast<v1::Architecture>(9));
  EXPECT_EQ(FieldOf(FromProto(record).status()), "architecture");
}

TEST(ProtoConvertTest, EventsKeepPresence) {
  v1::DownloadEvent event;
  event.set_model_id("a/b");
  RawEvent bare = FromProto(event);
  EXPECT_FALSE(bare.count.has_value());
  EXPECT_FALSE(bare.timestamp_seconds.has_value());
  event.set_count(0);
  event.mutable_timestamp()->set_seconds(1726833600);
  RawEvent explicit_zero = FromProto(event);
  ASSERT_TRUE(explicit_zero.count.has_value());
  EXPECT_EQ(*explicit_zero.count, 0);
  EXPECT_EQ(explicit_zero.timestamp_seconds, 1726833600);
}

}  // namespace
}  // namespace hubstats
