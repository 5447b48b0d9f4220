// WorkerPool: a fixed set of threads for blocking work (store calls), so gRPC's callback
// threads never block.
//
// Its threads are named `name`-0, -1, ... (see os_thread.h).
//
// Thread-safe. Tasks run in submission order across the pool (not one after another: a
// caller that needs order, like an ingest stream, submits its next task only after the
// previous one ended). The destructor runs the queued tasks, then joins.
#ifndef HUBSTATS_SERVICE_APP_WORKER_POOL_H_
#define HUBSTATS_SERVICE_APP_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hubstats {

class WorkerPool {
 public:
  explicit WorkerPool(int threads, const std::string& name = "hs-worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_WORKER_POOL_H_
