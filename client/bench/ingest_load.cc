#include "ingest_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/packed_events.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The freshness probe: readers offer each acknowledgement's version; one thread asks the lag
// target for the newest one offered, waits for the answer, and repeats. Only the newest offer
// is kept, so a slow answer never queues up older ones: each measured lag is from an ack to an
// answer that was requested after it, an upper bound of the true lag.
class LagProbe {
 public:
  explicit LagProbe(const std::string& target)
      : stub_(v1::QueryService::NewStub(client::NewChannel(target, /*own_connection=*/true))),
        thread_([this] { Run(); }) {}

  ~LagProbe() { Stop(); }

  void Offer(Clock::time_point acked_at, const std::string& version) {
    if (version.empty()) return;
    std::lock_guard lock(mutex_);
    newest_ = {acked_at, version};
    wake_.notify_one();
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  void MoveResultsTo(IngestResult& result) {
    std::lock_guard lock(mutex_);
    result.lag_ms = std::move(lags_);
    result.lag_failures = failures_;
    result.first_lag_failure = first_failure_;
  }

 private:
  void Run() {
    while (true) {
      std::pair<Clock::time_point, std::string> offer;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || newest_.has_value(); });
        if (stopping_) return;
        offer = *std::move(newest_);
        newest_.reset();
      }
      v1::TotalsRequest request;
      request.mutable_freshness()->set_min_version(offer.second);
      v1::TotalsResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status status = stub_->GetTotals(&context, request, &response);
      const double ms =
          std::chrono::duration<double, std::milli>(Clock::now() - offer.first).count();
      std::lock_guard lock(mutex_);
      if (status.ok()) {
        lags_.push_back(ms);
      } else if (failures_++ == 0) {
        first_failure_ = absl::StrCat("code ", status.error_code(), ": ", status.error_message());
      }
    }
  }

  std::unique_ptr<v1::QueryService::Stub> stub_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::pair<Clock::time_point, std::string>> newest_;
  bool stopping_ = false;
  std::vector<double> lags_;
  int64_t failures_ = 0;
  std::string first_failure_;
  std::thread thread_;  // Last: starts once the members it uses exist.
};

// One stream's batches, generated before timing starts.
std::vector<v1::IngestRequest> MakePool(const IngestLoadOptions& options, const Hub& hub,
                                        int connection, const std::string& producer) {
  const int batches = static_cast<int>(
      std::max<int64_t>(1, options.pool_events / options.batch_size / options.connections));
  std::mt19937_64 random(1000 + connection);
  std::vector<v1::IngestRequest> pool(batches);
  for (v1::IngestRequest& batch : pool) {
    hub.FillBatch(batch, options.batch_size, options.days, TodayStart(), random);
    batch.set_producer_id(producer);
    if (!options.packed) continue;
    std::vector<v1::DownloadEvent> events(std::make_move_iterator(batch.mutable_events()->begin()),
                                          std::make_move_iterator(batch.mutable_events()->end()));
    batch.clear_events();
    std::vector<int> positions(events.size());
    std::iota(positions.begin(), positions.end(), 0);
    client::PackEvents(events, positions, batch);
  }
  return pool;
}

}  // namespace

void Progress(const std::string& line) {
  std::fprintf(stderr, "hubstats-bench: %s\n", line.c_str());
}

int64_t TodayStart() {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return now - now % 86400;
}

IngestResult RunIngestLoad(const IngestLoadOptions& options, const Hub& hub,
                           std::atomic<bool>& stop) {
  const std::string run_id = absl::StrCat(absl::ToUnixNanos(absl::Now()));
  std::optional<LagProbe> probe;
  if (!options.lag_target.empty()) probe.emplace(options.lag_target);

  // Every stream's batches first (in parallel), so that neither the duration nor events/s
  // include generating them.
  std::vector<std::vector<v1::IngestRequest>> pools(options.connections);
  {
    std::vector<std::thread> makers;
    for (int c = 0; c < options.connections; ++c) {
      makers.emplace_back(
          [&, c] { pools[c] = MakePool(options, hub, c, absl::StrCat("bench-", run_id, "-", c)); });
    }
    for (std::thread& maker : makers) maker.join();
  }

  IngestResult result;
  std::mutex result_mutex;
  std::atomic<int64_t> sent_events{0};
  const auto start = Clock::now();
  std::mutex timer_mutex;
  std::condition_variable timer_wake;
  bool streams_done = false;
  std::thread timer;
  if (options.duration != absl::InfiniteDuration()) {
    timer = std::thread([&] {
      std::unique_lock lock(timer_mutex);
      if (!timer_wake.wait_for(lock, absl::ToChronoNanoseconds(options.duration),
                               [&] { return streams_done; })) {
        stop = true;
      }
    });
  }
  std::vector<std::thread> threads;
  for (int c = 0; c < options.connections; ++c) {
    threads.emplace_back([&, c] {
      std::vector<v1::IngestRequest>& pool = pools[c];
      auto stub =
          v1::IngestService::NewStub(client::NewChannel(options.target, /*own_connection=*/true));
      grpc::ClientContext context;
      auto stream = stub->StreamEvents(&context);
      std::mutex mutex;
      std::condition_variable acked;
      int outstanding = 0;
      bool reading = true;  // Until the reader saw the stream's end.
      int64_t written = 0, answered = 0;
      std::vector<Clock::time_point> sent_at(options.in_flight * 2 + 8);
      std::vector<double> latencies;
      int64_t acked_events = 0;

      std::thread writer([&] {
        uint64_t sequence = 0;
        const double per_connection_rate = options.rate / options.connections;
        const auto writer_start = Clock::now();
        int64_t my_events = 0;
        while (!stop.load()) {
          {
            std::unique_lock lock(mutex);
            acked.wait(lock, [&] { return outstanding < options.in_flight || !reading; });
            // The server ended the stream: nothing more will be acknowledged.
            if (!reading) break;
          }
          if (options.max_events > 0 &&
              sent_events.fetch_add(options.batch_size) >= options.max_events) {
            break;
          }
          if (per_connection_rate > 0) {
            std::this_thread::sleep_until(
                writer_start + std::chrono::duration<double>(my_events / per_connection_rate));
          }
          v1::IngestRequest& batch = pool[sequence % pool.size()];
          batch.set_sequence(++sequence);
          {
            std::lock_guard lock(mutex);
            ++outstanding;
            sent_at[sequence % sent_at.size()] = Clock::now();
          }
          if (!stream->Write(batch)) break;
          if (options.started != nullptr) options.started->store(true);
          {
            std::lock_guard lock(mutex);
            ++written;
          }
          my_events += options.batch_size;
        }
        stream->WritesDone();
      });
      v1::IngestResponse response;
      while (stream->Read(&response)) {
        const auto now = Clock::now();
        if (probe) probe->Offer(now, response.version());
        std::lock_guard lock(mutex);
        latencies.push_back(std::chrono::duration<double, std::milli>(
                                now - sent_at[response.sequence() % sent_at.size()])
                                .count());
        acked_events += response.accepted();
        ++answered;
        --outstanding;
        acked.notify_all();
      }
      {
        std::lock_guard lock(mutex);
        reading = false;
        acked.notify_all();
      }
      writer.join();
      const grpc::Status status = stream->Finish();
      std::lock_guard lock(result_mutex);
      if (!status.ok()) {
        ++result.failed_streams;
        Progress(absl::StrCat("stream ", c, " ended: ", status.error_message()));
      } else if (answered != written) {
        ++result.failed_streams;
        Progress(absl::StrCat("stream ", c, " ended OK with ", written - answered, " of ", written,
                              " batches unanswered"));
      }
      result.events += acked_events;
      result.ack_ms.insert(result.ack_ms.end(), latencies.begin(), latencies.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (timer.joinable()) {
    {
      std::lock_guard lock(timer_mutex);
      streams_done = true;
    }
    timer_wake.notify_all();
    timer.join();
  }
  if (probe) {
    probe->Stop();
    probe->MoveResultsTo(result);
  }
  return result;
}

}  // namespace hubstats::bench
