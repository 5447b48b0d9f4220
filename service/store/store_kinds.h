// The stores every behavioural suite runs on (test-only): in memory; Redis on a real
// redis-server (one shared server per test binary, a fresh key prefix per store), also with
// every day kept in its dense form; and Redis Cluster (3 masters + 3 replicas, 16 shards).
#ifndef HUBSTATS_SERVICE_STORE_STORE_KINDS_H_
#define HUBSTATS_SERVICE_STORE_STORE_KINDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.h"

namespace hubstats::test_support {

struct StoreKind {
  std::string name;
  // Makes a store on new, empty data; with `same_as`, another store on the same data,
  // as a second replica would open it.
  std::function<std::unique_ptr<Store>(Store* same_as)> make;
};
inline void PrintTo(const StoreKind& kind, std::ostream* out) { *out << kind.name; }

std::vector<StoreKind> AllStoreKinds();

}  // namespace hubstats::test_support

#endif  // HUBSTATS_SERVICE_STORE_STORE_KINDS_H_
