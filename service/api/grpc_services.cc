#include "api/grpc_services.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "api/proto_convert.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

// Runs `work` (which returns absl::Status) on the worker pool and finishes the call with it.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, WorkerPool& workers,
                                   Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers.Submit([reactor, work = std::move(work)]() mutable {
    reactor->Finish(ToGrpcStatus(work()));
  });
  return reactor;
}

// One ingest stream. State is guarded by mutex_; Start*/Finish are called after unlocking,
// because a reaction may run as soon as they are called and Finish may delete the reactor.
class IngestReactor final : public grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse> {
 public:
  IngestReactor(StatsService& service, WorkerPool& workers)
      : service_(service), workers_(workers) {
    std::unique_lock lock(mutex_);
    Perform(std::move(lock));
  }

  void OnReadDone(bool ok) override {
    std::unique_lock lock(mutex_);
    reading_ = false;
    if (ok) {
      pending_.push_back(std::move(request_));
      request_.Clear();
    } else {
      reads_done_ = true;  // The client half-closed (or the call ended).
    }
    Perform(std::move(lock));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mutex_);
    writing_ = false;
    responses_.pop_front();
    if (!ok) broken_ = true;  // The client is gone; nothing more can be sent.
    Perform(std::move(lock));
  }

  void OnCancel() override {
    std::unique_lock lock(mutex_);
    broken_ = true;
    Perform(std::move(lock));
  }

  void OnDone() override { delete this; }

 private:
  // Runs one batch on a worker thread.
  void Process(v1::IngestRequest batch) {
    std::vector<RawEvent> events;
    events.reserve(batch.events_size());
    for (const v1::DownloadEvent& event : batch.events()) events.push_back(FromProto(event));
    absl::StatusOr<IngestOutcome> outcome = service_.Ingest(events, absl::Now());
    std::unique_lock lock(mutex_);
    processing_ = false;
    if (outcome.ok()) {
      ToProto(*outcome, &responses_.emplace_back());
    } else if (error_.ok()) {
      error_ = outcome.status();
    }
    Perform(std::move(lock));
  }

  // Decides the next steps from the state, then takes them without the lock.
  void Perform(std::unique_lock<std::mutex> lock) {
    bool start_read = false;
    const v1::IngestResponse* write = nullptr;
    std::optional<grpc::Status> finish;
    if (!finished_) {
      if (broken_ || !error_.ok()) {
        // Stop taking work; finish once nothing of ours is running.
        if (!processing_ && !writing_) {
          finish = broken_ ? grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled")
                           : ToGrpcStatus(error_);
        }
      } else {
        if (!processing_ && !pending_.empty()) {
          processing_ = true;
          workers_.Submit([this, batch = std::move(pending_.front())]() mutable {
            Process(std::move(batch));
          });
          pending_.pop_front();
        }
        if (!writing_ && !responses_.empty()) {
          writing_ = true;
          write = &responses_.front();
        }
        const size_t queued = pending_.size() + responses_.size() + (processing_ ? 1 : 0);
        if (!reading_ && !reads_done_ && queued < kMaxQueuedBatchesPerStream) {
          reading_ = true;
          start_read = true;
        }
        if (reads_done_ && !reading_ && pending_.empty() && !processing_ && responses_.empty() &&
            !writing_) {
          finish = grpc::Status::OK;
        }
      }
      if (finish) finished_ = true;
    }
    lock.unlock();
    if (start_read) StartRead(&request_);
    if (write != nullptr) StartWrite(write);
    if (finish) Finish(*finish);  // Last: the reactor may be deleted from here on.
  }

  StatsService& service_;
  WorkerPool& workers_;
  std::mutex mutex_;
  v1::IngestRequest request_;                  // Target of the read in flight.
  std::deque<v1::IngestRequest> pending_;      // Read, not yet processed.
  std::deque<v1::IngestResponse> responses_;   // Front is being written.
  bool reading_ = false;
  bool writing_ = false;
  bool processing_ = false;
  bool reads_done_ = false;
  bool broken_ = false;
  bool finished_ = false;
  absl::Status error_;
};

}  // namespace

grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* IngestServiceImpl::StreamEvents(
    grpc::CallbackServerContext* /*context*/) {
  return new IngestReactor(service_, workers_);
}

grpc::ServerUnaryReactor* IngestServiceImpl::UpsertModels(grpc::CallbackServerContext* context,
                                                          const v1::UpsertModelsRequest* request,
                                                          v1::UpsertModelsResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    std::vector<CatalogRecord> records;
    std::vector<ItemRejection> malformed;
    std::vector<int> original_index;
    records.reserve(request->models_size());
    for (int i = 0; i < request->models_size(); ++i) {
      absl::StatusOr<CatalogRecord> record = FromProto(request->models(i));
      if (!record.ok()) {
        malformed.push_back({i, FieldOf(record.status()), ReasonOf(record.status())});
        continue;
      }
      records.push_back(*std::move(record));
      original_index.push_back(i);
    }
    absl::StatusOr<UpsertOutcome> outcome = service_.UpsertModels(records);
    if (!outcome.ok()) return outcome.status();
    // Report indexes of the request, not of the converted subset.
    for (ItemRejection& rejection : outcome->rejections) {
      rejection.index = original_index[rejection.index];
    }
    outcome->rejections.insert(outcome->rejections.end(), malformed.begin(), malformed.end());
    std::sort(outcome->rejections.begin(), outcome->rejections.end(),
              [](const ItemRejection& a, const ItemRejection& b) { return a.index < b.index; });
    outcome->rejected = static_cast<int64_t>(outcome->rejections.size());
    ToProto(*outcome, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetModalityShare(
    grpc::CallbackServerContext* context, const v1::ModalityShareRequest* request,
    v1::ModalityShareResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<ModalityShare> share = service_.GetModalityShare(*range);
    if (!share.ok()) return share.status();
    ToProto(*share, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetSizeDistribution(
    grpc::CallbackServerContext* context, const v1::SizeDistributionRequest* request,
    v1::SizeDistributionResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<std::optional<Modality>> modality = ModalityFilterFromProto(request->modality());
    if (!modality.ok()) return modality.status();
    const std::vector<int64_t> boundaries(request->boundaries().begin(),
                                          request->boundaries().end());
    absl::StatusOr<SizeDistribution> sizes =
        service_.GetSizeDistribution(*range, boundaries, *modality);
    if (!sizes.ok()) return sizes.status();
    ToProto(*sizes, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTopN(grpc::CallbackServerContext* context,
                                                    const v1::TopNRequest* request,
                                                    v1::TopNResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<std::optional<Modality>> modality = ModalityFilterFromProto(request->modality());
    if (!modality.ok()) return modality.status();
    RankBy by = RankBy::kModel;
    switch (request->by()) {
      case v1::RANK_BY_UNSPECIFIED:
      case v1::RANK_BY_MODEL:
        break;
      case v1::RANK_BY_AUTHOR:
        by = RankBy::kAuthor;
        break;
      default:
        return InvalidFieldError("by", absl::StrCat(request->by(), " is not a RankBy value"));
    }
    const int n = request->n() == 0 ? kDefaultTopN : request->n();
    absl::StatusOr<TopN> top = service_.GetTopN(*range, by, *modality, n);
    if (!top.ok()) return top.status();
    ToProto(*top, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetBreakdown(grpc::CallbackServerContext* context,
                                                         const v1::BreakdownRequest* request,
                                                         v1::BreakdownResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<std::optional<Modality>> modality = ModalityFilterFromProto(request->modality());
    if (!modality.ok()) return modality.status();
    AggregateKind dimension;
    switch (request->dimension()) {
      case v1::DIMENSION_TASK:
        dimension = AggregateKind::kTask;
        break;
      case v1::DIMENSION_ARCHITECTURE:
        dimension = AggregateKind::kArchitecture;
        break;
      case v1::DIMENSION_LIBRARY:
        dimension = AggregateKind::kLibrary;
        break;
      case v1::DIMENSION_UNSPECIFIED:
        return InvalidFieldError("dimension", "is required: TASK, ARCHITECTURE or LIBRARY");
      default:
        return InvalidFieldError("dimension",
                                 absl::StrCat(request->dimension(), " is not a Dimension value"));
    }
    absl::StatusOr<Breakdown> breakdown = service_.GetBreakdown(*range, dimension, *modality);
    if (!breakdown.ok()) return breakdown.status();
    ToProto(*breakdown, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTotals(grpc::CallbackServerContext* context,
                                                      const v1::TotalsRequest* request,
                                                      v1::TotalsResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<Population> totals = service_.GetTotals(*range);
    if (!totals.ok()) return totals.status();
    ToProto(*totals, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetModelStats(grpc::CallbackServerContext* context,
                                                          const v1::ModelStatsRequest* request,
                                                          v1::ModelStatsResponse* response) {
  return RunUnary(context, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<DayRange> range = FromProto(request->has_range() ? &request->range() : nullptr);
    if (!range.ok()) return range.status();
    absl::StatusOr<ModelStats> stats = service_.GetModelStats(request->model_id(), *range);
    if (!stats.ok()) return stats.status();
    ToProto(*stats, response);
    return absl::OkStatus();
  });
}

}  // namespace hubstats
