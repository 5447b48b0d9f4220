#include "grpc/services.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "grpc/proto_convert.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

// Runs `work` (which returns absl::Status) on the worker pool and finishes the call with it.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, WorkerPool& workers,
                                   Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers.Submit(
      [reactor, work = std::move(work)]() mutable { reactor->Finish(ToGrpcStatus(work())); });
  return reactor;
}

std::string RandomHex() {
  std::random_device device;
  return absl::StrCat(
      absl::Hex(static_cast<uint64_t>(device()) << 32 | device(), absl::kZeroPad16));
}

}  // namespace

// One ingest stream. State is guarded by mutex_; Start*/Finish are called after unlocking,
// because a reaction may run as soon as they are called and Finish may delete the stream.
class IngestServiceImpl::Stream final
    : public grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse> {
 public:
  Stream(IngestServiceImpl& owner, std::string stream_id)
      : owner_(owner), stream_id_(std::move(stream_id)) {
    owner_.Register(this);
    std::unique_lock lock(mutex_);
    Perform(std::move(lock));
  }

  void OnReadDone(bool ok) override {
    std::unique_lock lock(mutex_);
    reading_ = false;
    if (ok) {
      const size_t bytes = request_.ByteSizeLong();
      owner_.budget_.Hold(bytes);
      held_bytes_ += bytes;
      Batch& batch = batches_.emplace_back();
      batch.request = std::move(request_);
      batch.bytes = bytes;
      request_.Clear();
    } else {
      reads_done_ = true;  // The client half-closed (or the call ended).
    }
    Perform(std::move(lock));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mutex_);
    writing_ = false;
    Forget(batches_.front().bytes);
    batches_.pop_front();
    if (!ok) broken_ = true;  // The client is gone; nothing more can be sent.
    Perform(std::move(lock));
  }

  void OnCancel() override {
    std::unique_lock lock(mutex_);
    broken_ = true;
    Perform(std::move(lock));
  }

  void OnDone() override {
    owner_.Unregister(this);
    {
      std::lock_guard lock(mutex_);
      Forget(held_bytes_);
    }
    delete this;
  }

  // Shutdown: see IngestServiceImpl::Drain.
  void Drain() {
    std::unique_lock lock(mutex_);
    Perform(std::move(lock));
  }

 private:
  // A batch from its read until its answer is written; oldest first in batches_.
  struct Batch {
    enum class State { kRead, kPreparing, kCommitting, kAnswered };
    State state = State::kRead;
    v1::IngestRequest request;  // Prepared events view its strings: kept until answered.
    size_t bytes = 0;           // Held in the budget.
    PreparedBatch prepared;
    v1::IngestResponse response;
  };

  // Gives `bytes` of this stream's hold back to the budget. Requires mutex_.
  void Forget(size_t bytes) {
    if (bytes == 0) return;
    held_bytes_ -= bytes;
    owner_.budget_.Release(bytes);
  }

  // On a worker thread: validates the batch, then submits it to the committer. Batches of the
  // stream are prepared one at a time, so they reach the committer in order.
  void Prepare(Batch* batch, uint64_t stream_sequence) {
    const v1::IngestRequest& request = batch->request;
    absl::StatusOr<PreparedBatch> prepared;
    if (absl::Status valid = ValidateProducer(request.producer_id(), request.sequence());
        !valid.ok()) {
      prepared = valid;
    } else {
      BatchIdentity identity =
          request.producer_id().empty()
              ? BatchIdentity{stream_id_, stream_sequence, /*from_client=*/false}
              : BatchIdentity{request.producer_id(), request.sequence(), true};
      std::vector<RawEvent> events;
      events.reserve(request.events_size());
      for (const v1::DownloadEvent& event : request.events()) events.push_back(FromProto(event));
      prepared = owner_.service_.Prepare(events, absl::Now(), std::move(identity));
    }
    std::unique_lock lock(mutex_);
    preparing_ = false;
    if (!prepared.ok()) {
      if (error_.ok()) error_ = prepared.status();
      Perform(std::move(lock));
      return;
    }
    batch->prepared = *std::move(prepared);
    batch->state = Batch::State::kCommitting;
    ++committing_;
    lock.unlock();
    owner_.committer_.Submit(&batch->prepared,
                             [this, batch](absl::StatusOr<IngestOutcome> outcome) {
                               Committed(batch, std::move(outcome));
                             });
    lock.lock();
    Perform(std::move(lock));
  }

  // On the committer's thread, in submission order.
  void Committed(Batch* batch, absl::StatusOr<IngestOutcome> outcome) {
    std::unique_lock lock(mutex_);
    --committing_;
    if (outcome.ok()) {
      ToProto(*outcome, &batch->response);
      batch->response.set_sequence(batch->request.sequence());
      batch->response.set_duplicate(outcome->duplicate);
      batch->state = Batch::State::kAnswered;
    } else if (error_.ok()) {
      error_ = outcome.status();
    }
    Perform(std::move(lock));
  }

  // Decides the next steps from the state, then takes them without the lock.
  void Perform(std::unique_lock<std::mutex> lock) {
    bool start_read = false;
    bool wait_for_room = false;
    const v1::IngestResponse* write = nullptr;
    std::optional<grpc::Status> finish;
    std::optional<std::pair<Batch*, uint64_t>> prepare;
    const bool draining = owner_.draining();
    if (!finished_) {
      const bool busy = preparing_ || committing_ > 0 || writing_ || waiting_for_room_;
      if (broken_ || !error_.ok()) {
        // Stop taking work; finish once nothing of ours is running.
        if (!busy) {
          finish = broken_ ? grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled")
                           : ToGrpcStatus(error_);
        }
      } else {
        if (!preparing_) {
          for (Batch& batch : batches_) {
            if (batch.state != Batch::State::kRead) continue;
            batch.state = Batch::State::kPreparing;
            preparing_ = true;
            prepare = {&batch, ++batches_started_};
            break;
          }
        }
        if (!writing_ && !batches_.empty() && batches_.front().state == Batch::State::kAnswered) {
          writing_ = true;
          write = &batches_.front().response;
        }
        if (!reading_ && !reads_done_ && !draining && !waiting_for_room_ &&
            batches_.size() < kMaxQueuedBatchesPerStream) {
          if (owner_.budget_.HasRoom()) {
            reading_ = start_read = true;
          } else {
            waiting_for_room_ = wait_for_room = true;
          }
        }
        const bool idle =
            batches_.empty() && !preparing_ && committing_ == 0 && !writing_ && !waiting_for_room_;
        if (idle && reads_done_ && !reading_) {
          finish = grpc::Status::OK;
        } else if (idle && draining) {
          // A read may still be outstanding; Finish completes it with ok = false.
          finish = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down: reconnect (to another replica) and "
                                "re-send the batches not yet answered");
        }
      }
      if (finish) finished_ = true;
    }
    lock.unlock();
    if (prepare) {
      owner_.workers_.Submit(
          [this, batch = prepare->first, sequence = prepare->second] { Prepare(batch, sequence); });
    }
    if (wait_for_room) {
      owner_.budget_.WhenRoom([this] {
        std::unique_lock relock(mutex_);
        waiting_for_room_ = false;
        Perform(std::move(relock));
      });
    }
    if (start_read) StartRead(&request_);
    if (write != nullptr) StartWrite(write);
    if (finish) Finish(*finish);  // Last: the stream may be deleted from here on.
  }

  IngestServiceImpl& owner_;
  const std::string stream_id_;
  std::mutex mutex_;
  v1::IngestRequest request_;  // Target of the read in flight.
  // Read and not yet answered, oldest first. A deque keeps addresses stable, so workers and the
  // committer hold pointers to its elements.
  std::deque<Batch> batches_;
  size_t held_bytes_ = 0;  // Of the budget, for batches not yet answered.
  uint64_t batches_started_ = 0;
  int committing_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool preparing_ = false;
  bool waiting_for_room_ = false;
  bool reads_done_ = false;
  bool broken_ = false;
  bool finished_ = false;
  absl::Status error_;
};

IngestServiceImpl::IngestServiceImpl(StatsService& service, WorkerPool& workers,
                                     IngestBudget& budget, GroupCommitter& committer)
    : service_(service),
      workers_(workers),
      budget_(budget),
      committer_(committer),
      instance_id_(RandomHex()) {}

grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* IngestServiceImpl::StreamEvents(
    grpc::CallbackServerContext* /*context*/) {
  // '~' cannot appear in a client's producer id, so these never collide with one.
  return new Stream(*this, absl::StrCat("~", instance_id_, ".", next_stream_++));
}

void IngestServiceImpl::Register(Stream* stream) {
  std::lock_guard lock(streams_mutex_);
  streams_.insert(stream);
}

void IngestServiceImpl::Unregister(Stream* stream) {
  std::lock_guard lock(streams_mutex_);
  streams_.erase(stream);
}

void IngestServiceImpl::Drain() {
  draining_ = true;
  // Under the registry lock a stream cannot be deleted (OnDone unregisters first).
  std::lock_guard lock(streams_mutex_);
  for (Stream* stream : streams_) stream->Drain();
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
