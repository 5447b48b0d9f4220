#include "catalog.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/command_line.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::cli {
namespace {

class Upload {
 public:
  Upload(const CatalogSettings& settings, const std::function<void(const std::string&)>& log)
      : settings_(settings),
        log_(log),
        channel_(client::NewChannel(settings.target, settings.security)),
        stub_(v1::IngestService::NewStub(channel_)) {}

  CatalogSummary Run(InputReader& input) {
    InputItem item;
    int64_t bytes = 0;
    while (summary_.status.ok() && input.Next(item)) {
      absl::StatusOr<v1::ModelRecord> record = item.error.ok()
                                                   ? RecordFromFields(item.fields)
                                                   : absl::StatusOr<v1::ModelRecord>(item.error);
      if (!record.ok()) {
        ++summary_.rejected;
        summary_.errors.push_back({item.line, std::string(record.status().message())});
        continue;
      }
      const size_t size = record->ByteSizeLong();
      const int64_t framed = static_cast<int64_t>(size) + 8;  // With the field's tag and length.
      if (request_.models_size() > 0 && bytes + framed > settings_.batch_bytes) {
        Flush();
        bytes = 0;
      }
      bytes += framed;
      *request_.add_models() = *std::move(record);
      lines_.push_back(item.line);
      if (request_.models_size() >= settings_.batch_size) {
        Flush();
        bytes = 0;
      }
    }
    if (summary_.status.ok()) Flush();
    std::stable_sort(summary_.errors.begin(), summary_.errors.end(),
                     [](const LineError& a, const LineError& b) { return a.line < b.line; });
    return std::move(summary_);
  }

 private:
  // Sends the pending batch until it is written, refused, or retries run out.
  void Flush() {
    if (request_.models_size() == 0) return;
    v1::UpsertModelsResponse response;
    const absl::Time give_up = absl::Now() + settings_.retry_for;
    absl::Duration backoff = absl::Milliseconds(100);
    grpc::Status status;
    while (true) {
      response.Clear();
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + settings_.timeout));
      status = stub_->UpsertModels(&context, request_, &response);
      if (status.ok() || channel_->GetState(false) == GRPC_CHANNEL_READY) contacted_ = true;
      if (status.ok() || !IsRetryable(status.error_code())) break;
      if (!contacted_ && !settings_.retry_before_contact) {
        status = grpc::Status(
            status.error_code(),
            absl::StrCat("no server answered at ", settings_.target, " (", status.error_message(),
                         "); give --retry-for to wait for a server that is "
                         "starting"));
        break;
      }
      if (absl::Now() + backoff > give_up) break;
      log_(absl::StrCat("catalog upsert failed (", status.error_message(), "); retrying in ",
                        client::HumanDuration(backoff)));
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    if (!status.ok()) {
      summary_.status = status;
      return;
    }
    summary_.accepted += response.accepted();
    summary_.rejected += response.rejected();
    summary_.reclassified += response.reclassified();
    for (const v1::Rejection& rejection : response.rejections()) {
      const int line = rejection.index() >= 0 && rejection.index() < static_cast<int>(lines_.size())
                           ? lines_[rejection.index()]
                           : 0;
      summary_.errors.push_back({line, RejectionText(rejection)});
    }
    request_.Clear();
    lines_.clear();
  }

  const CatalogSettings& settings_;
  const std::function<void(const std::string&)>& log_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> stub_;
  v1::UpsertModelsRequest request_;
  std::vector<int> lines_;  // Line of each record in request_.
  bool contacted_ = false;
  CatalogSummary summary_;
};

}  // namespace

CatalogSummary UploadCatalog(InputReader& input, const CatalogSettings& settings,
                             const std::function<void(const std::string&)>& log) {
  return Upload(settings, log).Run(input);
}

}  // namespace hubstats::cli
