#include "ingest.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "channel.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "input.h"

namespace hubstats::cli {
namespace {

struct Batch {
  uint64_t sequence = 0;
  v1::IngestRequest request;
  std::vector<int> lines;  // Line of each event.
};

// Reads the file into numbered batches; lines that do not parse become errors here.
class BatchReader {
 public:
  BatchReader(std::istream& input, const std::string& producer_id, int batch_size)
      : input_(input), producer_id_(producer_id), batch_size_(batch_size) {}

  // The next batch, or false at the end of the input.
  bool Next(Batch& batch, IngestSummary& summary) {
    batch = Batch();
    std::string line;
    while (batch.request.events_size() < batch_size_ && std::getline(input_, line)) {
      ++line_number_;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      absl::StatusOr<v1::DownloadEvent> event = ParseEventLine(line);
      if (!event.ok()) {
        ++summary.rejected;
        summary.errors.push_back({line_number_, std::string(event.status().message())});
        continue;
      }
      *batch.request.add_events() = *std::move(event);
      batch.lines.push_back(line_number_);
    }
    if (batch.request.events_size() == 0) return false;
    batch.sequence = ++sequence_;
    batch.request.set_producer_id(producer_id_);
    batch.request.set_sequence(batch.sequence);
    return true;
  }

 private:
  std::istream& input_;
  const std::string producer_id_;
  const int batch_size_;
  int line_number_ = 0;
  uint64_t sequence_ = 0;
};

// One run over the input, across as many streams as it takes.
class Ingestion {
 public:
  Ingestion(std::istream& input, const IngestSettings& settings,
            const std::function<void(const std::string&)>& log)
      : settings_(settings), log_(log), reader_(input, settings.producer_id, settings.batch_size) {}

  IngestSummary Run() {
    std::mt19937_64 random(std::random_device{}());
    absl::Duration backoff = absl::Milliseconds(100);
    absl::Time last_progress = absl::Now();
    size_t target = 0;
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
      if (absl::Now() - last_progress > settings_.retry_for) {
        summary_.status =
            grpc::Status(status.error_code(),
                         absl::StrCat("gave up after ", absl::FormatDuration(settings_.retry_for),
                                      " without progress; last error: ", status.error_message()));
        break;
      }
      target = (target + 1) % settings_.targets.size();
      const absl::Duration jittered =
          backoff * std::uniform_real_distribution<double>(0.5, 1.0)(random);
      log_(absl::StrCat("stream failed (", status.error_message(), "); retrying on ",
                        settings_.targets[target], " in ", absl::FormatDuration(jittered)));
      ++summary_.reconnects;
      absl::SleepFor(jittered);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    std::sort(summary_.errors.begin(), summary_.errors.end(),
              [](const LineError& a, const LineError& b) { return a.line < b.line; });
    return std::move(summary_);
  }

 private:
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
    auto stub = v1::IngestService::NewStub(NewChannel(target));
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
    if (response.duplicate()) {
      summary_.duplicates += response.accepted();
      summary_.duplicate_downloads += response.accepted_downloads();
    } else {
      summary_.accepted += response.accepted();
      summary_.accepted_downloads += response.accepted_downloads();
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
  int64_t acknowledged_ = 0;
  IngestSummary summary_;
};

}  // namespace

IngestSummary IngestEvents(std::istream& input, const IngestSettings& settings,
                           const std::function<void(const std::string&)>& log) {
  return Ingestion(input, settings, log).Run();
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
