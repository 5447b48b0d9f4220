#include "grpc/edge_security.h"

#include <grpcpp/impl/server_builder_plugin.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hubstats {

absl::StatusOr<std::unique_ptr<EdgeSecurity>> EdgeSecurity::Create(
    EdgeSecuritySettings settings, std::function<void(const std::string&)> log) {
  std::unique_ptr<EdgeSecurity> edge(new EdgeSecurity());
  if (absl::Status transport =
          CheckTransport(settings.listen, settings.tls, settings.allow_insecure);
      !transport.ok()) {
    return transport;
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentialsFor(settings.tls);
  if (!credentials.ok()) return credentials.status();
  edge->credentials_ = *std::move(credentials);

  if (settings.tokens_file.empty()) {
    if (settings.public_reads) {
      return absl::InvalidArgumentError(
          "--public-reads needs --tokens-file (without tokens every call is open anyway)");
    }
    edge->policy_ = std::make_unique<AccessPolicy>();
  } else {
    absl::StatusOr<std::string> text = ReadWholeFile(settings.tokens_file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--tokens-file: ", text.status().message()));
    }
    absl::StatusOr<TokenSet> tokens = TokenSet::Parse(*text);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(settings.tokens_file, ": ", tokens.status().message()));
    }
    edge->policy_ = std::make_unique<AccessPolicy>(*std::move(tokens), settings.public_reads);
    AccessPolicy& policy = *edge->policy_;
    const std::string path = settings.tokens_file;
    // A file that stops parsing keeps the tokens in force: refusing every call because of a
    // typo in a new line would be an outage of its own.
    edge->tokens_watcher_ = std::make_unique<FileWatcher>(
        path, settings.tokens_reload_interval,
        [&policy, path, log](const std::string& content) {
          absl::StatusOr<TokenSet> reloaded = TokenSet::Parse(content);
          if (!reloaded.ok()) {
            log(absl::StrCat("tokens: ", path, " changed but does not parse, keeping the ",
                             policy.token_count(),
                             " tokens in force: ", reloaded.status().message()));
            return;
          }
          const size_t count = reloaded->size();
          policy.SetTokens(*std::move(reloaded));
          log(absl::StrCat("tokens: reloaded ", path, ": ", count, " tokens"));
        },
        [path, log](const absl::Status& status) {
          log(absl::StrCat("tokens: cannot read ", path,
                           " (keeping the tokens in force): ", status.message()));
        });
    edge->tokens_watcher_->Start(*std::move(text));
  }
  edge->guard_ = std::make_unique<CallGuard>(*edge->policy_, settings.limits);
  edge->settings_ = std::move(settings);
  return edge;
}

std::vector<std::string> EdgeSecurity::Describe() const {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("transport: ", DescribeTransport(settings_.listen, settings_.tls)));
  if (!policy_->tokens_on()) {
    lines.push_back(absl::StrCat(IsLoopbackAddress(settings_.listen) ? "" : "WARNING: ",
                                 "tokens: OFF: whoever reaches the port may ingest and read (give "
                                 "--tokens-file to require tokens)"));
  } else {
    lines.push_back(absl::StrCat(
        "tokens: ON, ", policy_->token_count(), " tokens from ", settings_.tokens_file,
        " (checked for changes every ", absl::FormatDuration(settings_.tokens_reload_interval),
        "); queries ", policy_->public_reads() ? "are public" : "need the read scope"));
  }
  const CallLimits& limits = settings_.limits;
  lines.push_back(
      absl::StrCat("limits: ", limits.max_concurrent_calls, " calls at once, queries up to ",
                   limits.max_query_bytes, " bytes, ingest streams idle for ",
                   absl::FormatDuration(limits.stream_idle_timeout), " closed, ",
                   limits.max_client_inflight_bytes >> 20, " MB of ingest in flight per client"));
  return lines;
}

namespace {

class DropReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*arguments*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
      return plugin->name() == "proto_server_reflection";
    });
  }
};

}  // namespace

std::unique_ptr<grpc::ServerBuilderOption> WithoutReflection() {
  return std::make_unique<DropReflection>();
}

}  // namespace hubstats
