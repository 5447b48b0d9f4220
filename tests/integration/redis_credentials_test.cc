// Redis credentials (issue 16, item 3): the service runs as the least-privilege ACL user of
// deploy/redis/hubstats.acl against a real redis-server configured with exactly that file
// (every path of the v2 store: dense and sparse days, a day's compaction, the change log the
// read model follows, producer scripts, fresh queries; WAIT and the cluster commands by ACL
// DRYRUN, since they need replicas or a cluster),
// with its password from a file or the environment; the password never shows in the logs or
// the process list; and the ACL user can do nothing beyond what the service needs.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "redis_server.h"
#include "security/tokens.h"

namespace hubstats {
namespace {

using test_support::RedisServer;
using test_support::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "Acl-P4ss:with@odd/chars";
constexpr char kAdminPassword[] = "admin-only-secret";

const std::string& ServerBinary() {
  static const std::string path = std::getenv("HUBSTATS_SERVER_BIN")
                                      ? std::getenv("HUBSTATS_SERVER_BIN")
                                      : HUBSTATS_SERVER_PATH;
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// A redis-server whose users are deploy/redis/hubstats.acl, rendered for `prefix`, and an
// admin (the default user, with a password) for the test's own checks.
class AclRedis {
 public:
  explicit AclRedis(const std::string& prefix) : directory_(MakeDirectory()) {
    const std::string line =
        absl::StrReplaceAll(Slurp(std::string(HUBSTATS_SOURCE_DIR) + "/deploy/redis/hubstats.acl"),
                            {{"PREFIX", prefix}, {"PASSWORD_SHA256", HexOf(Sha256Of(kPassword))}});
    std::ofstream(directory_ + "/users.acl")
        << line << "user default on #" << HexOf(Sha256Of(kAdminPassword)) << " ~* &* +@all\n";
    redis_ = std::make_unique<RedisServer>(
        std::vector<std::string>{"--aclfile", directory_ + "/users.acl"});
  }
  ~AclRedis() {
    redis_.reset();
    std::filesystem::remove_all(directory_);
  }
  // redis-cli as `user` with `password`.
  std::string As(const std::string& user, const std::string& password,
                 const std::string& command) const {
    return redis_->Cli(
        absl::StrCat("--no-auth-warning --user ", user, " --pass '", password, "' ", command));
  }
  std::string Admin(const std::string& command) const {
    return As("default", kAdminPassword, command);
  }
  const RedisServer& redis() const { return *redis_; }
  const std::string& directory() const { return directory_; }

 private:
  static std::string MakeDirectory() {
    char pattern[] = "/tmp/hubstats-acl-XXXXXX";
    if (mkdtemp(pattern) == nullptr) std::abort();
    return pattern;
  }
  std::string directory_;
  std::unique_ptr<RedisServer> redis_;
};

using test_support::Connection;

// Asks `request` to wait for everything acknowledged anywhere (the read model follows Redis).
template <typename Request>
Request& Fresh(Request& request) {
  request.mutable_freshness()->set_fresh(true);
  return request;
}

// Everything the store does: upserts (and a reclassifying one), ingest with revisions over
// several days (in events and in packed columns), every query all time and over a range,
// fresh, and model stats. The expected figures are counted here from what is sent.
void RunWorkload(Connection& connection) {
  v1::UpsertModelsRequest catalog;
  for (const auto& [model, tag] : std::vector<std::pair<std::string, std::string>>{
           {"org/a", "fill-mask"}, {"org/b", "image-classification"}, {"org/c", ""}}) {
    v1::ModelRecord* record = catalog.add_models();
    record->set_model_id(model);
    record->set_pipeline_tag(tag);
    record->set_num_parameters(110'000'000);
  }
  grpc::ClientContext upsert_context;
  v1::UpsertModelsResponse upserted;
  ASSERT_TRUE(connection.ingest->UpsertModels(&upsert_context, catalog, &upserted).ok());
  ASSERT_EQ(upserted.accepted(), 3);
  std::vector<v1::IngestRequest> batches;
  for (int day = 0; day < 3; ++day) {
    v1::IngestRequest batch;
    batch.set_producer_id("acl-test");
    batch.set_sequence(day + 1);
    const int64_t seconds = 1'726'790'400 + day * 86'400;  // 2024-09-20..22
    const std::vector<std::pair<std::string, int>> counts = {
        {"org/a", 5}, {"org/b", 3}, {"solo", 2}};
    if (day == 2) {  // The last day as packed columns.
      v1::PackedEvents* packed = batch.mutable_packed();
      packed->add_revisions("main");
      for (const auto& [model, count] : counts) {
        packed->add_model_index(static_cast<uint32_t>(packed->model_ids_size()));
        packed->add_model_ids(model);
        packed->add_counts(count);
        packed->add_timestamp_seconds(seconds);
        packed->add_revision_index(0);
      }
    } else {
      for (const auto& [model, count] : counts) {
        v1::DownloadEvent* event = batch.add_events();
        event->set_model_id(model);
        event->set_count(count);
        event->set_revision("main");
        event->mutable_timestamp()->set_seconds(seconds);
      }
    }
    batches.push_back(batch);
  }
  const test_support::StreamResult streamed = test_support::Stream(connection.channel, batches);
  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  ASSERT_EQ(streamed.AcknowledgedDownloads(), 3 * 10);
  // The same batches again: duplicates (the producer log is read and left alone).
  const test_support::StreamResult again = test_support::Stream(connection.channel, batches);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  ASSERT_TRUE(again.answers[0].duplicate());
  // Reclassify org/b: its history moves.
  v1::UpsertModelsRequest move;
  v1::ModelRecord* moved = move.add_models();
  moved->set_model_id("org/b");
  moved->set_pipeline_tag("automatic-speech-recognition");
  grpc::ClientContext move_context;
  ASSERT_TRUE(connection.ingest->UpsertModels(&move_context, move, &upserted).ok());
  ASSERT_EQ(upserted.reclassified(), 1);

  for (bool ranged : {false, true}) {
    v1::DateRange range;
    range.mutable_start()->set_year(2024);
    range.mutable_start()->set_month(9);
    range.mutable_start()->set_day(20);
    range.mutable_end()->set_year(2024);
    range.mutable_end()->set_month(9);
    range.mutable_end()->set_day(21);
    const int64_t expected_total = ranged ? 2 * 10 : 3 * 10;
    auto context = [] { return std::make_unique<grpc::ClientContext>(); };
    v1::ModalityShareRequest share_request;
    if (ranged) *share_request.mutable_range() = range;
    v1::ModalityShareResponse share;
    ASSERT_TRUE(
        connection.query->GetModalityShare(context().get(), Fresh(share_request), &share).ok());
    std::map<std::string, int64_t> by_modality;
    for (const auto& row : share.rows()) by_modality[row.name()] = row.downloads();
    EXPECT_EQ(share.total_downloads(), expected_total);
    EXPECT_EQ(by_modality["audio"], expected_total / 10 * 3);
    EXPECT_EQ(by_modality["nlp"], expected_total / 10 * 5);
    EXPECT_EQ(by_modality["unknown"], expected_total / 10 * 2);
    v1::SizeDistributionRequest sizes_request;
    if (ranged) *sizes_request.mutable_range() = range;
    v1::SizeDistributionResponse sizes;
    ASSERT_TRUE(
        connection.query->GetSizeDistribution(context().get(), Fresh(sizes_request), &sizes).ok());
    EXPECT_EQ(sizes.known_downloads(), expected_total / 10 * 5);  // org/b lost its size.
    for (v1::RankBy by : {v1::RANK_BY_MODEL, v1::RANK_BY_AUTHOR}) {
      v1::TopNRequest top_request;
      if (ranged) *top_request.mutable_range() = range;
      top_request.set_by(by);
      top_request.set_n(10);
      v1::TopNResponse top;
      ASSERT_TRUE(connection.query->GetTopN(context().get(), Fresh(top_request), &top).ok());
      ASSERT_GE(top.rows_size(), 2);
      EXPECT_EQ(top.rows(0).downloads(), expected_total / 10 * (by == v1::RANK_BY_MODEL ? 5 : 8));
    }
    v1::BreakdownRequest breakdown_request;
    if (ranged) *breakdown_request.mutable_range() = range;
    breakdown_request.set_dimension(v1::DIMENSION_TASK);
    v1::BreakdownResponse breakdown;
    ASSERT_TRUE(
        connection.query->GetBreakdown(context().get(), Fresh(breakdown_request), &breakdown).ok());
    EXPECT_EQ(breakdown.total_downloads(), expected_total);
    v1::TotalsRequest totals_request;
    if (ranged) *totals_request.mutable_range() = range;
    v1::TotalsResponse totals;
    ASSERT_TRUE(connection.query->GetTotals(context().get(), Fresh(totals_request), &totals).ok());
    EXPECT_EQ(totals.total_downloads(), expected_total);
    EXPECT_EQ(totals.catalogued_models(), 3);
    v1::ModelStatsRequest stats_request;
    stats_request.set_model_id("org/b");
    if (ranged) *stats_request.mutable_range() = range;
    v1::ModelStatsResponse stats;
    ASSERT_TRUE(
        connection.query->GetModelStats(context().get(), Fresh(stats_request), &stats).ok());
    EXPECT_EQ(stats.downloads_in_range(), expected_total / 10 * 3);
    EXPECT_EQ(stats.rank_in_range(), 2);
    ASSERT_EQ(stats.revisions_size(), 1);
    EXPECT_EQ(stats.revisions(0).revision(), "main");
  }
}

TEST(RedisCredentialsTest, TheServiceRunsAsTheLeastPrivilegeAclUser) {
  AclRedis redis("acl");
  const std::string password_file = redis.directory() + "/redis-password";
  std::ofstream(password_file) << kPassword << "\n";
  const std::string log = redis.directory() + "/server.log";
  const std::vector<std::string> as_acl_user = {
      "--store", "redis",        "--redis",  redis.redis().url(),     "--redis-prefix",
      "acl",     "--redis-user", "hubstats", "--redis-password-file", password_file};
  {
    // Every day since 2024 open: the workload's days are dense arrays (BITFIELD).
    std::vector<std::string> args = as_acl_user;
    args.insert(args.end(), {"--open-days", "5000"});
    ServerProcess server(ServerBinary(), args, log);
    Connection connection(server.target());
    RunWorkload(connection);
  }
  ASSERT_THAT(redis.Admin("--scan --pattern 'acl:*:dd:*'"), HasSubstr(":dd:2024-09-2"))
      << "the days must have been written dense";
  // Restarted with a changed task table (every model re-classified at start) and two open
  // days: the next window compacts the closed dense days of the shard it writes into sparse
  // hashes (WATCH, MULTI, HINCRBY, DEL, SREM).
  const std::string table = redis.directory() + "/tasks.tsv";
  std::ofstream(table) << "fill-mask computer_vision\n";
  {
    std::vector<std::string> args = as_acl_user;
    args.insert(args.end(), {"--task-table", table, "--open-days", "2"});
    ServerProcess restarted(ServerBinary(), args, log);
    Connection connection(restarted.target());
    v1::IngestRequest more;
    v1::DownloadEvent* event = more.add_events();
    event->set_model_id("org/a");
    event->mutable_timestamp()->set_seconds(1'726'790'400);  // 2024-09-20
    const test_support::StreamResult streamed = test_support::Stream(connection.channel, {more});
    ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
    ASSERT_EQ(streamed.AcknowledgedDownloads(), 1);
    grpc::ClientContext context;
    v1::ModalityShareRequest request;
    v1::ModalityShareResponse share;
    ASSERT_TRUE(connection.query->GetModalityShare(&context, Fresh(request), &share).ok());
    std::map<std::string, int64_t> by_modality;
    for (const auto& row : share.rows()) by_modality[row.name()] = row.downloads();
    EXPECT_EQ(by_modality["computer_vision"], 15 + 1);
    EXPECT_EQ(by_modality["other"], 9);  // automatic-speech-recognition left the table.
    EXPECT_EQ(share.total_downloads(), 3 * 10 + 1);
  }
  EXPECT_THAT(redis.Admin("--scan --pattern 'acl:*:d:2024-09-20'"), HasSubstr(":d:2024-09-20"))
      << "the closed day must have been compacted into its sparse hash";
  EXPECT_THAT(Slurp(log), Not(HasSubstr("NOPERM")));
  EXPECT_THAT(Slurp(log), Not(HasSubstr(kPassword)));
  // Every key the service wrote is under its prefix.
  const std::string keys = redis.Admin("--scan");
  EXPECT_THAT(keys, HasSubstr("acl:meta"));
  std::istringstream lines(keys);
  for (std::string key; std::getline(lines, key);) EXPECT_EQ(key.rfind("acl:", 0), 0u) << key;
  // What needs replicas (--redis-wait-replicas) or a cluster (--redis-cluster) is allowed too.
  for (const char* command : {"WAIT 1 10", "CLUSTER SLOTS", "CLUSTER SHARDS", "ASKING",
                              "EVALSHA 0123456789012345678901234567890123456789 1 acl:x"}) {
    EXPECT_THAT(redis.Admin(absl::StrCat("ACL DRYRUN hubstats ", command)), HasSubstr("OK"))
        << command;
  }
}

TEST(RedisCredentialsTest, TheAclUserCanDoNothingElse) {
  AclRedis redis("acl");
  redis.Admin("SET other:key value");
  for (const char* command : {"FLUSHALL",
                              "FLUSHDB",
                              "KEYS '*'",
                              "SCAN 0",
                              "CONFIG GET requirepass",
                              "ACL LIST",
                              "GET other:key",
                              "SET other:key x",
                              "DEL other:key",
                              "SHUTDOWN NOSAVE",
                              "BGSAVE",
                              "EVAL \"return redis.call('FLUSHALL')\" 0",
                              "EVAL \"return redis.call('GET', 'other:key')\" 0",
                              "SUBSCRIBE news",
                              "MONITOR",
                              "CLIENT LIST",
                              "SCRIPT FLUSH",
                              "MIGRATE 127.0.0.1 1 acl:meta 0 100",
                              "RENAME acl:meta other:meta",
                              "SORT acl:x BY other:*"}) {
    const std::string answer = redis.As("hubstats", kPassword, command);
    // Inside a script (EVAL is the store's), Redis checks the same rules and says so.
    EXPECT_THAT(answer, ::testing::AnyOf(HasSubstr("NOPERM"), HasSubstr("No permissions"),
                                         HasSubstr("user executing the script can't")))
        << command << " -> " << answer;
  }
  // What it may do, it may do only under its prefix.
  EXPECT_THAT(redis.As("hubstats", kPassword, "SET acl:x 1"), HasSubstr("OK"));
  EXPECT_THAT(redis.As("hubstats", kPassword, "HSET other:h f 1"), HasSubstr("NOPERM"));
  EXPECT_THAT(redis.Admin("GET other:key"), HasSubstr("value"));
  // A wrong password is refused at AUTH.
  EXPECT_THAT(redis.As("hubstats", "wrong", "PING"), HasSubstr("WRONGPASS"));
}

TEST(RedisCredentialsTest, ThePasswordNeverShowsInLogsOrTheProcessList) {
  AclRedis redis("acl");
  const std::string log = redis.directory() + "/server.log";
  // From the environment: the server starts, loses Redis for a while, and stops; nothing it
  // logs holds the password.
  setenv("HUBSTATS_REDIS_PASSWORD", kPassword, 1);
  {
    ServerProcess server(ServerBinary(),
                         {"--store", "redis", "--redis", redis.redis().url(), "--redis-prefix",
                          "acl", "--redis-user", "hubstats", "--redis-timeout-ms", "300"},
                         log);
    Connection connection(server.target());
    ASSERT_TRUE(
        test_support::Stream(connection.channel, {test_support::Events(3, "org/a")}).status.ok());
    const_cast<RedisServer&>(redis.redis()).Pause();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const_cast<RedisServer&>(redis.redis()).Resume();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    server.process().Stop(SIGTERM);
  }
  unsetenv("HUBSTATS_REDIS_PASSWORD");
  const std::string output = Slurp(log);
  EXPECT_THAT(output, HasSubstr("NOT_SERVING")) << "the outage must have been logged";
  EXPECT_THAT(output, HasSubstr("redis://hubstats:***@"));
  EXPECT_THAT(output, Not(HasSubstr(kPassword)));

  // A wrong password stops the start, without showing either password.
  const std::string wrong_log = redis.directory() + "/wrong.log";
  std::ofstream(redis.directory() + "/wrong") << "Wrong-" << kPassword << "\n";
  auto wrong = test_support::ChildProcess::Start(
      {ServerBinary(), "--listen", "127.0.0.1:0", "--store", "redis", "--redis",
       redis.redis().url(), "--redis-user", "hubstats", "--redis-password-file",
       redis.directory() + "/wrong", "--startup-wait-ms", "0"},
      wrong_log);
  const int status = wrong->Stop(0);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(Slurp(wrong_log), HasSubstr("WRONGPASS"));
  EXPECT_THAT(Slurp(wrong_log), Not(HasSubstr(kPassword)));

  // A password in the URL on the command line is blanked out of /proc/PID/cmdline, with a
  // warning saying how to pass it instead.
  const std::string url_log = redis.directory() + "/url.log";
  const std::string url =
      absl::StrCat("redis://hubstats:", kPassword, "@127.0.0.1:", redis.redis().port());
  ServerProcess in_url(ServerBinary(),
                       {"--store", "redis", "--redis", url, "--redis-prefix", "acl"}, url_log);
  const std::string cmdline = Slurp(absl::StrCat("/proc/", in_url.process().pid(), "/cmdline"));
  EXPECT_THAT(cmdline, HasSubstr("redis://hubstats:*"));
  EXPECT_THAT(cmdline, Not(HasSubstr(kPassword)));
  EXPECT_THAT(Slurp(url_log), HasSubstr("--redis-password-file"));
  EXPECT_THAT(Slurp(url_log), Not(HasSubstr(kPassword)));
  // And it works: the password was kept for the connection.
  Connection connection(in_url.target());
  EXPECT_TRUE(
      test_support::Stream(connection.channel, {test_support::Events(1, "org/a")}).status.ok());
}

}  // namespace
}  // namespace hubstats
