// What every client tool needs of gRPC: the channel it opens to a hubstats server, and the
// names of status codes for messages.
#ifndef HUBSTATS_CLIENT_COMMON_CHANNEL_H_
#define HUBSTATS_CLIENT_COMMON_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace hubstats::client {

// An insecure channel to `target` (host:port or a DNS name) that takes answers up to 64 MiB
// (a top-N of 10,000 rows, a model's per-day series). With `own_connection` it gets its own
// TCP connection instead of sharing one with other channels to the same target, so load
// spreads over the server's threads. Thread-safe, like every grpc::Channel.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, bool own_connection = false);

// "UNAVAILABLE", "INVALID_ARGUMENT", ...; "UNKNOWN" for numbers outside the enum.
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace hubstats::client

#endif  // HUBSTATS_CLIENT_COMMON_CHANNEL_H_
