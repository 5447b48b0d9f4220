#include "app/model_table.h"

#include <map>
#include <random>
#include <string>
#include <tuple>

#include "app/chunked_vector.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(ChunkedVectorTest, ElementsStayPutAcrossChunks) {
  ChunkedVector<int64_t, 2> values;  // Chunks of 4.
  EXPECT_TRUE(values.empty());
  std::vector<int64_t*> addresses;
  for (int64_t i = 0; i < 19; ++i) {
    int64_t& value = values.emplace_back();
    EXPECT_EQ(value, 0) << "new elements are value-initialized";
    value = i * 10;
    addresses.push_back(&value);
  }
  ASSERT_EQ(values.size(), 19u);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], static_cast<int64_t>(i) * 10);
    EXPECT_EQ(&values[i], addresses[i]) << "element " << i << " moved";
  }
}

// The id index hashes and compares model numbers by their ids: every model must be found by
// its id, and by its shard and index, across the index's rehashes and the entries' chunks.
TEST(ModelTableTest, FindsEveryModelByIdAndIndexAcrossGrowth) {
  ModelTable table(TaskTable::BuiltIn());
  std::mt19937_64 random(7);
  std::map<std::string, std::tuple<uint32_t, uint32_t, uint32_t>>
      added;                  // id -> number, shard, index
  const int kModels = 40000;  // Past two chunks of entries and many rehashes of the index.
  for (int i = 0; i < kModels; ++i) {
    const std::string id = "org" + std::to_string(random() % 5000) + "/m" + std::to_string(i);
    const auto shard = static_cast<uint32_t>(i % 4);
    const auto index = static_cast<uint32_t>(i / 4);
    const uint32_t number = table.Add(id, shard, index);
    ASSERT_EQ(number, static_cast<uint32_t>(i)) << id;
    added[id] = {number, shard, index};
  }
  ASSERT_EQ(table.model_count(), static_cast<size_t>(kModels));
  for (const auto& [id, where] : added) {
    const auto [number, shard, index] = where;
    ASSERT_EQ(table.Find(id), number) << id;
    EXPECT_EQ(table.model(number).id, id);
    EXPECT_EQ(table.FindIndex(shard, index), number) << id;
    EXPECT_EQ(table.author_name(table.model(number).author), id.substr(0, id.find('/')));
  }
  // Adding a known id again (at its place) returns its number and adds nothing.
  const auto& [known, where] = *added.begin();
  EXPECT_EQ(table.Add(known, std::get<1>(where), std::get<2>(where)), std::get<0>(where));
  EXPECT_EQ(table.model_count(), static_cast<size_t>(kModels));
  // Unknown ids, including a prefix and an extension of a known one, are not found.
  EXPECT_EQ(table.Find(known.substr(0, known.size() - 1)), std::nullopt);
  EXPECT_EQ(table.Find(known + "0"), std::nullopt);
  EXPECT_EQ(table.Find("nobody/m" + std::to_string(kModels)), std::nullopt);
  EXPECT_EQ(table.Find(""), std::nullopt);
}

TEST(ModelTableTest, AModelGivenAnotherIndexIsFoundThereOnly) {
  ModelTable table(TaskTable::BuiltIn());
  const uint32_t a = table.Add("org/a", 0, 0);
  const uint32_t b = table.Add("org/b", 1, 0);
  // A store that lost its data gives "org/a" index 3 of shard 1.
  EXPECT_EQ(table.Add("org/a", 1, 3), a);
  EXPECT_EQ(table.FindIndex(0, 0), std::nullopt);
  EXPECT_EQ(table.FindIndex(1, 3), a);
  EXPECT_EQ(table.FindIndex(1, 0), b);
  EXPECT_EQ(table.model(a).shard, 1u);
  EXPECT_EQ(table.model(a).index, 3u);
  EXPECT_EQ(table.Find("org/a"), a);
}

}  // namespace
}  // namespace hubstats
