#include "query_kinds.h"

#include <utility>

namespace hubstats::bench {
namespace {

void SetDate(v1::Date* date, absl::CivilDay day) {
  date->set_year(static_cast<int32_t>(day.year()));
  date->set_month(day.month());
  date->set_day(day.day());
}

// The three spans every kind is asked for: all time, the one day `day`, and the 30 days ending
// on it; `suffix` names the span in the kind's name.
struct Span {
  std::string suffix;
  int days;  // 0: all time.
};
const Span kSpans[] = {{"", 0}, {"_day", 1}, {"_30d", 30}};

// Sets a request's range to the span's days ending on `day` (none for all time).
auto RangeSetter(absl::CivilDay day, int days) {
  return [day, days](auto& request) {
    if (days == 0) return;
    SetDate(request.mutable_range()->mutable_start(), day - (days - 1));
    SetDate(request.mutable_range()->mutable_end(), day);
  };
}

// A top-50 over `range`; `shape` sets what else the request asks (rank by, parameter bounds).
template <typename Range, typename Shape>
QueryKind Top50Kind(std::string name, Range range, Shape shape) {
  return {std::move(name), [range, shape](auto& stub, auto& context) {
            v1::TopNRequest request;
            request.set_n(50);
            shape(request);
            range(request);
            v1::TopNResponse response;
            return stub.GetTopN(&context, request, &response);
          }};
}

}  // namespace

std::vector<QueryKind> QueryKinds(absl::CivilDay day) {
  std::vector<QueryKind> kinds;
  for (const Span& span : kSpans) {
    auto range = RangeSetter(day, span.days);
    kinds.push_back({"modality_share" + span.suffix, [range](auto& stub, auto& context) {
                       v1::ModalityShareRequest request;
                       range(request);
                       v1::ModalityShareResponse response;
                       return stub.GetModalityShare(&context, request, &response);
                     }});
    kinds.push_back({"size_distribution" + span.suffix, [range](auto& stub, auto& context) {
                       v1::SizeDistributionRequest request;
                       range(request);
                       v1::SizeDistributionResponse response;
                       return stub.GetSizeDistribution(&context, request, &response);
                     }});
    for (const auto by : {v1::RANK_BY_MODEL, v1::RANK_BY_AUTHOR}) {
      const std::string name = by == v1::RANK_BY_MODEL ? "top50_models" : "top50_authors";
      kinds.push_back(Top50Kind(name + span.suffix, range,
                                [by](v1::TopNRequest& request) { request.set_by(by); }));
    }
  }
  return kinds;
}

std::vector<QueryKind> SizeKinds(absl::CivilDay day) {
  struct Boundaries {
    std::string name;
    std::vector<int64_t> values;
  };
  const std::vector<Boundaries> sets = {
      {"sizes_grid", {200'000'000, 500'000'000, 1'000'000'000}},
      {"sizes_llm", {1'000'000'000, 7'000'000'000, 13'000'000'000, 70'000'000'000}},
      {"sizes_odd12",
       {3'000'000, 33'000'000, 77'000'000, 123'456'789, 350'000'000, 777'000'000, 1'300'000'000,
        2'700'000'000, 6'700'000'000, 8'000'000'000, 34'000'000'000, 180'000'000'000}}};
  std::vector<QueryKind> kinds;
  for (const Span& span : kSpans) {
    auto range = RangeSetter(day, span.days);
    for (const Boundaries& set : sets) {
      kinds.push_back({set.name + span.suffix, [range, set](auto& stub, auto& context) {
                         v1::SizeDistributionRequest request;
                         range(request);
                         for (const int64_t value : set.values) request.add_boundaries(value);
                         v1::SizeDistributionResponse response;
                         return stub.GetSizeDistribution(&context, request, &response);
                       }});
    }
    kinds.push_back(
        Top50Kind("top50_models_7b_13b" + span.suffix, range, [](v1::TopNRequest& request) {
          request.set_by(v1::RANK_BY_MODEL);
          request.set_min_parameters(7'000'000'000);
          request.set_max_parameters(13'000'000'000);
        }));
  }
  return kinds;
}

std::vector<QueryKind> TrendKinds(absl::CivilDay day) {
  struct TrendSpan {
    std::string name;
    v1::Granularity granularity;
    absl::CivilDay first;
  };
  const absl::CivilDay first_month(absl::CivilMonth(day) - 11);
  std::vector<QueryKind> kinds;
  for (const TrendSpan& span : {TrendSpan{"12m_by_month", v1::GRANULARITY_MONTH, first_month},
                                TrendSpan{"365d_by_day", v1::GRANULARITY_DAY, day - 364}}) {
    for (const auto& kind : {std::pair{"trend_modality_", v1::TREND_DIMENSION_MODALITY},
                             std::pair{"trend_size_", v1::TREND_DIMENSION_SIZE},
                             std::pair{"trend_top50_authors_", v1::TREND_DIMENSION_TOP_AUTHORS}}) {
      // A copy: lambdas cannot capture structured bindings in C++20 as clang 14 implements it.
      const v1::TrendDimension dimension = kind.second;
      kinds.push_back({kind.first + span.name, [span, day, dimension](auto& stub, auto& context) {
                         v1::TrendRequest request;
                         request.set_granularity(span.granularity);
                         request.set_dimension(dimension);
                         SetDate(request.mutable_range()->mutable_start(), span.first);
                         SetDate(request.mutable_range()->mutable_end(), day);
                         v1::TrendResponse response;
                         return stub.GetTrend(&context, request, &response);
                       }});
    }
  }
  return kinds;
}

}  // namespace hubstats::bench
