// The gRPC channel every client tool opens to a hubstats server.
#ifndef HUBSTATS_CLIENT_CLI_CHANNEL_H_
#define HUBSTATS_CLIENT_CLI_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace hubstats::cli {

// An insecure channel to `target` (host:port or a DNS name) that takes answers up to 64 MiB
// (a top-N of 10,000 rows, a model's per-day series). With `own_connection` it gets its own
// TCP connection instead of sharing one with other channels to the same target, so load
// spreads over the server's threads. Thread-safe, like every grpc::Channel.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, bool own_connection = false);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_CHANNEL_H_
