// Test helper: Redis replies from raw RESP bytes, through hiredis' own reader, and the replies
// recorded from a real cluster under testdata/ (see testdata/record_cluster_replies.py).
#ifndef HUBSTATS_SERVICE_STORE_REDIS_TEST_REPLIES_H_
#define HUBSTATS_SERVICE_STORE_REDIS_TEST_REPLIES_H_

#include <hiredis/hiredis.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/redis_client.h"

namespace hubstats::testdata {

// Every complete reply in `bytes`; a test failure for bytes hiredis cannot parse or left over.
inline std::vector<RedisReply> ParseReplies(const std::string& bytes) {
  std::vector<RedisReply> replies;
  redisReader* reader = redisReaderCreate();
  EXPECT_EQ(redisReaderFeed(reader, bytes.data(), bytes.size()), REDIS_OK);
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
      ADD_FAILURE() << "hiredis cannot parse the reply: " << reader->errstr;
      break;
    }
    if (reply == nullptr) break;
    replies.emplace_back(static_cast<redisReply*>(reply));
  }
  EXPECT_EQ(reader->pos, reader->len) << "an incomplete reply at the end";
  redisReaderFree(reader);
  return replies;
}

// The text of testdata/<name>.
inline std::string File(const std::string& name) {
  std::ifstream in(std::string(HUBSTATS_STORE_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read testdata/" << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<RedisReply> Replies(const std::string& name) { return ParseReplies(File(name)); }

}  // namespace hubstats::testdata

#endif  // HUBSTATS_SERVICE_STORE_REDIS_TEST_REPLIES_H_
