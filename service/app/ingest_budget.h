// IngestBudget: bounds the memory held by ingest batches that were read but not yet answered,
// across all streams. A stream reads its next batch only while the budget has room; when it
// has none, the stream stops reading (gRPC flow control then holds the client back) and is
// resumed once batches are answered.
//
// Thread-safe. Owns one thread that resumes waiting streams: when room frees up, and at
// least every 100 ms so a waiting stream notices cancellation or shutdown.
#ifndef HUBSTATS_SERVICE_APP_INGEST_BUDGET_H_
#define HUBSTATS_SERVICE_APP_INGEST_BUDGET_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hubstats {

class IngestBudget {
 public:
  explicit IngestBudget(size_t limit_bytes);
  // Runs the resumptions still waiting, then joins. No stream may still use the budget.
  ~IngestBudget();

  // True while less than the limit is held (one batch may take it past the limit).
  bool HasRoom() const;
  void Hold(size_t bytes);
  void Release(size_t bytes);
  // Calls `resume` once, on the budget's thread, after room frees up or within 100 ms.
  void WhenRoom(std::function<void()> resume);

  size_t held() const;
  size_t limit() const { return limit_; }

 private:
  void Run();

  const size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  size_t held_ = 0;
  std::vector<std::function<void()>> waiting_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_INGEST_BUDGET_H_
