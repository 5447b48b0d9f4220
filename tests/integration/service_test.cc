// End to end through real gRPC: hubstats-server processes on loopback, on a real redis-server
// (two replicas sharing it) and on the in-memory store, checked against a brute-force
// recomputation of the contract written here, independently of the service's code.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "redis_server.h"
#include "truth.h"
#include "walk_checks.h"

namespace hubstats::integration {
namespace {

using test_support::RedisServer;
using test_support::ServerProcess;

// ---------------------------------------------------------------------------------------------
// The scenario: random events with bad ones mixed in, catalog changes midway.
// ---------------------------------------------------------------------------------------------

class Scenario {
 public:
  explicit Scenario(uint64_t seed) : random_(seed) {
    const std::vector<std::string> authors = {
        "google", "meta-llama", "openai", "Org_1", "sentence-transformers", "a.b", "x-y"};
    for (int i = 0; i < 56; ++i) {
      models_.push_back(absl::StrCat(authors[i % authors.size()], "/model-", i));
    }
    for (const char* bare : {"gpt2", "bert-base-uncased", "t5-small", "distilgpt2"}) {
      models_.push_back(bare);
    }
  }

  const std::vector<std::string>& models() const { return models_; }

  // A batch of events, some bad. Returns the batch and, per bad event, its expected field.
  v1::IngestRequest MakeBatch(int size, std::map<int, std::string>* bad,
                              std::vector<TruthEvent>* good) {
    v1::IngestRequest batch;
    for (int i = 0; i < size; ++i) {
      v1::DownloadEvent* event = batch.add_events();
      const int kind = static_cast<int>(random_() % 100);
      const std::string model = PickModel();
      const int day = 1 + static_cast<int>(random_() % 20);
      const std::string day_text = absl::StrFormat("2024-09-%02d", day);
      const int64_t seconds =
          1725148800 + (day - 1) * 86400 + static_cast<int64_t>(random_() % 86400);
      event->set_model_id(model);
      event->mutable_timestamp()->set_seconds(seconds);
      event->mutable_timestamp()->set_nanos(static_cast<int32_t>(random_() % 1'000'000'000));
      int64_t count = 1;
      if (random_() % 4 != 0) {  // Otherwise left out: counts as 1.
        count = 1 + static_cast<int64_t>(random_() % 1000);
        event->set_count(count);
      }
      const char* revisions[] = {"", "", "main", "v1.0", "refs/pr/3"};
      event->set_revision(revisions[random_() % 5]);
      switch (kind) {
        case 0:
          event->set_model_id("bad id");
          (*bad)[i] = "model_id";
          continue;
        case 1:
          event->set_model_id("a/b/c");
          (*bad)[i] = "model_id";
          continue;
        case 2:
          event->set_count(0);
          (*bad)[i] = "count";
          continue;
        case 3:
          event->set_count(1'000'000'001);
          (*bad)[i] = "count";
          continue;
        case 4:
          event->mutable_timestamp()->set_seconds(1420070399);  // 2014-12-31T23:59:59Z
          event->mutable_timestamp()->set_nanos(0);
          (*bad)[i] = "timestamp";
          continue;
        case 5:
          event->mutable_timestamp()->set_seconds(
              std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() +
              3 * 86400);
          (*bad)[i] = "timestamp";
          continue;
        case 6:
          event->set_revision("has space");
          (*bad)[i] = "revision";
          continue;
        default:
          break;
      }
      good->push_back({model, day_text, count, event->revision()});
    }
    return batch;
  }

  TruthRecord RandomRecord() {
    static const char* tags[] = {"fill-mask",
                                 "text-generation",
                                 "image-classification",
                                 "automatic-speech-recognition",
                                 "image-text-to-text",
                                 "time-series-forecasting",
                                 "tabular-regression",
                                 "not-a-task",
                                 ""};
    static const int64_t parameters[] = {
        0,           500'000,     1'000'000,     110'000'000,   199'999'999,    200'000'000,
        350'000'000, 700'000'000, 1'000'000'000, 7'000'000'000, 70'000'000'000, 2'000'000'000'000};
    static const char* libraries[] = {"", "transformers", "timm", "sentence-transformers"};
    TruthRecord record;
    record.tag = tags[random_() % 9];
    if (random_() % 8 == 0) record.modality = "audio";
    record.parameters = parameters[random_() % 12];
    record.architecture = static_cast<v1::Architecture>(random_() % 5);
    record.library = libraries[random_() % 4];
    return record;
  }

 private:
  // Zipf-like: model i with weight 1/(i+1).
  std::string PickModel() {
    std::vector<double> weights;
    for (size_t i = 0; i < models_.size(); ++i) weights.push_back(1.0 / static_cast<double>(i + 1));
    std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
    return models_[pick(random_)];
  }

  std::mt19937_64 random_;
  std::vector<std::string> models_;
};

v1::ModelRecord ToRecord(const std::string& model, const TruthRecord& truth) {
  v1::ModelRecord record;
  record.set_model_id(model);
  record.set_pipeline_tag(truth.tag);
  if (!truth.modality.empty()) record.set_modality(ModalityEnum(truth.modality));
  record.set_num_parameters(truth.parameters);
  record.set_architecture(truth.architecture);
  record.set_library_name(truth.library);
  return record;
}

// The class a model's downloads are counted under, as a comparable value.
std::string ClassOf(const Truth& truth, const std::string& model) {
  static const std::vector<int64_t> grid = {
      1'000'000,       2'000'000,       5'000'000,       10'000'000,       20'000'000,
      50'000'000,      100'000'000,     200'000'000,     500'000'000,      1'000'000'000,
      2'000'000'000,   5'000'000'000,   10'000'000'000,  20'000'000'000,   50'000'000'000,
      100'000'000'000, 200'000'000'000, 500'000'000'000, 1'000'000'000'000};
  const int64_t parameters = truth.Parameters(model);
  const long bucket =
      parameters == 0 ? -1 : std::upper_bound(grid.begin(), grid.end(), parameters) - grid.begin();
  return absl::StrCat(truth.Modality(model), "|", bucket, "|", truth.Key(model, v1::DIMENSION_TASK),
                      "|", truth.Key(model, v1::DIMENSION_ARCHITECTURE), "|",
                      truth.Key(model, v1::DIMENSION_LIBRARY));
}

// Sends events in batches round-robin over `connections`, checking every answer.
void IngestScenario(Scenario& scenario, Truth& truth, std::vector<Connection*> connections,
                    int batches, int batch_size) {
  for (int b = 0; b < batches; b += 4) {
    Connection& connection = *connections[(b / 4) % connections.size()];
    grpc::ClientContext context;
    auto stream = connection.ingest->StreamEvents(&context);
    std::vector<std::map<int, std::string>> expected_bad;
    std::vector<std::vector<TruthEvent>> expected_good;
    // Four batches per stream, all written before reading: answers must come back in order.
    for (int k = 0; k < 4 && b + k < batches; ++k) {
      expected_bad.emplace_back();
      expected_good.emplace_back();
      ASSERT_TRUE(stream->Write(
          scenario.MakeBatch(batch_size, &expected_bad.back(), &expected_good.back())));
    }
    stream->WritesDone();
    for (size_t k = 0; k < expected_bad.size(); ++k) {
      v1::IngestResponse response;
      ASSERT_TRUE(stream->Read(&response));
      int64_t downloads = 0;
      for (const TruthEvent& event : expected_good[k]) downloads += event.count;
      EXPECT_EQ(response.accepted(), static_cast<int64_t>(expected_good[k].size()));
      EXPECT_EQ(response.rejected(), static_cast<int64_t>(expected_bad[k].size()));
      EXPECT_EQ(response.accepted_downloads(), downloads);
      std::map<int, std::string> got;
      for (const v1::Rejection& rejection : response.rejections()) {
        got[rejection.index()] = rejection.field();
        EXPECT_FALSE(rejection.reason().empty());
      }
      EXPECT_EQ(got, expected_bad[k]);
      truth.events.insert(truth.events.end(), expected_good[k].begin(), expected_good[k].end());
    }
    v1::IngestResponse extra;
    EXPECT_FALSE(stream->Read(&extra));
    grpc::Status status = stream->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
}

// Upserts `updates` (with two bad records mixed in) and checks the reply.
void UpsertCatalog(Connection& connection, Truth& truth,
                   const std::vector<std::pair<std::string, TruthRecord>>& updates) {
  v1::UpsertModelsRequest request;
  std::map<int, std::string> bad;
  std::set<std::string> changed;
  Truth after = truth;
  for (const auto& [model, record] : updates) {
    if (request.models_size() == 3) {
      bad[request.models_size()] = "pipeline_tag";
      v1::ModelRecord* broken = request.add_models();
      broken->set_model_id("org/broken");
      broken->set_pipeline_tag("Not A Tag");
    }
    *request.add_models() = ToRecord(model, record);
    after.catalog[model] = record;
  }
  bad[request.models_size()] = "modality";
  v1::ModelRecord* unknown = request.add_models();
  unknown->set_model_id("org/unknown-modality");
  unknown->set_modality(v1::MODALITY_UNKNOWN);
  for (const auto& [model, record] : updates) {
    if (ClassOf(truth, model) != ClassOf(after, model)) changed.insert(model);
  }
  v1::UpsertModelsResponse response;
  grpc::ClientContext context;
  grpc::Status status = connection.ingest->UpsertModels(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), static_cast<int64_t>(updates.size()));
  EXPECT_EQ(response.rejected(), static_cast<int64_t>(bad.size()));
  EXPECT_EQ(response.reclassified(), static_cast<int64_t>(changed.size()));
  std::map<int, std::string> got;
  for (const v1::Rejection& rejection : response.rejections())
    got[rejection.index()] = rejection.field();
  EXPECT_EQ(got, bad);
  truth = std::move(after);
}

// ---------------------------------------------------------------------------------------------
// Checking every query against the truth.
// ---------------------------------------------------------------------------------------------

void CheckModalityShare(Connection& connection, const Truth& truth, const Range& range) {
  v1::ModalityShareRequest request;
  WithRange(range, request);
  v1::ModalityShareResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(connection.query->GetModalityShare(&context, request, &response).ok());
  std::map<std::string, int64_t> expected;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    expected[truth.Modality(model)] += downloads;
  }
  const int64_t total = truth.Total(range);
  EXPECT_EQ(response.total_downloads(), total);
  ASSERT_EQ(response.rows_size(), 9);
  int64_t previous = INT64_MAX;
  for (const auto& row : response.rows()) {
    EXPECT_EQ(row.downloads(), expected[row.name()]) << row.name();
    EXPECT_NEAR(row.share_pct(), Share(expected[row.name()], total), 1e-9);
    EXPECT_EQ(row.modality(), ModalityEnum(row.name()));
    EXPECT_LE(row.downloads(), previous);
    previous = row.downloads();
  }
}

void CheckSizes(Connection& connection, const Truth& truth, const Range& range,
                const std::vector<int64_t>& boundaries, const std::string& modality) {
  v1::SizeDistributionRequest request;
  WithRange(range, request);
  for (int64_t boundary : boundaries) request.add_boundaries(boundary);
  if (!modality.empty()) request.set_modality(ModalityEnum(modality));
  v1::SizeDistributionResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(connection.query->GetSizeDistribution(&context, request, &response).ok());
  std::vector<int64_t> edges = boundaries.empty()
                                   ? std::vector<int64_t>{200'000'000, 500'000'000, 1'000'000'000}
                                   : boundaries;
  std::vector<int64_t> per_class(edges.size() + 1, 0);
  int64_t unknown = 0, total = 0;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    if (!modality.empty() && truth.Modality(model) != modality) continue;
    total += downloads;
    const int64_t parameters = truth.Parameters(model);
    if (parameters == 0) {
      unknown += downloads;
      continue;
    }
    size_t index = 0;
    while (index < edges.size() && parameters >= edges[index]) ++index;
    per_class[index] += downloads;
  }
  const int64_t known = total - unknown;
  EXPECT_EQ(response.total_downloads(), total);
  EXPECT_EQ(response.known_downloads(), known);
  EXPECT_EQ(response.unknown_downloads(), unknown);
  EXPECT_NEAR(response.unknown_share_pct(), Share(unknown, total), 1e-9);
  ASSERT_EQ(response.rows_size(), static_cast<int>(per_class.size()));
  int64_t cumulative = 0;
  for (size_t i = 0; i < per_class.size(); ++i) {
    const auto& row = response.rows(static_cast<int>(i));
    cumulative += per_class[i];
    EXPECT_EQ(row.lower(), i == 0 ? 0 : edges[i - 1]);
    EXPECT_EQ(row.has_upper(), i < edges.size());
    if (i < edges.size()) {
      EXPECT_EQ(row.upper(), edges[i]);
    }
    EXPECT_EQ(row.downloads(), per_class[i]) << row.label();
    EXPECT_NEAR(row.share_pct(), Share(per_class[i], total), 1e-9);
    EXPECT_NEAR(row.share_of_known_pct(), Share(per_class[i], known), 1e-9);
    EXPECT_NEAR(row.cumulative_pct(), Share(cumulative, known), 1e-9);
  }
}

void CheckTop(Connection& connection, const Truth& truth, const Range& range, bool by_author,
              const std::string& modality, int n) {
  v1::TopNRequest request;
  WithRange(range, request);
  request.set_n(n);
  request.set_by(by_author ? v1::RANK_BY_AUTHOR : v1::RANK_BY_MODEL);
  if (!modality.empty()) request.set_modality(ModalityEnum(modality));
  v1::TopNResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(connection.query->GetTopN(&context, request, &response).ok());
  std::map<std::string, int64_t> by_id;
  int64_t total = 0;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    if (!modality.empty() && truth.Modality(model) != modality) continue;
    by_id[by_author ? AuthorOfId(model) : model] += downloads;
    total += downloads;
  }
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (const auto& [id, downloads] : by_id) ranked.push_back({-downloads, id});
  std::sort(ranked.begin(), ranked.end());
  if (ranked.size() > static_cast<size_t>(n)) ranked.resize(n);
  EXPECT_EQ(response.total_downloads(), total);
  ASSERT_EQ(response.rows_size(), static_cast<int>(ranked.size()));
  int64_t cumulative = 0;
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& row = response.rows(static_cast<int>(i));
    cumulative += -ranked[i].first;
    EXPECT_EQ(row.rank(), static_cast<int>(i + 1));
    EXPECT_EQ(row.id(), ranked[i].second) << "rank " << i + 1;
    EXPECT_EQ(row.downloads(), -ranked[i].first);
    EXPECT_NEAR(row.share_pct(), Share(-ranked[i].first, total), 1e-9);
    EXPECT_NEAR(row.cumulative_pct(), Share(cumulative, total), 1e-9);
  }
  EXPECT_EQ(response.top_downloads(), cumulative);
  EXPECT_NEAR(response.top_share_pct(), Share(cumulative, total), 1e-9);
}

void CheckBreakdown(Connection& connection, const Truth& truth, const Range& range,
                    v1::Dimension dimension, const std::string& modality) {
  v1::BreakdownRequest request;
  WithRange(range, request);
  request.set_dimension(dimension);
  if (!modality.empty()) request.set_modality(ModalityEnum(modality));
  v1::BreakdownResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(connection.query->GetBreakdown(&context, request, &response).ok());
  std::map<std::string, int64_t> expected;
  int64_t total = 0;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    if (!modality.empty() && truth.Modality(model) != modality) continue;
    expected[truth.Key(model, dimension)] += downloads;
    total += downloads;
  }
  EXPECT_EQ(response.total_downloads(), total);
  std::map<std::string, int64_t> got;
  for (const auto& row : response.rows()) {
    got[row.key()] = row.downloads();
    EXPECT_NEAR(row.share_pct(), Share(row.downloads(), total), 1e-9);
  }
  EXPECT_EQ(got, expected);
  for (int i = 1; i < response.rows_size(); ++i) {
    const auto& a = response.rows(i - 1);
    const auto& b = response.rows(i);
    EXPECT_TRUE(a.downloads() > b.downloads() ||
                (a.downloads() == b.downloads() && a.key() < b.key()));
  }
}

void CheckTotals(Connection& connection, const Truth& truth, const Range& range) {
  v1::TotalsRequest request;
  WithRange(range, request);
  v1::TotalsResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(connection.query->GetTotals(&context, request, &response).ok());
  std::set<std::string> authors;
  std::string first, last;
  for (const TruthEvent& event : truth.events) {
    if (!range.Contains(event.day)) continue;
    authors.insert(AuthorOfId(event.model));
    if (first.empty() || event.day < first) first = event.day;
    if (last.empty() || event.day > last) last = event.day;
  }
  EXPECT_EQ(response.total_downloads(), truth.Total(range));
  EXPECT_EQ(response.models_with_downloads(), static_cast<int64_t>(truth.PerModel(range).size()));
  EXPECT_EQ(response.authors_with_downloads(), static_cast<int64_t>(authors.size()));
  EXPECT_EQ(response.catalogued_models(), static_cast<int64_t>(truth.catalog.size()));
  EXPECT_EQ(response.has_first_day(), !first.empty());
  if (!first.empty()) {
    EXPECT_EQ(absl::StrFormat("%04d-%02d-%02d", response.first_day().year(),
                              response.first_day().month(), response.first_day().day()),
              first);
    EXPECT_EQ(absl::StrFormat("%04d-%02d-%02d", response.last_day().year(),
                              response.last_day().month(), response.last_day().day()),
              last);
  }
}

void CheckModel(Connection& connection, const Truth& truth, const Range& range,
                const std::string& model) {
  v1::ModelStatsRequest request;
  request.set_model_id(model);
  WithRange(range, request);
  v1::ModelStatsResponse response;
  grpc::ClientContext context;
  grpc::Status status = connection.query->GetModelStats(&context, request, &response);
  const std::map<std::string, int64_t> all_time = truth.PerModel({});
  const std::map<std::string, int64_t> in_range = truth.PerModel(range);
  const bool known = all_time.contains(model) || truth.catalog.contains(model);
  if (!known) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << model;
    return;
  }
  ASSERT_TRUE(status.ok()) << model << ": " << status.error_message();
  auto rank_of = [&](const std::map<std::string, int64_t>& downloads) -> int64_t {
    auto self = downloads.find(model);
    if (self == downloads.end()) return 0;
    int64_t ahead = 0;
    for (const auto& [other, count] : downloads) {
      if (count > self->second || (count == self->second && other < model)) ++ahead;
    }
    return ahead + 1;
  };
  auto value = [](const std::map<std::string, int64_t>& map, const std::string& key) {
    auto it = map.find(key);
    return it == map.end() ? int64_t{0} : it->second;
  };
  EXPECT_EQ(response.author(), AuthorOfId(model));
  EXPECT_EQ(response.catalogued(), truth.catalog.contains(model));
  EXPECT_EQ(response.modality_name(), truth.Modality(model));
  EXPECT_EQ(response.downloads_all_time(), value(all_time, model));
  EXPECT_EQ(response.downloads_in_range(), value(in_range, model));
  EXPECT_EQ(response.rank_all_time(), rank_of(all_time)) << model;
  EXPECT_EQ(response.rank_in_range(), rank_of(in_range)) << model;
  std::map<std::string, int64_t> days, revisions;
  for (const TruthEvent& event : truth.events) {
    if (event.model != model || !range.Contains(event.day)) continue;
    days[event.day] += event.count;
    revisions[event.revision.empty() ? "(no revision)" : event.revision] += event.count;
  }
  std::map<std::string, int64_t> got_days, got_revisions;
  for (const auto& day : response.days()) {
    got_days[absl::StrFormat("%04d-%02d-%02d", day.day().year(), day.day().month(),
                             day.day().day())] = day.downloads();
  }
  for (const auto& revision : response.revisions())
    got_revisions[revision.revision()] = revision.downloads();
  EXPECT_EQ(got_days, days) << model;
  EXPECT_EQ(got_revisions, revisions) << model;
}

void CheckEverything(Connection& connection, const Truth& truth,
                     const std::vector<std::string>& models) {
  const std::vector<Range> ranges = {{},
                                     {"2024-09-03", "2024-09-10"},
                                     {"2024-09-15", ""},
                                     {"", "2024-09-05"},
                                     {"2024-09-07", "2024-09-07"},
                                     {"2023-01-01", "2023-01-02"}};
  for (const Range& range : ranges) {
    SCOPED_TRACE(absl::StrCat("range ", range.first, "..", range.last));
    CheckModalityShare(connection, truth, range);
    CheckTotals(connection, truth, range);
    for (const std::string modality : {"", "nlp", "unknown"}) {
      SCOPED_TRACE(absl::StrCat("modality '", modality, "'"));
      CheckSizes(connection, truth, range, {}, modality);
      CheckSizes(connection, truth, range, {1'000'000, 100'000'000, 1'000'000'000, 10'000'000'000},
                 modality);
      for (bool by_author : {false, true}) {
        for (int n : {1, 5, 50}) CheckTop(connection, truth, range, by_author, modality, n);
      }
    }
    for (v1::Dimension dimension :
         {v1::DIMENSION_TASK, v1::DIMENSION_ARCHITECTURE, v1::DIMENSION_LIBRARY}) {
      CheckBreakdown(connection, truth, range, dimension, "");
      CheckBreakdown(connection, truth, range, dimension, "computer_vision");
    }
    for (size_t i = 0; i < models.size(); i += 7) CheckModel(connection, truth, range, models[i]);
    CheckCrossTabs(connection, truth, range);
    CheckExports(connection, truth, range);
  }
}

std::string ServerBinary() { return HUBSTATS_SERVER_PATH; }

// One random history on the given servers: ingest, a first catalog, more ingest, catalog
// changes to the most downloaded models, more ingest; every answer checked after each phase.
void RunRandomHistory(std::vector<Connection*> connections, uint64_t seed) {
  Scenario scenario(seed);
  Truth truth;
  std::mt19937_64 random(seed * 7 + 1);

  IngestScenario(scenario, truth, connections, 8, 250);
  std::vector<std::pair<std::string, TruthRecord>> first_catalog;
  for (size_t i = 0; i < scenario.models().size(); ++i) {
    if (i % 3 != 2) first_catalog.push_back({scenario.models()[i], scenario.RandomRecord()});
  }
  UpsertCatalog(*connections[0], truth, first_catalog);
  for (Connection* connection : connections) CheckEverything(*connection, truth, scenario.models());
  if (::testing::Test::HasFailure()) return;

  IngestScenario(scenario, truth, connections, 8, 250);
  // Reclassify the ten most downloaded models, catalogued or not.
  std::vector<std::pair<int64_t, std::string>> popular;
  for (const auto& [model, downloads] : truth.PerModel({})) popular.push_back({-downloads, model});
  std::sort(popular.begin(), popular.end());
  std::vector<std::pair<std::string, TruthRecord>> changes;
  for (size_t i = 0; i < 10 && i < popular.size(); ++i) {
    changes.push_back({popular[i].second, scenario.RandomRecord()});
  }
  UpsertCatalog(*connections.back(), truth, changes);
  IngestScenario(scenario, truth, connections, 4, 250);
  for (Connection* connection : connections) CheckEverything(*connection, truth, scenario.models());
  EXPECT_GT(truth.events.size(), 4000u);
}

TEST(ServiceIntegrationTest, TwoRedisReplicasMatchARecomputation) {
  RedisServer redis;
  ServerProcess first(ServerBinary(),
                      {"--store", "redis", "--redis", redis.url(), "--shards", "8"});
  ServerProcess second(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  Connection one(first.target()), two(second.target());
  RunRandomHistory({&one, &two}, 20240920);
}

TEST(ServiceIntegrationTest, MemoryStoreMatchesARecomputation) {
  ServerProcess server(ServerBinary(), {"--store", "memory"});
  Connection connection(server.target());
  RunRandomHistory({&connection}, 777);
}

TEST(ServiceIntegrationTest, RestartWithAnEditedTaskTableMovesHistory) {
  RedisServer redis;
  char directory[] = "/tmp/hubstats-table-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  const std::string table_path = std::string(directory) + "/tasks.tsv";
  {
    ServerProcess server(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
    Connection connection(server.target());
    Truth truth;
    UpsertCatalog(connection, truth,
                  {{"org/a", {.tag = "fill-mask"}},
                   {"org/b", {.tag = "image-classification"}},
                   {"org/c", {.tag = "text-generation"}},
                   {"org/d", {.tag = "fill-mask"}}});
    grpc::ClientContext context;
    auto stream = connection.ingest->StreamEvents(&context);
    v1::IngestRequest batch;
    for (const auto& [model, count] :
         std::vector<std::pair<std::string, int>>{{"org/a", 5}, {"org/b", 3}, {"org/c", 2}}) {
      v1::DownloadEvent* event = batch.add_events();
      event->set_model_id(model);
      event->set_count(count);
      event->mutable_timestamp()->set_seconds(1726833600);
    }
    ASSERT_TRUE(stream->Write(batch));
    stream->WritesDone();
    v1::IngestResponse response;
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.accepted(), 3);
    ASSERT_TRUE(stream->Finish().ok());
  }
  {
    std::ofstream table(table_path);
    table << "fill-mask audio\nimage-classification computer_vision\n";
  }
  ServerProcess restarted(ServerBinary(),
                          {"--store", "redis", "--redis", redis.url(), "--task-table", table_path});
  Connection connection(restarted.target());
  v1::ModalityShareResponse share;
  grpc::ClientContext context;
  ASSERT_TRUE(
      connection.query->GetModalityShare(&context, v1::ModalityShareRequest(), &share).ok());
  std::map<std::string, int64_t> by_name;
  for (const auto& row : share.rows()) by_name[row.name()] = row.downloads();
  // fill-mask moved to audio; text-generation is no longer in the table: other.
  EXPECT_EQ(by_name["audio"], 5);
  EXPECT_EQ(by_name["computer_vision"], 3);
  EXPECT_EQ(by_name["other"], 2);
  EXPECT_EQ(by_name["nlp"], 0);
  std::remove(table_path.c_str());
  rmdir(directory);
}

// Two replicas ingest while a third client keeps reclassifying the hottest models through both:
// group commit reads classes under WATCH, so however the writes interleave, the final answers
// equal a recomputation with the final catalog.
TEST(ServiceIntegrationTest, ClassificationStaysExactUnderConcurrentUpserts) {
  RedisServer redis;
  ServerProcess first(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  ServerProcess second(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  Connection one(first.target()), two(second.target());
  const std::vector<std::string> hot = {"org/a", "org/b", "org2/c", "gpt2"};
  const std::vector<std::string> tags = {"fill-mask", "image-classification",
                                         "automatic-speech-recognition", ""};
  std::atomic<bool> stop{false};
  std::atomic<int> upserts{0};
  std::thread reclassifier([&] {
    for (int round = 0; !stop.load(); ++round) {
      v1::UpsertModelsRequest request;
      for (size_t m = 0; m < hot.size(); ++m) {
        v1::ModelRecord* record = request.add_models();
        record->set_model_id(hot[m]);
        record->set_pipeline_tag(tags[(round + m) % tags.size()]);
        record->set_num_parameters(round % 2 ? 110'000'000 : 7'000'000'000);
      }
      v1::UpsertModelsResponse response;
      grpc::ClientContext context;
      ASSERT_TRUE((round % 2 ? one : two).ingest->UpsertModels(&context, request, &response).ok());
      ++upserts;
    }
  });
  std::vector<TruthEvent> all_events;
  std::mutex events_mutex;
  auto ingest = [&](Connection& connection, uint64_t seed) {
    std::mt19937_64 random(seed);
    for (int stream_round = 0; stream_round < 6; ++stream_round) {
      grpc::ClientContext context;
      auto stream = connection.ingest->StreamEvents(&context);
      std::vector<TruthEvent> sent;
      for (int batch_index = 0; batch_index < 10; ++batch_index) {
        v1::IngestRequest batch;
        for (int e = 0; e < 200; ++e) {
          const std::string& model = hot[random() % hot.size()];
          const int64_t count = 1 + static_cast<int64_t>(random() % 100);
          const int day = 1 + static_cast<int>(random() % 3);
          v1::DownloadEvent* event = batch.add_events();
          event->set_model_id(model);
          event->set_count(count);
          event->mutable_timestamp()->set_seconds(1725148800 + (day - 1) * 86400);
          sent.push_back({model, absl::StrFormat("2024-09-%02d", day), count, ""});
        }
        ASSERT_TRUE(stream->Write(batch));
      }
      stream->WritesDone();
      v1::IngestResponse response;
      int answers = 0;
      while (stream->Read(&response)) {
        ASSERT_EQ(response.accepted(), 200);
        ++answers;
      }
      grpc::Status finished = stream->Finish();
      ASSERT_TRUE(finished.ok()) << finished.error_code() << " " << finished.error_message();
      ASSERT_EQ(answers, 10);
      std::lock_guard lock(events_mutex);
      all_events.insert(all_events.end(), sent.begin(), sent.end());
    }
  };
  std::thread through_one([&] { ingest(one, 1); });
  std::thread through_two([&] { ingest(two, 2); });
  through_one.join();
  through_two.join();
  stop = true;
  reclassifier.join();
  EXPECT_GT(upserts.load(), 3);

  // The final catalog is the last round's; read it back rather than guess the last round.
  Truth truth;
  truth.events = all_events;
  for (const std::string& model : hot) {
    v1::ModelStatsRequest request;
    request.set_model_id(model);
    request.mutable_freshness()->set_fresh(true);
    v1::ModelStatsResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(one.query->GetModelStats(&context, request, &response).ok());
    truth.catalog[model] = {.tag = response.record().pipeline_tag(),
                            .parameters = response.record().num_parameters()};
  }
  for (Connection* connection : {&one, &two}) {
    for (const Range& range : {Range{}, Range{"2024-09-02", "2024-09-03"}}) {
      CheckModalityShare(*connection, truth, range);
      CheckSizes(*connection, truth, range, {}, "");
      CheckBreakdown(*connection, truth, range, v1::DIMENSION_TASK, "");
      for (const std::string modality : {"nlp", "computer_vision", "audio", "other"}) {
        CheckTop(*connection, truth, range, false, modality, 10);
        CheckTop(*connection, truth, range, true, modality, 10);
      }
    }
  }
}

TEST(ServiceIntegrationTest, QueryErrorsNameTheField) {
  ServerProcess server(ServerBinary(), {"--store", "memory"});
  Connection connection(server.target());
  v1::SizeDistributionRequest request;
  request.add_boundaries(0);
  v1::SizeDistributionResponse response;
  grpc::ClientContext context;
  grpc::Status status = connection.query->GetSizeDistribution(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("boundaries[0]: "));
  EXPECT_FALSE(status.error_details().empty());

  v1::TopNRequest top;
  SetRange({"2024-09-10", "2024-09-01"}, top.mutable_range());
  v1::TopNResponse top_response;
  grpc::ClientContext top_context;
  status = connection.query->GetTopN(&top_context, top, &top_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("range.end: "));

  v1::BreakdownRequest breakdown;
  v1::BreakdownResponse breakdown_response;
  grpc::ClientContext breakdown_context;
  status = connection.query->GetBreakdown(&breakdown_context, breakdown, &breakdown_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("dimension: "));
}

TEST(ServiceIntegrationTest, HealthServingAndCleanShutdownOnSigterm) {
  RedisServer redis;
  ServerProcess server(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message; SERVING is status 1.
  // The answer's bytes, or "" when the call fails.
  auto check = [&]() -> std::string {
    grpc::ClientContext context;
    grpc::ByteBuffer request, response;
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    std::mutex mutex;
    std::condition_variable done_signal;
    bool done = false;
    grpc::Status health_status;
    generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                      &response, [&](grpc::Status status) {
                        std::lock_guard lock(mutex);
                        health_status = status;
                        done = true;
                        done_signal.notify_one();
                      });
    {
      std::unique_lock lock(mutex);
      done_signal.wait(lock, [&] { return done; });
    }
    EXPECT_TRUE(health_status.ok()) << health_status.error_message();
    std::vector<grpc::Slice> slices;
    if (!health_status.ok() || !response.Dump(&slices).ok()) return "";
    std::string bytes;
    for (const grpc::Slice& slice : slices)
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    return bytes;
  };
  // NOT_SERVING ("\x08\x02") while the read model loads, which a loaded machine can make last
  // past the port's opening; then SERVING.
  std::string bytes = check();
  const auto serving_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (bytes == std::string("\x08\x02", 2) && std::chrono::steady_clock::now() < serving_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bytes = check();
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));

  const auto start = std::chrono::steady_clock::now();
  const int wait_status = server.process().Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

}  // namespace
}  // namespace hubstats::integration
