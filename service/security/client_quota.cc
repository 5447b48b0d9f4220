#include "security/client_quota.h"

namespace hubstats {

bool ClientQuota::TryHold(const std::string& client, size_t bytes) {
  std::lock_guard lock(mutex_);
  size_t& held = held_[client];
  if (bytes > limit_ || held > limit_ - bytes) {
    if (held == 0) held_.erase(client);
    return false;
  }
  held += bytes;
  return true;
}

void ClientQuota::Release(const std::string& client, size_t bytes) {
  if (bytes == 0) return;
  std::lock_guard lock(mutex_);
  auto it = held_.find(client);
  if (it == held_.end()) return;
  it->second -= std::min(it->second, bytes);
  if (it->second == 0) held_.erase(it);
}

size_t ClientQuota::held(const std::string& client) const {
  std::lock_guard lock(mutex_);
  auto it = held_.find(client);
  return it == held_.end() ? 0 : it->second;
}

}  // namespace hubstats
