// IngestBudget: bounds the memory ingest holds, across all streams.
//
// What is counted: a stream that waits for its next batch holds a reservation big enough for
// the largest batch it may receive (gRPC assembles a whole message before handing it over, so
// a pending read may fill that much); once the batch is read, the reservation shrinks to what
// the batch holds decoded, until the batch is answered. A stream starts a read only when its
// reservation fits under the limit, so the total never passes it. A stream that finds no room
// stops reading (gRPC flow control then holds its client back) and is resumed when room frees
// up.
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

  // Holds `bytes` when the total stays within the limit; false (holding nothing) otherwise.
  bool TryHold(size_t bytes);
  // Gives back `bytes` of what was held.
  void Release(size_t bytes);
  // Calls `resume` once, on the budget's thread, after some room frees up or within 100 ms.
  void WhenRoom(std::function<void()> resume);

  size_t held() const;
  // The most ever held at once.
  size_t peak() const;
  size_t limit() const { return limit_; }

 private:
  void Run();

  const size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  size_t held_ = 0;
  size_t peak_ = 0;
  bool freed_ = false;  // Room was released since the waiting streams last ran.
  std::vector<std::function<void()>> waiting_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_INGEST_BUDGET_H_
