// The ingest stream over real gRPC (in process, loopback), on a MemoryStore, with committers
// that force the interleavings the stream must survive.
#include "grpc/ingest_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/follower.h"
#include "core/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "raw_call.h"
#include "store/memory_store.h"

namespace hubstats {
namespace {

using test_support::Stream;
using test_support::StreamResult;
using ::testing::HasSubstr;

// Lets every call through to `inner`, unless the test says otherwise.
class ForwardingCommitter : public BatchCommitter {
 public:
  explicit ForwardingCommitter(BatchCommitter& inner) : inner_(inner) {}
  void Submit(PreparedBatch* batch, Done done) override { inner_.Submit(batch, std::move(done)); }
  bool Withdraw(PreparedBatch* batch) override { return inner_.Withdraw(batch); }

 protected:
  BatchCommitter& inner_;
};

// A Store that fails every commit window holding a given model (as if Redis refused it), and
// otherwise is the MemoryStore it wraps.
class FailingStore : public MemoryStore {
 public:
  FailingStore(std::string failing_model, std::function<void()> on_failure)
      : failing_model_(std::move(failing_model)), on_failure_(std::move(on_failure)) {}
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override {
    for (const WindowShard& shard : shards) {
      for (const ModelDelta& model : shard.delta.models) {
        if (model.model_id != failing_model_) continue;
        if (on_failure_) on_failure_();
        return absl::UnavailableError("injected failure");
      }
    }
    return MemoryStore::ApplyWindow(shards);
  }

 private:
  const std::string failing_model_;
  const std::function<void()> on_failure_;
};

struct HarnessOptions {
  std::string failing_model;         // Windows holding it fail (see FailingStore)...
  std::function<void()> on_failure;  // ... and call this.
  GroupCommitOptions commit;
  IngestLimits limits;
  IngestHooks hooks;
  size_t budget_bytes = 256 << 20;
  // Wraps the real committer; nullptr: streams use it directly.
  std::function<std::unique_ptr<BatchCommitter>(BatchCommitter&)> wrap;
};

// An in-process server: IngestServiceImpl over a MemoryStore, on a loopback port.
class Harness {
 public:
  explicit Harness(HarnessOptions options)
      : store_(options.failing_model, options.on_failure),
        model_(TaskTable::BuiltIn(), store_.shard_count()),
        follower_(store_, model_),
        service_(store_, TaskTable::BuiltIn(), model_, Committed(follower_)),
        workers_(4),
        budget_(options.budget_bytes),
        committer_(service_, options.commit) {
    if (options.wrap) wrapper_ = options.wrap(committer_);
    ingest_ = std::make_unique<IngestServiceImpl>(service_, workers_, budget_,
                                                  wrapper_ ? *wrapper_ : committer_, options.limits,
                                                  std::move(options.hooks));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(ingest_.get());
    builder.SetMaxReceiveMessageSize(static_cast<int>(options.limits.max_message_bytes));
    server_ = builder.BuildAndStart();
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    stub_ = v1::IngestService::NewStub(channel_);
  }
  ~Harness() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
  }

  v1::IngestService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  StatsService& service() { return service_; }
  IngestBudget& budget() { return budget_; }
  IngestServiceImpl& ingest() { return *ingest_; }

  int64_t TotalDownloads() {
    EXPECT_TRUE(follower_.CatchUp().ok());
    absl::StatusOr<Answer<Population>> totals = service_.GetTotals(DayRange{});
    EXPECT_TRUE(totals.ok()) << totals.status();
    return totals.ok() ? totals->value.total_downloads : -1;
  }

 private:
  static StatsServiceOptions Committed(Follower& follower) {
    StatsServiceOptions options;
    options.committed = [&follower] { follower.Nudge(); };
    return options;
  }

  FailingStore store_;
  ReadModel model_;
  Follower follower_;
  StatsService service_;
  WorkerPool workers_;
  IngestBudget budget_;
  GroupCommitter committer_;
  std::unique_ptr<BatchCommitter> wrapper_;
  std::unique_ptr<IngestServiceImpl> ingest_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> stub_;
};

v1::IngestRequest Batch(const std::string& producer, uint64_t sequence, int events,
                        const std::string& model = "org/model", int64_t count = 1) {
  v1::IngestRequest request;
  if (!producer.empty()) {
    request.set_producer_id(producer);
    request.set_sequence(sequence);
  }
  for (int i = 0; i < events; ++i) {
    v1::DownloadEvent* event = request.add_events();
    event->set_model_id(model);
    event->set_count(count);
  }
  return request;
}

// Issue 9, defect 1: with the next batch prepared while the previous one was being handed to
// the committer, a stream's batches could reach it out of order, and a producer's lower
// sequence was then refused for good. This committer holds the first submission back for up to
// a second and notes any submission that arrives meanwhile.
class HoldFirstSubmission : public ForwardingCommitter {
 public:
  using ForwardingCommitter::ForwardingCommitter;
  void Submit(PreparedBatch* batch, Done done) override {
    const uint64_t sequence = batch->identity->sequence;
    std::unique_lock lock(mutex_);
    entered_.push_back(sequence);
    changed_.notify_all();
    if (entered_.size() == 1) {
      changed_.wait_for(lock, std::chrono::seconds(1), [&] { return entered_.size() > 1; });
      overtaken_ = entered_.size() > 1;
    }
    submitted_.push_back(sequence);
    lock.unlock();
    ForwardingCommitter::Submit(batch, std::move(done));
  }
  std::vector<uint64_t> submitted() {
    std::lock_guard lock(mutex_);
    return submitted_;
  }
  bool overtaken() {
    std::lock_guard lock(mutex_);
    return overtaken_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<uint64_t> entered_, submitted_;
  bool overtaken_ = false;
};

TEST(IngestStreamTest, BatchesReachTheCommitterInStreamOrder) {
  HoldFirstSubmission* holder = nullptr;
  HarnessOptions options;
  options.wrap = [&](BatchCommitter& inner) {
    auto wrapper = std::make_unique<HoldFirstSubmission>(inner);
    holder = wrapper.get();
    return wrapper;
  };
  Harness harness(std::move(options));
  const StreamResult result =
      Stream(harness.stub(), {Batch("job", 1, 3), Batch("job", 2, 4), Batch("job", 3, 5)});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_FALSE(holder->overtaken()) << "a later batch was submitted while the first one was";
  EXPECT_THAT(holder->submitted(), ::testing::ElementsAre(1, 2, 3));
  ASSERT_EQ(result.answers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.answers[i].sequence(), i + 1);
    EXPECT_EQ(result.answers[i].accepted(), static_cast<int64_t>(i + 3));
  }
  EXPECT_EQ(harness.TotalDownloads(), 12);
}

// Issue 9, defect 2: [10 valid events, then a batch over the event limit] while the first
// batch is still being committed. The first batch counts, so it must be answered before the
// stream ends with INVALID_ARGUMENT. The committer only lets the first batch through once the
// second one was refused.
TEST(IngestStreamTest, CommittedBatchIsAnsweredWhenTheNextIsRefused) {
  std::mutex mutex;
  std::condition_variable changed;
  bool second_refused = false;
  std::vector<std::thread> deferred;
  class Deferring : public ForwardingCommitter {
   public:
    Deferring(BatchCommitter& inner, std::function<void()> wait, std::vector<std::thread>& threads)
        : ForwardingCommitter(inner), wait_(std::move(wait)), threads_(threads) {}
    void Submit(PreparedBatch* batch, Done done) override {
      threads_.emplace_back([this, batch, done = std::move(done)]() mutable {
        wait_();
        ForwardingCommitter::Submit(batch, std::move(done));
      });
    }

   private:
    std::function<void()> wait_;
    std::vector<std::thread>& threads_;
  };
  HarnessOptions options;
  options.hooks.after_prepare = [&](uint64_t batch, const absl::Status& status) {
    if (batch != 2) return;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    std::lock_guard lock(mutex);
    second_refused = true;
    changed.notify_all();
  };
  options.wrap = [&](BatchCommitter& inner) {
    return std::make_unique<Deferring>(
        inner,
        [&] {
          std::unique_lock lock(mutex);
          changed.wait(lock, [&] { return second_refused; });
        },
        deferred);
  };
  {
    Harness harness(std::move(options));
    const StreamResult result =
        Stream(harness.stub(), {Batch("", 0, 10), Batch("", 0, kMaxBatchItems + 1)});
    for (std::thread& thread : deferred) thread.join();
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(result.status.error_message(), HasSubstr("request 2 of this stream"));
    EXPECT_THAT(result.status.error_message(), HasSubstr("at most 100000"));
    ASSERT_EQ(result.answers.size(), 1u) << "the committed batch was not answered";
    EXPECT_EQ(result.answers[0].accepted(), 10);
    EXPECT_EQ(harness.TotalDownloads(), 10);
  }
}

// A batch whose commit fails ends the stream; a later batch of the stream, already queued for
// a later window, must not be committed without an answer (a client without a producer id
// would re-send it and count it twice). The second batch is handed over only after the first
// one's window has failed once, so it waits in the queue while that window is retried.
TEST(IngestStreamTest, BatchesAfterAFailedCommitAreWithdrawn) {
  std::mutex mutex;
  std::condition_variable changed;
  bool first_failed = false;
  int forwarded = 0;
  class AfterFirstFailure : public ForwardingCommitter {
   public:
    AfterFirstFailure(BatchCommitter& inner, std::function<void(bool first)> wait)
        : ForwardingCommitter(inner), wait_(std::move(wait)) {}
    void Submit(PreparedBatch* batch, Done done) override {
      wait_(std::exchange(first_, false));
      ForwardingCommitter::Submit(batch, std::move(done));
    }

   private:
    std::function<void(bool first)> wait_;
    bool first_ = true;
  };
  HarnessOptions options;
  options.failing_model = "fail/me";
  options.on_failure = [&] {
    std::lock_guard lock(mutex);
    first_failed = true;
    changed.notify_all();
  };
  options.commit.window = absl::Milliseconds(1);
  options.commit.store_retry_for = absl::Milliseconds(500);
  options.wrap = [&](BatchCommitter& inner) {
    return std::make_unique<AfterFirstFailure>(inner, [&](bool first) {
      std::unique_lock lock(mutex);
      if (!first) changed.wait(lock, [&] { return first_failed; });
      ++forwarded;
    });
  };
  Harness harness(std::move(options));
  const StreamResult result =
      Stream(harness.stub(), {Batch("", 0, 5, "fail/me"), Batch("", 0, 7, "ok/model")});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(result.answers.empty());
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(forwarded, 2) << "the second batch should have been queued behind the first";
  }
  EXPECT_EQ(harness.TotalDownloads(), 0) << "a batch was committed without being answered";
}

// A reaction that runs while a failed commit withdraws the stream's later batches (here the
// client's cancellation) must not end the stream, which would delete it under the commit's
// callback (seen as a use-after-free under AddressSanitizer with CPU load). The hook holds the
// callback in that window until the cancellation had every chance to end the stream.
TEST(IngestStreamTest, AStreamOutlivesTheFailedCommitThatEndsIt) {
  std::atomic<Harness*> harness_of_hook{nullptr};
  std::atomic<grpc::ClientContext*> client{nullptr};
  std::atomic<bool> hook_ran{false}, hook_done{false}, ended_in_window{false};
  HarnessOptions options;
  options.failing_model = "fail/me";
  options.commit.store_retry_for = absl::ZeroDuration();
  options.hooks.after_failed_commit = [&] {
    hook_ran = true;
    while (client.load() == nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    client.load()->TryCancel();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (std::chrono::steady_clock::now() < deadline && !ended_in_window) {
      // Gone: the callback that called us would touch freed memory.
      ended_in_window = harness_of_hook.load()->ingest().open_streams() == 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    hook_done = true;
  };
  Harness harness(std::move(options));
  harness_of_hook = &harness;
  grpc::ClientContext context;
  client = &context;
  auto stream = harness.stub().StreamEvents(&context);
  ASSERT_TRUE(stream->Write(Batch("", 0, 5, "fail/me")));
  v1::IngestResponse response;
  while (stream->Read(&response)) {
  }
  EXPECT_FALSE(stream->Finish().ok());
  // The client's side ends at its own cancellation; the server's hook may still be waiting.
  const auto hook_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!hook_done && std::chrono::steady_clock::now() < hook_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(hook_ran.load());
  EXPECT_FALSE(ended_in_window.load()) << "the stream ended while its failed commit was running";
  // And it does end once the commit's callback is done.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (harness.ingest().open_streams() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(harness.ingest().open_streams(), 0u);
}

// Issue 9, defect 3: a message that is not an IngestRequest ends the stream with
// INVALID_ARGUMENT saying so, after the batches before it are answered.
TEST(IngestStreamTest, MalformedMessageEndsTheStreamWithInvalidArgument) {
  Harness harness(HarnessOptions{});
  for (const std::string& garbage :
       {std::string("\xff\xff\xff", 3), std::string("\x0f\x01", 2), std::string("\x00\x01", 2),
        std::string("\x0a\x05\x0a\x01", 4)}) {
    test_support::RawBidiCall call(harness.channel(), "/hubstats.v1.IngestService/StreamEvents");
    ASSERT_TRUE(call.Write(Batch("", 0, 2).SerializeAsString()));
    call.Write(garbage);
    call.Write(Batch("", 0, 3).SerializeAsString());
    call.WritesDone();
    std::vector<std::string> answers;
    while (std::optional<std::string> answer = call.Read()) answers.push_back(*answer);
    const grpc::Status status = call.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("request 2 of this stream"));
    EXPECT_THAT(status.error_message(), HasSubstr("not a valid hubstats.v1.IngestRequest"));
    ASSERT_EQ(answers.size(), 1u);
    v1::IngestResponse first;
    ASSERT_TRUE(first.ParseFromString(answers[0]));
    EXPECT_EQ(first.accepted(), 2);
  }
  EXPECT_EQ(harness.TotalDownloads(), 8);
}

TEST(IngestStreamTest, DeeplyNestedGroupsAreRefused) {
  Harness harness(HarnessOptions{});
  std::string nested;
  for (int i = 0; i < 100'000; ++i) nested += '\x2b';  // Field 5, start group.
  for (int i = 0; i < 100'000; ++i) nested += '\x2c';  // Field 5, end group.
  test_support::RawBidiCall call(harness.channel(), "/hubstats.v1.IngestService/StreamEvents");
  call.Write(nested);
  call.WritesDone();
  const grpc::Status status = call.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("nested deeper than"));
}

// A model id that is not UTF-8 is a bad event, not a bad message: the rest of the batch counts.
TEST(IngestStreamTest, InvalidUtf8RejectsOnlyItsEvent) {
  Harness harness(HarnessOptions{});
  v1::IngestRequest request = Batch("", 0, 3);
  std::string bytes = request.SerializeAsString();
  // The middle event's model id "org/model" becomes "org\xffmodel".
  const size_t second = bytes.find("org/model", bytes.find("org/model") + 1);
  ASSERT_NE(second, std::string::npos);
  bytes[second + 3] = '\xff';
  test_support::RawBidiCall call(harness.channel(), "/hubstats.v1.IngestService/StreamEvents");
  call.Write(bytes);
  call.WritesDone();
  std::optional<std::string> answer = call.Read();
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(call.Finish().ok());
  v1::IngestResponse response;
  ASSERT_TRUE(response.ParseFromString(*answer));
  EXPECT_EQ(response.accepted(), 2);
  ASSERT_EQ(response.rejections_size(), 1);
  EXPECT_EQ(response.rejections(0).index(), 1);
  EXPECT_EQ(response.rejections(0).field(), "model_id");
}

TEST(IngestStreamTest, MalformedUpsertIsInvalidArgument) {
  Harness harness(HarnessOptions{});
  const grpc::Status status = test_support::RawUnaryCall(
      harness.channel(), "/hubstats.v1.IngestService/UpsertModels", std::string("\xff\xff", 2));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("hubstats.v1.UpsertModelsRequest"));
}

// The budget is what bounds memory: a stream reads only with a whole batch's reservation in
// hand, and what it holds afterwards is the batch's decoded size, until answered.
TEST(IngestStreamTest, BudgetHoldsReservationsAndDecodedBatchesOnly) {
  HarnessOptions options;
  options.limits.max_message_bytes = 1 << 20;
  options.limits.max_batch_events = 1000;
  options.budget_bytes = 3 * options.limits.ReadReservation();
  const size_t limit = options.budget_bytes;
  Harness harness(std::move(options));
  std::vector<std::thread> streams;
  std::atomic<int> answered{0};
  for (int s = 0; s < 8; ++s) {
    streams.emplace_back([&, s] {
      std::vector<v1::IngestRequest> batches;
      for (int b = 0; b < 20; ++b)
        batches.push_back(Batch("", 0, 1000, absl::StrCat("o", s, "/m")));
      StreamResult result = Stream(harness.stub(), batches);
      EXPECT_TRUE(result.status.ok()) << result.status.error_message();
      answered += static_cast<int>(result.answers.size());
    });
  }
  for (std::thread& stream : streams) stream.join();
  EXPECT_EQ(answered.load(), 160);
  EXPECT_EQ(harness.TotalDownloads(), 160'000);
  EXPECT_LE(harness.budget().peak(), limit);
  EXPECT_EQ(harness.budget().held(), 0u);
}

// Issue 9, defect 1, under load: four producers' streams of mostly invalid events while two
// threads burn CPU, so workers are preempted at any point. Every batch must be answered in
// order, none refused, and the totals exact.
TEST(IngestStreamTest, ProducersStayInOrderUnderCpuLoad) {
  HarnessOptions options;
  options.commit.window = absl::Milliseconds(2);
  Harness harness(std::move(options));
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (int i = 0; i < 2; ++i) {
    burners.emplace_back([&] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x * 31 + 7;
    });
  }
  constexpr int kStreams = 4, kBatches = 150, kValid = 150, kInvalid = 1000;
  std::vector<std::thread> streams;
  for (int s = 0; s < kStreams; ++s) {
    streams.emplace_back([&, s] {
      std::vector<v1::IngestRequest> batches;
      for (int b = 1; b <= kBatches; ++b) {
        v1::IngestRequest request = Batch(absl::StrCat("producer-", s), b, kValid,
                                          absl::StrCat("org", s, "/model-", b % 7), 2);
        for (int i = 0; i < kInvalid; ++i) request.add_events()->set_model_id("bad id");
        batches.push_back(std::move(request));
      }
      const StreamResult result = Stream(harness.stub(), batches);
      EXPECT_TRUE(result.status.ok()) << result.status.error_message();
      ASSERT_EQ(result.answers.size(), static_cast<size_t>(kBatches));
      for (int b = 0; b < kBatches; ++b) {
        EXPECT_EQ(result.answers[b].sequence(), static_cast<uint64_t>(b + 1));
        EXPECT_EQ(result.answers[b].accepted(), kValid);
        EXPECT_EQ(result.answers[b].rejected(), kInvalid);
        EXPECT_FALSE(result.answers[b].duplicate());
      }
    });
  }
  for (std::thread& stream : streams) stream.join();
  stop = true;
  for (std::thread& burner : burners) burner.join();
  EXPECT_EQ(harness.TotalDownloads(), int64_t{kStreams} * kBatches * kValid * 2);
}

}  // namespace
}  // namespace hubstats
