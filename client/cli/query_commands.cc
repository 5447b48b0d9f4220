// The query commands: modality, sizes, top, breakdown, totals, model, trend. Each builds its
// request, makes one call through the Query skeleton (query.h) and prints JSON or a table.
#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "command.h"
#include "common/enum_names.h"
#include "core/period.h"
#include "core/size_class.h"
#include "core/stats.h"
#include "core/trend.h"
#include "output.h"
#include "query.h"

namespace hubstats::cli {
namespace {

// A period as a reader names it: "2024-09" (month), "2024-W36" (ISO week), "2024-09-02" (day).
std::string PeriodLabel(const v1::Date& start, v1::Granularity granularity) {
  if (granularity == v1::GRANULARITY_MONTH) {
    return absl::StrFormat("%04d-%02d", start.year(), start.month());
  }
  if (granularity == v1::GRANULARITY_WEEK) {
    absl::StatusOr<Day> day = Day::FromCivil(start.year(), start.month(), start.day());
    if (day.ok()) {
      const IsoWeek week = IsoWeekOf(*day);
      return absl::StrFormat("%04d-W%02d", week.year, week.week);
    }
  }
  return DateText(start);
}

}  // namespace

int RunModality(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to"});
  const auto response = query.Call(&v1::QueryService::Stub::GetModalityShare,
                                   v1::ModalityShareRequest(), "modality share");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("modality").String(row.name()).Key("downloads").Int(row.downloads());
      json.Key("share_pct").Double(row.share_pct()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  if (query.ReportedEmpty(response.total_downloads())) return 0;
  Table table({"modality", "downloads", "share"}, {false, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.name(), GroupThousands(row.downloads()), Percent(row.share_pct())});
  }
  table.AddRow({"total", GroupThousands(response.total_downloads()), Percent(100.0)});
  std::printf("Download share by modality (%s)\n\n%s", RangeLabel(options).c_str(),
              table.Render().c_str());
  return 0;
}

int RunSizes(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to", "boundaries", "modality"});
  v1::SizeDistributionRequest request;
  request.set_modality(ModalityOption(options));
  AddBoundaries(options, request.mutable_boundaries());
  const auto response = query.Call(&v1::QueryService::Stub::GetSizeDistribution, std::move(request),
                                   "size distribution");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("known_downloads").Int(response.known_downloads());
    json.Key("unknown_downloads").Int(response.unknown_downloads());
    json.Key("unknown_share_pct").Double(response.unknown_share_pct());
    json.Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("label").String(row.label()).Key("lower").Int(row.lower());
      json.Key("upper");
      if (row.has_upper()) {
        json.Int(row.upper());
      } else {
        json.Null();
      }
      json.Key("downloads").Int(row.downloads()).Key("share_pct").Double(row.share_pct());
      json.Key("share_of_known_pct").Double(row.share_of_known_pct());
      json.Key("cumulative_pct").Double(row.cumulative_pct()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  const std::string scope = ModalityScope(options);
  if (query.ReportedEmpty(response.total_downloads(), scope)) return 0;
  Table table({"size", "downloads", "share", "of known", "cumulative"},
              {false, true, true, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.label(), GroupThousands(row.downloads()), Percent(row.share_pct()),
                  Percent(row.share_of_known_pct()), Percent(row.cumulative_pct())});
  }
  table.AddRow({"unknown", GroupThousands(response.unknown_downloads()),
                Percent(response.unknown_share_pct()), "", ""});
  std::printf("Downloads by model size (%s%s); known size: %s of %s downloads\n\n%s",
              RangeLabel(options).c_str(), scope.c_str(),
              GroupThousands(response.known_downloads()).c_str(),
              GroupThousands(response.total_downloads()).c_str(), table.Render().c_str());
  return 0;
}

int RunTop(const Options& options) {
  NoArguments(options);
  std::set<std::string> allowed = kModelFilterOptions;
  allowed.insert({"from", "to", "n", "by"});
  Query query(options, std::move(allowed));
  v1::TopNRequest request;
  SetModelFilters(options, request);
  request.set_n(IntOption(options, "n", 50, 1));
  const std::string by = Option(options, "by", "model");
  if (by == "model") {
    request.set_by(v1::RANK_BY_MODEL);
  } else if (by == "author") {
    request.set_by(v1::RANK_BY_AUTHOR);
  } else {
    UsageError(absl::StrCat("--by must be model or author for 'top', got '", by, "'"));
  }
  const auto response = query.Call(&v1::QueryService::Stub::GetTopN, std::move(request), "top-N");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("top_downloads").Int(response.top_downloads());
    json.Key("top_share_pct").Double(response.top_share_pct()).Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("rank").Int(row.rank()).Key("id").String(row.id());
      json.Key("downloads").Int(row.downloads()).Key("share_pct").Double(row.share_pct());
      json.Key("cumulative_pct").Double(row.cumulative_pct()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  const std::string scope = ModelFilterScope(options);
  if (query.ReportedEmpty(response.total_downloads(), scope)) return 0;
  Table table({"rank", by, "downloads", "share", "cumulative"}, {true, false, true, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({absl::StrCat(row.rank()), row.id(), GroupThousands(row.downloads()),
                  Percent(row.share_pct()), Percent(row.cumulative_pct())});
  }
  std::printf("Top %d %ss (%s%s): %s of %s downloads\n\n%s", response.rows_size(), by.c_str(),
              RangeLabel(options).c_str(), scope.c_str(), Percent(response.top_share_pct()).c_str(),
              GroupThousands(response.total_downloads()).c_str(), table.Render().c_str());
  return 0;
}

int RunBreakdown(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to", "by", "modality"});
  v1::BreakdownRequest request;
  request.set_modality(ModalityOption(options));
  const std::string by = Option(options, "by");
  if (by == "task") {
    request.set_dimension(v1::DIMENSION_TASK);
  } else if (by == "architecture") {
    request.set_dimension(v1::DIMENSION_ARCHITECTURE);
  } else if (by == "library") {
    request.set_dimension(v1::DIMENSION_LIBRARY);
  } else {
    UsageError("breakdown needs --by task, --by architecture or --by library");
  }
  const auto response =
      query.Call(&v1::QueryService::Stub::GetBreakdown, std::move(request), "breakdown");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("key").String(row.key()).Key("downloads").Int(row.downloads());
      json.Key("share_pct").Double(row.share_pct()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  const std::string scope = ModalityScope(options);
  if (query.ReportedEmpty(response.total_downloads(), scope)) return 0;
  Table table({by, "downloads", "share"}, {false, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.key(), GroupThousands(row.downloads()), Percent(row.share_pct())});
  }
  std::printf("Downloads by %s (%s%s)\n\n%s", by.c_str(), RangeLabel(options).c_str(),
              scope.c_str(), table.Render().c_str());
  return 0;
}

int RunTotals(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to"});
  const auto response =
      query.Call(&v1::QueryService::Stub::GetTotals, v1::TotalsRequest(), "totals");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("models_with_downloads").Int(response.models_with_downloads());
    json.Key("authors_with_downloads").Int(response.authors_with_downloads());
    json.Key("catalogued_models").Int(response.catalogued_models());
    json.Key("first_day");
    response.has_first_day() ? json.String(DateText(response.first_day())) : json.Null();
    json.Key("last_day");
    response.has_last_day() ? json.String(DateText(response.last_day())) : json.Null();
    json.EndObject();
    return query.PrintJson(json);
  }
  if (response.total_downloads() == 0) query.ReportedEmpty(0);
  Table table({"", ""}, {false, true});
  table.AddRow({"total downloads", GroupThousands(response.total_downloads())});
  table.AddRow({"models with downloads", GroupThousands(response.models_with_downloads())});
  table.AddRow({"authors with downloads", GroupThousands(response.authors_with_downloads())});
  table.AddRow({"catalogued models", GroupThousands(response.catalogued_models())});
  table.AddRow({"first day", response.has_first_day() ? DateText(response.first_day()) : "-"});
  table.AddRow({"last day", response.has_last_day() ? DateText(response.last_day()) : "-"});
  std::printf("Totals (%s)\n%s", RangeLabel(options).c_str(), table.Render().c_str());
  return 0;
}

int RunModel(const Options& options) {
  if (options.arguments.size() != 1) UsageError("'model' takes one model ID");
  Query query(options, {"from", "to"});
  v1::ModelStatsRequest request;
  request.set_model_id(options.arguments[0]);
  const auto response =
      query.Call(&v1::QueryService::Stub::GetModelStats, std::move(request), "model stats");
  const v1::ModelRecord& record = response.record();
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("model_id").String(response.model_id());
    json.Key("author").String(response.author()).Key("catalogued").Bool(response.catalogued());
    json.Key("record");
    if (response.catalogued()) {
      json.BeginObject().Key("pipeline_tag").String(record.pipeline_tag());
      json.Key("modality").String(client::ModalityName(record.modality()));
      json.Key("num_parameters").Int(record.num_parameters());
      json.Key("architecture").String(client::ArchitectureName(record.architecture()));
      json.Key("library_name").String(record.library_name()).EndObject();
    } else {
      json.Null();
    }
    json.Key("modality").String(response.modality_name());
    json.Key("size_class").String(response.size_class());
    json.Key("downloads_all_time").Int(response.downloads_all_time());
    json.Key("downloads_in_range").Int(response.downloads_in_range());
    json.Key("rank_all_time").Int(response.rank_all_time());
    json.Key("rank_in_range").Int(response.rank_in_range());
    json.Key("revisions").BeginArray();
    for (const auto& revision : response.revisions()) {
      json.BeginObject().Key("revision").String(revision.revision());
      json.Key("downloads").Int(revision.downloads()).EndObject();
    }
    json.EndArray().Key("days").BeginArray();
    for (const auto& day : response.days()) {
      json.BeginObject().Key("day").String(DateText(day.day()));
      json.Key("downloads").Int(day.downloads()).EndObject();
    }
    // Months past the server's retention: one total each, named "YYYY-MM".
    json.EndArray().Key("months").BeginArray();
    for (const auto& month : response.months()) {
      json.BeginObject().Key("month").String(DateText(month.day()).substr(0, 7));
      json.Key("downloads").Int(month.downloads()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  Table table({"", ""}, {false, false});
  table.AddRow({"model", response.model_id()});
  table.AddRow({"author", response.author()});
  table.AddRow({"catalogued", response.catalogued() ? "yes" : "no"});
  if (response.catalogued()) {
    table.AddRow({"pipeline tag", record.pipeline_tag().empty() ? "-" : record.pipeline_tag()});
    table.AddRow({"parameters", record.num_parameters() == 0
                                    ? "unknown"
                                    : GroupThousands(record.num_parameters())});
    table.AddRow({"architecture", record.architecture() == v1::ARCHITECTURE_UNSPECIFIED
                                      ? std::string("-")
                                      : client::ArchitectureName(record.architecture())});
    table.AddRow({"library", record.library_name().empty() ? "-" : record.library_name()});
  }
  table.AddRow({"modality", response.modality_name()});
  table.AddRow({"size class", response.size_class()});
  table.AddRow({"downloads (all time)", GroupThousands(response.downloads_all_time())});
  table.AddRow({"rank (all time)",
                response.rank_all_time() == 0 ? "-" : absl::StrCat("#", response.rank_all_time())});
  if (!Option(options, "from").empty() || !Option(options, "to").empty()) {
    table.AddRow({absl::StrCat("downloads (", RangeLabel(options), ")"),
                  GroupThousands(response.downloads_in_range())});
    table.AddRow({"rank (range)", response.rank_in_range() == 0
                                      ? "-"
                                      : absl::StrCat("#", response.rank_in_range())});
  }
  std::printf("%s", table.Render().c_str());
  if (response.revisions_size() > 0) {
    Table revisions({"revision", "downloads"}, {false, true});
    for (const auto& revision : response.revisions()) {
      revisions.AddRow({revision.revision(), GroupThousands(revision.downloads())});
    }
    std::printf("\n%s", revisions.Render().c_str());
  }
  if (response.months_size() > 0) {
    Table months({"month (days folded)", "downloads"}, {false, true});
    for (const auto& month : response.months()) {
      months.AddRow({DateText(month.day()).substr(0, 7), GroupThousands(month.downloads())});
    }
    std::printf("\n%s", months.Render().c_str());
  }
  if (response.days_size() > 0) {
    Table days({"day", "downloads"}, {false, true});
    for (const auto& day : response.days()) {
      days.AddRow({DateText(day.day()), GroupThousands(day.downloads())});
    }
    std::printf("\n%s", days.Render().c_str());
  }
  return 0;
}

int RunTrend(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to", "granularity", "by", "boundaries", "n", "modality"});
  v1::TrendRequest request;
  request.set_modality(ModalityOption(options));
  absl::StatusOr<Granularity> granularity =
      ParseGranularity(Option(options, "granularity", "month"), "--granularity");
  if (!granularity.ok()) UsageError(std::string(granularity.status().message()));
  request.set_granularity(*granularity == Granularity::kDay    ? v1::GRANULARITY_DAY
                          : *granularity == Granularity::kWeek ? v1::GRANULARITY_WEEK
                                                               : v1::GRANULARITY_MONTH);
  absl::StatusOr<TrendDimension> dimension =
      ParseTrendDimension(Option(options, "by", "modality"), "--by");
  if (!dimension.ok()) UsageError(std::string(dimension.status().message()));
  // The proto's TrendDimension values follow the core's order after UNSPECIFIED.
  request.set_dimension(static_cast<v1::TrendDimension>(static_cast<int>(*dimension) + 1));
  AddBoundaries(options, request.mutable_boundaries());
  if (options.line.Has("n")) request.set_n(IntOption(options, "n", 50, 1));
  const auto response = query.Call(&v1::QueryService::Stub::GetTrend, std::move(request), "trend");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("granularity").String(GranularityName(*granularity));
    json.Key("dimension").String(TrendDimensionName(*dimension)).Key("keys").BeginArray();
    for (const std::string& key : response.keys()) json.String(key);
    json.EndArray().Key("periods").BeginArray();
    for (const auto& period : response.periods()) {
      json.BeginObject().Key("start").String(DateText(period.start()));
      json.Key("first_day").String(DateText(period.first_day()));
      json.Key("last_day").String(DateText(period.last_day()));
      json.Key("total_downloads").Int(period.total_downloads()).Key("values").BeginArray();
      for (const auto& value : period.values()) {
        json.BeginObject().Key("key").String(value.key()).Key("downloads").Int(value.downloads());
        json.Key("share_pct").Double(value.share_pct()).EndObject();
      }
      json.EndArray().EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  int64_t total = 0;
  for (const auto& period : response.periods()) total += period.total_downloads();
  const std::string scope = ModalityScope(options);
  if (query.ReportedEmpty(total, scope)) return 0;
  // One row per period: its total and the share of each key with downloads in the range; past
  // kShownKeys keys (a library trend has hundreds) the rest are summed into "others" (--json
  // has every key).
  constexpr size_t kShownKeys = 8;
  std::vector<int> columns;
  for (int k = 0; k < response.keys_size(); ++k) {
    bool any = false;
    for (const auto& period : response.periods()) any = any || period.values(k).downloads() > 0;
    if (any) columns.push_back(k);
  }
  const bool others = columns.size() > kShownKeys;
  if (others) columns.resize(kShownKeys);
  std::vector<std::string> header = {
      std::string(*granularity == Granularity::kWeek ? "ISO week" : GranularityName(*granularity)),
      "downloads"};
  std::vector<bool> right = {false, true};
  for (int k : columns) {
    header.push_back(response.keys(k));
    right.push_back(true);
  }
  if (others) {
    header.push_back("others");
    right.push_back(true);
  }
  Table table(header, right);
  for (const auto& period : response.periods()) {
    std::vector<std::string> row = {PeriodLabel(period.start(), response.granularity()),
                                    GroupThousands(period.total_downloads())};
    int64_t rest = period.total_downloads();
    for (int k : columns) {
      row.push_back(Percent(period.values(k).share_pct()));
      rest -= period.values(k).downloads();
    }
    if (others) row.push_back(Percent(SharePct(rest, period.total_downloads())));
    table.AddRow(row);
  }
  const auto& first = response.periods(0).first_day();
  const auto& last = response.periods(response.periods_size() - 1).last_day();
  const std::string what =
      *dimension == TrendDimension::kTopModels || *dimension == TrendDimension::kTopAuthors
          ? absl::StrCat("Share of the top ", response.keys(0).substr(4),
                         *dimension == TrendDimension::kTopModels ? " models" : " authors")
          : absl::StrCat("Download share by ", TrendDimensionName(*dimension));
  std::printf("%s per %s (%s..%s%s)\n\n%s", what.c_str(), GranularityName(*granularity).data(),
              DateText(first).c_str(), DateText(last).c_str(), scope.c_str(),
              table.Render().c_str());
  return 0;
}

}  // namespace hubstats::cli
