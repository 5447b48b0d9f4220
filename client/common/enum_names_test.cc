#include "common/enum_names.h"

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::client {
namespace {

using ::testing::HasSubstr;

TEST(EnumNamesTest, ModalityConversionRoundTrips) {
  for (Modality modality : AllModalities()) {
    const v1::Modality proto = ModalityToProto(modality);
    EXPECT_EQ(ModalityFromProto(proto), modality);
    EXPECT_EQ(ModalityName(proto), hubstats::ModalityName(modality));
    // The proto's own enum name agrees: MODALITY_<NAME>.
    EXPECT_EQ(v1::Modality_Name(proto), "MODALITY_" + absl::AsciiStrToUpper(ModalityName(proto)));
  }
  EXPECT_EQ(ModalityFromProto(v1::MODALITY_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(ModalityFromProto(static_cast<v1::Modality>(99)), std::nullopt);
  EXPECT_EQ(ModalityName(v1::MODALITY_UNSPECIFIED), "");
}

TEST(EnumNamesTest, ModalitySpellings) {
  for (const char* text : {"computer_vision", "cv", "CV", "Computer-Vision", "computer vision",
                           "MODALITY_COMPUTER_VISION", " computer_vision "}) {
    absl::StatusOr<v1::Modality> modality = ParseModality(text);
    ASSERT_TRUE(modality.ok()) << text << ": " << modality.status();
    EXPECT_EQ(*modality, v1::MODALITY_COMPUTER_VISION) << text;
  }
  EXPECT_EQ(*ParseModality("rl"), v1::MODALITY_REINFORCEMENT_LEARNING);
  EXPECT_EQ(*ParseModality("Time-Series"), v1::MODALITY_TIME_SERIES);
  absl::Status bad = ParseModality("vision").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("'vision' is not a modality; expected one of nlp, "
                                       "computer_vision, audio"));
  EXPECT_THAT(bad.message(), HasSubstr("(aliases: cv, rl)"));
  EXPECT_FALSE(ParseModality("").ok());
}

TEST(EnumNamesTest, Architectures) {
  EXPECT_EQ(*ParseArchitecture("Encoder-Decoder"), v1::ARCHITECTURE_ENCODER_DECODER);
  EXPECT_EQ(*ParseArchitecture("encoder_decoder"), v1::ARCHITECTURE_ENCODER_DECODER);
  EXPECT_EQ(*ParseArchitecture("(none)"), v1::ARCHITECTURE_UNSPECIFIED);
  EXPECT_EQ(*ParseArchitecture(""), v1::ARCHITECTURE_UNSPECIFIED);
  EXPECT_THAT(ParseArchitecture("rnn").status().message(),
              HasSubstr("'rnn' is not an architecture"));
  EXPECT_EQ(ArchitectureName(v1::ARCHITECTURE_DECODER), "decoder");
  EXPECT_EQ(ArchitectureName(v1::ARCHITECTURE_UNSPECIFIED), "");
}

}  // namespace
}  // namespace hubstats::client
