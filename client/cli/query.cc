#include "query.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/enum_names.h"
#include "core/size_class.h"

namespace hubstats::cli {

std::string Percent(double value) { return absl::StrFormat("%.2f%%", value); }

std::string DateText(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

std::string ModalityScope(const Options& options) {
  const v1::Modality modality = ModalityOption(options);
  return modality == v1::MODALITY_UNSPECIFIED
             ? ""
             : absl::StrCat(", ", client::ModalityName(modality), " only");
}

void AddBoundaries(const Options& options, google::protobuf::RepeatedField<int64_t>* boundaries) {
  const std::string text = Option(options, "boundaries");
  if (text.empty()) return;
  int index = 0;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    absl::StatusOr<int64_t> value =
        ParseParameters(item, absl::StrCat("--boundaries item ", ++index));
    if (!value.ok()) UsageError(std::string(value.status().message()));
    boundaries->Add(*value);
  }
}

std::string ModelFilterScope(const Options& options) {
  std::string scope = ModalityScope(options);
  for (const char* name : {"author", "task", "library", "min-size", "max-size"}) {
    if (options.line.Has(name)) absl::StrAppend(&scope, ", ", name, " ", Option(options, name));
  }
  return scope;
}

Query::Query(const Options& options, std::set<std::string> allowed) : options_(options) {
  allowed.insert({"min-version", "no-fresh"});
  AllowOnly(options, std::move(allowed));
  if (options.line.Has("min-version") && options.line.Has("no-fresh")) {
    UsageError("--min-version and --no-fresh exclude each other");
  }
  connection_.emplace(options);
}

int Query::PrintJson(const JsonWriter& json) const {
  std::printf("%s\n", json.text().c_str());
  return 0;
}

bool Query::ReportedEmpty(int64_t total_downloads, absl::string_view scope, FILE* out) {
  if (total_downloads > 0) return false;
  v1::TotalsRequest request;
  request.mutable_freshness()->set_fresh(!options_.line.Has("no-fresh"));
  v1::TotalsResponse totals;
  connection_->Check(connection_->query().GetTotals(connection_->Context().get(), request, &totals),
                     "totals");
  const std::string where = absl::StrCat(RangeLabel(options_), scope);
  if (!totals.has_first_day()) {
    std::fprintf(out, "no downloads in %s: the server holds no downloads yet\n", where.c_str());
  } else {
    std::fprintf(out, "no downloads in %s; data spans %s..%s\n", where.c_str(),
                 DateText(totals.first_day()).c_str(), DateText(totals.last_day()).c_str());
  }
  return true;
}

}  // namespace hubstats::cli
