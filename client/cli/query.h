// What the query commands share: the Query skeleton (options, connection, one call over the
// --from/--to range with the freshness options, the empty-range report) and the helpers that
// turn options into request fields. The commands live in query_commands.cc, crosstab_command.cc
// and export_command.cc.
//
// Like the rest of the CLI, errors end the process (command.h): a usage error (exit 2) for a
// bad option, a failure (exit 1) for a failed call.
#ifndef HUBSTATS_CLIENT_CLI_QUERY_H_
#define HUBSTATS_CLIENT_CLI_QUERY_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "command.h"
#include "output.h"

namespace hubstats::cli {

// 12.345 -> "12.35%".
std::string Percent(double value);
// "2024-09-01".
std::string DateText(const v1::Date& date);
// ", nlp only" for a --modality filter, "" without.
std::string ModalityScope(const Options& options);
// --boundaries "200M,500M,1B" into `boundaries`; a usage error naming the bad item.
void AddBoundaries(const Options& options, google::protobuf::RepeatedField<int64_t>* boundaries);

// The model filters of top and export.
inline const std::set<std::string> kModelFilterOptions = {"modality", "task",     "author",
                                                          "library",  "min-size", "max-size"};
// --modality, --author, --task, --library, --min-size, --max-size into a request with those
// fields (TopNRequest, ExportRequest); a usage error for a malformed size.
template <typename Request>
void SetModelFilters(const Options& options, Request& request) {
  request.set_modality(ModalityOption(options));
  request.set_author(Option(options, "author"));
  request.set_task(Option(options, "task"));
  request.set_library(Option(options, "library"));
  if (options.line.Has("min-size")) request.set_min_parameters(SizeOption(options, "min-size"));
  if (options.line.Has("max-size")) request.set_max_parameters(SizeOption(options, "max-size"));
}
// ", nlp only, author org, min-size 7B": the filters given, for titles and empty reports.
std::string ModelFilterScope(const Options& options);

// What every query command does: check its options, connect, make its call over the
// --from/--to range, print JSON or a table, and say so when the range holds no downloads.
class Query {
 public:
  // A usage error for an option outside `allowed` (plus --min-version and --no-fresh).
  Query(const Options& options, std::set<std::string> allowed);

  // Sets the request's range from --from/--to and its freshness: by default an answer
  // includes everything committed before the command started (a replica's read model follows
  // the store a few milliseconds behind).
  template <typename Request>
  void Prepare(Request& request) const {
    if (!connection_->FillRange(request.mutable_range())) request.clear_range();
    if (options_.line.Has("min-version")) {
      request.mutable_freshness()->set_min_version(options_.line.Value("min-version", ""));
    } else if (!options_.line.Has("no-fresh")) {
      request.mutable_freshness()->set_fresh(true);
    }
  }

  // Calls `method` with `request` (Prepare'd); a failure (exit 1) naming `what` when the call
  // fails.
  template <typename Request, typename Response>
  Response Call(grpc::Status (v1::QueryService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                               Response*),
                Request request, absl::string_view what) {
    Prepare(request);
    Response response;
    connection_->Check(
        (connection_->query().*method)(connection_->Context().get(), request, &response), what);
    return response;
  }

  bool json() const { return options_.json; }
  Connection& connection() { return *connection_; }

  int PrintJson(const JsonWriter& json) const;

  // For the table form: when `total_downloads` is 0, prints "no downloads in <range>; data
  // spans <first>..<last>" (asking the server for its span) to `out` and returns true.
  bool ReportedEmpty(int64_t total_downloads, absl::string_view scope = "", FILE* out = stdout);

 private:
  const Options& options_;
  std::optional<Connection> connection_;
};

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_QUERY_H_
