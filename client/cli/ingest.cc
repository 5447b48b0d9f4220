#include "ingest.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/channel.h"
#include "common/command_line.h"
#include "common/packed_events.h"
#include "core/version.h"
#include "google/protobuf/io/coded_stream.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::cli {
namespace {

struct Batch {
  uint64_t sequence = 0;
  v1::IngestRequest request;
  std::vector<int> lines;  // Line of each event, in the request's order.
};

// Cuts the input into numbered batches; lines that do not make an event become errors here.
// The cut depends only on the input and the settings, so a re-run makes the same batches.
class BatchReader {
 public:
  BatchReader(InputReader& input, const IngestSettings& settings)
      : input_(input),
        settings_(settings),
        // The request's own fields: the producer id and the sequence, with their tags.
        request_overhead_(static_cast<int64_t>(settings.producer_id.size()) + 16) {}

  // The next batch, or false at the end of the input.
  bool Next(Batch& batch, IngestSummary& summary) {
    batch = Batch();
    // Cut by the events' own size (an upper bound of their packed size), so batches stay
    // under --batch-bytes however they are sent.
    int64_t bytes = request_overhead_;
    std::vector<v1::DownloadEvent> events;
    while (static_cast<int>(events.size()) < settings_.batch_size) {
      if (!held_) {
        if (!ReadEvent(summary)) break;
      }
      const int64_t size = FramedSize(held_->event);
      if (!events.empty() && bytes + size > settings_.batch_bytes) break;
      bytes += size;
      events.push_back(std::move(held_->event));
      batch.lines.push_back(held_->line);
      held_.reset();
    }
    if (events.empty()) return false;
    client::PackEvents(events, batch.lines, batch.request);
    batch.sequence = ++sequence_;
    batch.request.set_producer_id(settings_.producer_id);
    batch.request.set_sequence(batch.sequence);
    return true;
  }

 private:
  struct LineEvent {
    int line = 0;
    v1::DownloadEvent event;
  };

  // Reads up to the next good event into held_; false at the end of the input.
  bool ReadEvent(IngestSummary& summary) {
    InputItem item;
    while (input_.Next(item)) {
      absl::StatusOr<v1::DownloadEvent> event = item.error.ok()
                                                    ? EventFromFields(item.fields)
                                                    : absl::StatusOr<v1::DownloadEvent>(item.error);
      if (event.ok() && request_overhead_ + FramedSize(*event) > settings_.batch_bytes) {
        event = absl::InvalidArgumentError(absl::StrCat(
            "the event takes ", client::HumanBytes(FramedSize(*event)), ", more than the ",
            client::HumanBytes(settings_.batch_bytes), " a batch may hold (--batch-bytes)"));
      }
      if (!event.ok()) {
        ++summary.rejected;
        summary.errors.push_back({item.line, std::string(event.status().message())});
        continue;
      }
      held_ = LineEvent{item.line, *std::move(event)};
      return true;
    }
    return false;
  }

  InputReader& input_;
  const IngestSettings& settings_;
  const int64_t request_overhead_;
  std::optional<LineEvent> held_;  // Read, and left for the next batch.
  uint64_t sequence_ = 0;
};

// One run over the input, across as many streams as it takes.
class Ingestion {
 public:
  Ingestion(InputReader& input, const IngestSettings& settings,
            const std::function<void(const std::string&)>& log)
      : settings_(settings), log_(log), reader_(input, settings) {}

  IngestSummary Run() {
    std::mt19937_64 random(std::random_device{}());
    absl::Duration backoff = absl::Milliseconds(100);
    absl::Time last_progress = absl::Now();
    size_t target = 0;
    size_t unreached = 0;  // Targets tried in a row without any server ever answering.
    while (true) {
      {
        std::lock_guard lock(mutex_);
        FillWindow();
        if (unacked_.empty()) break;  // Everything acknowledged.
      }
      const int64_t acknowledged_before = acknowledged_;
      grpc::Status status = RunStream(settings_.targets[target]);
      if (acknowledged_ > acknowledged_before) {
        last_progress = absl::Now();
        backoff = absl::Milliseconds(100);
      }
      if (status.ok()) continue;  // The stream ended cleanly; anything left goes on a new one.
      if (!IsRetryable(status.error_code())) {
        summary_.status = status;
        break;
      }
      if (!contacted_ && !settings_.retry_before_contact &&
          ++unreached >= settings_.targets.size()) {
        summary_.status = grpc::Status(
            status.error_code(),
            absl::StrCat("no server answered at ", absl::StrJoin(settings_.targets, ", "), " (",
                         status.error_message(),
                         "); give --retry-for to wait for a server that is starting"));
        break;
      }
      if (absl::Now() - last_progress > settings_.retry_for) {
        summary_.status =
            grpc::Status(status.error_code(),
                         absl::StrCat("gave up after ", client::HumanDuration(settings_.retry_for),
                                      " without progress; last error: ", status.error_message()));
        break;
      }
      target = (target + 1) % settings_.targets.size();
      const absl::Duration jittered =
          backoff * std::uniform_real_distribution<double>(0.5, 1.0)(random);
      log_(absl::StrCat("stream failed (", status.error_message(), "); retrying on ",
                        settings_.targets[target], " in ", client::HumanDuration(jittered)));
      ++summary_.reconnects;
      absl::SleepFor(jittered);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    std::stable_sort(summary_.errors.begin(), summary_.errors.end(),
                     [](const LineError& a, const LineError& b) { return a.line < b.line; });
    return std::move(summary_);
  }

  // Reads batches until the window is full or the input ends. Requires mutex_.
  void FillWindow() {
    while (!input_done_ && unacked_.size() < static_cast<size_t>(settings_.max_in_flight)) {
      Batch batch;
      if (!reader_.Next(batch, summary_)) {
        input_done_ = true;
        break;
      }
      unacked_.push_back(std::move(batch));
    }
  }

  // Sends every unacknowledged batch (and new ones as the window allows) on one stream and
  // takes the answers. Returns the stream's final status.
  grpc::Status RunStream(const std::string& target) {
    // A new channel per stream re-resolves DNS names, so a replica that went away is dropped.
    std::shared_ptr<grpc::Channel> channel = client::NewChannel(target, settings_.security);
    auto stub = v1::IngestService::NewStub(channel);
    // A server answered once the channel is connected; a wrong address never gets there.
    auto note_contact = [&] {
      if (channel->GetState(false) == GRPC_CHANNEL_READY) contacted_ = true;
    };
    grpc::ClientContext context;
    auto stream = stub->StreamEvents(&context);

    uint64_t next_to_send = 0;
    {
      std::lock_guard lock(mutex_);
      next_to_send = unacked_.front().sequence;
      stream_failed_ = false;
    }
    std::thread writer([&] {
      std::unique_lock lock(mutex_);
      while (true) {
        // The first unacknowledged batch not yet sent on this stream, if any.
        auto next = std::find_if(unacked_.begin(), unacked_.end(), [&](const Batch& batch) {
          return batch.sequence >= next_to_send;
        });
        if (next == unacked_.end()) {
          if (input_done_ || stream_failed_) break;
          changed_.wait(lock);
          continue;
        }
        if (stream_failed_) break;
        const v1::IngestRequest request = next->request;
        next_to_send = next->sequence + 1;
        lock.unlock();
        const bool written = stream->Write(request);
        lock.lock();
        if (!written) break;
        note_contact();
      }
      const bool clean = !stream_failed_;
      lock.unlock();
      if (clean) stream->WritesDone();
    });

    v1::IngestResponse response;
    grpc::Status protocol_error;
    while (stream->Read(&response)) {
      std::lock_guard lock(mutex_);
      if (unacked_.empty() || response.sequence() != unacked_.front().sequence) {
        // Not retried: a server that does not echo sequences (one older than exactly-once
        // delivery) would count every re-sent batch again.
        protocol_error = grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            absl::StrCat("server answered sequence ", response.sequence(), ", expected ",
                         unacked_.empty() ? 0 : unacked_.front().sequence,
                         "; does it support exactly-once ingestion?"));
        context.TryCancel();
        break;
      }
      contacted_ = true;
      Account(unacked_.front(), response);
      unacked_.pop_front();
      ++acknowledged_;
      FillWindow();
      changed_.notify_all();
    }
    {
      std::lock_guard lock(mutex_);
      stream_failed_ = true;  // Stops the writer if it still waits for batches.
      changed_.notify_all();
    }
    // No cancel here: the call is over (a blocked Write returns false), and cancelling now
    // could replace the server's final status with CANCELLED.
    writer.join();
    grpc::Status status = stream->Finish();
    {
      std::lock_guard lock(mutex_);
      note_contact();
    }
    if (!protocol_error.ok()) return protocol_error;
    std::lock_guard lock(mutex_);
    if (status.ok() && !unacked_.empty() && input_done_) {
      // The server ended the call without answering everything: try again.
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended with batches unanswered");
    }
    return status;
  }

  // Adds one acknowledged batch to the summary. Requires mutex_.
  void Account(const Batch& batch, const v1::IngestResponse& response) {
    absl::StatusOr<VersionToken> version =
        VersionToken::Parse(response.version(), std::numeric_limits<uint32_t>::max());
    if (version.ok()) {
      version_.Merge(*version);
      summary_.version = version_.ToString();
    }
    if (response.duplicate()) {
      summary_.duplicates += response.accepted();
      summary_.duplicate_downloads += response.accepted_downloads();
    } else {
      summary_.accepted += response.accepted();
      summary_.accepted_downloads += response.accepted_downloads();
      summary_.accepted_all_time_only += response.accepted_all_time_only();
    }
    summary_.rejected += response.rejected();
    for (const v1::Rejection& rejection : response.rejections()) {
      const int line =
          rejection.index() >= 0 && rejection.index() < static_cast<int>(batch.lines.size())
              ? batch.lines[rejection.index()]
              : 0;
      summary_.errors.push_back({line, RejectionText(rejection)});
    }
  }

  const IngestSettings& settings_;
  const std::function<void(const std::string&)>& log_;
  BatchReader reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> unacked_;  // Read from the input, not yet acknowledged; oldest first.
  bool input_done_ = false;
  bool stream_failed_ = false;
  bool contacted_ = false;  // Some server answered during this run.
  int64_t acknowledged_ = 0;
  IngestSummary summary_;
  VersionToken version_;  // Of every batch acknowledged.
};

}  // namespace

IngestSummary IngestEvents(InputReader& input, const IngestSettings& settings,
                           const std::function<void(const std::string&)>& log) {
  return Ingestion(input, settings, log).Run();
}

int64_t FramedSize(const v1::DownloadEvent& event) {
  const size_t size = event.ByteSizeLong();
  return static_cast<int64_t>(1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) +
                              size);
}

std::string RejectionText(const v1::Rejection& rejection) {
  return rejection.field().empty() ? rejection.reason()
                                   : absl::StrCat(rejection.field(), ": ", rejection.reason());
}

std::string NewProducerId() {
  char host[64] = {0};
  gethostname(host, sizeof(host) - 1);
  std::string clean;
  for (const char* c = host; *c != '\0'; ++c) {
    clean += (std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '-') ? *c : '_';
  }
  std::random_device random;
  return absl::StrCat("cli-", clean, "-", getpid(), "-", absl::Hex(random(), absl::kZeroPad8));
}

bool IsRetryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

}  // namespace hubstats::cli
