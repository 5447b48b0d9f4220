#include "grpc/ingest_service.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/field_error.h"
#include "grpc/ingest_decoder.h"
#include "grpc/proto_convert.h"
#include "grpc/raw_unary.h"

namespace hubstats {
namespace {

std::string RandomHex() {
  std::random_device device;
  return absl::StrCat(
      absl::Hex(static_cast<uint64_t>(device()) << 32 | device(), absl::kZeroPad16));
}

// The message as one contiguous string, so decoded events can view it.
std::string Flatten(grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  buffer.Clear();
  return bytes;
}

// `status` for the `number`-th request of a stream, so a client knows which message it was.
absl::Status OfRequest(uint64_t number, const absl::Status& status) {
  const std::string where = absl::StrCat("request ", number, " of this stream: ");
  const std::string field = FieldOf(status);
  if (!field.empty()) return FieldError(status.code(), field, where + ReasonOf(status));
  return absl::Status(status.code(), where + std::string(status.message()));
}

}  // namespace

size_t IngestLimits::ReadReservation() const {
  return max_message_bytes + max_batch_events * kDecodedBytesPerEvent;
}

// One ingest stream. State is guarded by mutex_; Perform decides the next steps under the lock
// and takes them after unlocking, because a reaction may run as soon as Start*/Finish are
// called, and Finish may delete the stream.
class IngestServiceImpl::Stream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Stream(IngestServiceImpl& owner, std::string stream_id, Admission admission)
      : owner_(owner),
        stream_id_(std::move(stream_id)),
        admission_(std::move(admission)),
        last_read_(absl::Now()) {
    owner_.Register(this);
    std::unique_lock lock(mutex_);
    Perform(std::move(lock));
  }

  void OnReadDone(bool ok) override {
    std::unique_lock lock(mutex_);
    reading_ = false;
    last_read_ = absl::Now();
    if (ok && !finished_) {
      // The read's reservation becomes the batch's hold; Prepare shrinks it to the batch's
      // decoded size.
      Batch& batch = batches_.emplace_back();
      batch.wire.Swap(&request_);
      batch.held = std::exchange(read_held_, 0);
    } else {
      reads_done_ = true;  // The client half-closed (or the call ended).
      Forget(std::exchange(read_held_, 0));
    }
    request_.Clear();
    Perform(std::move(lock));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mutex_);
    writing_ = false;
    Forget(batches_.front().held);
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

  // From the service's ticker: reads again once the token's debt is repaid; ends the stream
  // once it has waited `idle_timeout` for a batch with nothing in flight.
  void Tick(absl::Time now, absl::Duration idle_timeout) {
    std::unique_lock lock(mutex_);
    if (finished_) return;
    bool act = false;
    if (throttled_ && admission_.grant().rate->Debt(now) == absl::ZeroDuration()) {
      throttled_ = false;
      act = true;
    }
    if (idle_timeout > absl::ZeroDuration() && reading_ && batches_.empty() && !idle_ &&
        now - last_read_ > idle_timeout) {
      idle_ = true;
      act = true;
    }
    if (act) Perform(std::move(lock));
  }

 private:
  // A batch from its read until its answer is written; oldest first in batches_.
  struct Batch {
    enum class State { kRead, kPreparing, kCommitting, kAnswered, kFailed, kWithdrawn };
    State state = State::kRead;
    grpc::ByteBuffer wire;  // As read; emptied once decoded.
    DecodedBatch decoded;   // Prepared events view its bytes: kept until answered.
    size_t held = 0;        // This batch's part of held_bytes_.
    PreparedBatch prepared;
    grpc::ByteBuffer answer;
  };

  // Gives `bytes` of this stream's hold back to the budget (and its client's quota). Requires
  // mutex_.
  void Forget(size_t bytes) {
    if (bytes == 0) return;
    held_bytes_ -= bytes;
    if (owner_.guard_ != nullptr) owner_.guard_->quota().Release(admission_.client(), bytes);
    owner_.budget_.Release(bytes);
  }

  // Whether a batch was read and not yet handed to a worker. Requires mutex_.
  bool HasUnpreparedBatch() const {
    for (const Batch& batch : batches_) {
      if (batch.state == Batch::State::kRead) return true;
    }
    return false;
  }

  // Holds `bytes` of the budget and of the client's quota, or nothing. The quota goes first:
  // a hold taken from the budget and given back at once would wake every waiting stream.
  bool TryHold(size_t bytes) {
    ClientQuota* quota = owner_.guard_ != nullptr ? &owner_.guard_->quota() : nullptr;
    if (quota != nullptr && !quota->TryHold(admission_.client(), bytes)) return false;
    if (owner_.budget_.TryHold(bytes)) return true;
    if (quota != nullptr) quota->Release(admission_.client(), bytes);
    return false;
  }

  // On a worker thread: decodes and validates the batch, then submits it to the committer.
  // The stream prepares one batch at a time and stays "preparing" until the submission
  // returned, so its batches reach the committer in stream order.
  void Prepare(Batch* batch, uint64_t number) {
    absl::StatusOr<PreparedBatch> prepared = Decode(batch, number);
    if (owner_.hooks_.after_prepare) owner_.hooks_.after_prepare(number, prepared.status());
    std::unique_lock lock(mutex_);
    if (!prepared.ok()) {
      preparing_ = false;
      batch->state = Batch::State::kFailed;
      if (error_.ok()) error_ = OfRequest(number, prepared.status());
      Perform(std::move(lock));
      return;
    }
    batch->prepared = *std::move(prepared);
    // The RawEvents are not needed any more: prepared events view the message's bytes.
    std::vector<RawEvent>().swap(batch->decoded.events);
    batch->state = Batch::State::kCommitting;
    ++committing_;
    lock.unlock();
    owner_.committer_.Submit(&batch->prepared,
                             [this, batch](absl::StatusOr<IngestOutcome> outcome) {
                               Committed(batch, std::move(outcome));
                             });
    lock.lock();
    preparing_ = false;
    Perform(std::move(lock));
  }

  // Decodes the batch's bytes and prepares its events; shrinks its hold to what it keeps.
  absl::StatusOr<PreparedBatch> Decode(Batch* batch, uint64_t number) {
    absl::Status decoded =
        DecodeIngestRequest(Flatten(batch->wire), owner_.limits_.max_batch_events, batch->decoded);
    {
      std::lock_guard lock(mutex_);
      const size_t keep = std::min(batch->held, batch->decoded.DecodedSize());
      Forget(batch->held - keep);
      batch->held = keep;
    }
    if (!decoded.ok()) return decoded;
    const DecodedBatch& request = batch->decoded;
    if (absl::Status valid = ValidateProducer(request.producer_id, request.sequence); !valid.ok()) {
      return valid;
    }
    const Grant& grant = admission_.grant();
    if (!grant.MayProduce(request.producer_id)) {
      return FieldError(absl::StatusCode::kPermissionDenied, "producer_id",
                        absl::StrCat("the token '", grant.name(), "' may not ingest as producer '",
                                     request.producer_id, "': its producer ids start with ",
                                     absl::StrJoin(grant.principal->producer_prefixes, " or ")));
    }
    if (grant.rate != nullptr)
      grant.rate->Take(static_cast<int64_t>(request.event_count), absl::Now());
    BatchIdentity identity = request.producer_id.empty()
                                 ? BatchIdentity{stream_id_, number, /*from_client=*/false}
                                 : BatchIdentity{std::string(request.producer_id), request.sequence,
                                                 /*from_client=*/true};
    return owner_.service_.Prepare(request.events, absl::Now(), std::move(identity));
  }

  // On the committer's thread, in submission order.
  void Committed(Batch* batch, absl::StatusOr<IngestOutcome> outcome) {
    std::unique_lock lock(mutex_);
    if (outcome.ok()) {
      v1::IngestResponse response;
      ToProto(*outcome, &response);
      response.set_sequence(batch->decoded.sequence);
      response.set_duplicate(outcome->duplicate);
      bool own_buffer = false;
      grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::IngestResponse>(response, &batch->answer,
                                                                          &own_buffer);
      batch->state = Batch::State::kAnswered;
      --committing_;
      Perform(std::move(lock));
      return;
    }
    batch->state = Batch::State::kFailed;
    if (error_.ok()) error_ = outcome.status();
    // The stream ends here: its later batches must not commit, or they would count without an
    // answer. They are still queued (this runs between commit windows), so they can be taken
    // back.
    std::vector<Batch*> later;
    for (Batch& other : batches_) {
      if (&other != batch && other.state == Batch::State::kCommitting) later.push_back(&other);
    }
    // This batch still counts as committing while the lock is released to withdraw the later
    // ones: otherwise another reaction could see nothing in progress, finish the stream and
    // delete it under us.
    lock.unlock();
    if (owner_.hooks_.after_failed_commit) owner_.hooks_.after_failed_commit();
    std::vector<Batch*> withdrawn;
    for (Batch* other : later) {
      if (owner_.committer_.Withdraw(&other->prepared)) withdrawn.push_back(other);
    }
    lock.lock();
    for (Batch* other : withdrawn) {
      other->state = Batch::State::kWithdrawn;
      --committing_;
    }
    --committing_;
    Perform(std::move(lock));
  }

  // Decides the next steps from the state, then takes them without the lock.
  void Perform(std::unique_lock<std::mutex> lock) {
    bool start_read = false;
    bool wait_for_room = false;
    const grpc::ByteBuffer* write = nullptr;
    std::optional<grpc::Status> finish;
    std::optional<std::pair<Batch*, uint64_t>> prepare;
    const bool draining = owner_.draining();
    if (!finished_) {
      // Answers go out in order, also once the stream is ending: a committed batch is always
      // answered before the stream ends (unless the client is gone).
      if (!broken_ && !writing_ && !batches_.empty() &&
          batches_.front().state == Batch::State::kAnswered) {
        writing_ = true;
        write = &batches_.front().answer;
      }
      if (!broken_ && error_.ok()) {
        if (!preparing_) {
          for (Batch& batch : batches_) {
            if (batch.state != Batch::State::kRead) continue;
            batch.state = Batch::State::kPreparing;
            preparing_ = true;
            prepare = {&batch, ++batches_started_};
            break;
          }
        }
        if (!reading_ && !reads_done_ && !draining && !waiting_for_room_ && !throttled_ &&
            batches_.size() < kMaxQueuedBatchesPerStream) {
          const size_t reservation = owner_.limits_.ReadReservation();
          const std::shared_ptr<RateLimiter>& rate = admission_.grant().rate;
          if (rate != nullptr && (preparing_ || HasUnpreparedBatch())) {
            // A token with a rate reads its next batch only once the last one's events are
            // taken from its balance: the debt it can run up is one batch per stream.
          } else if (rate != nullptr && rate->Debt(absl::Now()) > absl::ZeroDuration()) {
            throttled_ = true;  // The ticker resumes the stream once the debt is repaid.
          } else if (TryHold(reservation)) {
            held_bytes_ += reservation;
            read_held_ = reservation;
            reading_ = start_read = true;
          } else {
            waiting_for_room_ = wait_for_room = true;
          }
        }
      }
      const bool working = preparing_ || committing_ > 0 || writing_ || waiting_for_room_;
      if (broken_) {
        if (!working) finish = grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled");
      } else if (!error_.ok()) {
        // Not writing means the oldest batch has no answer to give: everything committed
        // before the failure has been answered.
        if (!working) finish = ToGrpcStatus(error_);
      } else if (batches_.empty() && !working) {
        if (reads_done_ && !reading_) {
          finish = grpc::Status::OK;
        } else if (draining) {
          // A read may still be outstanding; Finish completes it with ok = false.
          finish = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down: reconnect (to another replica) and "
                                "re-send the batches not yet answered");
        } else if (idle_) {
          finish = grpc::Status(
              grpc::StatusCode::UNAVAILABLE,
              absl::StrCat("no batch for ",
                           absl::FormatDuration(owner_.guard_->limits().stream_idle_timeout),
                           " (--stream-idle-timeout-s): the stream is closed; open a new one "
                           "when there is more to send"));
        }
      }
      if (finish) finished_ = true;
    }
    lock.unlock();
    if (prepare) {
      owner_.workers_.Submit(
          [this, batch = prepare->first, number = prepare->second] { Prepare(batch, number); });
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
  const Admission admission_;  // Its token's grant; the stream's place among the calls.
  std::mutex mutex_;
  grpc::ByteBuffer request_;  // Target of the read in flight.
  // Read and not yet answered, oldest first. A deque keeps addresses stable, so workers and the
  // committer hold pointers to its elements.
  std::deque<Batch> batches_;
  size_t held_bytes_ = 0;  // Of the budget: the read's reservation and the batches' holds.
  size_t read_held_ = 0;   // The reservation of the read in flight.
  uint64_t batches_started_ = 0;
  int committing_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool preparing_ = false;
  bool waiting_for_room_ = false;
  bool reads_done_ = false;
  bool broken_ = false;
  bool finished_ = false;
  bool throttled_ = false;  // Not reading while its token is in debt.
  bool idle_ = false;       // Waited longer than the idle timeout for a batch.
  absl::Time last_read_;    // When the last read completed (or the stream started).
  absl::Status error_;
};

namespace {

// A stream refused before it started: ends at once with `status`.
class RefusedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

IngestServiceImpl::IngestServiceImpl(StatsService& service, WorkerPool& workers,
                                     IngestBudget& budget, BatchCommitter& committer,
                                     IngestLimits limits, IngestHooks hooks, CallGuard* guard)
    : service_(service),
      workers_(workers),
      budget_(budget),
      committer_(committer),
      limits_(limits),
      hooks_(std::move(hooks)),
      guard_(guard),
      instance_id_(RandomHex()) {
  if (guard_ != nullptr) {
    ticker_ = std::thread([this] {
      std::unique_lock lock(ticker_mutex_);
      while (!ticker_wakeup_.wait_for(lock, std::chrono::milliseconds(50),
                                      [this] { return ticker_stopping_; })) {
        lock.unlock();
        Tick();
        lock.lock();
      }
    });
  }
}

IngestServiceImpl::~IngestServiceImpl() {
  {
    std::lock_guard lock(ticker_mutex_);
    ticker_stopping_ = true;
  }
  ticker_wakeup_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void IngestServiceImpl::Tick() {
  const absl::Time now = absl::Now();
  // Under the registry lock a stream cannot be deleted (OnDone unregisters first).
  std::lock_guard lock(streams_mutex_);
  for (Stream* stream : streams_) stream->Tick(now, guard_->limits().stream_idle_timeout);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* IngestServiceImpl::StreamEvents(
    grpc::CallbackServerContext* context) {
  Admission admission;
  if (guard_ != nullptr) {
    absl::StatusOr<Admission> admitted = guard_->Admit(*context, TokenScope::kIngest);
    if (!admitted.ok()) return new RefusedStream(ToGrpcStatus(admitted.status()));
    admission = *std::move(admitted);
  }
  // '~' cannot appear in a client's producer id, so these never collide with one.
  return new Stream(*this, absl::StrCat("~", instance_id_, ".", next_stream_++),
                    std::move(admission));
}

void IngestServiceImpl::Register(Stream* stream) {
  std::lock_guard lock(streams_mutex_);
  streams_.insert(stream);
}

void IngestServiceImpl::Unregister(Stream* stream) {
  std::lock_guard lock(streams_mutex_);
  streams_.erase(stream);
}

size_t IngestServiceImpl::open_streams() {
  std::lock_guard lock(streams_mutex_);
  return streams_.size();
}

void IngestServiceImpl::Drain() {
  draining_ = true;
  // Under the registry lock a stream cannot be deleted (OnDone unregisters first).
  std::lock_guard lock(streams_mutex_);
  for (Stream* stream : streams_) stream->Drain();
}

grpc::ServerUnaryReactor* IngestServiceImpl::UpsertModels(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  return RunRawUnary<v1::UpsertModelsRequest, v1::UpsertModelsResponse>(
      context, request, response, workers_,
      UnaryAdmission{guard_, TokenScope::kIngest, limits_.max_message_bytes},
      [this](const v1::UpsertModelsRequest& request,
             v1::UpsertModelsResponse* response) -> absl::Status {
        if (static_cast<size_t>(request.models_size()) > limits_.max_upsert_records) {
          return InvalidFieldError(
              "models", absl::StrCat("at most ", limits_.max_upsert_records,
                                     " records per request (the server's --max-upsert-records), "
                                     "got ",
                                     request.models_size()));
        }
        std::vector<CatalogRecord> records;
        std::vector<ItemRejection> malformed;
        std::vector<int> original_index;
        records.reserve(request.models_size());
        for (int i = 0; i < request.models_size(); ++i) {
          absl::StatusOr<CatalogRecord> record = FromProto(request.models(i));
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

}  // namespace hubstats
